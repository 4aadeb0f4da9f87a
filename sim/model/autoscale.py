"""Autoscaling a pool, in the style of KEDA's queue-length scaler.

Every ``interval`` the scaler reads the backlog and wants ``ceil(backlog / target_backlog)``
workers, clamped to [min, max]. The backlog is a queue's messages (ready ones and the ones
delivered but not yet acknowledged, as RabbitMQ counts a queue's messages), or on a kafka topic
the group's lag (which likewise counts what was fetched but not committed); on a topic the
scaler never wants more consumers than partitions (one beyond them would sit idle). New workers
serve after ``startup``. Scaling down waits until the pool has wanted fewer workers for
``cooldown`` (KEDA's cooldownPeriod) and retires the newest workers by a clean stop, so nothing
is lost: their unacknowledged copies go back (a consumer leaves its group, committing what it
has processed).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

from sim.model.schedule import Call

if TYPE_CHECKING:
    from simpy import Environment

    from sim.model.contracts import Member, Source
    from sim.scenario.specs import AutoscaleSpec


class Scalable(Protocol):
    """A pool the autoscaler can grow and shrink (a queue's pool, or a consumer group)."""

    @property
    def source(self) -> Source: ...

    @property
    def workers(self) -> Sequence[Member]: ...

    def add_worker(self) -> Member: ...

    def retire(self, worker: Member) -> None: ...


class Autoscaler:
    """Adds and retires a pool's workers from its backlog (see the module docstring)."""

    def __init__(self, env: Environment, pool: Scalable, spec: AutoscaleSpec) -> None:
        self.env = env
        self.pool = pool
        self.min: int = spec.min
        self.max: int = spec.max
        self.target: float = spec.target_backlog
        self.interval: float = spec.interval
        self.startup: float = spec.startup
        self.cooldown: float = spec.cooldown
        useful = pool.source.max_useful_consumers()
        self.cap = self.max if useful is None else min(self.max, max(self.min, useful))
        self.active: list[Member] = []  # workers not retired (up, starting, or crashed)
        self.wanted_at_least_since = 0.0  # last time the pool wanted as many as it had
        self.scale_ups = 0
        self.scale_downs = 0

    def start(self) -> None:
        self.active = [w for w in self.pool.workers if not w.retired]
        Call(self.env, self.interval, self._tick)

    def backlog(self) -> int:
        return self.pool.source.backlog()

    def desired(self) -> int:
        wanted = math.ceil(self.backlog() / self.target)
        return max(self.min, min(self.cap, wanted))

    def _tick(self, _event: Call) -> None:
        now = self.env.now
        desired, current = self.desired(), len(self.active)
        if desired >= current:
            self.wanted_at_least_since = now
        if desired > current:
            self.scale_ups += 1
            for _ in range(desired - current):
                worker = self.pool.add_worker()
                self.active.append(worker)
                Call(self.env, self.startup, self._started, worker)
        elif desired < current and now - self.wanted_at_least_since >= self.cooldown:
            self.scale_downs += 1
            for _ in range(current - desired):
                self.pool.retire(self.active.pop())  # the newest first
        Call(self.env, self.interval, self._tick)

    def _started(self, event: Call) -> None:
        worker = event.value
        if not worker.retired:
            worker.start()
