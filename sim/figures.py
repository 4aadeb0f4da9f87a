"""The figures of a summary, found by walking it, so figures added later are carried too.

A figure is a numeric leaf of the summary dict, named by its dotted path: ``latency.p99``,
``totals.lost``, ``queues.orders.latency.p99``, ``workers.pool.utilization``,
``producers.web.response_time.p50``. A ``true``/``false`` leaf (``drain_timed_out``) counts
as 1/0, so its mean is the fraction of replications where it held. Run settings
(``SETTINGS``) and the wall time are not figures: the wall time depends on the machine, and
a replication's figures must not depend on where it ran.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

SETTINGS = frozenset({"scenario", "seed", "seeds", "duration", "warmup", "wall_seconds",
                      "warnings", "replications", "replication_summaries", "sample_interval"})

# The figures a person reads first; tables and plots show those that exist, in this order.
HEADLINE = (
    "latency.mean", "latency.p50", "latency.p90", "latency.p99", "wait.mean", "wait.p99",
    "queueing.p99", "throughput", "totals.published", "totals.completed", "totals.rejected",
    "totals.lost", "totals.dead_lettered", "totals.expired", "totals.pending",
    "totals.duplicate_deliveries", "totals.duplicate_processing", "reordering.reordered",
    "reordering.inversions", "cost.total",
)

# Which way is better, by the nearest part of a figure's name that says (None: neither).
_LOWER = frozenset({
    "latency", "wait", "queueing", "response_time", "lost", "rejected", "unroutable",
    "expired", "dead_lettered", "pending", "duplicate_deliveries", "duplicate_processing",
    "errors", "reordering", "reordered", "inversions", "max_displacement", "refused_attempts",
    "crashes", "max_depth", "mean_depth", "drain_timed_out", "cost",
})
_HIGHER = frozenset({"throughput", "completed"})
_SECONDS = frozenset({"latency", "wait", "queueing", "response_time", "sim_end",
                      "warmup_auto.seconds"})


def flatten(summary: dict[str, Any]) -> dict[str, float]:
    """Every figure of one run's summary as ``{dotted name: float}`` (None becomes NaN)."""
    out: dict[str, float] = {}
    for key, value in summary.items():
        if key not in SETTINGS:
            _walk(str(key), value, out)
    return out


def _walk(name: str, value: Any, out: dict[str, float]) -> None:
    if isinstance(value, dict):
        for key, inner in value.items():
            _walk(f"{name}.{key}", inner, out)
    elif isinstance(value, bool):
        out[name] = float(value)
    elif isinstance(value, (int, float)):
        out[name] = float(value) if math.isfinite(value) else math.nan
    elif value is None:
        out[name] = math.nan
    # strings and lists (warnings, names) are not figures


def direction(name: str) -> int:
    """-1 when less is better (latency, losses, duplicates...), +1 when more is better
    (throughput, completed), 0 when neither (utilization, published...)."""
    for part in reversed(name.split(".")):
        if part in _LOWER:
            return -1
        if part in _HIGHER:
            return 1
    return 0


def unit(name: str) -> str:
    """``s``, ``msg/s``, ``ratio``, ``money`` or ``count``: how a figure is shown and
    labelled."""
    parts = name.split(".")
    if parts[0] == "cost" and parts[-1] in ("total", "cost", "per_million_messages"):
        return "money"  # (in the scenario's currency)
    if name in _SECONDS or any(p in _SECONDS for p in parts):
        return "s"
    if parts[-1] == "throughput":
        return "msg/s"
    if parts[-1] in ("utilization", "reordered_ratio"):
        return "ratio"
    if parts[-1] in ("mean_up", "mean_depth"):
        return "mean"
    return "count"


def headline(names: Iterable[str]) -> list[str]:
    """The headline figures among ``names``, in reading order, then each pool's utilization
    and each producer's p99 response time."""
    present = set(names)
    out = [n for n in HEADLINE if n in present]
    out += sorted(n for n in present if n.startswith("workers.") and n.endswith(".utilization"))
    out += sorted(n for n in present
                  if n.startswith("producers.") and n.endswith(".response_time.p99"))
    return out


def label(name: str) -> str:
    """A figure's name for axes and tables: ``latency p99 (s)``."""
    shown = name.replace("totals.", "").replace("reordering.", "").replace(".", " ")
    shown = shown.replace("_", " ")
    suffix = {"s": " (s)", "msg/s": " (msg/s)", "ratio": "", "count": "", "mean": "",
              "money": ""}[unit(name)]
    return shown + suffix
