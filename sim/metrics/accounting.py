"""Accounting of message copies: where every copy ended, per queue and in total.

The definitions are in docs/scenario-reference.md ("Accounting").

Copy counts come from the messages table (one row per copy); publish-side counts (published,
rejected, unroutable) only exist in the counters, because a refused publish never became a copy.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
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


# Rows per block in copy_counts: the block's temporaries stay a few hundred kilobytes.
_BLOCK = 1 << 16


def codes(column: pd.Series) -> tuple[np.ndarray, list[Any]]:
    """Integer codes (-1 for missing) and the distinct values, for a categorical or plain column.

    A categorical column's codes are returned as they are stored (a read-only view, int8 to
    int32 by the number of categories: no copy per row), so callers must widen them before
    doing arithmetic that could overflow.
    """
    if isinstance(column.dtype, pd.CategoricalDtype):
        return column.array.codes, list(column.cat.categories)
    values, uniques = pd.factorize(column, use_na_sentinel=True)
    return values, list(uniques)


def state_codes(state: pd.Series) -> np.ndarray:
    """Each copy's state as an index into STATES; -1 for a missing or unknown state."""
    raw, names = codes(state)
    lookup = np.array([STATES.index(name) if name in STATES else -1 for name in names] + [-1])
    return lookup[raw]  # raw == -1 picks the trailing -1


def copy_counts(messages: pd.DataFrame, queue: np.ndarray, n_queues: int) -> list[dict[str, int]]:
    """Per queue code 0..n_queues-1: enqueued, the five states, deliveries and duplicates.

    ``queue`` holds the queue code of every row (from :func:`codes`), in -1..n_queues-1; rows
    with code -1 are left out (a copy always has a queue; check_messages reports one that does
    not). Rows are counted a block at a time with one ``bincount`` over the combined index
    (queue, stored state code), so no per-state or per-queue mask of the whole table is made;
    stored state codes are mapped to STATES on the small count table afterwards.
    """
    raw_state, state_names = codes(messages["state"])
    columns = [_signed(messages[name]) for name in ("deliveries", "processings", "absorbed")]
    width = len(state_names) + 1  # stored state code + 1: column 0 holds a missing state
    rows = n_queues + 1  # queue code + 1: row 0 holds the copies without a queue
    cells = np.zeros(rows * width, dtype=np.int64)
    # deliveries, duplicate_deliveries, processings, duplicate_processing, duplicates_absorbed
    sums = np.zeros((5, rows), dtype=np.int64)
    for start in range(0, len(raw_state), _BLOCK):
        stop = start + _BLOCK
        slot = queue[start:stop].astype(np.intp)
        slot += 1
        cell = slot * width
        cell += raw_state[start:stop]
        cell += 1
        cells += np.bincount(cell, minlength=cells.size)
        deliveries, processings, absorbed = (column[start:stop] for column in columns)
        weights = (
            deliveries,
            np.maximum(deliveries - 1, 0),
            processings,
            np.maximum(processings - 1, 0),
            absorbed,
        )
        for row, values in enumerate(weights):
            # float weights: a block's sums are exact integers
            sums[row] += np.rint(np.bincount(slot, weights=values, minlength=rows)).astype(np.int64)
    table = cells.reshape(rows, width)[1:]
    per_state = np.zeros((n_queues, len(STATES)), dtype=np.int64)
    for stored, name in enumerate(state_names):
        if name in STATES:
            per_state[:, STATES.index(name)] += table[:, stored + 1]
    figures: dict[str, np.ndarray] = {"enqueued": table.sum(axis=1)}
    for index, name in enumerate(STATES):
        figures[name] = per_state[:, index]
    names = ("deliveries", "duplicate_deliveries", "processings", "duplicate_processing",
             "duplicates_absorbed")  # fmt: skip
    for row, name in enumerate(names):
        figures[name] = sums[row, 1:]
    return [{name: int(values[i]) for name, values in figures.items()} for i in range(n_queues)]


def _signed(column: pd.Series) -> np.ndarray:
    """A count column as signed integers: its own array when it already is (no copy)."""
    values = column.to_numpy()
    return values if values.dtype.kind == "i" else values.astype(np.int64)


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


def run_totals(
    per_queue: Sequence[Mapping[str, int]], counters: Mapping[str, Any]
) -> dict[str, int]:
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
