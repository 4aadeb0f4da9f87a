"""Latency, wait, response time and throughput (docs/scenario-reference.md).

Only copies published at or after ``warmup`` are measured (run.warmup): the system starts empty, so
early copies see an unrepresentative queue. They still count in the accounting totals.

Percentiles are ``numpy.percentile`` with its default linear interpolation between order
statistics (method "linear", Hyndman and Fan type 7, the same as pandas' ``quantile``): with
sorted values x[0..n-1], the q-th percentile is x at the fractional index (n - 1) * q / 100.
``p999`` is the 99.9th percentile.
"""

from __future__ import annotations

import numpy as np

# Field name -> percentile, in summary.json order (mean first, max last).
PERCENTILES = {"p50": 50.0, "p90": 90.0, "p95": 95.0, "p99": 99.0, "p999": 99.9}
STAT_KEYS = ("mean", *PERCENTILES, "max")


def describe(values: np.ndarray, overwrite: bool = False) -> dict[str, float | None]:
    """``{mean, p50, p90, p95, p99, p999, max}`` of the values; every field None when empty.

    With ``overwrite`` the caller hands the array over: the percentiles then partition it in
    place instead of copying it (the mean is taken first, in the original order, so the figures
    are the same either way).
    """
    values = np.asarray(values, dtype=np.float64)
    missing = np.isnan(values)
    if missing.any():
        values = values[~missing]
        overwrite = True  # a fresh copy: ours to reorder
    del missing
    if values.size == 0:
        return dict.fromkeys(STAT_KEYS)
    stats: dict[str, float | None] = {"mean": float(values.mean())}
    largest = float(values.max())
    points = np.percentile(values, list(PERCENTILES.values()), overwrite_input=overwrite)
    stats.update({name: float(p) for name, p in zip(PERCENTILES, points, strict=True)})
    stats["max"] = largest
    return stats


def throughput(
    published_at: np.ndarray, completed_at: np.ndarray, warmup: float, duration: float
) -> float | None:
    """Measured completions per second over the window [warmup, duration].

    A copy counts when it was published at or after ``warmup`` and first completed at or
    before ``duration`` (the end of the publishing window); the count is divided by
    ``duration - warmup``. Completions during the drain after ``duration`` are left out, so
    an overloaded system shows its capacity, not its arrival rate; copies published before
    ``warmup`` are left out as run.warmup asks. (In steady state this under-counts by about
    rate * mean latency / window, the copies still in the system at ``duration``.)
    None when the window is empty.
    """
    window = duration - warmup
    if not window > 0:
        return None
    done = (published_at >= warmup) & (completed_at <= duration)  # NaN compares False
    return float(np.count_nonzero(done)) / window
