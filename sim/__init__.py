"""mqsim: a discrete-event simulator for message-queue architectures.

Write the architecture down as a YAML scenario, run it, and measure what users feel: latency,
throughput, reordering, duplicates and losses. See ``docs/`` and the README.

The names below are imported when first used (``sim.run`` loads the engine, pandas and the
experiment layer; ``sim.load`` only the scenario layer), so ``import sim`` and the commands
that need little (``mqsim validate``, ``mqsim --version``) start fast.
"""

from __future__ import annotations

import importlib
import importlib.util
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # what a checker and an editor see; at run time, module __getattr__ below
    from sim.api import replicate, run, run_replications
    from sim.experiment.compare import Comparison, compare
    from sim.experiment.replications import Precision
    from sim.experiment.size import Sizing, size
    from sim.experiment.sweep import Sweep, sweep
    from sim.figures import flatten
    from sim.metrics.replications import Replications
    from sim.results import Result
    from sim.scenario import Scenario, ScenarioError, load, loads

# Each public name and the module it is defined in.
_WHERE = {
    "flatten": "sim.figures",
    "replicate": "sim.api",
    "run": "sim.api",
    "run_replications": "sim.api",
    "Comparison": "sim.experiment.compare",
    "compare": "sim.experiment.compare",
    "Precision": "sim.experiment.replications",
    "Sizing": "sim.experiment.size",
    "size": "sim.experiment.size",
    "Replications": "sim.metrics.replications",
    "Sweep": "sim.experiment.sweep",
    "sweep": "sim.experiment.sweep",
    "Result": "sim.results",
    "Scenario": "sim.scenario",
    "ScenarioError": "sim.scenario",
    "load": "sim.scenario",
    "loads": "sim.scenario",
}

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


def __getattr__(name: str) -> Any:
    """Import a public name's module on first use and keep the name here."""
    where = _WHERE.get(name)
    if where is None:
        # A subpackage or module not imported yet (`sim.api`, `sim.analytic`): as before the
        # exports became lazy, `import sim` is enough to reach it.
        if not name.startswith("_") and importlib.util.find_spec(f"sim.{name}") is not None:
            return importlib.import_module(f"sim.{name}")
        raise AttributeError(f"module 'sim' has no attribute {name!r}")
    value = getattr(importlib.import_module(where), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_WHERE})
