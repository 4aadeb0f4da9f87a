"""How fitted numbers are written into a scenario: durations with a unit, plain numbers.

Four significant digits: a fit from thousands of values is not known better than that, and
the YAML stays readable. Every string written here is one the scenario loader parses.
"""

from __future__ import annotations

import math


class FitError(ValueError):
    """Bad input to a fit (an empty file, a missing column, zero durations...): one line for
    the user, naming the file, the column or the option and what is wanted."""


def yaml_number(x: float, digits: int = 4) -> float | int:
    """``x`` rounded to ``digits`` significant digits (an int when it is a whole number)."""
    if x == 0 or not math.isfinite(x):
        return x
    rounded = float(f"{x:.{digits}g}")
    return int(rounded) if rounded.is_integer() and abs(rounded) < 1e15 else rounded


def yaml_duration(seconds: float, digits: int = 4) -> str | float:
    """A duration as the scenario format writes it: ``"120ms"``, ``"850us"``, ``"1.5s"``.

    Minutes and hours are left out on purpose: ``"29.85m"`` reads worse than ``"1791s"``.
    Zero is the number 0 (a duration with no unit is seconds).
    """
    if seconds == 0:
        return 0
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6)):
        if abs(seconds) >= scale:
            return f"{yaml_number(seconds / scale, digits)}{unit}"
    return f"{yaml_number(seconds / 1e-9, digits)}ns"
