"""Latency, wait, response time and throughput (docs/scenario-reference.md).

Latency figures measure the copies published at or after ``warmup`` (run.warmup): the system
starts empty, so early copies see an unrepresentative queue. They still count in the
accounting totals, and throughput counts every completion within [warmup, duration].

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


def throughput(completed_at: np.ndarray, warmup: float, duration: float) -> float | None:
    """Completions per second within the measured window [warmup, duration].

    A copy counts when it first completed in the window, whenever it was published: under a
    backlog the copies worked off in the window were published earlier, and leaving them out
    would read a busy system as idle (0/s beside a correct utilization). The window ends at
    ``duration`` (the end of the publishing window): completions during the drain after it
    are left out, so an overloaded system shows its capacity, not its arrival rate. This is
    the same window as utilization's. None when the window is empty.
    """
    window = duration - warmup
    if not window > 0:
        return None
    done = (completed_at >= warmup) & (completed_at <= duration)  # NaN compares False
    return float(np.count_nonzero(done)) / window
