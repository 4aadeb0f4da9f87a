"""A broker and its routes alone, with stub targets and a stub sender: which targets get a
copy, who is told of a refusal, and what a republish through an exchange counts."""

from __future__ import annotations

from typing import Any

from component_stubs import records

from sim.model.broker import Broker
from sim.model.message import new
from sim.model.routing import FanoutExchange, Republish, ToQueues
from sim.model.work import Work


class StubTarget:
    """A queue that takes copies unless told it is full, and counts what it is told."""

    def __init__(self, broker: Broker, name: str, code: int, full: bool = False) -> None:
        self.broker = broker
        self.name = name
        self.code = code
        self.max_length: int | None = 1 if full else None
        self.full = full
        self.copies: list[int] = []
        self.refused = self.rejected = self.republished = 0

    def rejects(self) -> bool:
        return self.full

    def refuse(self) -> None:
        self.refused += 1

    def reject(self) -> None:
        self.rejected += 1

    def republish(self) -> None:
        self.republished += 1

    def put(self, cid: int) -> None:
        self.copies.append(cid)


class StubSender:
    """A sender that records what the broker tells it: refusals, and the arrivals of its
    publishes on their way (each handed to the broker's `accept`, as a publisher does)."""

    def __init__(self) -> None:
        self.refusals: list[tuple[list[str], int]] = []
        self.arrivals: list[tuple[float, int, bool]] = []  # (when, message id, accepted)

    def arrived(self, event: Any) -> None:
        message, route, attempt = event.value
        taken = route.broker.accept(message, route, self, attempt, event.env.now)
        self.arrivals.append((event.env.now, message.id, taken))
        route.broker.work.leave()

    def refused(self, message: Any, queues: Any, attempt: int, route: Any = None,
                routed: Any = ()) -> None:
        self.refusals.append(([q.name for q in queues], attempt))


def setup(publish_latency: float | None = None):
    import simpy
    e = simpy.Environment()
    rec = records(["a", "b"])
    latency = None if publish_latency is None else (lambda: publish_latency)
    broker = Broker(e, "b", rec, latency, None, True, False, Work())
    a, b = StubTarget(broker, "a", 0), StubTarget(broker, "b", 1)
    return e, rec, broker, a, b


def test_a_queues_own_route_gives_it_one_copy_with_the_messages_fields():
    _, rec, broker, a, _ = setup()
    sender = StubSender()
    message = new(7, -1, -1, 7, 1.5, 0)
    assert broker.accept(message, ToQueues([a], broker), sender, 0, 2.0)
    assert a.copies == [0] and sender.arrivals == []  # the answer says it
    assert (rec.id[0], rec.queue[0], rec.published_at[0], rec.accepted_at[0]) == (7, 0, 1.5, 2.0)


def test_a_fanout_copies_to_every_target_and_a_full_one_is_handed_to_the_sender():
    _, _, broker, a, _ = setup()
    full = StubTarget(broker, "full", 1, full=True)
    fanout = FanoutExchange("x", broker, None, [a, full, a])  # bound twice: one copy
    sender = StubSender()
    assert not broker.accept(new(0, -1, -1, 0, 0.0, 0), fanout, sender, 0, 0.0)
    assert a.copies == [0] and full.copies == [] and full.refused == 1
    assert sender.refusals == [(["full"], 0)] and sender.arrivals == []
    assert fanout.counters() == {"routed": 1, "unroutable": 0, "to_alternate": 0, "dropped": 0}


def test_a_republish_through_the_exchange_counts_the_second_copy_where_one_was_taken():
    _, _, broker, a, b = setup()
    fanout = FanoutExchange("x", broker, None, [a, b])
    again = Republish(fanout, frozenset([a]))
    assert broker.accept(new(0, -1, -1, 0, 0.0, 0), again, StubSender(), 1, 0.0)
    assert (a.republished, b.republished) == (1, 0)
    assert a.copies == [0] and b.copies == [1]


def test_a_down_broker_refuses_every_target():
    _, _, broker, a, b = setup()
    broker.down = True
    sender = StubSender()
    assert not broker.accept(new(0, -1, -1, 0, 0.0, 0), ToQueues([a, b], broker), sender, 0,
                             0.0)
    assert sender.refusals == [(["a", "b"], 0)] and (a.refused, b.refused) == (1, 1)


def test_an_instant_broker_answers_the_publish_itself():
    _, _, broker, a, _ = setup()
    sender = StubSender()
    assert broker.publish(new(0, -1, -1, 0, 0.0, 0), ToQueues([a], broker), sender, 0)
    assert a.copies == [0] and sender.arrivals == [] and sender.refusals == []


def test_a_publish_with_a_latency_arrives_through_its_sender_at_the_brokers_instant():
    e, _, broker, a, _ = setup(publish_latency=0.5)
    full = StubTarget(broker, "full", 1, full=True)
    sender = StubSender()
    assert not broker.publish(new(0, -1, -1, 0, 0.0, 0), ToQueues([a], broker), sender, 0)
    assert not broker.publish(new(1, -1, -1, 1, 0.0, 0), ToQueues([full], broker), sender, 0)
    assert broker.work.count == 2  # both on their way
    e.run(until=0.5)
    assert (a.copies, sender.arrivals, sender.refusals) == ([], [], [])
    e.run(until=1.0)
    assert sender.arrivals == [(0.5, 0, True), (0.5, 1, False)]
    assert a.copies == [0] and sender.refusals == [(["full"], 0)]
    assert broker.work.count == 0  # both publishes have left the work in progress
