"""The Python API: run a loaded scenario once or over replications, sweep it, compare designs.

```python
import sim
scenario = sim.load("scenarios/traffic_spike.yaml", overrides={"run.seed": 3})
result = sim.run(scenario)
result.summary["latency"]["p99"]
reps = sim.replicate(scenario, n=10)          # one row per replication; reps.ci()
```

``jobs`` (local processes) and ``cluster`` (a Dask scheduler address or client) choose where
replications run; the numbers never depend on it (`sim.experiment`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, cast

from sim.experiment import executors
from sim.experiment.replications import Design, Precision, run_designs
from sim.experiment.replications import seeds as _seeds
from sim.experiment.units import run_once
from sim.figures import flatten
from sim.metrics import aggregate
from sim.metrics.replications import Replications
from sim.model.routing import RoutingError
from sim.progress import NotedProgress, Progress
from sim.results import Result
from sim.scenario import Scenario, memory
from sim.scenario.warnings import scenario_warnings  # every summary's ``warnings``

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["Precision", "Replications", "flatten", "replicate", "run", "run_replications",
           "scenario_warnings", "seeds"]


def run(scenario: Scenario, seed: int | None = None, progress: Progress | None = None, *,
        replications: int | None = None, jobs: int | None = None, cluster: Any = None,
        precision: Precision | None = None, force: bool = False) -> Result:
    """Run the scenario: once, or ``run.replications`` times (``replications`` overrides it).

    ``seed`` replaces ``run.seed`` (with replications, the seed they are derived from). With
    more than one replication (or a ``precision`` stop rule) this is :func:`run_replications`.
    A run expected to need more memory than the machine has raises ScenarioError unless
    ``force`` (`sim.scenario.memory`).
    """
    memory.check(scenario, force)
    n = replications or scenario.data["run"]["replications"]
    if n == 1 and precision is None:
        with _routing_problems(scenario):
            return run_once(scenario.data, seed, scenario_warnings(scenario), progress)
    noted = None if progress is None else (lambda fraction, _note: progress(fraction))
    return run_replications(scenario, n, noted, seed=seed, jobs=jobs, cluster=cluster,
                            precision=precision, force=True)


@contextmanager
def _routing_problems(scenario: Scenario) -> Iterator[None]:
    """A custom router that fails while running is a problem of the scenario (with its line),
    wherever the replication ran."""
    try:
        yield
    except RoutingError as error:
        raise scenario.problem(error.path, error.message) from None


def seeds(scenario: Scenario, n: int) -> list[int]:
    """The seeds of ``n`` replications: independent streams derived from ``run.seed``."""
    return _seeds(scenario.data["run"]["seed"], n)


def _design(scenario: Scenario, seed: int | None = None) -> Design:
    data = scenario.data
    if seed is not None:
        data = {**data, "run": {**data["run"], "seed": seed}}
    return Design(data, tuple(scenario_warnings(scenario)))


def run_replications(scenario: Scenario, n: int | None = None,
                     progress: NotedProgress | None = None, *, seed: int | None = None,
                     jobs: int | None = None, cluster: Any = None,
                     executor: executors.Executor | None = None,
                     precision: Precision | None = None, force: bool = False) -> Result:
    """Run ``n`` replications (default ``run.replications``) and aggregate them.

    With one replication (and no stop rule) this is a single run. Otherwise the summary
    holds each figure's mean and 95% confidence half-width (run settings such as ``warmup``
    stay plain values: see :func:`sim.metrics.aggregate`), ``replication_summaries`` each
    run's own summary, ``Result.replications`` the runs themselves and
    ``Result.replication_table`` one row per replication. The result's ``messages`` and
    ``timeseries`` are the first replication's, and so are its plots. ``force``: as in
    :func:`run`.
    """
    memory.check(scenario, force)
    n = n or scenario.data["run"]["replications"]
    if n == 1 and precision is None:
        single = None if progress is None else (lambda fraction: progress(fraction, ""))
        with _routing_problems(scenario):
            return run_once(_design(scenario, seed).data, None, scenario_warnings(scenario),
                            single)
    design = _design(scenario, seed)
    with _Where(executor, jobs, cluster) as where, _routing_problems(scenario):
        [outcomes] = run_designs([design], n, where, precision, tables=True, progress=progress)
    # tables=True: every outcome kept its tables, never None.
    runs = [Result(scenario=scenario.data, summary=o.summary,
                   messages=cast("pd.DataFrame", o.messages),
                   timeseries=cast("pd.DataFrame", o.timeseries)) for o in outcomes]
    summary = aggregate([r.summary for r in runs])
    summary["warnings"] = scenario_warnings(scenario)
    summary["replication_summaries"] = [r.summary for r in runs]
    first = runs[0]
    return Result(scenario=scenario.data, summary=summary, messages=first.messages,
                  timeseries=first.timeseries, replications=runs)


def replicate(scenario: Scenario, n: int = 10, *, seed: int | None = None,
              jobs: int | None = None, cluster: Any = None,
              executor: executors.Executor | None = None, precision: Precision | None = None,
              progress: NotedProgress | None = None, force: bool = False) -> Replications:
    """One row per replication with every figure of its summary; ``.ci(level)`` gives each
    figure's mean and Student t half-width. Only the summaries are kept (memory stays flat).
    ``force``: as in :func:`run`.
    """
    memory.check(scenario, force)
    with _Where(executor, jobs, cluster) as where:
        [outcomes] = run_designs([_design(scenario, seed)], n, where, precision,
                                 progress=progress)
    return Replications.from_summaries([o.summary for o in outcomes])


class _Where:
    """The given executor (left open), or one made from ``jobs``/``cluster`` (closed after)."""

    def __init__(self, given: executors.Executor | None, jobs: int | None, cluster: Any):
        self.given, self.jobs, self.cluster = given, jobs, cluster
        self.made: executors.Executor | None = None

    def __enter__(self) -> executors.Executor:
        if self.given is not None:
            return self.given
        self.made = executors.make(self.jobs, self.cluster)
        return self.made

    def __exit__(self, *exc: object) -> None:
        if self.made is not None:
            self.made.close()
