"""Experiment tables: per-replication rows, and one row per point or design with intervals.

A summary table has, for every figure ``X``, its mean in column ``X`` and its 95% confidence
half-width in ``X_ci`` (Student t over the replications where the figure was defined).
Tables are written as CSV (for people and spreadsheets) with Parquet beside them (for pandas;
types kept).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from sim.experiment.replications import half_widths
from sim.experiment.units import Outcome
from sim.figures import flatten
from sim.results import write_parquet

CI_SUFFIX = "_ci"


def long_table(outcomes: Sequence[Sequence[Outcome]], labels: Sequence[dict[str, Any]],
               ) -> pd.DataFrame:
    """One row per (design or point, replication): the label columns, ``replication``,
    ``seed`` and every figure; a figure missing from a run (a queue that saw nothing) is NaN."""
    rows = []
    for runs, label in zip(outcomes, labels, strict=True):
        for outcome in runs:
            rows.append({**label, "replication": outcome.replication,
                         "seed": outcome.summary.get("seed"), **flatten(outcome.summary)})
    return pd.DataFrame(rows)


def summary_row(figures: pd.DataFrame) -> dict[str, float]:
    """``{X: mean, X_ci: half-width}`` for every figure column of one design's replications."""
    stats = half_widths(figures)
    row: dict[str, float] = {}
    for name in figures.columns:
        row[name] = float(stats["mean"][name])
        row[name + CI_SUFFIX] = float(stats["ci95"][name])
    return row


def figure_columns(frame: pd.DataFrame, labels: Sequence[str]) -> list[str]:
    """The figure columns of a long table (everything but labels, replication and seed)."""
    skip = {*labels, "replication", "seed"}
    return [c for c in frame.columns if c not in skip and pd.api.types.is_numeric_dtype(frame[c])]


def means(table: pd.DataFrame) -> list[str]:
    """The figures of a summary table (the columns that have an ``_ci`` partner)."""
    return [c for c in table.columns if c + CI_SUFFIX in table.columns]


def write(frame: pd.DataFrame, folder: Path, stem: str) -> None:
    """``STEM.csv`` and ``STEM.parquet`` in ``folder``."""
    frame.to_csv(folder / f"{stem}.csv", index=False)
    write_parquet(_arrow_safe(frame), folder / f"{stem}.parquet")


def _arrow_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """Object columns of mixed types (a parameter swept over 1 and 'auto') as text."""
    out = frame.copy()
    for name in out.columns:
        if out[name].dtype == object:
            kinds = {type(v) for v in out[name] if v is not None and not _nan(v)}
            if len(kinds) > 1 or any(k in (dict, list) for k in kinds):
                out[name] = out[name].map(lambda v: None if v is None else str(v))
    return out


def _nan(value: Any) -> bool:
    return isinstance(value, float) and math.isnan(value)
