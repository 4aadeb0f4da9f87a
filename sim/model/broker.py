"""A broker: accepts publishes for the queues it hosts, and can go down.

The broker's own cost is its publish latency (the producer's response time on the ideal path),
its ``capacity`` (a broker is itself a server: beyond so many publishes per second, publishes
wait their turn) and its delivery latency (applied by each queue as it pushes). A publish is
accepted when it reaches the broker; only then is a copy created in the records, so a refused
publish leaves no row and is counted as ``rejected`` by the queue and the producer.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from sim.model.schedule import Call
from sim.model.work import Work

if TYPE_CHECKING:
    from simpy import Environment

    from sim.model.producer import Producer
    from sim.model.queue import Queue
    from sim.records import Records

class Broker:
    """Accepts publishes into its queues, after ``publish_latency`` and within ``capacity``."""

    def __init__(
        self,
        env: Environment,
        name: str,
        records: Records,
        publish_latency: Callable[[], float] | None,
        capacity: float | None,
        durable: bool,
        embedded: bool,
    ) -> None:
        self.env = env
        self.name = name
        self.records = records
        self.publish_latency = publish_latency
        self.service = None if capacity is None else 1.0 / capacity
        self.durable = durable
        self.embedded = embedded
        self.down = False
        self.queues: list[Queue] = []
        self.work = Work()  # the run's work-in-progress count (the model shares its own)
        self._next_free = 0.0  # with a capacity: when the broker can take the next publish
        self._instant = publish_latency is None and capacity is None

    def publish(
        self,
        queue: Queue,
        producer: Producer,
        message_id: int,
        published_at: float,
        key: int,
        type_: int,
        priority: int,
        service: float | None,
        attempt: int = 0,
    ) -> None:
        """A producer sends a message now; it reaches the broker after the publish latency."""
        if self._instant:  # accepted as it is sent (a retry is sent now, not at published_at)
            self._accept(queue, producer, message_id, published_at, key, type_, priority,
                         service, attempt, published_at if attempt == 0 else self.env.now)
            return
        delay = 0.0 if self.publish_latency is None else self.publish_latency()
        if self.service is not None:
            # A single server at `capacity` publishes/s: wait for it, then take 1/capacity.
            now = self.env.now
            start = max(now + delay, self._next_free)
            self._next_free = start + self.service
            delay = start + self.service - now
        message = (queue, producer, message_id, published_at, key, type_, priority, service,
                   attempt)
        self.work.enter()  # a publish on its way: the drain waits for it
        Call(self.env, delay, self._arrived, message)

    def _arrived(self, event: Call) -> None:
        self._accept(*event._value, self.env.now)
        self.work.leave()  # after the copy (if any) entered: a hand-off, never a gap

    def _accept(
        self,
        queue: Queue,
        producer: Producer,
        message_id: int,
        published_at: float,
        key: int,
        type_: int,
        priority: int,
        service: float | None,
        attempt: int,
        now: float,
    ) -> None:
        if self.down or (queue.max_length is not None and queue.rejects()):
            queue.refused += 1  # every refused attempt; `rejected` counts final refusals
            message = (queue, producer, message_id, published_at, key, type_, priority, service)
            producer.rejected_publish(message, attempt)
            return
        producer.accepted += 1
        rec = self.records
        cid = rec.add(message_id, queue.code, producer.code, key, type_, published_at, now)
        if priority:
            rec.priority[cid] = priority
        if service is not None:
            rec.service_time[cid] = service  # type: ignore[index]
        queue.put(cid)

    # -- outages --------------------------------------------------------------------------
    def outage(self, duration: float) -> None:
        """Go down for ``duration``: publishes fail, deliveries and acks stop. Non-durable
        queues lose their messages; an embedded (in-process) broker loses everything."""
        if self.down:
            return
        self.down = True
        loses = self.embedded or not self.durable
        for queue in self.queues:
            queue.outage_started(loses)
        Call(self.env, duration, self._recovered)

    def _recovered(self, _event: Call) -> None:
        self.down = False
        for queue in self.queues:
            queue.outage_ended()
