"""The summary of one run: the dict written as summary.json (docs/scenario-reference.md, "Results").

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

from sim.metrics.accounting import (
    STATES,
    codes,
    copy_counts,
    queue_totals,
    run_totals,
    state_codes,
)
from sim.metrics.cost import cost_section
from sim.metrics.latency import describe, throughput
from sim.metrics.reordering import reordering


def summarize(
    messages: pd.DataFrame,
    timeseries: pd.DataFrame,
    counters: Mapping[str, Any],
    meta: Mapping[str, Any],
) -> dict[str, Any]:
    """Turn the records of one run into the summary dict (see the module docstring).

    ``meta`` holds scenario, seed, duration (end of the publishing window), warmup, sim_end and
    wall_seconds. A run stopped by a message count may have no duration: the measured window
    then ends at ``sim_end``. Definitions (copies published at or after warmup): latency =
    completed_at - published_at over completed copies, wait = first_delivered_at - published_at
    over delivered copies, queueing = started_at - published_at over copies whose processing
    started (wait plus any time in a worker's prefetch buffer), all described by
    :func:`describe` (numpy's linear percentiles); throughput as in
    :func:`sim.metrics.latency.throughput` (completions within [warmup, duration] per second,
    whenever the copy was published); utilization over that same window; reordering as in
    :mod:`sim.metrics.reordering`; mean_depth = mean of the sampled depths, max_depth from the
    queue's counters.

    Memory: the columns are read in place and each figure is computed from arrays of the rows
    it needs, released before the next, so the temporaries stay a few dozen bytes per row.
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
    started_at = _column(messages, "started_at")

    # Reordering first: its sorts need the most memory, so nothing else is held meanwhile.
    ordered = _measured(published_at, completed_at, warmup)
    ordered &= queue >= 0
    key, _ = codes(messages["key"])
    reordering_total, reordering_queues = reordering(
        queue, key, messages["seq"].to_numpy(), completed_at, n_queues, measured=ordered
    )
    del ordered, key

    copies = copy_counts(messages, queue, n_queues)
    overall = _timing(published_at, completed_at, delivered_at, started_at, warmup, window_end)
    queue_counters = counters.get("queues", {})
    mean_depth = _mean_depth(timeseries)
    mean_lag = _mean_depth(timeseries, "lag")
    everything = slice(0, len(messages))
    queues: dict[str, Any] = {}
    for index, (name, rows) in enumerate(
        zip(queue_names, _rows_by_code(queue, n_queues), strict=True)
    ):
        if isinstance(rows, slice) and rows == everything:
            # One queue holds every row: its figures are the run's (same rows, same order).
            timing = {k: dict(v) if isinstance(v, dict) else v for k, v in overall.items()}
        else:
            timing = _timing(
                published_at[rows], completed_at[rows], delivered_at[rows], started_at[rows],
                warmup, window_end,
            )
        queues[name] = {
            "totals": queue_totals(copies[index], queue_counters.get(name, {})),
            **timing,
            "reordering": reordering_queues[index],
            "max_depth": _int_or_none(queue_counters.get(name, {}).get("max_depth")),
            "mean_depth": mean_depth.get(name),
            # Publish attempts refused, retries included (totals.rejected: final refusals).
            "refused_attempts": _int_or_none(queue_counters.get(name, {}).get("refused_attempts")),
            # Copies taken again when a nacked publish was republished through an exchange.
            "republished_copies": _int_or_none(
                queue_counters.get(name, {}).get("republished_copies")),
        }
        if "max_lag" in queue_counters.get(name, {}):  # a kafka consumer group's log
            partitions = _partitions(queue_counters[name].get("partitions") or [], sim_end)
            queues[name]["lag"] = {
                "max": _int_or_none(queue_counters[name]["max_lag"]),
                # exact, the partitions' sum (None over a run of no time); the samples'
                # mean only for counters without partitions
                "mean": (mean_lag.get(name) if not partitions else
                         math.fsum(p["mean_lag"] for p in partitions) if sim_end > 0 else None),
            }
            queues[name]["rebalances"] = _int_or_none(queue_counters[name].get("rebalances"))
            queues[name]["group"] = queue_counters[name].get("group")
            queues[name]["partitions"] = partitions

    summary = {
        "scenario": meta.get("scenario"),
        "seed": _int_or_none(meta.get("seed")),
        "duration": _float_or_none(duration),
        "warmup": warmup,
        "sim_end": sim_end,
        "drain_timed_out": bool(meta.get("drain_timed_out", False)),
        "wall_seconds": _float_or_none(meta.get("wall_seconds")),
        "totals": run_totals(copies, counters),
        **overall,
        "reordering": reordering_total,
        "queues": queues,
        "workers": _workers(counters.get("workers", {}), sim_end, warmup, window_end),
        "producers": _producers(messages, counters.get("producers", {}), warmup),
        "exchanges": {
            str(name): {k: int(v) for k, v in c.items()}
            for name, c in counters.get("exchanges", {}).items()
        },
        "flows": _flows(messages, warmup),
    }
    if counters.get("costs") is not None:  # priced only when the scenario has `costs:`
        summary["cost"] = cost_section(counters["costs"], counters.get("requests") or {},
                                       summary["workers"], summary["totals"].get("completed"),
                                       sim_end)
    return summary


def _partitions(entries: list[Mapping[str, Any]], sim_end: float) -> list[dict[str, Any]]:
    """A consumer group's partitions, in partition order: ``owner`` at the end of the run,
    ``records`` appended, ``mean_lag`` (the exact time average of its lag over the whole
    run: the group's ``lag.mean`` is their sum) and ``max_lag``."""
    return [
        {
            "owner": entry.get("owner"),
            "records": int(entry["records"]),
            "mean_lag": float(entry["lag_area"]) / sim_end if sim_end > 0 else None,
            "max_lag": int(entry["max_lag"]),
        }
        for entry in entries
    ]


def _timing(
    published_at: np.ndarray,
    completed_at: np.ndarray,
    delivered_at: np.ndarray,
    started_at: np.ndarray,
    warmup: float,
    window_end: float,
) -> dict[str, Any]:
    """``latency``, ``wait``, ``queueing`` and ``throughput`` of the given rows (row order)."""
    return {
        "latency": _describe_span(published_at, completed_at, warmup),
        "wait": _describe_span(published_at, delivered_at, warmup),
        "queueing": _describe_span(published_at, started_at, warmup),
        "throughput": throughput(completed_at, warmup, window_end),
    }


def _column(messages: pd.DataFrame, name: str) -> np.ndarray:
    """A float column, all NaN when the table predates it (a results folder written before)."""
    if name in messages:
        return messages[name].to_numpy(np.float64)
    return np.full(len(messages), np.nan)


def _measured(published_at: np.ndarray, end: np.ndarray, warmup: float) -> np.ndarray:
    """Rows published at or after warmup whose ``end`` time exists (NaN compares False)."""
    rows = published_at >= warmup
    rows &= ~np.isnan(end)
    return rows


def _describe_span(
    published_at: np.ndarray, end: np.ndarray, warmup: float
) -> dict[str, float | None]:
    """:func:`describe` of ``end - published_at`` over the measured rows that have an end,
    in row order; only those rows are subtracted (no full-length difference array)."""
    rows = _measured(published_at, end, warmup)
    span = end[rows]
    span -= published_at[rows]
    del rows
    return describe(span, overwrite=True)


def _rows_by_code(code: np.ndarray, n_codes: int) -> list[slice | np.ndarray]:
    """The rows of each code 0..n_codes-1, in row order (code -1 belongs to none).

    Slices when the rows are already grouped by code (a single queue, say); otherwise index
    arrays cut from one stable sort, instead of one boolean mask of the table per code.
    """
    n = code.size
    if n and not bool(np.all(code[1:] >= code[:-1])):
        order = np.argsort(code, kind="stable")
        bounds = _bounds(code[order], n_codes)
        return [order[bounds[i] : bounds[i + 1]] for i in range(n_codes)]
    bounds = _bounds(code, n_codes)
    return [slice(int(bounds[i]), int(bounds[i + 1])) for i in range(n_codes)]


def _bounds(sorted_code: np.ndarray, n_codes: int) -> np.ndarray:
    """Where each code 0..n_codes-1 starts in a sorted array of codes < n_codes, and its end."""
    # Searching with values of the array's own dtype avoids a widened copy of the array.
    starts = np.searchsorted(sorted_code, np.arange(n_codes, dtype=sorted_code.dtype))
    return np.append(starts, sorted_code.size)


def _queue_index(
    messages: pd.DataFrame, timeseries: pd.DataFrame, counters: Mapping[str, Any]
) -> tuple[list[str], np.ndarray]:
    """Queue names in summary order (counters first, then any other seen) and each row's index.

    Rows whose queue is missing get -1. When the table's categories are already in summary
    order its codes are used as they are (no copy).
    """
    raw, values = codes(messages["queue"])
    names = [str(name) for name in counters.get("queues", {})]
    extra = [str(v) for v in values]
    if "queue" in timeseries:
        extra += [str(v) for v in pd.unique(timeseries["queue"].dropna())]
    for name in extra:
        if name not in names:
            names.append(name)
    positions = [names.index(str(v)) for v in values]
    if positions == list(range(len(values))) and len(names) <= np.iinfo(raw.dtype).max:
        return names, raw
    code_type = np.int16 if len(names) < 2**15 else np.int32
    lookup = np.array([*positions, -1], dtype=code_type)
    return names, lookup[raw]


def _mean_depth(timeseries: pd.DataFrame, column: str = "depth") -> dict[str, float]:
    """Per queue, the time average of the sampled depths: each sample stands for the time since
    the one before (the monitor skips samples while nothing can change, so rows are not
    always evenly spaced; the last one, at the end of the run, is usually closer)."""
    if len(timeseries) == 0 or "queue" not in timeseries or column not in timeseries:
        return {}
    out: dict[str, float] = {}
    for name, rows in timeseries.groupby("queue", observed=True):
        time = rows["time"].to_numpy(np.float64) if "time" in rows else np.arange(len(rows))
        depth = rows[column].to_numpy(np.float64)
        weight = np.diff(time, prepend=0.0)
        if len(depth) == 0 or np.isnan(depth).all():
            continue
        if not weight.sum() > 0:
            weight = np.ones_like(depth)
        value = float(np.average(depth, weights=weight))
        if not math.isnan(value):
            out[str(name)] = value
    return out


def _workers(workers: Mapping[str, Any], sim_end: float, warmup: float = 0.0,
             window_end: float | None = None) -> dict[str, dict[str, Any]]:
    """``utilization`` = busy slot-seconds / (slots per worker * worker-seconds up), both
    within the measured window [warmup, window_end] (the window of throughput): over the
    whole run, a pool's figure would fall as another pool drains long after publishing
    stops. None when the window is empty. The engine's ``readings`` (cumulative busy and up
    time while publishing) give the two ends, exactly at the run's warm-up and at the end of
    publishing, linearly between two readings otherwise (a warm-up chosen after the run);
    counters without readings (hand-built ones) give the whole run.
    ``mean_up`` = worker-seconds up / sim_end (the mean number of workers up);
    ``worker_seconds`` = worker-seconds up over the whole run, drain included (what the
    design costs); ``min_up`` and ``max_up`` the fewest and most workers up at once; a kafka
    consumer group's ``idle_consumers``."""
    out: dict[str, dict[str, Any]] = {}
    for name, c in workers.items():
        count, slots = int(c.get("count", 0)), int(c.get("slots", 0))
        up = float(c.get("up_time", 0.0))
        busy_in, up_in = _in_window(c, warmup, window_end)
        capacity = (slots / count) * up_in if count > 0 and up_in is not None else 0.0
        busy = float(busy_in or 0.0)
        out[str(name)] = {
            "utilization": busy / capacity if capacity > 0 else None,
            "crashes": int(c.get("crashes", 0)),
            "mean_up": up / sim_end if sim_end > 0 else None,
            "worker_seconds": up,
            "min_up": _int_or_none(c.get("min_up")),
            "max_up": _int_or_none(c.get("max_up")),
        }
        if "idle_consumers" in c:  # a kafka consumer group
            out[str(name)]["idle_consumers"] = int(c["idle_consumers"])
    return out


def _in_window(c: Mapping[str, Any], warmup: float,
               window_end: float | None) -> tuple[float | None, float | None]:
    """A pool's (busy slot-seconds, worker-seconds up) within [warmup, window_end]."""
    readings = c.get("readings")
    if readings is None:
        return float(c.get("busy_time", 0.0)), float(c.get("up_time", 0.0))
    readings = np.asarray(readings, dtype=np.float64).reshape(-1, 3)
    times = readings[:, 0]
    if window_end is None or not window_end > warmup or readings.shape[0] == 0 \
            or warmup < times[0] or window_end > times[-1] + 1e-9 * max(1.0, window_end):
        return None, None  # an empty window, or one the readings do not cover
    ends = np.array([warmup, min(window_end, float(times[-1]))])
    busy = np.interp(ends, times, readings[:, 1])
    up = np.interp(ends, times, readings[:, 2])
    # Cumulative readings never fall; a difference below 0 is floating-point rounding (a
    # processing starting at the window's end: its time left subtracted from its length).
    return max(0.0, float(busy[1] - busy[0])), max(0.0, float(up[1] - up[0]))


def _producers(
    messages: pd.DataFrame, producers: Mapping[str, Any], warmup: float
) -> dict[str, dict[str, Any]]:
    """``sent`` and ``errors`` (publishes refused) from the counters; ``response_time`` =
    accepted_at - published_at over the accepted publishes made at or after warmup, each
    publish counted once (its first copy: fan-out copies share the id and the answer)."""
    ids = messages["id"].to_numpy()
    published_at = messages["published_at"].to_numpy(np.float64)
    accepted_at = messages["accepted_at"].to_numpy(np.float64)
    answered = _measured(published_at, accepted_at, warmup)
    answered &= _first_of_id(ids)
    response = accepted_at[answered]
    response -= published_at[answered]
    producer, values = codes(messages["producer"])
    producer = producer[answered]
    del answered
    rows = _rows_by_code(producer, len(values))
    names = [str(name) for name in producers]
    names += [str(v) for v in values if str(v) not in names]
    code_of = {str(v): i for i, v in enumerate(values)}
    out: dict[str, dict[str, Any]] = {}
    for name in names:
        c = producers.get(name, {})
        if "call_times" in c:
            out[name] = _caller(c, warmup)
            continue
        here = response[rows[code_of[name]]] if name in code_of else np.zeros(0)
        out[name] = {
            "sent": int(c.get("sent", 0)),
            "errors": int(c.get("rejected", 0)),
            # the producers' rows are disjoint: each may be reordered in place
            "response_time": describe(here, overwrite=True),
        }
    return out


def _caller(c: Mapping[str, Any], warmup: float) -> dict[str, Any]:
    """A producer that calls a pool: ``errors`` = calls that failed (no worker up, timed
    out, or failed in processing), ``response_time`` over the answered calls made at or
    after warmup (the whole processing: the caller waited for it)."""
    pairs = np.asarray(c["call_times"], dtype=np.float64).reshape(-1, 2)
    measured = pairs[pairs[:, 0] >= warmup, 1]
    causes = {cause: int(c.get(cause, 0)) for cause in ("unavailable", "timeouts", "failed")}
    return {
        "sent": int(c.get("sent", 0)),
        "errors": sum(causes.values()),
        "response_time": describe(measured, overwrite=True),
        "calls": {"answered": int(c.get("answered", 0)), **causes},
    }


def _flows(messages: pd.DataFrame, warmup: float) -> dict[str, Any] | None:
    """End to end across a pipeline's stages: a *flow* is a producer's message and every
    follow-up and dead letter it led to (the ``flow`` column). ``count``: flows started at or
    after warmup; ``copies``: the copies they made (more than ``count`` when a flow fans out,
    goes on to another stage or is dead-lettered); ``completed``: those none of whose copies
    ended pending, lost or expired, with at least one completed; ``latency``: from the flow's
    first publish to its last completion, over the completed flows. None for a table without
    the column."""
    spans = flow_spans(messages, warmup)
    if spans is None:
        return None
    count, copies, span = spans
    return {
        "count": count,
        "copies": copies,
        "completed": int(span.size),
        "latency": describe(span, overwrite=True),
    }


def flow_spans(messages: pd.DataFrame, warmup: float) -> tuple[int, int, np.ndarray] | None:
    """(flows started at or after warmup, their copies, the end-to-end time of each completed
    one, in flow order) as defined in :func:`_flows`; None without a ``flow`` column."""
    if "flow" not in messages:
        return None
    flow = messages["flow"].to_numpy()
    if flow.size == 0:
        return 0, 0, np.zeros(0)
    order = np.argsort(flow, kind="stable")
    sorted_flow = flow[order]
    starts = np.flatnonzero(np.r_[True, sorted_flow[1:] != sorted_flow[:-1]])
    published_at = messages["published_at"].to_numpy(np.float64)[order]
    completed_at = messages["completed_at"].to_numpy(np.float64)[order]
    state = state_codes(messages["state"])[order]
    del order, sorted_flow
    begin = np.minimum.reduceat(published_at, starts)
    done_at = np.where(np.isnan(completed_at), -np.inf, completed_at)
    end = np.maximum.reduceat(done_at, starts)
    unfinished = np.isin(state, [STATES.index(s) for s in ("pending", "lost", "expired")])
    broken = np.maximum.reduceat(unfinished.astype(np.int8), starts) > 0
    measured = begin >= warmup
    complete = measured & ~broken & np.isfinite(end)
    sizes = np.diff(np.append(starts, flow.size))
    return int(measured.sum()), int(sizes[measured].sum()), end[complete] - begin[complete]


def _first_of_id(ids: np.ndarray) -> np.ndarray:
    """True on the first row (in row order) of each id: the first copy of each publish.

    Ids are handed out in publish order and rows are made in creation order, so ids usually
    never decrease down the table and the copies of one publish (a fan-out) are adjacent: then
    a row is first when the row before has another id, an O(n) pass with no hash table (which
    ``duplicated`` would build, at tens of bytes per row). When ids do go back (a dead-letter
    copy made later with its message's id, publishes accepted out of order), a stable sort of
    the ids gives the same answer.
    """
    n = ids.size
    first = np.ones(n, dtype=bool)
    if n < 2:
        return first
    if bool(np.all(ids[1:] >= ids[:-1])):
        np.not_equal(ids[1:], ids[:-1], out=first[1:])
        return first
    order = np.argsort(ids, kind="stable")  # each id's rows together, earliest row first
    sorted_ids = ids[order]
    first_sorted = np.ones(n, dtype=bool)
    np.not_equal(sorted_ids[1:], sorted_ids[:-1], out=first_sorted[1:])
    del sorted_ids
    first[order] = first_sorted
    return first


def _int_or_none(value: Any) -> int | None:
    return None if value is None else int(value)


def _float_or_none(value: Any) -> float | None:
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None
