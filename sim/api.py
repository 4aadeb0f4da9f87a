"""The Python API: run a loaded scenario once or over replications.

```python
import sim
scenario = sim.load("scenarios/traffic_spike.yaml", overrides={"run.seed": 3})
result = sim.run(scenario)
result.summary["latency"]["p99"]
```
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd

from sim.engine import simulate
from sim.metrics import aggregate, summarize
from sim.model.routing import RoutingError
from sim.random.streams import replication_seed
from sim.results import Result
from sim.scenario import Scenario

Progress = Callable[[float], None]


def run(scenario: Scenario, seed: int | None = None, progress: Progress | None = None) -> Result:
    """Run the scenario once (with ``run.seed`` unless ``seed`` is given)."""
    data = scenario.data
    try:
        outcome = simulate(data, seed, progress)
    except RoutingError as error:  # the scenario's own router failed: a scenario problem
        raise scenario.problem(error.path, error.message) from None
    messages = outcome.messages()
    timeseries = outcome.timeseries_frame()
    summary = summarize(messages, timeseries, outcome.counters, outcome.meta)
    summary["warnings"] = scenario_warnings(scenario)
    return Result(scenario=data, summary=summary, messages=messages, timeseries=timeseries)


def scenario_warnings(scenario: Scenario) -> list[str]:
    """What loading the scenario warned about (valid, but probably not what was meant).

    Every summary carries them as ``warnings``, a list of strings, empty when there are none.
    """
    return [str(text) for text in getattr(scenario, "warnings", None) or []]


def seeds(scenario: Scenario, n: int) -> list[int]:
    """The seeds of ``n`` replications: independent streams derived from ``run.seed``."""
    base = scenario.data["run"]["seed"]
    return [replication_seed(base, i) for i in range(n)]


def run_replications(scenario: Scenario, n: int | None = None,
                     progress: Progress | None = None) -> Result:
    """Run ``n`` replications (default ``run.replications``) and aggregate them.

    With one replication this is :func:`run`. Otherwise the summary holds each figure's mean
    and 95% confidence half-width (run settings such as ``warmup`` stay plain values: see
    :func:`sim.metrics.aggregate`), ``replication_summaries`` each run's own summary, and
    ``Result.replications`` the runs themselves. The result's ``messages`` and
    ``timeseries`` are the first replication's, and so are its plots.
    """
    n = n or scenario.data["run"]["replications"]
    if n == 1:
        return run(scenario, progress=progress)
    runs = []
    for i, seed in enumerate(seeds(scenario, n)):
        part = None if progress is None else _scaled(progress, i, n)
        runs.append(run(scenario, seed=seed, progress=part))
    summary = aggregate([r.summary for r in runs])
    summary["warnings"] = scenario_warnings(scenario)
    summary["replication_summaries"] = [r.summary for r in runs]
    first = runs[0]
    return Result(scenario=scenario.data, summary=summary, messages=first.messages,
                  timeseries=first.timeseries, replications=runs)


def replicate(scenario: Scenario, n: int = 10) -> Replications:
    """One row per replication with the headline figures; ``.ci()`` gives mean ± 95% CI."""
    rows = [flatten(run(scenario, seed=seed).summary) for seed in seeds(scenario, n)]
    return Replications(rows)


HEADLINE = ("totals", "latency", "wait", "queueing", "throughput", "reordering")


def flatten(summary: dict[str, Any]) -> dict[str, Any]:
    """The headline figures of a summary as ``{"latency.p99": ..., "throughput": ...}``."""
    row: dict[str, Any] = {"seed": summary.get("seed")}
    for section in HEADLINE:
        value = summary.get(section)
        if isinstance(value, dict):
            for key, figure in value.items():
                row[f"{section}.{key}"] = figure
        else:
            row[section] = value
    return row


class Replications(pd.DataFrame):
    """A DataFrame of replications (one row each) that can summarise itself."""

    @property
    def _constructor(self) -> type[Replications]:
        return Replications

    def ci(self, level: float = 0.95) -> pd.DataFrame:
        """Mean and confidence half-width (Student t) of every numeric column."""
        from sim.metrics import t_quantile_975

        if level != 0.95:
            raise ValueError("only 95% intervals are supported")
        numeric = self.drop(columns=["seed"], errors="ignore").select_dtypes("number")
        n = len(numeric)
        mean = numeric.mean()
        half = (
            numeric.std(ddof=1) * t_quantile_975(n - 1) / n**0.5
            if n > 1
            else mean * float("nan")
        )
        return pd.DataFrame({"mean": mean, "ci95": half})


def _scaled(progress: Progress, i: int, n: int) -> Progress:
    return lambda fraction: progress((i + fraction) / n)
