"""Replications: independent runs of one or several designs, their table and their intervals.

Replication ``i`` of every design runs with the same seed, ``replication_seed(run.seed, i)``
(replication 0 is ``run.seed`` itself), so designs and sweep points see the same traffic and
the same service draws wherever they share component names (common random numbers: each
component has its own random stream). A stop rule (`Precision`) adds replications until a
figure's relative confidence half-width reaches a target, up to a maximum, as JMT does; it
decides on the replications in index order, so where they ran never changes how many it
keeps.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from sim.experiment.executors import Executor, NotedProgress, Serial
from sim.experiment.figures import flatten
from sim.experiment.work import Outcome, Unit
from sim.metrics.aggregate import t_quantile, t_quantile_975
from sim.random.streams import replication_seed

ID_COLUMNS = ("design", "replication", "seed")


def seeds(base: int, n: int) -> list[int]:
    """The seeds of replications 0..n-1 of an experiment with seed ``base``."""
    return [replication_seed(base, i) for i in range(n)]


def ci_column(level: float) -> str:
    """``ci95`` for 95%, ``ci90`` for 90%, ``ci99.9`` for 99.9%."""
    return f"ci{level * 100:g}"


def half_widths(frame: pd.DataFrame, level: float = 0.95) -> pd.DataFrame:
    """Mean, Student t half-width and count of every column of ``frame`` (rows: replications).

    A column's undefined values (NaN: a figure a replication could not measure) are left out
    of its own mean and interval; the half-width is NaN below two defined values.
    """
    if not 0.0 < level < 1.0:
        raise ValueError(f"a confidence level lies strictly between 0 and 1, got {level}")
    n = frame.notna().sum()
    mean = frame.mean()
    sd = frame.std(ddof=1)
    quantile = n.map(lambda k: _quantile(level, k - 1) if k > 1 else math.nan)
    half = sd * quantile / np.sqrt(n.where(n > 0))
    # Values equal up to floating-point rounding have no spread: no noise such as 1e-17 s
    # beside 1 ms (the same wait computed at other absolute times differs in its last bits).
    rounding = 1e-9 * np.maximum(frame.max().abs(), frame.min().abs())
    half = half.where(~((frame.max() - frame.min()) <= rounding) | (n < 2), 0.0)
    return pd.DataFrame({"mean": mean, ci_column(level): half, "n": n})


def _quantile(level: float, df: int) -> float:
    return t_quantile_975(df) if level == 0.95 else t_quantile(0.5 + level / 2.0, df)


class Replications(pd.DataFrame):
    """One row per replication: ``replication``, ``seed`` and every figure (`flatten`).

    ``ci(level)`` gives each figure's mean and Student t half-width at any level.
    """

    @property
    def _constructor(self) -> type[Replications]:
        return Replications

    @classmethod
    def from_summaries(cls, summaries: Sequence[dict[str, Any]]) -> Replications:
        rows = []
        for i, summary in enumerate(summaries):
            rows.append({"replication": i, "seed": summary.get("seed"), **flatten(summary)})
        return cls(pd.DataFrame(rows))

    def figures(self) -> pd.DataFrame:
        """The figure columns only (no ids)."""
        ids = [c for c in ID_COLUMNS if c in self.columns]
        return pd.DataFrame(self.drop(columns=ids)).select_dtypes("number")

    def ci(self, level: float = 0.95) -> pd.DataFrame:
        """Per figure: ``mean``, the half-width (column ``ci95`` at 95%) and ``n`` defined."""
        return half_widths(self.figures(), level)


@dataclass(frozen=True)
class Precision:
    """Stop rule: replications are added until ``figure``'s confidence half-width (at
    ``level``) is at most ``relative`` times its mean, or ``max_replications`` is reached."""

    figure: str
    relative: float
    max_replications: int = 100
    level: float = 0.95

    def __post_init__(self) -> None:
        if not self.relative > 0:
            raise ValueError(f"the target relative half-width must be > 0, got {self.relative}")
        if self.max_replications < 2:
            raise ValueError("the stop rule needs at least 2 replications")

    def met(self, values: Sequence[float]) -> bool:
        """Whether the replications' values of the figure are precise enough."""
        defined = [v for v in values if v is not None and math.isfinite(v)]
        if len(defined) < 2:
            return False
        stats = half_widths(pd.DataFrame({"x": defined}), self.level).loc["x"]
        half, mean = stats[ci_column(self.level)], stats["mean"]
        if half == 0:
            return True
        return bool(mean != 0 and half <= self.relative * abs(mean))


@dataclass(frozen=True)
class Design:
    """A resolved scenario to replicate, with the warnings its loading raised."""

    data: dict[str, Any]
    warnings: tuple[str, ...] = ()


def run_designs(
    designs: Sequence[Design],
    replications: int,
    executor: Executor | None = None,
    precision: Precision | None = None,
    tables: Callable[[int, int], bool] | bool = False,
    progress: NotedProgress | None = None,
) -> list[list[Outcome]]:
    """Run ``replications`` of every design (more, up to the rule's maximum, with a
    ``precision`` rule met by every design at once); ``outcomes[design][replication]``.

    ``tables(design, replication)`` (or a bool for all) says which units keep their tables.
    With a rule, replications are added in batches of the executor's parallelism, and the
    first count (in index order) at which every design meets the rule is kept: the result is
    the same on any executor.
    """
    executor = executor or Serial()
    if replications < 1:
        raise ValueError(f"replications must be at least 1, got {replications}")
    keep = tables if callable(tables) else (lambda _d, _r: bool(tables))
    outcomes: list[list[Outcome]] = [[] for _ in designs]
    first = replications if precision is None else max(2, replications)
    limit = first if precision is None else max(first, precision.max_replications)
    have, target, checked = 0, first, first - 1
    while True:
        units = [
            Unit(scenario=design.data, seed=replication_seed(design.data["run"]["seed"], r),
                 design=d, replication=r, tables=keep(d, r), warnings=design.warnings)
            for r in range(have, target)
            for d, design in enumerate(designs)
        ]
        batch = executor.run(units, _scaled(progress, have, target, limit, precision))
        for outcome in batch:
            outcomes[outcome.design].append(outcome)
        if precision is not None and have == 0:
            check_figure(precision.figure, outcomes[0][0].summary)
            _check_measured(precision.figure, outcomes)
        have = target
        if precision is None:
            return outcomes
        for k in range(checked + 1, have + 1):
            if all(precision.met(_values(o[:k], precision.figure)) for o in outcomes):
                return [o[:k] for o in outcomes]
        checked = have
        if have >= limit:
            return outcomes
        target = min(limit, have + max(1, executor.parallelism))


def _values(outcomes: Sequence[Outcome], figure: str) -> list[float]:
    return [flatten(o.summary).get(figure, math.nan) for o in outcomes]


def _scaled(progress: NotedProgress | None, have: int, target: int, limit: int,
            precision: Precision | None) -> NotedProgress | None:
    """Progress of one batch as a share of the whole experiment (its maximum, with a rule)."""
    if progress is None:
        return None
    total = target if precision is None else limit

    def report(fraction: float, _note: str) -> None:
        done = have + fraction * (target - have)
        of = f"{target}" if precision is None else f"at most {limit}"
        progress(done / total, f"{int(done)} of {of} replications")

    return report


class FigureError(ValueError):
    """A stop rule names a figure the summary does not have."""


def _check_measured(figure: str, outcomes: Sequence[Sequence[Outcome]]) -> None:
    """FigureError when no replication of the first batch could measure the figure (null in
    all of them: the reordering of messages without keys, say): no precision can be reached,
    and the rule would run to its maximum for nothing."""
    values = [v for runs in outcomes for v in _values(runs, figure)]
    if values and not any(math.isfinite(v) for v in values):
        raise FigureError(
            f"{figure} is null (not measured) in every replication, so no precision can be "
            "reached; choose a figure the runs measure (reordering needs messages with a key)")


def check_figure(figure: str, summary: dict[str, Any]) -> None:
    """FigureError naming the figure when a summary has no such figure (a typo in a rule)."""
    names = flatten(summary)
    if figure not in names:
        import difflib

        close = difflib.get_close_matches(figure, list(names), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise FigureError(f"no figure named {figure!r} in the summary{hint}")
