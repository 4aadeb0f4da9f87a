"""One unit of work: a resolved scenario and a seed in, a summary (and maybe the tables) out.

A `Unit` is plain, picklable data, so the same unit runs in this process, in a local worker
process or on a Dask worker, and gives the same numbers everywhere: a run is a pure function
of (resolved scenario, seed). The process-wide switches a run reads travel with the unit
instead of being assumed in the worker: the test suite's model audit (``sim.engine.AUDIT``)
is captured when the unit is made and set where it runs. The engine's ``gc.freeze`` around
a run only spares the garbage collector work; two runs in threads of one process may freeze
and unfreeze each other's objects, which changes no number.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from sim import engine
from sim.engine import Progress
from sim.experiment import warmup as auto_warmup
from sim.metrics import summarize
from sim.results import Result

AUTO = "auto"  # run.warmup: auto


@dataclass(frozen=True)
class Unit:
    """Replication ``replication`` of design (or sweep point) ``design``."""

    scenario: dict[str, Any]  # resolved (Scenario.data)
    seed: int
    design: int = 0
    replication: int = 0
    tables: bool = False  # keep the messages and timeseries tables, not only the summary
    warnings: tuple[str, ...] = ()
    audit: bool = field(default_factory=lambda: engine.AUDIT)


@dataclass
class Outcome:
    """What a unit gives back: its summary, and its tables when the unit asked for them."""

    design: int
    replication: int
    summary: dict[str, Any]
    messages: pd.DataFrame | None = None
    timeseries: pd.DataFrame | None = None


def execute(unit: Unit, progress: Progress | None = None) -> Outcome:
    """Run one unit (wherever it is called: this process, a worker process, a Dask worker)."""
    if unit.audit != engine.AUDIT:
        engine.AUDIT = unit.audit
    result = run_once(unit.scenario, unit.seed, list(unit.warnings), progress)
    return Outcome(
        design=unit.design,
        replication=unit.replication,
        summary=result.summary,
        messages=result.messages if unit.tables else None,
        timeseries=result.timeseries if unit.tables else None,
    )


def run_once(data: dict[str, Any], seed: int | None = None, warnings: list[str] | None = None,
             progress: Progress | None = None) -> Result:
    """One run of the resolved scenario ``data`` with ``seed`` (default ``run.seed``).

    With ``run.warmup: auto`` the model runs with no warm-up, MSER-5 picks the truncation on
    the latency series (`sim.experiment.warmup`), and the summary is computed with it: its
    ``warmup`` is the chosen time and ``warmup_auto`` says how it was chosen.
    """
    auto = data["run"].get("warmup") == AUTO
    model_data = data
    if auto:
        model_data = copy.copy(data)
        model_data["run"] = {**data["run"], "warmup": 0.0}
    outcome = engine.simulate(model_data, seed, progress)
    messages = outcome.messages()
    timeseries = outcome.timeseries_frame()
    meta = dict(outcome.meta)
    notes = [str(text) for text in warnings or []]
    truncation = None
    if auto:
        truncation = auto_warmup.choose(messages)
        meta["warmup"] = truncation.seconds
        note = auto_warmup.warning(truncation)
        if note:
            notes.append(note)
    summary = summarize(messages, timeseries, outcome.counters, meta)
    if truncation is not None:
        summary["warmup_auto"] = truncation.as_summary()
    summary["warnings"] = notes
    return Result(scenario=data, summary=summary, messages=messages, timeseries=timeseries)
