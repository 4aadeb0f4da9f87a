"""Columnar per-copy records: what happened to every message copy, kept as typed arrays.

A *copy* is one message in one queue. The engine appends a row when a copy is placed in a
queue and updates it in place by row index (the copy id) as it is delivered, processed and
finished. Columns are ``array.array``s: 8 bytes per float and no Python object per message, so
a million messages cost tens of megabytes, and turning them into numpy arrays at the end is a
copy-free ``np.frombuffer``.
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

NAN = float("nan")
CHUNK = 16384
_NANS = array("d", [NAN]) * CHUNK
_MINUS_ONES = array("i", [-1]) * CHUNK

# End states of a copy (docs/scenario-reference.md, "Accounting"); PENDING until one of the
# others is reached.
PENDING, COMPLETED, DEAD_LETTERED, EXPIRED, LOST = 0, 1, 2, 3, 4
STATE_NAMES = ("pending", "completed", "dead_lettered", "expired", "lost")


class Codes:
    """Interns values (keys, types, names) as small integers; -1 stands for "none"."""

    __slots__ = ("index", "values")

    def __init__(self, values: list[Any] | None = None) -> None:
        self.values: list[Any] = []
        self.index: dict[Any, int] = {}
        for value in values or ():
            self.code(value)

    def code(self, value: Any) -> int:
        if value is None:
            return -1
        code = self.index.get(value)
        if code is None:
            code = self.index[value] = len(self.values)
            self.values.append(value)
        return code

    def decode(self, codes: np.ndarray) -> pd.Categorical:
        return pd.Categorical.from_codes(codes, categories=pd.Index(self.values, dtype=object))

    def decode_text(self, codes: np.ndarray) -> pd.Categorical:
        """As :meth:`decode`, with every value as its text (``str``).

        The model keeps a message's key and type as the scenario wrote them (a custom router
        may do arithmetic on an integer key), so one run can mix ``"vip"`` with ``7``; a table
        column holds one type, so the table writes their text. Two values with the same text
        (``7`` and ``"7"``) become one category: the same key, as for kafka's partitioner,
        which hashes the text.
        """
        texts = [str(value) for value in self.values]
        unique = list(dict.fromkeys(texts))
        if len(unique) < len(texts):
            position = {text: i for i, text in enumerate(unique)}
            # The last entry maps code -1 (no value) to itself.
            lookup = np.array([*(position[t] for t in texts), -1], dtype=codes.dtype)
            codes = lookup[codes]
        return pd.Categorical.from_codes(codes, categories=pd.Index(unique, dtype=object))


class Records:
    """The per-copy table of one run. Row ``i`` is copy id ``i``."""

    def __init__(self, queues: list[str], producers: list[str], workers: list[str]) -> None:
        self.queues = Codes(queues)
        self.producers = Codes(producers)
        self.workers = Codes(workers)
        self.keys = Codes()
        self.types = Codes()
        # Every column is grown a chunk at a time (one C-level extend per CHUNK copies), and a
        # new copy's values are stored by index: cheaper than one append per column per copy.
        self.n = 0  # copies so far
        self.capacity = 0
        self.id = array("q")
        self.flow = array("q")  # id of the producer's message a pipeline started from
        self.copy = array("i")  # a dead-letter cycle can pass a message round many times
        self.queue = array("h")
        self.producer = array("h")
        self.key = array("i")
        self.type = array("i")
        self.published_at = array("d")
        self.accepted_at = array("d")
        self.first_delivered_at = array("d")
        self.started_at = array("d")  # first processing start (after any prefetch buffer)
        self.completed_at = array("d")
        self.deliveries = array("i")
        self.processings = array("i")
        self.absorbed = array("i")
        self.worker = array("i")
        self.state = array("b")
        self.priority = array("i")
        # Incremented at every delivery, and when a lease is closed early (a connection lost,
        # a nack): an ack or a visibility timer is valid only under the lease it was issued
        # for, so a redelivered copy is acknowledged by its newest holder only.
        self.lease = array("i")
        # Per-copy service time given by a trace (NaN: draw from the pool's distribution).
        self.service_time: array | None = None
        # The length of each copy's job (seconds of work, before any slowdown), set at its
        # first processing and read by every repeat (a redelivery, a requeue, a Kafka
        # reprocessing), so a repeated job is as long as the first run of it: the shared
        # column first, then one per pool whose queue other pools consume too (`job_column`).
        # One attribute for them all, and keep Records under 30 attributes: at 30, CPython
        # 3.11 no longer shares the instance dict's keys, and every attribute read in `add`
        # slows down (measured: about 1,000 instructions a message on benchmarks/mm8.yaml).
        self.jobs: list[array] = [array("d")]
        # Headers of the messages that have any, by message id (read by follow-ups and
        # dead letters, which are routed again).
        self.headers: dict[int, dict[str, object]] = {}

    def __len__(self) -> int:
        return self.n

    def add(
        self,
        message_id: int,
        queue: int,
        producer: int,
        key: int,
        type_: int,
        published_at: float,
        accepted_at: float,
        flow: int,
    ) -> int:
        """Append a copy (copy number 0, pending, never delivered) and return its id."""
        cid = self.n
        if cid == self.capacity:
            self._grow()
        self.n = cid + 1
        self.id[cid] = message_id
        self.flow[cid] = flow
        self.queue[cid] = queue
        self.producer[cid] = producer
        self.key[cid] = key
        self.type[cid] = type_
        self.published_at[cid] = published_at
        self.accepted_at[cid] = accepted_at
        return cid

    def _grow(self) -> None:
        n = CHUNK
        self.capacity += n
        self.id.extend(array("q", bytes(8 * n)))
        self.flow.extend(array("q", bytes(8 * n)))
        self.queue.extend(array("h", bytes(2 * n)))
        self.producer.extend(array("h", bytes(2 * n)))
        self.key.extend(_MINUS_ONES)
        self.type.extend(_MINUS_ONES)
        self.published_at.extend(_NANS)
        self.accepted_at.extend(_NANS)
        self.copy.extend(array("i", bytes(4 * n)))
        self.first_delivered_at.extend(_NANS)
        self.started_at.extend(_NANS)
        self.completed_at.extend(_NANS)
        self.deliveries.extend(array("i", bytes(4 * n)))
        self.processings.extend(array("i", bytes(4 * n)))
        self.absorbed.extend(array("i", bytes(4 * n)))
        self.worker.extend(_MINUS_ONES)
        self.state.extend(array("b", bytes(n)))  # PENDING == 0
        self.priority.extend(array("i", bytes(4 * n)))
        self.lease.extend(array("i", bytes(4 * n)))
        for column in self.jobs:
            column.extend(_NANS)
        if self.service_time is not None:
            self.service_time.extend(_NANS)

    def enable_service_times(self) -> None:
        """Keep a per-copy service time column (traces that carry ``service_time``)."""
        if self.service_time is None:
            self.service_time = array("d", [NAN]) * self.capacity

    def job_column(self, private: bool) -> array:
        """Where a pool keeps its copies' job lengths: the shared column, or (``private``,
        for a pool whose queue other pools consume too) one of its own, grown with the rest,
        so each pool draws its own length for a copy it takes."""
        if not private:
            return self.jobs[0]
        column = array("d", [NAN]) * self.capacity
        self.jobs.append(column)
        return column

    def drop_jobs(self) -> None:
        """Free the job lengths once the run is over (nothing after it reads them): the
        results are built while the records are alive, and memory peaks then."""
        for column in self.jobs:
            del column[:]  # in place: the pools' and workers' references see it empty

    def view(self, name: str) -> np.ndarray:
        """A column as a numpy array over the copies that exist (a view: no copy is made)."""
        column = getattr(self, name)
        n = self.n
        if n == 0:
            return np.zeros(0, dtype=column.typecode)
        return np.frombuffer(column, dtype=column.typecode)[:n]

    def to_frame(self) -> pd.DataFrame:
        """The messages table (docs/scenario-reference.md), one row per copy, names decoded."""
        view = self.view
        queue = view("queue")
        # Text: a run may mix keys (or types) of several YAML types. The sequence numbers
        # follow the table's keys (values with the same text are one key there).
        key = self.keys.decode_text(view("key"))
        published_at = view("published_at")
        return pd.DataFrame(
            {
                "id": view("id"),
                "copy": view("copy"),
                "flow": view("flow"),
                "queue": self.queues.decode(queue),
                "producer": self.producers.decode(view("producer")),
                "key": key,
                "type": self.types.decode_text(view("type")),
                "priority": view("priority"),
                "seq": _sequence(queue, key.codes, published_at, view("id")),
                "published_at": published_at,
                "accepted_at": view("accepted_at"),
                "first_delivered_at": view("first_delivered_at"),
                "started_at": view("started_at"),
                "completed_at": view("completed_at"),
                "deliveries": view("deliveries"),
                "processings": view("processings"),
                "absorbed": view("absorbed"),
                "worker": self.workers.decode(view("worker")),
                "state": pd.Categorical.from_codes(
                    view("state"), categories=pd.Index(STATE_NAMES, dtype=object)
                ),
            },
            copy=False,  # the numeric columns are views of the records' buffers
        )


def _sequence(
    queue: np.ndarray, key: np.ndarray, published_at: np.ndarray, ids: np.ndarray
) -> np.ndarray:
    """Publish order of each copy among the copies of its (queue, key), 0-based.

    Publish order is publish time, ties broken by the message id (ids are handed out in send
    order). Rows are in the order the broker accepted the copies, which is not publish order
    when publish latency is random, the broker has a capacity or a publish was retried, so
    the row order is never used. Computed once at the end with one sort.
    """
    n = len(queue)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    group = queue.astype(np.int64) * (int(key.max(initial=-1)) + 2) + (key.astype(np.int64) + 1)
    order = np.lexsort((ids, published_at, group))
    sorted_group = group[order]
    starts = np.flatnonzero(np.r_[True, sorted_group[1:] != sorted_group[:-1]])
    run_start = np.repeat(starts, np.diff(np.r_[starts, n]))
    seq = np.empty(n, dtype=np.int64)
    seq[order] = np.arange(n) - run_start
    return seq


@dataclass
class RunData:
    """Everything one engine run produced: the input of the metrics layer."""

    records: Records
    timeseries: dict[str, list[Any]]
    counters: dict[str, dict[str, dict[str, Any]]]
    meta: dict[str, Any] = field(default_factory=dict)

    def messages(self) -> pd.DataFrame:
        return self.records.to_frame()

    def timeseries_frame(self) -> pd.DataFrame:
        frame = pd.DataFrame(self.timeseries)
        if len(frame):
            frame["queue"] = frame["queue"].astype("category")
        return frame
