"""The summary of one run: the dict written as summary.json (§10 "summary.json shape").

Input is what the engine recorded: the messages table (one row per copy), the sampled time
series, the per-component counters and the run's meta data. Output holds plain Python ints,
floats, strings and None only (None where a figure is undefined, e.g. the latency of a queue
where nothing completed), so ``json.dumps(summary, allow_nan=False)`` always works.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from sim.metrics.accounting import codes, copy_counts, queue_totals, run_totals
from sim.metrics.latency import describe, throughput
from sim.metrics.reordering import reordering


def summarize(
    messages: pd.DataFrame,
    timeseries: pd.DataFrame,
    counters: Mapping[str, Any],
    meta: Mapping[str, Any],
) -> dict[str, Any]:
    """Turn the records of one run into the summary dict (see the module docstring).

    ``meta`` holds scenario, seed, duration (end of the publishing window), warmup, sim_end
    and wall_seconds. A run stopped by a message count may have no duration: the measured
    window then ends at ``sim_end``. Definitions (copies published at or after warmup):
    latency = completed_at - published_at over completed copies, wait = first_delivered_at -
    published_at over delivered copies, both described by :func:`describe` (numpy's linear
    percentiles); throughput as in :func:`sim.metrics.latency.throughput` (completions within
    [warmup, duration] per second); reordering as in :mod:`sim.metrics.reordering`;
    mean_depth = mean of the sampled depths, max_depth from the queue's counters.
    """
    warmup = float(meta.get("warmup") or 0.0)
    sim_end = float(meta.get("sim_end") or 0.0)
    duration = meta.get("duration")
    window_end = float(duration) if duration is not None else sim_end

    queue_names, queue = _queue_index(messages, timeseries, counters)
    n_queues = len(queue_names)
    published_at = messages["published_at"].to_numpy(np.float64)
    completed_at = messages["completed_at"].to_numpy(np.float64)
    delivered_at = messages["first_delivered_at"].to_numpy(np.float64)
    measured = published_at >= warmup  # NaN compares False
    completed = measured & ~np.isnan(completed_at)
    delivered = measured & ~np.isnan(delivered_at)
    latency = completed_at - published_at
    wait = delivered_at - published_at

    copies = copy_counts(messages, queue, n_queues)
    key, _ = codes(messages["key"])
    ordered = completed & (queue >= 0)
    reordering_total, reordering_queues = reordering(
        queue[ordered],
        key[ordered],
        messages["seq"].to_numpy()[ordered],
        completed_at[ordered],
        n_queues,
    )
    mean_depth = _mean_depth(timeseries)
    queue_counters = counters.get("queues", {})

    queues: dict[str, Any] = {}
    for index, name in enumerate(queue_names):
        here = queue == index
        queues[name] = {
            "totals": queue_totals(copies[index], queue_counters.get(name, {})),
            "latency": describe(latency[completed & here]),
            "wait": describe(wait[delivered & here]),
            "throughput": throughput(published_at[here], completed_at[here], warmup, window_end),
            "reordering": reordering_queues[index],
            "max_depth": _int_or_none(queue_counters.get(name, {}).get("max_depth")),
            "mean_depth": mean_depth.get(name),
        }

    return {
        "scenario": meta.get("scenario"),
        "seed": _int_or_none(meta.get("seed")),
        "duration": _float_or_none(duration),
        "warmup": warmup,
        "sim_end": sim_end,
        "wall_seconds": _float_or_none(meta.get("wall_seconds")),
        "totals": run_totals(copies, counters),
        "latency": describe(latency[completed]),
        "wait": describe(wait[delivered]),
        "throughput": throughput(published_at, completed_at, warmup, window_end),
        "reordering": reordering_total,
        "queues": queues,
        "workers": _workers(counters.get("workers", {}), sim_end),
        "producers": _producers(messages, counters.get("producers", {}), warmup),
    }


def _queue_index(
    messages: pd.DataFrame, timeseries: pd.DataFrame, counters: Mapping[str, Any]
) -> tuple[list[str], np.ndarray]:
    """Queue names in summary order (counters first, then any other seen) and each row's index.

    Rows whose queue is missing get -1.
    """
    raw, values = codes(messages["queue"])
    names = [str(name) for name in counters.get("queues", {})]
    extra = [str(v) for v in values]
    if "queue" in timeseries:
        extra += [str(v) for v in pd.unique(timeseries["queue"].dropna())]
    for name in extra:
        if name not in names:
            names.append(name)
    lookup = np.array([names.index(str(v)) for v in values] + [-1], dtype=np.int64)
    return names, lookup[raw]


def _mean_depth(timeseries: pd.DataFrame) -> dict[str, float]:
    """Per queue, the mean of the sampled depths (samples are evenly spaced in time)."""
    if len(timeseries) == 0 or "queue" not in timeseries or "depth" not in timeseries:
        return {}
    means = timeseries.groupby("queue", observed=True)["depth"].mean()
    return {str(name): float(value) for name, value in means.items() if not math.isnan(value)}


def _workers(workers: Mapping[str, Any], sim_end: float) -> dict[str, dict[str, Any]]:
    """``utilization`` = busy slot-seconds / (slots per worker * worker-seconds up);
    ``mean_up`` = worker-seconds up / sim_end (the mean number of workers up)."""
    out: dict[str, dict[str, Any]] = {}
    for name, c in workers.items():
        count, slots = int(c.get("count", 0)), int(c.get("slots", 0))
        busy, up = float(c.get("busy_time", 0.0)), float(c.get("up_time", 0.0))
        capacity = (slots / count) * up if count > 0 else 0.0
        out[str(name)] = {
            "utilization": busy / capacity if capacity > 0 else None,
            "crashes": int(c.get("crashes", 0)),
            "mean_up": up / sim_end if sim_end > 0 else None,
        }
    return out


def _producers(
    messages: pd.DataFrame, producers: Mapping[str, Any], warmup: float
) -> dict[str, dict[str, Any]]:
    """``sent`` and ``errors`` (publishes refused) from the counters; ``response_time`` =
    accepted_at - published_at over the accepted publishes made at or after warmup, each
    publish counted once (its first copy: fan-out copies share the id and the answer)."""
    first = ~messages["id"].duplicated(keep="first").to_numpy()
    published_at = messages["published_at"].to_numpy(np.float64)
    accepted_at = messages["accepted_at"].to_numpy(np.float64)
    answered = first & (published_at >= warmup) & ~np.isnan(accepted_at)
    response = accepted_at - published_at
    producer, values = codes(messages["producer"])
    names = [str(name) for name in producers]
    names += [str(v) for v in values if str(v) not in names]
    code_of = {str(v): i for i, v in enumerate(values)}
    out: dict[str, dict[str, Any]] = {}
    for name in names:
        c = producers.get(name, {})
        here = answered & (producer == code_of[name]) if name in code_of else np.zeros(0, bool)
        out[name] = {
            "sent": int(c.get("sent", 0)),
            "errors": int(c.get("rejected", 0)),
            "response_time": describe(response[here] if here.size else np.zeros(0)),
        }
    return out


def _int_or_none(value: Any) -> int | None:
    return None if value is None else int(value)


def _float_or_none(value: Any) -> float | None:
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None
