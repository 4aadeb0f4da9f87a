"""mqsim: a discrete-event simulator for message-queue architectures.

Write the architecture down as a YAML scenario, run it, and measure what users feel: latency,
throughput, reordering, duplicates and losses. See ``docs/`` and the README.
"""

from sim.api import flatten, replicate, run, run_replications
from sim.results import Result
from sim.scenario import Scenario, ScenarioError, load, loads

__all__ = [
    "Result",
    "Scenario",
    "ScenarioError",
    "flatten",
    "load",
    "loads",
    "replicate",
    "run",
    "run_replications",
]
__version__ = "0.1.0"
