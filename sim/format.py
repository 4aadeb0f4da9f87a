"""Numbers for people: durations in the unit that reads naturally (CLI tables, plot labels).

A figure can be undefined (``None`` in the summary: the latency of a queue where nothing
completed, the utilization of a pool that was never up); every helper here prints such a
figure, and NaN or infinity, as :data:`MISSING` instead of failing.
"""

from __future__ import annotations

import math
import numbers
from typing import Any, TypeGuard

import numpy as np

MISSING = "-"  # an undefined figure, everywhere mqsim prints one


def defined(value: Any) -> TypeGuard[float]:
    """True for a finite real number (numpy's too, not a bool): a figure that can be printed."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return False
    return math.isfinite(value)


def show_number(value: Any, spec: str = ",") -> str:
    """``format(value, spec)``, or :data:`MISSING` when the figure is undefined."""
    return format(value, spec) if defined(value) else MISSING


def percent(value: Any, digits: int = 1) -> str:
    """A fraction as a percentage (``0.123`` reads ``12.3%``), or :data:`MISSING`."""
    return show_number(value, f".{digits}%")


def show_duration(seconds: float | None) -> str:
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


# How an interval's figure kind (sim.figures.unit) is scaled and suffixed.
_SUFFIX = {"msg/s": (1.0, "/s"), "ratio": (100.0, "%")}


def interval(value: Any, half: Any, kind: str = "count", signed: bool = False) -> str:
    """``value ± half`` with the half-width to two significant digits and the value rounded
    to the same place (``1.235 ms ± 0.012 ms``, ``12,300 ± 2,300``, ``36.27/s ± 0.42/s``):
    digits beyond the interval's own precision are noise. Durations (``kind`` ``s``) take
    the unit that fits the larger of the two. Without a half-width (undefined, or 0) it is
    :data:`MISSING`: print the value alone. ``signed`` puts ``+`` before a positive value."""
    if not defined(value) or not defined(half) or half == 0:
        return MISSING
    half = abs(float(half))
    if kind == "s":
        scale, suffix = _duration_unit(max(abs(float(value)), half))
    else:
        scale, suffix = _SUFFIX.get(kind, (1.0, ""))
    shown_half = float(f"{half * scale:.2g}")  # two significant digits (0.0996 -> 0.1)
    place = math.floor(math.log10(shown_half)) - 1  # the place of the second digit
    decimals = max(0, -place)
    shown = round(float(value) * scale, -place) + 0.0  # + 0.0: no "-0.00"
    shown_half = round(shown_half, -place)
    sign = "+" if signed and shown > 0 else ""
    return f"{sign}{shown:,.{decimals}f}{suffix} ± {shown_half:,.{decimals}f}{suffix}"


def _duration_unit(seconds: float) -> tuple[float, str]:
    """The scale and suffix :func:`show_duration` would choose for ``seconds``."""
    if seconds < 0.9995e-3:
        return 1e6, " µs"
    if seconds < 0.9995:
        return 1e3, " ms"
    if seconds < 120:
        return 1.0, " s"
    return 1 / 60, " min"


def yaml_value(value: Any) -> str:
    """A scenario value as it is written in YAML: ``true``/``false``, ``null``, ``0.5``,
    ``4`` (a swept value, a design's label): not Python's ``True`` or ``None``."""
    if value is None:
        return "null"
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def nothing_sent(summary: Any) -> bool:
    """Whether a run's producers sent nothing at all (``rate: 0``, say): its tables and plots
    are empty for that reason, and the CLI and the figures say so instead of showing blanks."""
    if not isinstance(summary, dict):
        return False
    producers = summary.get("producers")
    if not isinstance(producers, dict) or not producers:
        return False
    return all(isinstance(p, dict) and p.get("sent") == 0 for p in producers.values())


def show_figure(figure: str, value: Any) -> str:
    """A figure's value in its unit: a duration, a rate, a percentage or a count."""
    from sim.figures import unit  # figures' kinds (a leaf module, imported when needed)

    return show_value(value, unit(figure))


def show_value(value: Any, kind: str) -> str:
    """``value`` as a figure of ``kind`` (sim.figures.unit: ``s``, ``msg/s``,
    ``ratio`` or a count) is shown without an interval."""
    if show_number(value) == MISSING:
        return MISSING
    if kind == "s":
        return show_duration(value)
    if kind == "msg/s":
        return f"{value:.2f}/s"
    if kind == "ratio":
        return percent(value)
    if kind == "money":
        return money(value)
    return f"{value:,.0f}" if value == int(value) else f"{value:,.1f}"  # a mean of counts


def money(value: Any) -> str:
    """An amount with the digits it needs: ``0``, ``0.0123``, ``4.56``, ``1,234.50``."""
    if not defined(value):
        return MISSING
    if value == 0:
        return "0"
    digits = max(2, 2 - math.floor(math.log10(abs(value))))
    return f"{value:,.{digits}f}"
