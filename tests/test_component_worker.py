"""A worker alone, with a stub source: what it asks of its queue and when, with exact times
(constant or counted service draws, no broker, no producer)."""

from __future__ import annotations

from typing import Any

from component_stubs import env, pool_spec, publish, records

from sim.model.leases import token
from sim.model.workers import WorkerPool


class StubSource:
    """A queue that records each call a worker makes on it and settles every ack."""

    api_latency = None
    batch_size = 1
    poll_interval = 0.0
    restore_interval = None
    prefetch_on_auto_ack = False

    def __init__(self) -> None:
        self.calls: list[tuple[Any, ...]] = []
        self.orphans: set[int] = set()
        self.consumers: list[Any] = []
        self.dropped: dict[int, int] = {}

    def register(self, consumer: Any) -> None:
        self.consumers.append(consumer)

    def attach(self, consumer: Any) -> None:
        self.calls.append(("attach",))

    def detach(self, consumer: Any, silent: bool, clean: bool) -> None:
        self.dropped = consumer.drop_all()
        self.calls.append(("detach", silent, clean))

    def request(self, consumer: Any, n: int) -> int:
        self.calls.append(("request", n))
        return 0

    def take_for(self, consumer: Any, n: int) -> int:
        return 0

    def ack(self, cid: int, lease: int) -> bool:
        self.calls.append(("ack", cid, lease, consumer_time(self)))
        return True

    def nack(self, cid: int, lease: int, requeue: bool, delay: float) -> None:
        self.calls.append(("nack", cid, lease, requeue))

    def complete(self, cid: int, at: float, worker_code: int) -> None:
        self.calls.append(("complete", cid, at))

    def release(self, consumer: Any) -> None:
        self.calls.append(("release",))

    def let_go(self, token: int) -> None:
        pass

    def long_poll_expired(self, consumer: Any) -> bool:
        return False

    def woke(self, consumer: Any) -> None:
        pass

    def restore_check(self) -> None:
        pass


def consumer_time(source: StubSource) -> float:
    return source.consumers[0].env.now


def counted(*lengths: float):
    """A service sampler giving these lengths in turn (to tell draws apart)."""
    it = iter(lengths)
    return lambda: next(it)


def make(service=None, **spec):
    e, rec, source = env(), records(), StubSource()
    pool = WorkerPool(e, "w", source, rec, pool_spec(**spec), None,
                      service or counted(2.0, 3.0, 4.0), {}, None)
    pool.start()
    return e, rec, source, pool, pool.workers[0]


def test_a_started_worker_attaches_and_a_delivery_is_processed_then_acked():
    e, rec, source, pool, worker = make()
    assert source.calls == [("attach",)] and worker.up and pool.up == 1
    cid = publish(rec, 0, 0)
    worker.deliver(token(cid, 1), 1)
    assert worker.busy == 1 and worker.held == 1 and rec.started_at[cid] == 0.0
    e.run()
    assert source.calls[1:] == [("ack", cid, 1, 2.0), ("complete", cid, 2.0), ("release",)]
    assert (worker.busy, worker.held, worker.holding) == (0, 0, {})
    assert rec.processings[cid] == 1 and pool.busy_time == 2.0


def test_ack_on_start_is_sent_as_processing_begins():
    e, rec, source, _, worker = make(ack="on_start")
    cid = publish(rec, 0, 0)
    worker.deliver(token(cid, 1), 1)
    assert source.calls[1:] == [("ack", cid, 1, 0.0), ("release",)]
    assert worker.holding == {token(cid, 1): -1}  # still held (running), no longer counted
    e.run()
    assert source.calls[3:] == [("complete", cid, 2.0)]


def test_a_crash_cancels_the_processing_and_gives_its_source_what_it_held():
    e, rec, source, pool, worker = make(prefetch=2)
    first, second = publish(rec, 0, 0), publish(rec, 0, 1)
    worker.deliver(token(first, 1), 1)
    worker.deliver(token(second, 1), 1)  # buffered: concurrency 1
    e.run(until=0.5)
    worker.crash()
    assert source.calls[-1] == ("detach", False, False)
    assert source.dropped == {token(first, 1): 1, token(second, 1): 1}
    assert pool.busy_time == 0.5 and pool.crashes == 1 and pool.up == 0
    e.run()
    assert ("complete", first, 2.0) not in source.calls  # the cancelled processing never ends


def test_a_repeat_of_a_copy_takes_the_job_drawn_the_first_time():
    e, rec, _, pool, worker = make()
    cid = publish(rec, 0, 0)
    worker.deliver(token(cid, 1), 1)
    e.run()
    worker.deliver(token(cid, 2), 2)  # redelivered (its lease ran out, say)
    e.run()
    assert e.now == 4.0 and pool.busy_time == 4.0  # 2 + 2: the second draw (3.0) unused


def test_a_fresh_job_on_repeat_draws_again():
    e, rec, _, pool, worker = make(service_on_repeat="fresh")
    cid = publish(rec, 0, 0)
    worker.deliver(token(cid, 1), 1)
    e.run()
    worker.deliver(token(cid, 2), 2)
    e.run()
    assert e.now == 5.0 and pool.busy_time == 5.0


def test_a_failed_processing_is_nacked_with_the_pools_retry():
    e, rec, source, _, worker = make(error_rate=1.0, retry={"requeue": False, "delay": 0.0})
    worker.pool.failure = lambda: 0.0  # every draw below the error rate
    cid = publish(rec, 0, 0)
    worker.deliver(token(cid, 1), 1)
    e.run()
    assert source.calls[1:] == [("nack", cid, 1, False), ("release",)]
    assert rec.processings[cid] == 0


def test_a_pull_worker_asks_for_up_to_its_room_and_sleeps_when_told():
    e, _, source, _, worker = make(prefetch=3)
    source.calls.clear()
    worker.poll()
    assert source.calls == [("request", 1)]  # the source's batch size
    worker.sleep(5.0)
    e.run()
    assert e.now == 5.0 and source.calls == [("request", 1), ("request", 1)]
