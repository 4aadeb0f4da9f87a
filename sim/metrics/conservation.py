"""Consistency checks: the accounting invariant and the sanity of the messages table.

The invariant is defined in docs/scenario-reference.md ("Accounting").

Both return a list of problems, one readable line each (empty when all is well), so a test can
assert ``== []`` and show every problem at once. They also accept an aggregated summary (leaves
``{"mean": m, "ci95": h}``), comparing the means with a relative tolerance.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from sim.metrics.accounting import STATES, TOTAL_KEYS, state_codes

_ADDITIVE = TOTAL_KEYS[3:]  # copy counts: the queues' add up to the run's


def _value(leaf: Any) -> float | None:
    """A figure's number: the leaf itself, or the mean of an aggregated leaf."""
    if isinstance(leaf, Mapping):
        leaf = leaf.get("mean")
    if leaf is None or isinstance(leaf, bool):
        return None
    return float(leaf)


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)


def _check_totals(where: str, totals: Mapping[str, Any]) -> list[str]:
    problems = []
    values = {k: _value(totals.get(k)) for k in TOTAL_KEYS}
    for name, value in values.items():
        if value is None:
            problems.append(f"{where}: {name} is missing")
        elif value < 0:
            problems.append(f"{where}: {name} = {value:g} is negative")
    known = {k: values[k] for k in ("enqueued", *STATES)}
    core = {k: v for k, v in known.items() if v is not None}
    if len(core) < len(known):
        return problems
    enqueued = core["enqueued"]
    ended = sum(core[s] for s in STATES)
    if not _close(enqueued, ended):
        problems.append(
            f"{where}: enqueued = {enqueued:g} but completed + dead_lettered + expired"
            f" + lost + pending = {ended:g}"
        )
    pairs = (
        ("duplicate_deliveries", "deliveries"),
        ("duplicate_processing", "processings"),
    )
    for dup, total in pairs:
        dup_value, total_value = values[dup], values[total]
        if dup_value is not None and total_value is not None and dup_value > total_value:
            problems.append(f"{where}: {dup} = {dup_value:g} exceeds {total} = {total_value:g}")
    deliveries, duplicate_deliveries = values["deliveries"], values["duplicate_deliveries"]
    if deliveries is not None and duplicate_deliveries is not None:
        # deliveries - duplicate_deliveries is the number of copies delivered at least once.
        delivered = deliveries - duplicate_deliveries
        if delivered > enqueued + 1e-9:
            problems.append(f"{where}: {delivered:g} copies delivered, only {enqueued:g}")
        if core["completed"] > delivered + 1e-9:
            problems.append(
                f"{where}: completed = {core['completed']:g} but only {delivered:g} copies"
                " were ever delivered"
            )
    processings, duplicate_processing = values["processings"], values["duplicate_processing"]
    if processings is not None and duplicate_processing is not None:
        processed = processings - duplicate_processing
        if processed > enqueued + 1e-9:
            problems.append(f"{where}: {processed:g} copies processed, only {enqueued:g}")
    return problems


def _check_reordering(where: str, figures: Mapping[str, Any], completed: float | None) -> list[str]:
    problems = []
    for name in ("reordered", "inversions", "max_displacement"):
        value = _value(figures.get(name))
        if value is not None and value < 0:
            problems.append(f"{where}: reordering.{name} = {value:g} is negative")
    reordered, ratio = _value(figures.get("reordered")), _value(figures.get("reordered_ratio"))
    if ratio is not None and not 0 <= ratio <= 1:
        problems.append(f"{where}: reordering.reordered_ratio = {ratio:g} is outside [0, 1]")
    if reordered is not None and completed is not None and reordered > completed + 1e-9:
        problems.append(f"{where}: {reordered:g} reordered copies but {completed:g} completed")
    return problems


def _check_partitions(where: str, queue: Mapping[str, Any], enqueued: float | None) -> list[str]:
    """A consumer group's partitions: their records add up to its copies, each mean lag lies
    in [0, max_lag], and the group's largest lag is at least any partition's and at most
    their sum (all three hold for the means of replications too)."""
    problems = []
    parts = [p if isinstance(p, Mapping) else {} for p in queue["partitions"]]
    records = [_value(p.get("records")) for p in parts]
    if enqueued is not None and None not in records:
        added = math.fsum(r for r in records if r is not None)
        if not _close(added, enqueued):
            problems.append(f"{where}: its partitions hold {added:g} records, "
                            f"{enqueued:g} copies enqueued")
    peaks = [_value(p.get("max_lag")) for p in parts]
    for i, (p, peak) in enumerate(zip(parts, peaks, strict=True)):
        mean = _value(p.get("mean_lag"))
        if mean is not None and peak is not None and not -1e-9 <= mean <= peak + 1e-9:
            problems.append(f"{where}.partitions[{i}]: mean_lag {mean:g} outside "
                            f"[0, max_lag = {peak:g}]")
    group = _value((queue.get("lag") or {}).get("max"))
    if group is not None and peaks and None not in peaks:
        known = [peak for peak in peaks if peak is not None]
        if not max(known) - 1e-9 <= group <= math.fsum(known) + 1e-9:
            problems.append(f"{where}: lag.max {group:g} outside [largest partition's "
                            f"{max(known):g}, their sum {math.fsum(known):g}]")
    return problems


def check_conservation(summary: Mapping[str, Any]) -> list[str]:
    """Problems with a summary's accounting: the accounting invariant per queue and in total,
    non-negative counts, duplicates no larger than their totals, and the queues' copy counts
    adding up to the run's."""
    totals = summary.get("totals") or {}
    problems = _check_totals("totals", totals)
    problems += _check_reordering(
        "totals", summary.get("reordering") or {}, _value(totals.get("completed"))
    )
    queues = summary.get("queues") or {}
    for name, queue in queues.items():
        q_totals = queue.get("totals") or {}
        problems += _check_totals(f"queues.{name}.totals", q_totals)
        problems += _check_reordering(
            f"queues.{name}", queue.get("reordering") or {}, _value(q_totals.get("completed"))
        )
        depth = _value(queue.get("max_depth"))
        if depth is not None and depth < 0:
            problems.append(f"queues.{name}: max_depth = {depth:g} is negative")
        if isinstance(queue.get("partitions"), list):  # a kafka consumer group's log
            problems += _check_partitions(f"queues.{name}", queue, _value(q_totals.get("enqueued")))
    if queues:
        for key in _ADDITIVE:
            parts = [_value((q.get("totals") or {}).get(key)) for q in queues.values()]
            whole = _value(totals.get(key))
            if whole is None or None in parts:
                continue
            added = math.fsum(p for p in parts if p is not None)
            if not _close(whole, added):
                problems.append(f"totals.{key} = {whole:g} but the queues add up to {added:g}")
    for section, fields in (("producers", ("sent", "errors")), ("workers", ("crashes",))):
        for name, entry in (summary.get(section) or {}).items():
            for field in fields:
                value = _value(entry.get(field))
                if value is not None and value < 0:
                    problems.append(f"{section}.{name}.{field} = {value:g} is negative")
    return problems


def check_messages(messages: pd.DataFrame) -> list[str]:
    """Problems with the messages table: each row is one copy in exactly one known state with
    timestamps and counts that agree with that state. Each problem names how many rows have it
    and the first row (by position)."""
    problems: list[str] = []
    n = len(messages)
    if n == 0:
        return problems
    state = state_codes(messages["state"])
    completed = state == STATES.index("completed")
    published = messages["published_at"].to_numpy(np.float64)
    accepted = messages["accepted_at"].to_numpy(np.float64)
    delivered = messages["first_delivered_at"].to_numpy(np.float64)
    finished = messages["completed_at"].to_numpy(np.float64)
    deliveries = messages["deliveries"].to_numpy(np.int64)
    processings = messages["processings"].to_numpy(np.int64)
    absorbed = messages["absorbed"].to_numpy(np.int64)
    worker_missing = messages["worker"].isna().to_numpy()
    slack = 1e-9  # timestamps are sums of floats

    def report(bad: np.ndarray, what: str) -> None:
        count = int(np.count_nonzero(bad))
        if count:
            problems.append(f"{count} copies {what} (first at row {int(np.argmax(bad))})")

    report(state < 0, "have no state or an unknown one")
    report(messages["queue"].isna().to_numpy(), "have no queue")
    report(np.isnan(published), "have no published_at")
    for name, values in (("deliveries", deliveries), ("processings", processings),
                         ("absorbed", absorbed)):  # fmt: skip
        report(values < 0, f"have negative {name}")
    report(accepted < published - slack, "were accepted before they were published")
    report(completed & np.isnan(finished), "are completed without completed_at")
    report(~completed & ~np.isnan(finished), "have completed_at but are not completed")
    report(completed & (processings < 1) & (absorbed < 1), "are completed but never processed")
    report(completed & (deliveries < 1), "are completed but never delivered")
    report(completed & worker_missing, "are completed without a worker")
    # A delivery lost on its way (its worker stopped, its lease ran out first) counts in
    # deliveries but never reached a consumer, so only this direction must hold.
    report((deliveries == 0) & ~np.isnan(delivered), "disagree on delivered (count vs time)")
    report(completed & np.isnan(delivered), "are completed but never reached a consumer")
    report(delivered < published - slack, "were delivered before they were published")
    report(finished < delivered - slack, "completed before their first delivery")
    if "started_at" in messages:
        started = messages["started_at"].to_numpy(np.float64)
        report(started < delivered - slack, "started processing before their first delivery")
        report(np.isnan(started) & ((processings > 0) | (absorbed > 0) | completed),
               "were processed without a processing start")
    report(processings + absorbed > deliveries, "were processed more often than delivered")
    problems += _check_sequences(messages)
    return problems


def _check_sequences(messages: pd.DataFrame) -> list[str]:
    """seq must number the copies of each (queue, key) 0, 1, 2, ... without gap or repeat."""
    frame = pd.DataFrame(
        {"queue": messages["queue"], "key": messages["key"], "seq": messages["seq"]}
    )
    stats = frame.groupby(["queue", "key"], observed=True, dropna=False)["seq"].agg(
        ["min", "max", "nunique", "size"]
    )
    bad = (
        (stats["min"] != 0)
        | (stats["max"] != stats["size"] - 1)
        | (stats["nunique"] != stats["size"])
    )
    if bad.any():
        first = stats.index[int(np.argmax(bad.to_numpy()))]
        return [f"{int(bad.sum())} (queue, key) groups do not number seq 0..n-1 (first: {first})"]
    return []
