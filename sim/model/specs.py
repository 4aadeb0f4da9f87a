"""Typed, frozen specs: what a component reads of the resolved scenario, by attribute.

The resolved scenario is a dict (it is what ``scenario.yaml`` is written from); a component
that read it by string key would fail only at run time on a renamed key, where no checker
sees it. A spec names every field its component reads, is made once at the model's boundary
(`QueueSpec.of`: a missing key fails there, naming it) and cannot change during the run.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any, TypeVar

_S = TypeVar("_S")


class SpecError(KeyError):
    """The resolved scenario lacks a field a component reads (a bug between the layers)."""


@dataclass(frozen=True, slots=True)
class QueueSpec:
    """A queue's mechanisms (`sim.model.queue.Queue`); latencies are given as samplers."""

    max_length: int | None
    overflow: str  # reject-publish, drop-head, block
    ttl: float | None
    max_deliveries: int | None
    priority: bool
    ordering: str  # fifo, per-key
    delivery: str  # push, pull
    prefetch_on_auto_ack: bool
    batch_size: int
    wait_time: float
    poll_interval: float
    notify: bool
    redelivery: str  # none, on_disconnect, transaction, visibility_timeout, lease
    heartbeat: float
    visibility_timeout: float | None
    restore_interval: float | None
    lock_timeout: float | None
    requeue: str  # original, head, tail

    @classmethod
    def of(cls, resolved: Mapping[str, Any], path: str = "queue") -> QueueSpec:
        """The spec of one resolved queue (``path``: its name in the scenario, for errors)."""
        return cls(**_fields(cls, resolved, path))


def _fields(cls: type, resolved: Mapping[str, Any], path: str) -> dict[str, Any]:
    """``resolved``'s value of every field of ``cls``, or a `SpecError` naming those missing."""
    missing = [f.name for f in fields(cls) if f.name not in resolved]
    if missing:
        raise SpecError(f"{path}: the resolved scenario has no {', '.join(missing)}")
    return {f.name: resolved[f.name] for f in fields(cls)}


def _plain(cls: type[_S], resolved: Mapping[str, Any], path: str) -> _S:
    """A spec whose fields are all plain values (no nested spec)."""
    return cls(**_fields(cls, resolved, path))


@dataclass(frozen=True, slots=True)
class RetrySpec:
    """What a queue consumer does with a failed processing: requeue it after ``delay``, or
    reject it (to the queue's dead letter, if any)."""

    requeue: bool
    delay: float


@dataclass(frozen=True, slots=True)
class BatchSpec:
    """A pool run as a periodic job (`sim.model.batch.BatchJob`): every ``every`` seconds,
    at most ``max`` copies (None: all waiting)."""

    every: float
    max: int | None


@dataclass(frozen=True, slots=True)
class AutoscaleSpec:
    """KEDA-style scaling of a pool's workers from its backlog (`sim.model.autoscale`)."""

    min: int
    max: int
    target_backlog: float
    interval: float
    startup: float
    cooldown: float


@dataclass(frozen=True, slots=True)
class PublishRetrySpec:
    """How a publisher retries a rejected publish: ``attempts`` in all, ``backoff`` apart."""

    attempts: int
    backoff: float


@dataclass(frozen=True, slots=True)
class ThenSpec:
    """A pool's follow-up publishes (``then``, `sim.model.pipeline.FollowUps`): to
    ``publish`` (a queue or exchange), with ``probability`` per processed copy."""

    publish: str
    probability: float
    routing_key: str | None  # a template filled from the message's fields
    on_reject: str  # fail, retry
    retry: PublishRetrySpec


@dataclass(frozen=True, slots=True)
class PoolSpec:
    """What every pool kind reads of its resolved ``workers.NAME`` (`sim.model.pools`,
    `workers`, `group`, `calls`), and its ``then`` that the build makes its follow-ups
    from; its samplers are made apart, in the build, from the resolved distributions.

    A pool serving calls or a consumer group is resolved with the queue-consumer fields at
    their defaults, so one spec serves all kinds."""

    count: int
    concurrency: int
    prefetch: int
    ack: str  # after_processing, on_start, on_delivery
    service_on_repeat: str  # same, fresh
    error_rate: float
    retry: RetrySpec
    idempotent: bool | str  # False, True (at_start), at_start, at_commit
    batch: BatchSpec | None
    autoscale: AutoscaleSpec | None
    then: ThenSpec | None

    @classmethod
    def of(cls, resolved: Mapping[str, Any], path: str = "workers") -> PoolSpec:
        """The spec of one resolved pool (``path``: ``workers.NAME``, for errors)."""
        given = _fields(cls, resolved, path)
        given["retry"] = _plain(RetrySpec, given["retry"], f"{path}.retry")
        if given["batch"] is not None:
            given["batch"] = _plain(BatchSpec, given["batch"], f"{path}.batch")
        if given["autoscale"] is not None:
            given["autoscale"] = _plain(AutoscaleSpec, given["autoscale"], f"{path}.autoscale")
        if given["then"] is not None:
            then = _fields(ThenSpec, given["then"], f"{path}.then")
            then["retry"] = _plain(PublishRetrySpec, then["retry"], f"{path}.then.retry")
            given["then"] = ThenSpec(**then)
        return cls(**given)
