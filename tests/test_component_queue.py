"""A queue alone, with stub consumers and a stub broker: delivery, leases, acks, returns,
admission and the pull loop, each with exact counts on a few copies (no producer, no pool)."""

from __future__ import annotations

import dataclasses

import pytest
from component_stubs import StubBroker, StubConsumer, env, no_latency, publish, queue_spec, records

from sim.model.leases import token
from sim.model.queue import Queue
from sim.model.work import Work
from sim.records import COMPLETED, LOST, PENDING
from sim.scenario.specs import QueueSpec, SpecError


def make(**spec):
    e, rec, broker = env(), records(), StubBroker()
    queue = Queue(e, "q", 0, rec, queue_spec(**spec), broker, no_latency, Work())
    return e, rec, broker, queue


def test_push_fills_each_consumers_prefetch_then_keeps_the_rest_in_line():
    _, rec, _, queue = make()
    worker = StubConsumer(prefetch=2)
    queue.register(worker)
    queue.attach(worker)
    cids = [publish(rec, 0, i) for i in range(3)]
    for cid in cids:
        queue.put(cid)
    assert worker.deliveries() == [(0, 1), (1, 1)]  # each copy's first lease
    assert (queue.depth(), queue.in_flight, queue.backlog()) == (1, 2, 3)
    assert queue.max_depth == 1 and queue.enqueued == 3
    assert queue.work.count == 3


def test_an_ack_under_the_current_lease_settles_and_the_freed_slot_takes_the_next():
    _, rec, broker, queue = make()
    worker = StubConsumer(prefetch=1)
    queue.register(worker)
    queue.attach(worker)
    for i in range(2):
        queue.put(publish(rec, 0, i))
    assert queue.ack(0, 2) is False  # a lease never issued settles nothing
    assert queue.ack(0, 1) is True
    queue.complete(0, 5.0, 7)
    worker.settle(token(0, 1))
    queue.release(worker)
    assert worker.deliveries() == [(1, 1)]
    assert (rec.state[0], rec.completed_at[0], rec.worker[0]) == (COMPLETED, 5.0, 7)
    assert (queue.completed, queue.in_flight, queue.depth(), queue.work.count) == (1, 1, 0, 1)
    assert broker.requests.ack == 2  # each ack is a request, whether it settles or not


def test_a_per_key_line_holds_a_keys_next_copy_until_the_first_settles():
    _, rec, _, queue = make(ordering="per-key")
    a, b = StubConsumer(), StubConsumer()
    for worker in (a, b):
        queue.register(worker)
        queue.attach(worker)
    first, second = publish(rec, 0, 0, key=3), publish(rec, 0, 1, key=3)
    queue.put(first)
    queue.put(second)
    assert a.deliveries() == [(first, 1)] and b.deliveries() == []  # b waits: key 3 busy
    assert queue.depth() == 1
    assert queue.ack(first, 1)  # the line strategy frees the key as the copy settles
    queue.complete(first, 1.0, 0)
    a.settle(token(first, 1))
    queue.release(a)
    assert b.deliveries() == [(second, 1)]


def test_a_lost_consumers_copies_come_back_when_its_connection_closes():
    e, rec, _, queue = make(redelivery="on_disconnect")
    gone, other = StubConsumer(prefetch=2), StubConsumer(prefetch=2)
    queue.register(gone)
    queue.attach(gone)
    queue.put(publish(rec, 0, 0))
    queue.put(publish(rec, 0, 1))
    queue.register(other)
    queue.attach(other)
    queue.detach(gone, silent=False, clean=False)
    assert other.deliveries() == []  # the connection closes after the disconnect latency
    e.run()  # (zero here: the next instant)
    assert other.deliveries() == [(0, 3), (1, 3)]  # lease 2 was closed, 3 is the new one
    assert [rec.deliveries[c] for c in (0, 1)] == [2, 2]
    assert queue.ack(0, 1) is False  # the first holder's ack is no longer valid


def test_redelivery_none_loses_what_the_consumer_held():
    _, rec, _, queue = make(redelivery="none")
    worker = StubConsumer(prefetch=2)
    queue.register(worker)
    queue.attach(worker)
    queue.put(publish(rec, 0, 0))
    queue.detach(worker, silent=False, clean=False)
    assert rec.state[0] == LOST and queue.in_flight == 0 and queue.work.count == 0


def test_a_visibility_timeout_returns_the_copy_yet_the_late_holder_still_deletes_it():
    e, rec, _, queue = make(redelivery="visibility_timeout", visibility_timeout=30.0)
    slow, fast = StubConsumer(), StubConsumer()
    queue.register(slow)
    queue.attach(slow)
    queue.put(publish(rec, 0, 0))
    queue.register(fast)
    queue.attach(fast)
    e.run(until=31)
    assert fast.deliveries() == [(0, 2)] and queue.timed == {0}  # a new lease, timed again
    assert queue.ack(0, 1) is True  # SQS: the older receipt handle still deletes it
    assert queue.timed == set() and queue.in_flight == 0
    assert rec.state[0] == PENDING  # (its holder completes it after the ack)


def test_reject_publish_refuses_only_when_full_and_nobody_waits():
    _, rec, _, queue = make(max_length=1)
    assert not queue.rejects()
    queue.put(publish(rec, 0, 0))
    assert queue.rejects()
    worker = StubConsumer()
    queue.register(worker)
    queue.attach(worker)  # takes the waiting copy
    assert not queue.rejects() and worker.deliveries() == [(0, 1)]


def test_drop_head_keeps_the_newest_and_loses_the_oldest():
    _, rec, _, queue = make(max_length=2, overflow="drop-head")
    for i in range(3):
        queue.put(publish(rec, 0, i))
    assert [rec.state[c] for c in range(3)] == [LOST, PENDING, PENDING]
    assert queue.depth() == 2 and queue.work.count == 2


def test_block_accepts_a_waiting_publish_when_room_appears():
    _, rec, _, queue = make(max_length=1, overflow="block")
    queue.put(publish(rec, 0, 0))
    queue.put(publish(rec, 0, 1))
    assert queue.depth() == 1 and rec.accepted_at[1] != rec.accepted_at[1]  # NaN: waiting
    worker = StubConsumer()
    queue.register(worker)
    queue.attach(worker)
    assert worker.deliveries() == [(0, 1)]
    assert queue.depth() == 1 and rec.accepted_at[1] == 0.0  # admitted now


def test_an_empty_pull_long_polls_and_a_new_copy_ends_the_poll_with_it():
    _, rec, broker, queue = make(delivery="pull", wait_time=20.0, poll_interval=5.0)
    worker = StubConsumer()
    queue.register(worker)
    assert queue.request(worker, 1) == 0
    assert worker.calls == [("long_poll", 20.0)]
    assert broker.requests.counts()["empty_receive"] == 0  # a long poll counts when it returns
    queue.put(publish(rec, 0, 0))
    assert worker.calls[1:] == [("end_long_poll",), ("deliver", 0, 1, 1)]
    assert broker.requests.receive == 1  # one request: the long poll, returned with the copy
    assert queue.long_poll_expired(worker) is True  # (a late expiry: sleep poll_interval)


def test_a_nack_with_requeue_puts_the_copy_back_at_its_place():
    _, rec, _, queue = make()
    worker = StubConsumer(prefetch=2)
    queue.register(worker)
    queue.attach(worker)
    queue.put(publish(rec, 0, 0))
    queue.put(publish(rec, 0, 1))
    worker.settle(token(0, 1))
    queue.nack(0, 1, requeue=True, delay=0.0)
    assert queue.depth() == 1 and queue.in_flight == 1  # back in line: no free slot
    assert worker.deliveries() == [(1, 1)]


def test_a_broker_outage_on_a_non_durable_queue_loses_its_copies():
    _, rec, broker, queue = make()
    worker = StubConsumer()
    queue.register(worker)
    queue.attach(worker)
    queue.put(publish(rec, 0, 0))
    queue.put(publish(rec, 0, 1))
    broker.down = True
    queue.outage_started(loses_messages=True)
    assert [rec.state[c] for c in range(2)] == [LOST, LOST]
    assert queue.in_flight == 0
    # The worker still holds its delivery of copy 0: the drain waits until it lets go.
    assert queue.orphans == {token(0, 1)} and queue.work.count == 1
    queue.let_go(token(0, 1))
    assert queue.work.count == 0


def test_a_queue_spec_names_the_fields_the_resolved_scenario_lacks():
    resolved = {f: getattr(queue_spec(), f) for f in QueueSpec.__dataclass_fields__}
    del resolved["ttl"], resolved["requeue"]
    with pytest.raises(SpecError, match=r"queues\.jobs: the resolved scenario has no ttl, requeue"):
        QueueSpec.of(resolved, "queues.jobs")
    with pytest.raises(dataclasses.FrozenInstanceError):
        queue_spec().ttl = 1.0  # type: ignore[misc]  # (frozen: that is the point)
