"""Summaries of replications: each figure's mean and its 95% confidence half-width.

(The summary's shape is in docs/scenario-reference.md, "Results".)

Replications are independent runs of the same scenario with different seeds, so each figure is
an i.i.d. sample of size n and the half-width is the Student t one:
``t(0.975, n - 1) * s / sqrt(n)`` with ``s`` the sample standard deviation (ddof=1).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

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
PARAMETERS = ("scenario", "duration", "warmup")


def aggregate(summaries: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """One summary for several replications, with the same nested shape.

    Every numeric leaf (or None: an undefined figure) becomes ``{"mean": m, "ci95": h}`` over
    the replications where it is defined; other leaves are copied from the first summary. A key
    missing from some replications (a queue that saw nothing) counts as undefined there.

    The run's settings are not statistics and stay plain values: ``scenario``, ``duration``
    and ``warmup`` (see ``PARAMETERS``) hold the value the replications share, or None where
    they differ (a ``run.messages`` budget ends each replication's publishing window at its
    own time; each replication's value is in its own summary). ``seed`` is the first
    replication's seed, ``seeds`` lists them all, ``replications`` is n and ``wall_seconds``
    the wall time of all of them together. ``sim_end`` (when the drain ended) is a
    measurement like any other figure.
    """
    if not summaries:
        raise ValueError("aggregate needs at least one summary")
    result = _merge(list(summaries))
    for key in PARAMETERS:
        if any(key in summary for summary in summaries):
            result[key] = _common([summary.get(key) for summary in summaries])
    result["seed"] = summaries[0].get("seed")
    result["seeds"] = [summary.get("seed") for summary in summaries]
    result["replications"] = len(summaries)
    if any("wall_seconds" in summary for summary in summaries):
        walls = [summary.get("wall_seconds") for summary in summaries]
        result["wall_seconds"] = (
            math.fsum(walls) if all(_is_number(w) for w in walls) else None
        )
    return result


def _common(values: list[Any]) -> Any:
    """The value every replication shares, else None."""
    first = values[0]
    return first if all(v == first for v in values[1:]) else None


def _is_number(value: Any) -> bool:
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
    if all(_is_number(v) for v in present):
        numbers = [float(v) for v in present if math.isfinite(float(v))]
        return mean_ci95(numbers)
    return present[0]
