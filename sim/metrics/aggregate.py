"""Summaries of replications: each figure's mean and its 95% confidence half-width.

(The summary's shape is in docs/scenario-reference.md, "Results".)

Replications are independent runs of the same scenario with different seeds, so each figure is
an i.i.d. sample of size n and the half-width is the Student t one:
``t(0.975, n - 1) * s / sqrt(n)`` with ``s`` the sample standard deviation (ddof=1).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import lru_cache
from typing import Any, TypeGuard

# t(0.975, df) for df = 1..30 at index df - 1 (checked against a numerical t CDF to 1e-9);
# beyond, the Cornish-Fisher expansion is exact to better than 1e-7.
_T975 = (
    12.706204736, 4.302652730, 3.182446305, 2.776445105, 2.570581836,
    2.446911851, 2.364624252, 2.306004135, 2.262157163, 2.228138852,
    2.200985160, 2.178812830, 2.160368656, 2.144786688, 2.131449546,
    2.119905299, 2.109815578, 2.100922040, 2.093024054, 2.085963447,
    2.079613845, 2.073873068, 2.068657610, 2.063898562, 2.059538553,
    2.055529439, 2.051830516, 2.048407142, 2.045229642, 2.042272456,
)  # fmt: skip
_Z975 = 1.959963984540054  # the standard normal 0.975 quantile


def t_quantile_975(df: float) -> float:
    """The 0.975 quantile of Student's t with ``df`` degrees of freedom (df >= 1).

    Whole df up to 30 come from a table; larger df from the Cornish-Fisher expansion of t
    around the normal quantile (Abramowitz & Stegun 26.7.5, four terms); a fractional df
    below 30 is interpolated linearly in 1/df between its neighbours.
    """
    if not df >= 1:
        raise ValueError(f"degrees of freedom must be >= 1, got {df}")
    if df > 30:
        return _cornish_fisher(float(df))
    low = math.floor(df)
    if low == df:
        return _T975[low - 1]
    high = low + 1
    share = (1 / low - 1 / df) / (1 / low - 1 / high)
    upper = _T975[high - 1] if high <= 30 else _cornish_fisher(high)
    return _T975[low - 1] + share * (upper - _T975[low - 1])


def _cornish_fisher(df: float) -> float:
    z = _Z975
    g1 = (z**3 + z) / 4
    g2 = (5 * z**5 + 16 * z**3 + 3 * z) / 96
    g3 = (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / 384
    g4 = (79 * z**9 + 776 * z**7 + 1482 * z**5 - 1920 * z**3 - 945 * z) / 92160
    return z + g1 / df + g2 / df**2 + g3 / df**3 + g4 / df**4


@lru_cache(maxsize=1024)
def t_quantile(p: float, df: float) -> float:
    """The ``p`` quantile of Student's t with ``df`` degrees of freedom, for any 0 < p < 1.

    Confidence intervals at any level need it (``level`` 0.9 takes p = 0.95). The CDF is the
    regularized incomplete beta function (Abramowitz & Stegun 26.7.1, evaluated by its
    continued fraction 26.5.8), inverted by bisection to machine precision; p = 0.975 agrees
    with :func:`t_quantile_975`'s table to 1e-9.
    """
    if not 0.0 < p < 1.0:
        raise ValueError(f"the probability must lie strictly between 0 and 1, got {p}")
    if not df > 0 or math.isinf(df):
        raise ValueError(f"degrees of freedom must be positive and finite, got {df}")
    if p == 0.5:
        return 0.0
    if p < 0.5:
        return -t_quantile(1.0 - p, df)
    tail = 1.0 - p  # find t > 0 with P(T > t) = tail

    def upper(t: float) -> float:
        return 0.5 * _betainc(df / 2.0, 0.5, df / (df + t * t))

    low, high = 0.0, 1.0
    while upper(high) > tail:
        low, high = high, high * 2.0
        if high > 1e300:
            return math.inf
    for _ in range(200):
        middle = 0.5 * (low + high)
        if middle in (low, high):
            break
        if upper(middle) > tail:
            low = middle
        else:
            high = middle
    return 0.5 * (low + high)


def _betainc(a: float, b: float, x: float) -> float:
    """The regularized incomplete beta function I_x(a, b) for 0 <= x <= 1."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    log_front = (math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b)
                 + a * math.log(x) + b * math.log1p(-x))
    if x < (a + 1.0) / (a + b + 2.0):
        return math.exp(log_front) * _beta_fraction(a, b, x) / a
    return 1.0 - math.exp(log_front) * _beta_fraction(b, a, 1.0 - x) / b


def _beta_fraction(a: float, b: float, x: float) -> float:
    """The continued fraction of I_x(a, b) by the modified Lentz method."""
    tiny, eps = 1e-300, 1e-16
    c, d = 1.0, 1.0 - (a + b) * x / (a + 1.0)
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 10_000):
        m2 = 2 * m
        for numerator in (m * (b - m) * x / ((a + m2 - 1.0) * (a + m2)),
                          -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1.0))):
            d = 1.0 + numerator * d
            d = 1.0 / (d if abs(d) > tiny else tiny)
            c = 1.0 + numerator / c
            c = c if abs(c) > tiny else tiny
            h *= d * c
        if abs(d * c - 1.0) < eps:
            break
    return h


def half_width(values: Sequence[float], level: float = 0.95) -> float | None:
    """The Student t confidence half-width of the mean of ``values`` at ``level``.

    None below two values. ``level`` is the two-sided coverage (0.95 for 95%).
    """
    if not 0.0 < level < 1.0:
        raise ValueError(f"a confidence level lies strictly between 0 and 1, got {level}")
    n = len(values)
    if n < 2:
        return None
    mean = math.fsum(values) / n
    variance = math.fsum((v - mean) ** 2 for v in values) / (n - 1)
    quantile = (t_quantile_975(n - 1) if level == 0.95
                else t_quantile(0.5 + level / 2.0, n - 1))
    return quantile * math.sqrt(variance / n)


def mean_ci95(values: Sequence[float]) -> dict[str, float | None]:
    """``{"mean": m, "ci95": half_width}``; half-width None below two values, all None for none."""
    n = len(values)
    if n == 0:
        return {"mean": None, "ci95": None}
    mean = math.fsum(values) / n
    if n < 2:
        return {"mean": mean, "ci95": None}
    variance = math.fsum((v - mean) ** 2 for v in values) / (n - 1)
    return {"mean": mean, "ci95": t_quantile_975(n - 1) * math.sqrt(variance / n)}


# Run settings, not measurements: the same in every replication of one scenario, so they stay
# plain values in the aggregate (a plot reads ``warmup`` as a number of seconds, say).
RUN_SETTINGS = ("scenario", "duration", "warmup")


def aggregate(summaries: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """One summary for several replications, with the same nested shape.

    Every numeric leaf (or None: an undefined figure) becomes ``{"mean": m, "ci95": h}`` over
    the replications where it is defined; a list of dicts of the same length in each (a
    consumer group's ``partitions``) is merged entry by entry; other leaves are copied from
    the first summary. A key
    missing from some replications (a queue that saw nothing) counts as undefined there.

    The run's settings are not statistics and stay plain values: ``scenario``, ``duration``
    and ``warmup`` (see ``RUN_SETTINGS``) hold the value the replications share, or None where
    they differ (a ``run.messages`` budget ends each replication's publishing window at its
    own time; each replication's value is in its own summary). ``seed`` is the first
    replication's seed, ``seeds`` lists them all, ``replications`` is n and ``wall_seconds``
    the wall time of all of them together. ``sim_end`` (when the drain ended) is a
    measurement like any other figure.
    """
    if not summaries:
        raise ValueError("aggregate needs at least one summary")
    result = _merge(list(summaries))
    for key in RUN_SETTINGS:
        if any(key in summary for summary in summaries):
            result[key] = _common([summary.get(key) for summary in summaries])
    result["seed"] = summaries[0].get("seed")
    result["seeds"] = [summary.get("seed") for summary in summaries]
    result["replications"] = len(summaries)
    if any("wall_seconds" in summary for summary in summaries):
        walls = [summary.get("wall_seconds") for summary in summaries]
        timed = [w for w in walls if _is_number(w)]
        result["wall_seconds"] = math.fsum(timed) if len(timed) == len(walls) else None
    return result


def _common(values: list[Any]) -> Any:
    """The value every replication shares, else None."""
    first = values[0]
    return first if all(v == first for v in values[1:]) else None


def _is_number(value: Any) -> TypeGuard[float]:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _merge(values: list[Any]) -> Any:
    present = [v for v in values if v is not None]
    if present and all(isinstance(v, dict) for v in present):
        keys: dict[str, None] = {}
        for v in present:
            keys.update(dict.fromkeys(v))
        return {
            k: _merge([v.get(k) if isinstance(v, dict) else None for v in values]) for k in keys
        }
    if (present and all(isinstance(v, list) and v and all(isinstance(e, dict) for e in v)
                        for v in present)
            and len({len(v) for v in present}) == 1):
        # A list of entries that line up across replications (a consumer group's partitions:
        # the same partition at each place): merged place by place.
        return [_merge([v[i] if isinstance(v, list) else None for v in values])
                for i in range(len(present[0]))]
    if all(_is_number(v) for v in present):
        numbers = [float(v) for v in present if math.isfinite(float(v))]
        return mean_ci95(numbers)
    return present[0]
