"""Numbers for people: durations in the unit that reads naturally, amounts of money to the
digits that tell them apart (CLI tables, plot labels).

A figure can be undefined (``None`` in the summary: the latency of a queue where nothing
completed, the utilization of a pool that was never up); every helper here prints such a
figure, and NaN or infinity, as :data:`MISSING` instead of failing.
"""

from __future__ import annotations

import itertools
import math
import numbers
from collections.abc import Iterable
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


# Relative spread that is floating-point rounding, not a difference: the same waits computed
# at other absolute times differ in their last bits (1.00 ms vs 0.9999999999977 ms), a fixed
# pool's cost summed over replications by 1e-17. A half-width under it prints as exact.
NOISE = 1e-9

# How an interval's figure kind (sim.figures.unit) is scaled and suffixed.
_SUFFIX = {"msg/s": (1.0, "/s"), "ratio": (100.0, "%")}


def interval(value: Any, half: Any, kind: str = "count", signed: bool = False) -> str:
    """``value ± half`` with the half-width to two significant digits and the value rounded
    to the same place (``1.235 ms ± 0.012 ms``, ``12,300 ± 2,300``, ``36.27/s ± 0.42/s``):
    digits beyond the interval's own precision are noise. Durations (``kind`` ``s``) take
    the unit that fits the larger of the two; amounts (``money``) read as :func:`money_interval`.
    Without a half-width (undefined, 0, or float rounding's: under :data:`NOISE` of the value)
    it is :data:`MISSING`: print the value alone. ``signed`` puts ``+`` before a positive
    value."""
    if not defined(value) or not defined(half) or abs(half) <= NOISE * abs(value):
        return MISSING  # no spread, or float rounding's (a sum of equal parts): exact
    if kind == "money":
        return money_interval(value, half, signed=signed)
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


# -- amounts of money ---------------------------------------------------------------------------
# An amount is printed to MONEY_FIGURES significant figures and to the cent at least (``0.0860``,
# ``4.56``, ``1,234.50``). Amounts printed together (a table's column) share their decimals, so
# equal amounts read equal; they take more (up to MONEY_MOST_FIGURES of the largest) where two
# that differ, or a half-width, would otherwise read the same or 0. The currency is named once,
# beside the amounts or in the column's header, never formatted into each number.
MONEY_FIGURES = 3
MONEY_MOST_FIGURES = 6  # beyond, a cost model's digits are noise


def money_decimals(amounts: Iterable[tuple[Any, Any]], figures: int = MONEY_FIGURES) -> int:
    """The decimals that ``(amount, half-width or None)`` pairs are printed to alike (see the
    rule above): the largest amount to ``figures`` significant figures, to the cent
    at least but, when every amount has a half-width, not past their second digit (digits
    beyond an interval's precision are noise); every half-width shows its first digit, a
    nonzero amount does not read 0 and two different amounts do not read equal."""
    pairs = [(float(a), abs(float(h)) if defined(h) else 0.0) for a, h in amounts if defined(a)]
    top = max((abs(a) for a, _ in pairs), default=0.0)
    if top == 0:
        return 2
    magnitude = math.floor(math.log10(top))
    most = max(2, MONEY_MOST_FIGURES - 1 - magnitude)
    firsts = [-math.floor(math.log10(h)) for a, h in pairs if h > NOISE * abs(a)]
    upper = most if len(firsts) < len(pairs) else min(most, max(firsts) + 1)
    decimals = min(max(2, figures - 1 - magnitude), upper)
    decimals = max([decimals, *(min(most, f) for f in firsts)])
    for amount, _ in pairs:
        if amount:  # a nonzero amount never reads 0
            decimals = max(decimals, min(upper, -math.floor(math.log10(abs(amount)))))
    distinct = sorted({a for a, _ in pairs})
    while decimals < upper and any(
            b - a > NOISE * top and f"{a:.{decimals}f}" == f"{b:.{decimals}f}"
            for a, b in itertools.pairwise(distinct)):
        decimals += 1
    return max(decimals, 0)


def money(value: Any, decimals: int | None = None, signed: bool = False) -> str:
    """An amount, without its currency: ``0``, ``0.0123``, ``4.56``, ``1,234.50``;
    ``decimals`` those of the amounts printed with it (:func:`money_decimals`)."""
    if not defined(value):
        return MISSING
    if value == 0:
        return "0"
    digits = money_decimals([(value, None)]) if decimals is None else decimals
    sign = "+" if signed and value > 0 else ""
    return f"{sign}{value:,.{digits}f}"


def money_interval(value: Any, half: Any, decimals: int | None = None,
                   signed: bool = False) -> str:
    """``amount ± half`` at the amounts' decimals (``0.10480 ± 0.00003``); the amount alone
    when there is no spread (no half-width, 0, or float rounding's); a half-width too small
    for the decimals reads ``± <0.00001``."""
    if not defined(value):
        return MISSING
    if not defined(half) or abs(half) <= NOISE * abs(value):
        return money(value, decimals, signed)
    digits = money_decimals([(value, half)]) if decimals is None else decimals
    half = abs(float(half))
    shown = f"{half:,.{digits}f}" if round(half, digits) else f"<{10.0 ** -digits:.{digits}f}"
    sign = "+" if signed and round(float(value), digits) > 0 else ""
    return f"{sign}{float(value) + 0.0:,.{digits}f} ± {shown}"


def currency_of(scenario: Any) -> str | None:
    """The currency a resolved scenario's costs are in (its ``costs.currency``), or None."""
    costs = scenario.get("costs") if isinstance(scenario, dict) else None
    currency = costs.get("currency") if isinstance(costs, dict) else None
    return str(currency) if currency else None


def with_currency(header: str, currency: str | None) -> str:
    """A column's header with its amounts' currency: ``cost.total (USD)``."""
    return f"{header} ({currency})" if currency else header
