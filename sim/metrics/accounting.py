"""Accounting of message copies (§10 "Accounting"): where every copy ended, per queue and total.

Copy counts come from the messages table (one row per copy); publish-side counts (published,
rejected, unroutable) only exist in the counters, because a refused publish never became a copy.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

# The five end states of a copy, in the order the summary lists them.
STATES = ("completed", "dead_lettered", "expired", "lost", "pending")

# Keys of a `totals` dict, in summary.json order.
TOTAL_KEYS = (
    "published",
    "rejected",
    "unroutable",
    "enqueued",
    *STATES,
    "deliveries",
    "duplicate_deliveries",
    "processings",
    "duplicate_processing",
    "duplicates_absorbed",
)


def codes(column: pd.Series) -> tuple[np.ndarray, list[Any]]:
    """Integer codes (-1 for missing) and the distinct values, for a categorical or plain column."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        return column.cat.codes.to_numpy(np.int64), list(column.cat.categories)
    values, uniques = pd.factorize(column, use_na_sentinel=True)
    return values.astype(np.int64), list(uniques)


def state_codes(state: pd.Series) -> np.ndarray:
    """Each copy's state as an index into STATES; -1 for a missing or unknown state."""
    raw, names = codes(state)
    lookup = np.array([STATES.index(name) if name in STATES else -1 for name in names] + [-1])
    return lookup[raw]  # raw == -1 picks the trailing -1


def copy_counts(messages: pd.DataFrame, queue: np.ndarray, n_queues: int) -> list[dict[str, int]]:
    """Per queue code 0..n_queues-1: enqueued, the five states, deliveries and duplicates.

    ``queue`` holds the queue code of every row (from :func:`codes`); rows with code -1 are
    left out (a copy always has a queue; check_messages reports one that does not).
    """
    known = queue >= 0
    q = queue[known]
    state = state_codes(messages["state"])[known]
    deliveries = messages["deliveries"].to_numpy(np.int64)[known]
    processings = messages["processings"].to_numpy(np.int64)[known]
    absorbed = messages["absorbed"].to_numpy(np.int64)[known]

    def per_queue(values: np.ndarray | None = None, mask: np.ndarray | None = None) -> np.ndarray:
        where = q if mask is None else q[mask]
        weights = None if values is None else (values if mask is None else values[mask])
        sums = np.bincount(where, weights=weights, minlength=n_queues)
        return np.rint(sums).astype(np.int64)  # float weights: exact far beyond any run size

    columns: dict[str, np.ndarray] = {"enqueued": per_queue()}
    for index, name in enumerate(STATES):
        columns[name] = per_queue(mask=state == index)
    columns["deliveries"] = per_queue(deliveries)
    columns["duplicate_deliveries"] = per_queue(np.maximum(deliveries - 1, 0))
    columns["processings"] = per_queue(processings)
    columns["duplicate_processing"] = per_queue(np.maximum(processings - 1, 0))
    columns["duplicates_absorbed"] = per_queue(absorbed)
    return [{name: int(values[i]) for name, values in columns.items()} for i in range(n_queues)]


def queue_totals(copies: Mapping[str, int], queue_counters: Mapping[str, Any]) -> dict[str, int]:
    """A queue's ``totals``: the same keys as the run's totals.

    For one queue, ``published`` is the number of copies enqueued there (a publish accepted
    into it); ``rejected`` and ``unroutable`` come from the queue's counters.
    """
    totals = {
        "published": copies["enqueued"],
        "rejected": int(queue_counters.get("rejected", 0)),
        "unroutable": int(queue_counters.get("unroutable", 0)),
    }
    totals.update(copies)
    return {name: totals[name] for name in TOTAL_KEYS}


def run_totals(per_queue: list[Mapping[str, int]], counters: Mapping[str, Any]) -> dict[str, int]:
    """The run's ``totals``: copy counts summed over queues, publish counts from the producers.

    ``published`` and ``rejected`` are the producers' accepted and rejected publishes (a fan-out
    publish counts once). ``unroutable`` sums the ``unroutable`` counters of queues and, when
    the engine reports them, exchanges: each unroutable publish must be counted in one place.
    """
    producers = counters.get("producers", {})
    unroutable = sum(int(c.get("unroutable", 0)) for c in counters.get("queues", {}).values())
    unroutable += sum(int(c.get("unroutable", 0)) for c in counters.get("exchanges", {}).values())
    totals = {
        "published": sum(int(c.get("accepted", 0)) for c in producers.values()),
        "rejected": sum(int(c.get("rejected", 0)) for c in producers.values()),
        "unroutable": unroutable,
    }
    for name in TOTAL_KEYS[3:]:
        totals[name] = sum(int(copies[name]) for copies in per_queue)
    return totals
