"""Numbers for people: durations in the unit that reads naturally (CLI tables, plot labels)."""

from __future__ import annotations

import math


def duration(seconds: float | None) -> str:
    """Three significant figures in µs, ms, s or min: ``850 µs``, ``12.3 ms``, ``4.56 s``."""
    if seconds is None or seconds != seconds:
        return "-"
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
