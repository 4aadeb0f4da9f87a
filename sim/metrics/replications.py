"""The per-replication table: one row per replication, every figure, and its intervals.

Below the experiment layer so a `sim.results.Result` can give its ``replication_table``
without importing how replications are run (`sim.experiment.replications`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from sim.figures import flatten
from sim.metrics.aggregate import t_quantile, t_quantile_975

ID_COLUMNS = ("design", "replication", "seed")


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
