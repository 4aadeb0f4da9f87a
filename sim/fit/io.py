"""Reading measurements: a CSV or Parquet table, one column of it, as numbers or dates.

Every problem is a `FitError` with one line naming the file and the column: an empty file, a
file that is neither CSV nor Parquet, a missing column (with the columns there are), a column
that is not numbers (with how many cells and the first one). Blank cells are skipped (with a
note); anything else is the caller's to judge (zero durations, one value...).
"""

from __future__ import annotations

import csv
import io
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from sim.fit.values import FitError

__all__ = ["TIME_UNITS", "Column", "read_measurements", "read_table"]

TIME_UNITS = {"s": 1.0, "ms": 1e-3, "us": 1e-6}
_PARQUET_MAGIC = b"PAR1"


@dataclass
class Column:
    """One column of a measurements file, with what was done to it."""

    name: str
    values: pd.Series  # blanks dropped; the original row order
    notes: list[str] = field(default_factory=list)
    single: bool = False  # the file has this one column only (an empirical file can use it)


def read_table(path: str) -> pd.DataFrame:
    """The table in ``path`` (CSV, or Parquet by its magic bytes), or a FitError."""
    try:
        with open(path, "rb") as f:
            head = f.read(4096)
    except IsADirectoryError:
        raise FitError(f"{path} is a folder, not a CSV or Parquet file") from None
    except OSError as e:
        raise FitError(f"cannot read {path}: {e.strerror or e}") from None
    if not head.strip():
        raise FitError(f"{path} is empty")
    if head.startswith(_PARQUET_MAGIC):
        try:
            return pd.read_parquet(path)
        except Exception as e:  # a damaged Parquet file raises anything pyarrow has
            raise FitError(f"cannot read {path} as Parquet: {e}") from None
    if b"\x00" in head:
        raise FitError(f"{path} is not a CSV or Parquet file (it holds binary data)")
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise FitError(f"{path} is not a CSV or Parquet file (not UTF-8 text)") from None
    try:
        frame = pd.read_csv(io.StringIO(text), skipinitialspace=True)
    except (pd.errors.ParserError, csv.Error) as e:
        reason = str(e).strip().splitlines()[-1]
        raise FitError(f"{path} is not a CSV file: {reason}") from None
    except pd.errors.EmptyDataError:
        raise FitError(f"{path} is empty") from None
    if frame.columns.size and all(_is_number(str(c)) for c in frame.columns):
        # No header: the first row is data, the columns are named by position.
        frame = pd.read_csv(io.StringIO(text), header=None, skipinitialspace=True)
        frame.columns = [f"column {i + 1}" for i in range(frame.columns.size)]
    frame.columns = [str(c).strip() for c in frame.columns]
    if frame.empty:
        raise FitError(f"{path} has a header ({', '.join(frame.columns)}) but no rows")
    return frame


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _names(frame: pd.DataFrame) -> str:
    return ", ".join(map(str, frame.columns))


def _numeric(series: pd.Series) -> bool:
    if pd.api.types.is_bool_dtype(series):
        return False
    return bool(pd.api.types.is_numeric_dtype(series))


def read_measurements(path: str, column: str | None, *, option: str = "--column",
                dates: bool = False, text: bool = False, exclude: tuple[str, ...] = ()
                ) -> Column:
    """The values of ``column`` of ``path`` (by default its only numeric column).

    ``dates``: timestamps, so a column of ISO dates is fine too (returned as strings here;
    the arrivals fit parses them). ``text``: any cells (message types). ``exclude``: columns
    never taken by default (``--by``).
    """
    frame = read_table(path)
    if column is None:
        pool = [c for c in frame.columns if c not in exclude]
        numeric = [c for c in pool if _numeric(frame[c])]
        if dates and not numeric:
            numeric = [c for c in pool if _looks_like_dates(frame[c])]
        if len(numeric) != 1:
            what = "no numeric column" if not numeric else (
                f"several numeric columns ({', '.join(numeric)})")
            raise FitError(f"{path} has {what}; choose one with {option} NAME "
                           f"(the columns are {_names(frame)})")
        column = numeric[0]
    elif column not in frame.columns:
        raise FitError(f"{path} has no column {column!r} ({option}); the columns are "
                       f"{_names(frame)}")
    series = frame[column]
    notes = []
    blank = series.isna() | (series.astype(str).str.strip() == "")
    if blank.all():
        raise FitError(f"{path}: column {column!r} has no values")
    if blank.any():
        notes.append(f"skipped {int(blank.sum())} blank cells of column {column!r}")
        series = series[~blank]
    if not text and not _numeric(series):
        as_numbers = pd.to_numeric(series.astype(str).str.strip(), errors="coerce")
        bad = as_numbers.isna()
        if not bad.any():
            series = as_numbers
        elif not (dates and _looks_like_dates(series)):
            first = series[bad].iloc[0]
            line = int(series[bad].index[0]) + 2  # +1 for the header, +1 to count from 1
            raise FitError(f"{path}: column {column!r} is not numeric ({int(bad.sum())} of "
                           f"{series.size} cells are not numbers, the first {str(first)!r} on "
                           f"row {line})")
    return Column(name=str(column), values=series, notes=notes, single=frame.columns.size == 1)


def _looks_like_dates(series: pd.Series) -> bool:
    if pd.api.types.is_datetime64_any_dtype(series):
        return True
    try:
        pd.to_datetime(series.dropna().astype(str).str.strip(), utc=True, format="ISO8601")
    except (ValueError, TypeError):
        return False
    return True


def seconds(column: Column, unit: str) -> np.ndarray:
    """A numeric column's values in seconds (``unit`` one of `TIME_UNITS`)."""
    return column.values.to_numpy(dtype=np.float64) * TIME_UNITS[unit]


def is_csv(path: str) -> bool:
    """Whether ``path`` is a text file (an empirical ``file:`` must be a CSV)."""
    with open(path, "rb") as f:
        return not f.read(4).startswith(_PARQUET_MAGIC)


def absolute(path: str) -> str:
    return os.path.abspath(path)
