"""A broker: accepts publishes for the queues it hosts, and can go down.

The broker's own cost is its publish latency (the producer's response time on the ideal path),
its ``capacity`` (a broker is itself a server: beyond so many publishes per second, publishes
wait their turn) and its delivery latency (applied by each queue as it pushes). A publish is
routed when it reaches the broker (`sim.model.routing`), and only then is a copy created in the
records for each queue that takes it, so a refused publish leaves no row; what a refusal costs
is the sender's policy (`sim.model.publishing`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sim.model.contracts import Route, Sampler, Sender, Source, Target
from sim.model.requests import Requests
from sim.model.schedule import Call
from sim.model.work import Work

if TYPE_CHECKING:
    from simpy import Environment

    from sim.model.message import Message
    from sim.records import Records

class Broker:
    """Accepts publishes into its queues, after ``publish_latency`` and within ``capacity``."""

    def __init__(
        self,
        env: Environment,
        name: str,
        records: Records,
        publish_latency: Sampler | None,
        capacity: float | None,
        durable: bool,
        embedded: bool,
        work: Work,
    ) -> None:
        self.env = env
        self.name = name
        self.records = records
        self.publish_latency = publish_latency
        self.service = None if capacity is None else 1.0 / capacity
        self.durable = durable
        self.embedded = embedded
        self.down = False
        self.queues: list[Source] = []  # what it hosts (`host`): its outages reach them
        self.requests = Requests()  # API calls by kind, shared by its queues (costs)
        self.work = work  # the run's work-in-progress count: a publish on its way is in it
        self._next_free = 0.0  # with a capacity: when the broker can take the next publish
        self.instant = publish_latency is None and capacity is None

    def host(self, queue: Source) -> None:
        """Host ``queue`` (made after the broker, with it: each needs the other)."""
        self.queues.append(queue)

    def publish(self, message: Message, route: Route, sender: Sender, attempt: int) -> bool:
        """``sender`` sends a message now; it reaches the broker after the publish latency.

        True if it was accepted as it was sent (an instant broker). A publish on its way is
        in the work in progress until it arrives, at the broker's chosen instant, through
        ``sender.arrived`` (`sim.model.contracts.Sender`)."""
        if self.instant:  # accepted as it is sent (a retry is sent now, not at published_at)
            return self.accept(message, route, sender, attempt,
                               message.published_at if attempt == 0 else self.env.now)
        delay = 0.0 if self.publish_latency is None else self.publish_latency()
        if self.service is not None:
            # A single server at `capacity` publishes/s: wait for it, then take 1/capacity.
            now = self.env.now
            start = max(now + delay, self._next_free)
            self._next_free = start + self.service
            delay = start + self.service - now
        self.work.enter()  # a publish on its way: the drain waits for it
        # It arrives at the sender's end of the connection: the sender hands it to `accept`
        # then and counts the answer itself (no call back to tell it), and leaves the work.
        Call(self.env, delay, sender.arrived, (message, route, attempt))
        return False

    def accept(self, message: Message, route: Route, sender: Sender, attempt: int,
               now: float) -> bool:
        """The publish reaches the broker now: route it, and give each queue with room a copy.

        Returns whether every queue it was routed to took its copy (the sender counts that
        answer: the broker writes none of its counters); the ones that refused are handed to
        the sender (`Publisher.refused`). A message no binding matched is accepted and goes
        nowhere (its exchange counted it unroutable).
        """
        queues = route.fixed  # a queue's own route needs no call (the common case)
        if queues is None:
            queues = route.route(message)
        refused: list[Target] | None = None
        rec = self.records
        for queue in queues:
            if self.down or (queue.max_length is not None and queue.rejects()):
                queue.refuse()  # every refused attempt; `rejected` counts final refusals
                if refused is None:
                    refused = []
                refused.append(queue)
                continue
            cid = rec.add(message.id, queue.code, message.producer, message.key, message.type,
                          message.published_at, now, message.flow)
            if message.priority:
                rec.priority[cid] = message.priority
            if message.service is not None:
                service_times = rec.service_time  # (a trace with service times enabled them)
                assert service_times is not None
                service_times[cid] = message.service
            if message.copy:
                rec.copy[cid] = message.copy
            queue.put(cid)
            if attempt and route.had is not None and queue in route.had:
                queue.republish()  # a republish through an exchange: a second copy here
        if refused is not None:
            sender.refused(message, refused, attempt, route, queues)
            return False
        return True

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
