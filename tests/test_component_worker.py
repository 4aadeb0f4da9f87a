"""A worker alone, with a stub source: what it asks of its queue and when, with exact times
(constant or counted service draws, no broker, no producer)."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from component_stubs import env, pool_spec, publish, records

from sim.model.leases import token
from sim.model.pools import Draws
from sim.model.workers import WorkerPool
from sim.scenario.specs import (
    AutoscaleSpec,
    BatchSpec,
    PoolSpec,
    PublishRetrySpec,
    RetrySpec,
    SpecError,
    ThenSpec,
)


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
                      Draws(service or counted(2.0, 3.0, 4.0)))
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


def _resolved_pool() -> dict[str, Any]:
    """A resolved pool with every field a pool reads, batch and autoscale given."""
    return {
        "count": 2, "concurrency": 1, "prefetch": 1, "ack": "after_processing",
        "service_on_repeat": "same", "error_rate": 0.0,
        "retry": {"requeue": True, "delay": 0.5}, "idempotent": "at_commit",
        "batch": {"every": 300.0, "max": None},
        "autoscale": {"min": 1, "max": 4, "target_backlog": 10.0, "interval": 1.0,
                      "startup": 0.0, "cooldown": 30.0},
        "then": {"publish": "done", "probability": 1.0, "routing_key": None,
                 "on_reject": "retry", "retry": {"attempts": 3, "backoff": 0.1}},
        "consumes": "jobs", "service_time": {"dist": "constant", "value": 0.1},
        "service_time_by_type": {}, "ack_latency": {"dist": "constant", "value": 0.0},
    }


def test_a_pool_spec_names_the_fields_the_resolved_scenario_lacks():
    resolved = _resolved_pool()
    del resolved["prefetch"], resolved["idempotent"]
    with pytest.raises(SpecError,
                       match=r"^'workers\.w: the resolved scenario has no prefetch, idempotent'$"):
        PoolSpec.of(resolved, "workers.w")
    nested = _resolved_pool()
    del nested["autoscale"]["cooldown"]
    with pytest.raises(SpecError, match=r"workers\.w\.autoscale: .* has no cooldown"):
        PoolSpec.of(nested, "workers.w")
    nested = _resolved_pool()
    del nested["then"]["retry"]["backoff"]
    with pytest.raises(SpecError, match=r"workers\.w\.then\.retry: .* has no backoff"):
        PoolSpec.of(nested, "workers.w")
    nested = _resolved_pool()
    del nested["retry"]["delay"]
    with pytest.raises(SpecError, match=r"workers\.w\.retry: .* has no delay"):
        PoolSpec.of(nested, "workers.w")


def test_a_pool_spec_is_frozen_with_its_nested_parts_typed():
    spec = PoolSpec.of(_resolved_pool(), "workers.w")
    assert spec.retry == RetrySpec(requeue=True, delay=0.5)
    assert spec.batch == BatchSpec(every=300.0, max=None)
    assert spec.autoscale == AutoscaleSpec(min=1, max=4, target_backlog=10.0, interval=1.0,
                                           startup=0.0, cooldown=30.0)
    assert spec.then == ThenSpec(publish="done", probability=1.0, routing_key=None,
                                 on_reject="retry", retry=PublishRetrySpec(3, 0.1))
    assert spec.count == 2 and spec.idempotent == "at_commit"
    assert pool_spec().batch is None and pool_spec().autoscale is None
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.count = 3  # type: ignore[misc]  # (frozen: that is the point)
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.retry.delay = 0.0  # type: ignore[misc]
