"""Stubs for testing one component of the model alone (as SimPy tests its resources): a
broker, a consumer and a source that record what they are asked, and the specs each
component reads, written out in full."""

from __future__ import annotations

from typing import Any

from simpy import Environment

from sim.model.latencies import NONE
from sim.model.leases import CID_MASK, LEASE_SHIFT
from sim.model.message import Message, new
from sim.model.requests import Requests
from sim.model.schedule import Call
from sim.records import Records
from sim.scenario.specs import LATENCIES, PoolSpec, QueueSpec

ZERO = {"dist": "constant", "value": 0.0}  # a resolved distribution that is always zero


def queue_spec(**changes: Any) -> QueueSpec:
    """A `Queue`'s spec at the defaults of a plain push queue, with ``changes``."""
    spec: dict[str, Any] = {
        "max_length": None, "overflow": "reject-publish", "ttl": None,
        "max_deliveries": None, "priority": False, "ordering": "fifo", "delivery": "push",
        "prefetch_on_auto_ack": False, "batch_size": 1, "wait_time": 0.0,
        "poll_interval": 0.0, "notify": False, "redelivery": "on_disconnect",
        "heartbeat": 60.0, "visibility_timeout": None, "restore_interval": None,
        "lock_timeout": None, "requeue": "original",
        "broker": "b", "dead_letter": None, **{key: ZERO for key in LATENCIES},
    }
    spec.update(changes)
    return QueueSpec.of(spec)


def pool_spec(**changes: Any) -> PoolSpec:
    """A pool's spec: every field a pool reads (its samplers are given apart), with
    ``changes`` (nested parts given as the resolved dicts)."""
    spec: dict[str, Any] = {
        "count": 1, "concurrency": 1, "prefetch": 1, "ack": "after_processing",
        "service_on_repeat": "same", "error_rate": 0.0,
        "retry": {"requeue": True, "delay": 0.0}, "idempotent": False, "batch": None,
        "autoscale": None, "then": None, "consumes": "q", "service_time": ZERO,
        "service_time_by_type": {}, "ack_latency": ZERO,
    }
    spec.update(changes)
    return PoolSpec.of(spec)


no_latency = NONE  # a queue's latencies, every one zero


class StubBroker:
    """A broker that is up (or down) and accepts what it is handed."""

    def __init__(self, name: str = "b") -> None:
        self.name = name
        self.down = False
        self.instant = True
        self.accepted: list[tuple[Message, Any]] = []
        self.requests = Requests()  # what its queues count of the API calls made to it

    def publish(self, message: Message, route: Any, sender: Any, attempt: int) -> bool:
        return self.accept(message, route, sender, attempt, 0.0)

    def accept(self, message: Message, route: Any, sender: Any, attempt: int,
               now: float) -> bool:
        self.accepted.append((message, route))
        return True


class StubConsumer:
    """A consumer that holds what it is delivered and records every call on it."""

    def __init__(self, prefetch: int = 1, auto_ack: bool = False) -> None:
        self.up = True
        self.held = 0
        self.prefetch = prefetch
        self.unbounded = False
        self.auto_ack = auto_ack
        self.scheduled = False
        self.holding: dict[int, int] = {}
        self.calls: list[tuple[Any, ...]] = []

    def deliveries(self) -> list[tuple[int, int]]:
        """(copy, lease) of each delivery held now."""
        return [(t & CID_MASK, t >> LEASE_SHIFT) for t in self.holding]

    def deliver(self, token: int, lease: int) -> None:
        self.holding[token] = lease
        self.held += 1
        self.calls.append(("deliver", token & CID_MASK, token >> LEASE_SHIFT, lease))

    def hold(self, token: int, lease: int) -> None:
        self.holding[token] = lease
        self.held += 1
        self.calls.append(("hold", token & CID_MASK))

    def received(self, event: Call) -> None:
        self.calls.append(("received", event.value & CID_MASK))

    def poll(self) -> None:
        self.calls.append(("poll",))

    def room(self) -> None:
        self.calls.append(("room",))

    def long_poll(self, wait: float) -> None:
        self.calls.append(("long_poll", wait))

    def end_long_poll(self) -> None:
        self.calls.append(("end_long_poll",))

    def sleep(self, interval: float) -> None:
        self.calls.append(("sleep", interval))

    def wake(self, delay: float) -> None:
        self.calls.append(("wake", delay))

    def drop_all(self) -> dict[int, int]:
        holding, self.holding, self.held = self.holding, {}, 0
        return holding

    def settle(self, token: int) -> None:
        """The stub is done with a delivery (its ack went out)."""
        del self.holding[token]
        self.held -= 1


def records(queues: list[str] = ["q"]) -> Records:  # noqa: B006 (never mutated)
    return Records(list(queues), ["p"], [])


def publish(rec: Records, queue_code: int, message_id: int, now: float = 0.0,
            key: int = -1) -> int:
    """A copy of a new message in the records, as the broker makes it; returns its id."""
    message = new(message_id, key, -1, message_id, now, 0)
    return rec.add(message.id, queue_code, message.producer, message.key, message.type,
                   message.published_at, now, message.flow)


def env() -> Environment:
    return Environment()
