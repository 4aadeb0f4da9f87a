"""Worker pools: consumer processes that hold, process and acknowledge messages.

A worker holds up to ``prefetch`` unacknowledged copies (its local buffer plus those in
processing) and processes up to ``concurrency`` of them at once. When the acknowledgement
reaches the broker depends on the ack mode, and that decides when the prefetch slot frees:

- ``after_processing`` (at-least-once, Celery's ``acks_late``): ``ack_latency`` after the end of
  processing; the copy completes then.
- ``on_start`` (Celery's default): ``ack_latency`` after processing starts; the copy completes
  when processing ends.
- ``on_delivery`` (auto-ack): acknowledged as it is delivered; on the ``ideal`` broker the
  prefetch still bounds what a worker holds, so the slot frees when processing ends.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING

from sim.model.schedule import Call

if TYPE_CHECKING:
    from simpy import Environment

    from sim.model.queue import Queue
    from sim.records import Records

AFTER_PROCESSING, ON_START, ON_DELIVERY = "after_processing", "on_start", "on_delivery"


class WorkerPool:
    """Identical workers consuming one queue, with one service-time stream between them."""

    def __init__(
        self,
        env: Environment,
        name: str,
        queue: Queue,
        records: Records,
        count: int,
        concurrency: int,
        prefetch: int,
        ack: str,
        ack_latency: Callable[[], float] | None,
        service: Callable[[], float],
        service_by_type: dict[int, Callable[[], float]],
        first_worker_code: int,
    ) -> None:
        self.env = env
        self.name = name
        self.queue = queue
        self.records = records
        self.concurrency = concurrency
        self.prefetch = prefetch
        self.ack = ack
        self.ack_latency = ack_latency
        self.service = service
        self.service_by_type = service_by_type
        self.busy_time = 0.0
        self.crashes = 0
        self.workers = [Worker(self, i, first_worker_code + i) for i in range(count)]

    def start(self) -> None:
        # The common case draws straight from the pool's stream, with no per-copy look-up.
        plain = self.records.service_time is None and not self.service_by_type
        for worker in self.workers:
            worker._plain_service = self.service if plain else None
            self.queue.add_consumer(worker)

    def service_time(self, cid: int) -> float:
        """How long this copy takes here: a trace's value, its type's, or the pool's."""
        rec = self.records
        if rec.service_time is not None:
            given = rec.service_time[cid]
            if given == given:  # not NaN
                return given
        if self.service_by_type:
            by_type = self.service_by_type.get(rec.type[cid])
            if by_type is not None:
                return by_type()
        return self.service()

    @property
    def up(self) -> int:
        return sum(1 for worker in self.workers if worker.up)

    def busy_time_until(self, now: float) -> float:
        """Slot-seconds spent processing up to ``now`` (work in progress counted so far)."""
        remaining = sum(
            call.due - now for worker in self.workers for call in worker.running.values()
        )
        return self.busy_time - remaining


class Worker:
    """One consumer process of a pool."""

    def __init__(self, pool: WorkerPool, index: int, code: int) -> None:
        self.pool = pool
        self.index = index
        self.code = code
        self.env = pool.env
        self.queue = pool.queue
        self.prefetch = pool.prefetch
        self.concurrency = pool.concurrency
        self.up = True
        self.held = 0  # unacknowledged copies (buffer + processing), at most prefetch
        self.busy = 0  # copies in processing, at most concurrency
        self.buffer: deque[int] = deque()
        self.running: dict[int, Call] = {}
        self._auto_ack = pool.ack == ON_DELIVERY
        self._ack_on_start = pool.ack == ON_START
        self._ack_after = pool.ack == AFTER_PROCESSING
        self._instant_ack = pool.ack_latency is None
        self._plain_service: Callable[[], float] | None = None  # set by WorkerPool.start

    def received(self, event: Call) -> None:
        self.receive(event._value)

    def receive(self, cid: int) -> None:
        """A delivered copy arrives: process it now or keep it in the local buffer."""
        if self.busy < self.concurrency and not self.buffer:
            self._start(cid)
        else:
            self.buffer.append(cid)

    def _start(self, cid: int) -> None:
        pool = self.pool
        self.busy += 1
        plain = self._plain_service
        service = plain() if plain is not None else pool.service_time(cid)
        pool.busy_time += service
        call = Call(self.env, service, self._finished, cid)
        call.due = self.env._now + service
        self.running[cid] = call
        if self._ack_on_start:
            self._send_ack(cid, self.env.now)

    def _finished(self, event: Call) -> None:
        cid = event._value
        del self.running[cid]
        self.busy -= 1
        now = self.env.now
        rec = self.pool.records
        rec.processings[cid] += 1
        # Start the next buffered copy before the ack frees a slot, so a freshly pushed
        # copy never overtakes one already waiting here.
        if self.buffer:
            self._start(self.buffer.popleft())
        if self._ack_after:
            if self._instant_ack:
                queue = self.queue
                queue.complete(cid, now, self.code)
                queue.release(self)
            else:
                self._send_ack(cid, now)
            return
        self.queue.complete(cid, now, self.code)
        if self._auto_ack:
            self.queue.release(self)

    def _send_ack(self, cid: int, at: float) -> None:
        if self._instant_ack:
            self._ack_arrived(cid, at)
        else:
            Call(self.env, self.pool.ack_latency(), self._ack_event, (cid, at))

    def _ack_event(self, event: Call) -> None:
        cid, at = event._value
        self._ack_arrived(cid, at)

    def _ack_arrived(self, cid: int, at: float) -> None:
        if self._ack_after:
            self.queue.complete(cid, at, self.code)
        self.queue.release(self)
