"""mqsim: a discrete-event simulator for message-queue architectures.

Write the architecture down as a YAML scenario, run it, and measure what users feel: latency,
throughput, reordering, duplicates and losses. See ``docs/`` and the README.
"""

from sim.api import flatten, replicate, run, run_replications
from sim.experiment.compare import Comparison, compare
from sim.experiment.replications import Precision, Replications
from sim.experiment.size import Sizing, size
from sim.experiment.sweep import Sweep, sweep
from sim.results import Result
from sim.scenario import Scenario, ScenarioError, load, loads

__all__ = [
    "Comparison",
    "Precision",
    "Replications",
    "Result",
    "Scenario",
    "ScenarioError",
    "Sizing",
    "Sweep",
    "compare",
    "flatten",
    "load",
    "loads",
    "replicate",
    "run",
    "run_replications",
    "size",
    "sweep",
]
__version__ = "0.1.0"
