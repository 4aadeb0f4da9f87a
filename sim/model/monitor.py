"""The time series of a run: every queue sampled each ``sample_interval``.

While nothing at all is scheduled before a later instant (a drain stuck on a crashed pool,
waiting for its timeout), every sample until then would repeat the last one: the monitor jumps
over them, so a fine interval over a long idle stretch costs no events. Rows are therefore not
always evenly spaced; each row's counts are for the interval since the row before.

A producer that calls a pool (``call``) makes no copies and no queue, yet its errors are half
of what a synchronous design shows: each sample has a row per calling producer too, with no
``queue`` and its name in ``producer``: ``published`` the calls it made, ``completed`` those
answered, ``rejected`` those that ended in an error (timed out, refused with no worker up,
failed), ``in_flight`` the calls still waiting for their outcome and ``workers_up`` the called
pool's. Those rows come first in each sample, so a queue's rows are still the sample's last.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from sim.model.schedule import Call

if TYPE_CHECKING:
    from simpy import Environment

    from sim.model.contracts import Pool, Source
    from sim.model.producer import Producer

    Caller = tuple[str, list[Producer], Any]  # a calling producer's name, instances, pool

COLUMNS = (
    "time", "queue", "depth", "in_flight", "workers_up", "published", "completed", "rejected",
    "lag", "max_partition_lag", "partition_lag", "producer",
)
NAN = float("nan")


class Monitor:
    """Samples depth, in-flight and up workers, and the counts within each interval; on a
    kafka group's log also its lag (records not committed), its largest partition's lag
    (NaN for a queue) and each partition's lag (a list; None for a queue)."""

    def __init__(
        self,
        env: Environment,
        interval: float,
        queues: list[Source],
        pools: list[Pool],
        on_tick: Callable[[float], None] | None = None,
        callers: list[Caller] | None = None,
    ) -> None:
        self.env = env
        self.interval = interval
        self.queues = queues
        self.pools_of = {q.name: [p for p in pools if p.source is q] for q in queues}
        self.on_tick = on_tick
        self.columns: dict[str, list[Any]] = {name: [] for name in COLUMNS}
        self._last = {q.name: (0, 0, 0) for q in queues}
        self._last_time = 0.0
        self.callers = callers or []
        self._calls = {name: (0, 0, 0) for name, _, _ in self.callers}

    def start(self) -> None:
        Call(self.env, self.interval, self._tick)

    def _tick(self, _event: Call) -> None:
        self.sample()
        env = self.env
        if self.on_tick is not None:
            self.on_tick(env.now)
        quiet = env.peek() - env.now  # nothing can change before then
        if quiet == math.inf:
            return  # nothing will ever happen again: the run is over
        steps = max(1, math.floor(quiet / self.interval))
        Call(env, steps * self.interval, self._tick)

    def sample(self) -> None:
        """Append one row per queue for the interval ending now."""
        now = self.env.now
        if self.columns["time"] and now <= self._last_time:
            return
        self._last_time = now
        cols = self.columns
        for name, instances, pool in self.callers:
            made, answered, errors = self._calls[name]
            counts = (sum(p.sent for p in instances), sum(p.accepted for p in instances),
                      sum(p.rejected for p in instances))
            self._calls[name] = counts
            cols["time"].append(now)
            cols["queue"].append(None)
            cols["producer"].append(name)
            cols["depth"].append(NAN)  # a call waits in no queue
            cols["in_flight"].append(counts[0] - counts[1] - counts[2])
            cols["workers_up"].append(pool.up)
            cols["published"].append(counts[0] - made)
            cols["completed"].append(counts[1] - answered)
            cols["rejected"].append(counts[2] - errors)
            cols["lag"].append(NAN)
            cols["max_partition_lag"].append(NAN)
            cols["partition_lag"].append(None)
        for queue in self.queues:
            published, completed, rejected = self._last[queue.name]
            counts = (queue.enqueued, queue.completed, queue.rejected)
            self._last[queue.name] = counts
            cols["time"].append(now)
            cols["queue"].append(queue.name)
            cols["producer"].append(None)
            cols["depth"].append(queue.depth())
            cols["in_flight"].append(queue.in_flight)
            cols["workers_up"].append(sum(pool.up for pool in self.pools_of[queue.name]))
            cols["published"].append(counts[0] - published)
            cols["completed"].append(counts[1] - completed)
            cols["rejected"].append(counts[2] - rejected)
            lags = queue.partition_lags()
            if lags is None:
                cols["lag"].append(NAN)
                cols["max_partition_lag"].append(NAN)
                cols["partition_lag"].append(None)
            else:
                cols["lag"].append(sum(lags))
                cols["max_partition_lag"].append(max(lags))
                cols["partition_lag"].append(lags)
