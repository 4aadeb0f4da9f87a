"""The pieces every printed report is made of: aligned tables, percentiles, intervals, notes.

Every figure goes through `sim.format` (show_number, percent, show_duration, money), which
prints an undefined one (None, NaN) as ``-``: a run where nothing was published, completed or
measured still prints its table.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sim.figures import unit
from sim.format import (
    MISSING,
    MONEY_FIGURES,
    interval,
    money_decimals,
    money_interval,
    show_duration,
    show_number,
    show_value,
)


def table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows, strict=False)]
    out = ["  ".join(h.ljust(w) if i == 0 else h.rjust(w)
                     for i, (h, w) in enumerate(zip(header, widths, strict=False)))]
    for row in rows:
        out.append("  ".join(str(c).ljust(w) if i == 0 else str(c).rjust(w)
                             for i, (c, w) in enumerate(zip(row, widths, strict=False))))
    return "\n".join(out)


def entries(summary: dict[str, Any], section: str) -> list[tuple[str, dict[str, Any]]]:
    """The (name, figures) pairs of a per-component section, empty when it is missing."""
    entries = summary.get(section) or {}
    return [(str(name), e if isinstance(e, dict) else {}) for name, e in entries.items()]


def get(entry: dict[str, Any], section: str, key: str) -> Any:
    """``entry[section][key]``, or None when either is missing."""
    inner = entry.get(section)
    return inner.get(key) if isinstance(inner, dict) else None


def percentiles(figures: Any) -> str:
    if not isinstance(figures, dict) or show_number(figures.get("mean")) == MISSING:
        return MISSING
    keys = ("mean", "p50", "p90", "p99", "max")
    return "  ".join(f"{k} {show_duration(figures.get(k))}" for k in keys)


def per_second(value: Any) -> str:
    text = show_number(value, ".2f")
    return text if text == MISSING else f"{text} msg/s"


def secs(seconds: Any, spec: str = ",.1f") -> str:
    text = show_number(seconds, spec)
    return text if text == MISSING else f"{text} s"


def window(warmup: Any, end: Any) -> str:
    """The measured window of throughput and utilization, as printed beside them."""
    until = "the end of publishing" if end is None else f"{show_duration(end)} (end of publishing)"
    start = show_duration(warmup or 0.0)
    return f"completions from {start} ({'warm-up' if warmup else 'start'}) to {until}"


def latency_note(warmup: Any) -> list[str]:
    """Which copies the latency figures describe, when a warm-up leaves some out."""
    if not warmup:
        return []
    return [f"           (latency, wait, queueing: copies published from {show_duration(warmup)}, "
            "after the warm-up)"]


def drain_line(end: Any, sim_end: Any, pending: str | None, prefix: str = "") -> str:
    """How long the run went on after publishing stopped: no figure's window covers it."""
    known = show_number(end) != MISSING and show_number(sim_end) != MISSING
    drain = sim_end - end if known else None
    line = (f"drain      {prefix}{show_duration(drain)} after publishing ended "
            "(in neither throughput nor utilization)")
    if pending is not None:
        line += f"; timed out: {pending} copies left pending"
    return line


def utilization_note(warmup: Any, end: Any) -> str:
    until = "the end of publishing" if end is None else show_duration(end)
    return (f"(utilization from {show_duration(warmup or 0.0)} to {until}, as throughput; "
            "worker-hours over the whole run)")


def mean_or_none(entry: Any) -> float | None:
    """The mean of a ``{mean, ci95}`` entry, None when undefined."""
    value: Any = entry.get("mean") if isinstance(entry, dict) else entry
    return float(value) if show_number(value) != MISSING else None


def mean_of(entry: Any) -> float:
    """The mean of a ``{mean, ci95}`` entry, 0 when undefined."""
    value: Any = entry.get("mean") if isinstance(entry, dict) else None
    return float(value) if show_number(value) != MISSING else 0.0


def with_ci(figure: str, mean: Any, half: Any, signed: bool = False) -> str:
    """``mean ± half`` for ``figure`` (:func:`with_kind` with the figure's unit)."""
    return with_kind(unit(figure), mean, half, signed)


def with_kind(kind: str, mean: Any, half: Any, signed: bool = False) -> str:
    """``mean ± half`` to the interval's precision (`sim.format.interval`); the mean alone
    when there is no half-width (one replication) or it is 0 (no spread: exact)."""
    shown = interval(mean, half, kind, signed)
    if shown != MISSING:
        return shown
    text = show_value(mean, kind)
    positive = text != MISSING and mean > 0
    return ("+" if signed and positive else "") + text



def money_cells(means: Sequence[Any], halves: Sequence[Any], signed: bool = False,
                at_least: int = 0) -> list[str]:
    """A column of amounts (``mean ± half`` where there is a spread) printed to one number of
    decimals (`sim.format.money_decimals`, and ``at_least``): equal amounts read equal,
    different ones apart. ``signed``: differences, each shown to its first significant digit
    at least (a difference has no size of its own to take three figures of)."""
    pairs = list(zip(means, halves, strict=True))
    decimals = max(at_least, money_decimals(pairs, 1 if signed else MONEY_FIGURES))
    return [money_interval(m, h, decimals, signed) for m, h in pairs]


def cells(figure: str, means: Sequence[Any], halves: Sequence[Any],
          signed: bool = False, at_least: int = 0) -> list[str]:
    """A column of one figure's ``mean ± half`` cells: amounts of money share their decimals
    (:func:`money_cells`), any other figure's cell is :func:`with_ci`."""
    if unit(figure) == "money":
        return money_cells(means, halves, signed, at_least)
    return [with_ci(figure, m, h, signed) for m, h in zip(means, halves, strict=True)]
