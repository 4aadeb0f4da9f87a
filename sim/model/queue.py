"""A queue on a broker: ready messages, push delivery to consumers, overflow.

The queue holds copy ids, not message objects: everything about a copy lives in the records.
Delivery is push (as RabbitMQ and the ``ideal`` broker do): a consumer with a free prefetch
slot is handed the head of the queue at once. Consumers with free slots wait in ``free`` in
round-robin order, so with ``prefetch: 1`` the pool behaves as ``c`` servers sharing one FIFO
line (M/M/c on the ideal broker).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING

from sim.model.schedule import Call
from sim.records import COMPLETED, DEAD_LETTERED, LOST, PENDING, Records

if TYPE_CHECKING:
    from simpy import Environment

    from sim.model.workers import Worker

# Overflow policies (§6): what a full queue does with a new publish.
REJECT_PUBLISH, DROP_HEAD, BLOCK = "reject-publish", "drop-head", "block"


class Queue:
    """One queue: a FIFO line of ready copies and the consumers it pushes to."""

    def __init__(
        self,
        env: Environment,
        name: str,
        code: int,
        records: Records,
        max_length: int | None,
        overflow: str,
        deliver_latency: Callable[[], float] | None,
    ) -> None:
        self.env = env
        self.name = name
        self.code = code
        self.records = records
        self.max_length = max_length
        self.overflow = overflow
        self.deliver_latency = deliver_latency
        self.dead_letter: Queue | None = None
        self.consumers: list[Worker] = []
        self.ready: deque[int] = deque()
        self.free: deque[Worker] = deque()  # up consumers with held < prefetch
        self.blocked: deque[int] = deque()  # publishes waiting for room (overflow: block)
        self.open = 0  # copies here not yet in an end state
        self.incoming = 0  # publishes on their way to the broker (publish latency)
        self.in_flight = 0  # copies held by consumers (delivered, slot not yet released)
        self.max_depth = 0
        # Cumulative counts, sampled into the time series.
        self.enqueued = 0
        self.completed = 0
        self.rejected = 0
        # Called when the queue holds nothing open any more (the engine's drain watch).
        self.on_empty: Callable[[], None] | None = None

    # -- publishing ---------------------------------------------------------------------
    def rejects(self) -> bool:
        """Whether a publish now would be refused (full, ``reject-publish``)."""
        limit = self.max_length
        return (
            limit is not None
            and self.overflow == REJECT_PUBLISH
            and not self.free
            and len(self.ready) >= limit
        )

    def put(self, cid: int) -> None:
        """Place an accepted copy: straight to a free consumer, else in the ready line."""
        self.open += 1
        self.enqueued += 1
        if self.free:
            self._deliver(cid, self.free.popleft())
            return
        limit = self.max_length
        ready = self.ready
        if limit is not None and (self.blocked or len(ready) >= limit):
            if self.overflow == BLOCK:
                # The publisher waits: the copy is accepted only when room appears.
                self.records.accepted_at[cid] = float("nan")
                self.blocked.append(cid)
                return
            if self.overflow == DROP_HEAD:
                ready.append(cid)
                while len(ready) > limit:
                    self._drop(ready.popleft())
                return
        ready.append(cid)
        if len(ready) > self.max_depth:
            self.max_depth = len(ready)

    def _drop(self, cid: int) -> None:
        """Drop-head overflow: the oldest ready copy goes to the dead-letter queue or is lost."""
        self._end(cid, DEAD_LETTERED if self.dead_letter is not None else LOST)
        if self.dead_letter is not None:
            self.dead_letter.put_dead_letter(cid)

    def put_dead_letter(self, source: int) -> None:
        """Enqueue a new copy of ``source`` (a copy dead-lettered in another queue)."""
        rec = self.records
        cid = rec.add(
            rec.id[source],
            self.code,
            rec.producer[source],
            rec.key[source],
            rec.type[source],
            rec.published_at[source],
            self.env.now,
        )
        rec.copy[cid] = rec.copy[source] + 1
        self.put(cid)

    # -- delivery -----------------------------------------------------------------------
    def add_consumer(self, worker: Worker) -> None:
        self.consumers.append(worker)
        self.free.append(worker)
        self.dispatch()

    def dispatch(self) -> None:
        """Hand ready copies to consumers with free slots, then admit blocked publishes."""
        ready, free = self.ready, self.free
        while ready and free:
            self._deliver(ready.popleft(), free.popleft())
        blocked = self.blocked
        while blocked and (free or len(ready) < (self.max_length or 0)):
            cid = blocked.popleft()
            self.records.accepted_at[cid] = self.env.now
            if free:
                self._deliver(cid, free.popleft())
            else:
                ready.append(cid)
                if len(ready) > self.max_depth:
                    self.max_depth = len(ready)

    def _deliver(self, cid: int, worker: Worker) -> None:
        rec = self.records
        deliveries = rec.deliveries[cid] + 1
        rec.deliveries[cid] = deliveries
        self.in_flight += 1
        worker.held += 1
        if worker.held < worker.prefetch:
            self.free.append(worker)
        if self.deliver_latency is None:
            if deliveries == 1:
                rec.first_delivered_at[cid] = self.env.now
            worker.receive(cid)
        else:
            delay = self.deliver_latency()
            if deliveries == 1:
                rec.first_delivered_at[cid] = self.env.now + delay
            Call(self.env, delay, worker.received, cid)

    def release(self, worker: Worker) -> None:
        """A consumer's slot is free again (its ack reached the broker, or it auto-acked)."""
        self.in_flight -= 1
        held = worker.held
        worker.held = held - 1
        if held == worker.prefetch and worker.up:
            self.free.append(worker)
            if self.ready or self.blocked:
                self.dispatch()

    # -- end states ---------------------------------------------------------------------
    def complete(self, cid: int, at: float, worker_code: int) -> None:
        """The copy was processed and acknowledged (first time only counts)."""
        rec = self.records
        if rec.state[cid] != PENDING:
            return
        rec.state[cid] = COMPLETED
        rec.completed_at[cid] = at
        rec.worker[cid] = worker_code
        self.completed += 1
        self.open -= 1
        if not self.open and not self.incoming and self.on_empty is not None:
            self.on_empty()

    def _end(self, cid: int, state: int) -> None:
        rec = self.records
        if rec.state[cid] != PENDING:
            return
        rec.state[cid] = state
        self.open -= 1
        if not self.open and not self.incoming and self.on_empty is not None:
            self.on_empty()

    @property
    def depth(self) -> int:
        """Ready copies (what ``max_length`` counts)."""
        return len(self.ready)
