"""Metrics: turn the records of one run into the summary of summary.json.

No SimPy here: the input is the messages table, the sampled time series, the counters and the
run's meta data, and the output is a plain dict. ``aggregate`` combines replications;
``check_conservation`` and ``check_messages`` verify the accounting invariants.
"""

from sim.metrics.aggregate import (
    aggregate,
    half_width,
    mean_ci95,
    t_quantile,
    t_quantile_975,
)
from sim.metrics.conservation import check_conservation, check_messages
from sim.metrics.latency import describe, throughput
from sim.metrics.reordering import count_inversions, reordering
from sim.metrics.summary import summarize

__all__ = [
    "aggregate",
    "check_conservation",
    "check_messages",
    "count_inversions",
    "describe",
    "half_width",
    "mean_ci95",
    "reordering",
    "summarize",
    "t_quantile",
    "t_quantile_975",
    "throughput",
]
