"""Publishing: the one interface through which anything sends messages to a broker.

A producer, a pool's ``then`` follow-ups and a queue's dead-lettering all publish the same way:
a `Message` goes to a route (a queue or an exchange, see `sim.model.routing`), reaches the
route's broker after its publish latency and capacity (`Broker.publish`), and each queue it is
routed to either takes a copy or refuses it. What a refusal costs is decided here, in one
place: retried after a backoff or given up, which counts a final ``rejected`` on each refusing
queue and an ``error`` for the publisher. A retry goes to the refusing queue when the publish
was to a queue, and through the exchange again when an exchange routed it (the client
republishes the nacked message: queues that took a copy get a duplicate). Backpressure
(``overflow: block``) holds the copy in its queue until there is room; it is never a refusal.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

from sim.model.routing import ToQueues
from sim.model.schedule import Call
from sim.model.work import Work

if TYPE_CHECKING:
    from simpy import Environment

    from sim.model.contracts import PublishCounts, Route, Target
    from sim.model.message import Message

class Publisher:
    """Anything that publishes: its counts and what it does when a publish is refused.

    ``retry``: ``(attempts, backoff)`` to try again after a refusal, or None to give up at
    once. Every publish ends exactly once as ``accepted`` (every queue it was routed to took a
    copy; one that no binding matched counts here too) or ``rejected`` (a queue still refused
    after the last attempt). The publisher counts both itself, from the broker's answer
    (`sim.model.contracts.Sender`). ``route``: where its publishes go when they always go
    one way (a producer's, a pool's follow-ups); None for the dead letters, whose routes are
    their queues' (the queue counts what it dead-lettered, from the same answer).
    """

    def __init__(self, env: Environment, name: str, code: int, work: Work,
                 retry: tuple[int, float] | None,
                 routing_key: Callable[[Message], str] | None = None,
                 route: Route | None = None) -> None:
        self.env = env
        self.name = name
        self.code = code  # the records' producer code of what it publishes first
        self.work = work
        self._retry = retry
        self.routing_key = routing_key
        self.route = route
        self.sent = 0
        self.accepted = 0
        self.rejected = 0
        self.retries = 0  # publish attempts after the first (each one a request)

    def publish(self, message: Message, route: Any) -> None:
        """Send a message along ``route`` (a first attempt)."""
        if route.needs_key and self.routing_key is not None:
            message.routing_key = self.routing_key(message)
        if route.broker.publish(message, route, self, 0):
            self.accepted += 1

    def arrived(self, event: Call) -> None:
        """A publish on its way reaches its broker now (the broker chose when: its latency and
        capacity): the broker routes it, and its answer is counted here."""
        message, route, attempt = event.value
        if route.broker.accept(message, route, self, attempt, self.env.now):
            self.accepted += 1
        self.work.leave()  # after the copies (if any) entered: a hand-off, never a gap

    def figures(self) -> dict[str, Any]:
        """Its publishes for the summary (`sim.model.contracts.PublishCounts`)."""
        return {"sent": self.sent, "accepted": self.accepted, "rejected": self.rejected,
                "retries": self.retries}

    def publish_requests(self) -> dict[str, int]:
        """Its publish requests by broker: every attempt (first sends and retries) goes to
        its route's broker. With no route of its own it makes none (dead-lettering is the
        broker's own move, not a client's request)."""
        if self.route is None:
            return {}
        return {self.route.broker.name: self.sent + self.retries}

    def refused(self, message: Message, queues: Sequence[Target], attempt: int,
                route: Any = None, routed: Sequence[Target] = ()) -> None:
        """The broker refused the publish into ``queues`` (of the ``routed`` ones, sent along
        ``route``): retry later, or give up.

        A publish to a queue is retried to that queue. One an exchange routed is republished
        through the exchange, as a client does when its publish is nacked: routed again, so
        the queues that took a copy get another one (see `Republish`)."""
        retry = self._retry
        if retry is not None and attempt < retry[0]:
            self.retries += 1
            self.work.enter()  # the drain waits for a publish being retried
            if route is None or route.fixed is not None:
                again: Any = ToQueues(queues, queues[0].broker)
            else:
                refusing = set(queues)
                had = (route.had or frozenset()) | {q for q in routed if q not in refusing}
                again = route.republish(frozenset(had))
            Call(self.env, retry[1], self._again, (message, again, attempt + 1))
            return
        self.rejected += 1
        for queue in queues:
            queue.reject()  # the publish gave up: a final refusal, counted once per queue

    def _again(self, event: Call) -> None:
        message, route, attempt = event.value
        if route.broker.publish(message, route, self, attempt):
            self.accepted += 1
        self.work.leave()  # after the new attempt is on its way: a hand-off, never a gap


def figures_by_name(publishers: Iterable[PublishCounts]) -> dict[str, dict[str, Any]]:
    """Each publisher's figures by its name: the instances of one producer added up (every
    figure is a count, or a caller's ``call_times``, an array that joins as it adds)."""
    out: dict[str, dict[str, Any]] = {}
    for publisher in publishers:
        figures = publisher.figures()
        entry = out.get(publisher.name)
        if entry is None:
            out[publisher.name] = figures
        else:
            for key, value in figures.items():
                entry[key] = entry[key] + value if key in entry else value
    return out
