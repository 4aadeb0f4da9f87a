"""Shared test helpers: every run a test makes goes through `run_checked`."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import sim
from sim import engine
from sim.metrics import check_conservation, check_messages

engine.AUDIT = True  # every run the tests make also checks the model's own bookkeeping


def assert_conserved(result: sim.Result) -> None:
    """Every copy ends in exactly one state, and enqueued = completed + ... + pending."""
    problems = check_conservation(result.summary) + check_messages(result.messages)
    assert not problems, "\n".join(problems)


def run_checked(scenario: sim.Scenario, seed: int | None = None) -> sim.Result:
    """Run once and check the invariants; the only way tests run the engine."""
    result = sim.run(scenario, seed=seed)
    assert_conserved(result)
    return result


def scenario_from(text: str, base_dir: Path | str = ".", **overrides: Any) -> sim.Scenario:
    return sim.loads(textwrap.dedent(text), base_dir=str(base_dir), overrides=overrides or None)


def write_trace(path: Path, times: list[float], **columns: list[Any]) -> Path:
    """A trace CSV with a `time` column and optional per-arrival columns."""
    names = ["time", *columns]
    rows = [",".join(names)]
    for i, t in enumerate(times):
        rows.append(",".join(str(v) for v in [t, *(columns[c][i] for c in columns)]))
    path.write_text("\n".join(rows) + "\n")
    return path


def by_id(result: sim.Result):
    """The messages table in publish order (copies of a message together)."""
    return result.messages.sort_values(["id", "copy"]).reset_index(drop=True)


def burst(n: int) -> list[float]:
    """``n`` arrivals at time 0."""
    return [0.0] * n


def batch_se(values: np.ndarray, batches: int = 20, stat: Any = np.mean) -> float:
    """Standard error of ``stat`` by batch means: the run's own estimate of its noise.

    Consecutive latencies in a queue are correlated, so the naive sd/sqrt(n) is too small;
    splitting the run into long batches gives nearly independent estimates.
    """
    parts = np.array_split(np.asarray(values), batches)
    estimates = np.array([stat(p) for p in parts])
    return float(estimates.std(ddof=1) / np.sqrt(batches))


@pytest.fixture
def trace(tmp_path: Path):
    def make(times: list[float], name: str = "trace.csv", **columns: list[Any]) -> Path:
        return write_trace(tmp_path / name, times, **columns)

    return make
