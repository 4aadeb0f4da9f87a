"""Numbers for people: durations in the unit that reads naturally (CLI tables, plot labels).

A figure can be undefined (``None`` in the summary: the latency of a queue where nothing
completed, the utilization of a pool that was never up); every helper here prints such a
figure, and NaN or infinity, as :data:`MISSING` instead of failing.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

MISSING = "-"  # an undefined figure, everywhere mqsim prints one


def defined(value: Any) -> bool:
    """True for a finite real number (numpy's too, not a bool): a figure that can be printed."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return False
    return math.isfinite(value)


def number(value: Any, spec: str = ",") -> str:
    """``format(value, spec)``, or :data:`MISSING` when the figure is undefined."""
    return format(value, spec) if defined(value) else MISSING


def percent(value: Any, digits: int = 1) -> str:
    """A fraction as a percentage (``0.123`` reads ``12.3%``), or :data:`MISSING`."""
    return number(value, f".{digits}%")


def duration(seconds: float | None) -> str:
    """Three significant figures in µs, ms, s or min: ``850 µs``, ``12.3 ms``, ``4.56 s``."""
    if not defined(seconds):
        return MISSING
    magnitude = abs(seconds)
    if magnitude == 0:
        return "0 s"
    if magnitude < 0.9995e-3:
        return f"{_three_figures(seconds * 1e6)} µs"
    if magnitude < 0.9995:
        return f"{_three_figures(seconds * 1e3)} ms"
    if magnitude < 120:
        return f"{_three_figures(seconds)} s"
    return f"{_three_figures(seconds / 60)} min"


def _three_figures(x: float) -> str:
    """Three significant figures, no scientific notation for everyday magnitudes."""
    rounded = float(f"{x:.3g}")  # first round, so 0.99999 reads 1.00, not 1.000
    if rounded == 0:
        return "0"
    digits = max(0, 2 - math.floor(math.log10(abs(rounded))))
    return f"{rounded:.{digits}f}"


def nothing_sent(summary: Any) -> bool:
    """Whether a run's producers sent nothing at all (``rate: 0``, say): its tables and plots
    are empty for that reason, and the CLI and the figures say so instead of showing blanks."""
    if not isinstance(summary, dict):
        return False
    producers = summary.get("producers")
    if not isinstance(producers, dict) or not producers:
        return False
    return all(isinstance(p, dict) and p.get("sent") == 0 for p in producers.values())
