"""A broker: accepts publishes for the queues it hosts.

The broker's own cost is its publish latency (the producer's response time on the ideal path)
and its delivery latency (applied by each queue as it pushes). A publish is accepted when it
reaches the broker; only then is a copy created in the records, so a refused publish leaves no
row and is counted as ``rejected`` by the queue and the producer.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from sim.model.schedule import Call

if TYPE_CHECKING:
    from simpy import Environment

    from sim.model.producer import Producer
    from sim.model.queue import Queue
    from sim.records import Records


class Broker:
    """Accepts publishes into its queues, after ``publish_latency``."""

    def __init__(
        self,
        env: Environment,
        name: str,
        records: Records,
        publish_latency: Callable[[], float] | None,
    ) -> None:
        self.env = env
        self.name = name
        self.records = records
        self.publish_latency = publish_latency

    def publish(
        self,
        queue: Queue,
        producer: Producer,
        message_id: int,
        key: int,
        type_: int,
        service_time: float | None,
    ) -> None:
        """A producer sends a message now; it reaches the broker after the publish latency."""
        if self.publish_latency is None:
            self._accept(queue, producer, message_id, self.env.now, key, type_, service_time)
        else:
            message = (queue, producer, message_id, self.env.now, key, type_, service_time)
            queue.incoming += 1
            Call(self.env, self.publish_latency(), self._arrived, message)

    def _arrived(self, event: Call) -> None:
        queue = event._value[0]
        queue.incoming -= 1
        self._accept(*event._value)
        if not queue.open and not queue.incoming and queue.on_empty is not None:
            queue.on_empty()  # a refused publish was the last thing the drain waited for

    def _accept(
        self,
        queue: Queue,
        producer: Producer,
        message_id: int,
        published_at: float,
        key: int,
        type_: int,
        service_time: float | None,
    ) -> None:
        if queue.rejects():
            queue.rejected += 1
            producer.rejected += 1
            return
        producer.accepted += 1
        rec = self.records
        cid = rec.add(message_id, queue.code, producer.code, key, type_, published_at, self.env.now)
        if service_time is not None:
            rec.service_time[cid] = service_time  # type: ignore[index]
        queue.put(cid)
