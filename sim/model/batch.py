"""The batch baseline: a pool that runs as a periodic job instead of a continuous consumer.

``batch: {every: 5m, max: N}``: at every multiple of ``every`` the job wakes, counts the copies
waiting (at most ``max``), and its workers process that many, each holding up to its
``prefetch`` at a time, acknowledging as the pool's ``ack`` mode says. Copies arriving
meanwhile wait for the next run, so a copy's latency includes the wait for its window (on
average half the period), which is the cost the notes set against queues. A run still going
at the next multiple (the batch is longer than the period) makes the job skip that wake-up,
as a cron job guarded by a lock does. A worker that crashes gives its copies back as the
broker's redelivery rule says; they wait for the next run.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

from sim.model.schedule import Call

if TYPE_CHECKING:
    from simpy import Environment

    from sim.model.contracts import Consumer, QueueSource
    from sim.scenario.specs import BatchSpec


class Batched(Protocol):
    """The pool a batch job runs (a queue's pool with ``batch``)."""

    @property
    def env(self) -> Environment: ...

    @property
    def queue(self) -> QueueSource: ...

    @property
    def workers(self) -> Sequence[Consumer]: ...


class BatchJob:
    """The schedule and the quota of one pool's batch runs."""

    def __init__(self, pool: Batched, spec: BatchSpec) -> None:
        self.pool = pool
        self.env = pool.env
        self.every: float = spec.every
        self.max: int | None = spec.max
        self.left = 0  # copies this run may still take
        self.running = False
        self.runs = 0  # runs started
        self.skipped = 0  # wake-ups skipped because the previous run was still going

    def start(self) -> None:
        Call(self.env, self.every, self._wake)

    def _wake(self, _event: Call) -> None:
        Call(self.env, self.every, self._wake)  # the next multiple of the period
        if self.running and any(worker.holding for worker in self.pool.workers):
            self.skipped += 1
            return
        queue = self.pool.queue
        waiting = queue.depth()
        self.left = waiting if self.max is None else min(waiting, self.max)
        self.running = self.left > 0 and not queue.broker.down
        if self.running:
            self.runs += 1
            for worker in self.pool.workers:
                if worker.up:
                    self._feed(worker)

    def _feed(self, worker: Consumer) -> None:
        """Give a worker of the running batch as many copies as it can hold, within quota."""
        room = min(worker.prefetch - worker.held, self.left)
        if room > 0:
            queue = self.pool.queue
            self.left -= queue.take_for(worker, room)
            if not queue.depth():
                self.left = 0  # the queue ran dry (fewer than asked with copies left only
                # means their keys are in flight: the run goes on as they are acknowledged)

    def release(self, worker: Consumer) -> None:
        """A worker has room again (an ack, a completion) or came up: more of this run, or
        the run is over when its quota is used and nothing is held."""
        if not self.running:
            return
        if self.left > 0 and worker.up:
            self._feed(worker)
        if self.left == 0 and not any(w.holding for w in self.pool.workers):
            self.running = False
