"""Randomness: named random streams, distributions, value generators and arrival processes.

See `streams` (per-component generators from the run seed), `distributions` (times),
`values` (message fields) and `arrivals` (when producers publish). `spec` is the table of
distribution parameters shared with the scenario layer.
"""

from sim.random import arrivals, distributions, values
from sim.random.arrivals import ArrivalProcess
from sim.random.distributions import Distribution
from sim.random.streams import replication_seed, stream
from sim.random.values import ValueGenerator, make_fields

__all__ = [
    "ArrivalProcess",
    "Distribution",
    "ValueGenerator",
    "arrivals",
    "distributions",
    "make_fields",
    "replication_seed",
    "stream",
    "values",
]
