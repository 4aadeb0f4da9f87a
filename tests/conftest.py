"""Shared test helpers: every run a test makes goes through `run_checked`."""

from __future__ import annotations

import math
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


def reordering_reference(queue, key, published_at, ids, completed_at, measured=None, queues=None):
    """(overall figures, {queue: figures}) from the definition, with plain Python loops.

    A copy counts when it completed (``completed_at`` not NaN) and is measured. Inside a
    (queue, key) its sequence is (published_at, id) (then its row, for identical entries).
    b overtook a when b completed strictly before a although published after it:
    reordered = copies overtaken at least once, inversions = (overtaker, overtaken) pairs,
    displacement = completion position - publish position, simultaneous completions counted
    in publish order. Copies without a key (None or -1) are not ranked; with none ranked every
    figure is None.
    """
    n = len(queue)
    counted = [
        r for r in range(n) if not math.isnan(completed_at[r]) and (measured is None or measured[r])
        and key[r] is not None and key[r] != -1  # an unkeyed copy is in no sequence
    ]

    def publish(r):
        return (published_at[r], ids[r], r)

    def figures(members):
        if not members:  # nothing ranked: no figure (not a count of 0)
            return dict.fromkeys(("reordered", "reordered_ratio", "inversions",
                                  "max_displacement"))
        groups = {}
        for r in members:
            groups.setdefault((queue[r], key[r]), []).append(r)
        reordered = inversions = 0
        max_disp = None
        for group in groups.values():
            for a in group:
                overtakers = [
                    b
                    for b in group
                    if completed_at[b] < completed_at[a] and publish(b) > publish(a)
                ]
                reordered += bool(overtakers)
                inversions += len(overtakers)
                pub_pos = sum(1 for b in group if publish(b) < publish(a))
                done_pos = sum(
                    1
                    for b in group
                    if (completed_at[b], publish(b)) < (completed_at[a], publish(a))
                )
                disp = done_pos - pub_pos
                max_disp = disp if max_disp is None else max(max_disp, disp)
        return {
            "reordered": reordered,
            "reordered_ratio": reordered / len(members) if members else None,
            "inversions": inversions,
            "max_displacement": max_disp,
        }

    names = sorted(set(queue)) if queues is None else queues
    return figures(counted), {q: figures([r for r in counted if queue[r] == q]) for q in names}
