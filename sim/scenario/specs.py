"""Typed, frozen specs: what the model reads of the resolved scenario, by attribute.

The resolved scenario is a plain dict (it is what ``scenario.yaml`` is written from); a model
that read it by string key would fail only at run time on a renamed key, where no checker sees
it. `model_spec` turns it, once per run, into a `ModelSpec` of frozen, slotted dataclasses that
name every field the model reads; a missing key fails there, as a `SpecError` naming its YAML
path. Distributions, arrival processes and message-field generators stay plain mappings
(`DistSpec`, `ArrivalSpec`, `GeneratorSpec`): `sim.random` interprets them, below this layer.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any, TypeVar

DistSpec = Mapping[str, Any]  # {dist: NAME, ...params} (sim.random.distributions.make)
ArrivalSpec = Mapping[str, Any]  # {process: NAME, ...} (sim.random.arrivals.make)
GeneratorSpec = Any  # a literal or {choice: ...}, {zipf: ...}, ... (sim.random.values.make)

_S = TypeVar("_S")


class SpecError(KeyError):
    """The resolved scenario lacks a field the model reads (a bug between the layers)."""


def _fields(cls: type, resolved: Mapping[str, Any], path: str,
            skip: tuple[str, ...] = ()) -> dict[str, Any]:
    """``resolved``'s value of every field of ``cls`` (but ``skip``, made by the caller), or
    a `SpecError` naming those missing."""
    return _picked(resolved, tuple(f.name for f in fields(cls) if f.name not in skip), path)


def _picked(resolved: Mapping[str, Any], keys: tuple[str, ...], path: str) -> dict[str, Any]:
    """``resolved``'s value of each of ``keys``, or a `SpecError` naming those missing."""
    where = f"{path}: the resolved scenario" if path else "the resolved scenario"
    if not isinstance(resolved, Mapping):
        raise SpecError(f"{where} has {resolved!r}, not a mapping")
    missing = [key for key in keys if key not in resolved]
    if missing:
        raise SpecError(f"{where} has no {', '.join(missing)}")
    return {key: resolved[key] for key in keys}


def _plain(cls: type[_S], resolved: Mapping[str, Any], path: str) -> _S:
    """A spec whose fields are all plain values (no nested spec)."""
    return cls(**_fields(cls, resolved, path))


# --------------------------------------------------------------------------- run, brokers


@dataclass(frozen=True, slots=True)
class RunSpec:
    """How one run goes (`sim.engine.simulate`); ``replications`` is the experiment's."""

    duration: float | None
    messages: int | None
    warmup: float
    drain: bool
    drain_timeout: float
    seed: int
    sample_interval: float


@dataclass(frozen=True, slots=True)
class BrokerSpec:
    """A broker's own costs and durability (`sim.model.broker.Broker`); its mechanism keys
    reach the model through its queues' specs, which resolve them."""

    publish_latency: DistSpec
    capacity: float | None
    durable: bool
    embedded: bool


# --------------------------------------------------------------------------- queues


@dataclass(frozen=True, slots=True)
class LogSpec:
    """A kafka topic's partitions and its groups' coordination (`sim.model.log.GroupLog`)."""

    partitions: int
    assignment: str  # range, cooperative-sticky
    rebalance_time: float
    session_timeout: float
    max_poll_interval: float
    max_poll_records: int
    commit: str  # auto, manual
    commit_interval: float


# A queue's latencies: its own, or its broker's when the queue does not set one.
LATENCIES = ("deliver_latency", "api_latency", "notify_latency", "disconnect_latency")


@dataclass(frozen=True, slots=True)
class QueueSpec:
    """A queue: its mechanisms (`sim.model.queue.Queue`), where it lives, where its dead
    letters go, its latencies (the queue's or else its broker's) and, for a kafka topic, its
    log (None for a queue)."""

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
    broker: str
    dead_letter: str | None
    deliver_latency: DistSpec
    api_latency: DistSpec
    notify_latency: DistSpec
    disconnect_latency: DistSpec
    log: LogSpec | None

    @classmethod
    def of(cls, resolved: Mapping[str, Any], path: str = "queue",
           broker: Mapping[str, Any] | None = None) -> QueueSpec:
        """The spec of one resolved queue (``path``: ``queues.NAME``, for errors); a latency
        the queue lacks is its ``broker``'s (the resolved broker, when given)."""
        given = resolved
        if broker is not None:
            inherited = {k: broker[k] for k in LATENCIES if k not in resolved and k in broker}
            given = {**resolved, **inherited}
        log = None
        if any(f.name in resolved for f in fields(LogSpec)):  # a kafka topic (only those
            log = _plain(LogSpec, given, path)  # have its keys): all of them, or an error
        return cls(**_fields(cls, given, path, skip=("log",)), log=log)


@dataclass(frozen=True, slots=True)
class BindingSpec:
    """One binding of an exchange: its queue, and its match by the exchange's type."""

    queue: str
    key: str | None = None  # direct, topic (the pattern)
    match: Mapping[str, Any] | None = None  # headers
    x_match: str | None = None  # headers: all, any


@dataclass(frozen=True, slots=True)
class ExchangeSpec:
    """An exchange (`sim.model.exchanges.make_exchange`)."""

    type: str  # direct, fanout, topic, headers, custom
    broker: str
    bindings: tuple[BindingSpec, ...]
    function: str | None  # custom: "/absolute/folder/file.py:name"
    alternate: str | None

    @classmethod
    def of(cls, resolved: Mapping[str, Any], path: str) -> ExchangeSpec:
        given = _fields(cls, resolved, path)
        # What a binding holds depends on its exchange's type (docs/architecture.md, BINDING).
        keys = {"direct": ("key",), "topic": ("key",), "headers": ("match", "x_match")}.get(
            given["type"], ())
        bindings = []
        for i, binding in enumerate(given["bindings"] or []):
            where = f"{path}.bindings[{i}]"
            values = _fields(BindingSpec, binding, where, skip=("key", "match", "x_match"))
            values.update(_picked(binding, keys, where))
            bindings.append(BindingSpec(**values))
        return cls(**{**given, "bindings": tuple(bindings)})


# --------------------------------------------------------------------------- worker pools


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
    """A worker pool: what every pool kind reads (`sim.model.pools`, `workers`, `group`,
    `calls`), what it consumes (None: it serves calls) and the distributions the build makes
    its samplers from.

    A pool serving calls or a consumer group is resolved with the queue-consumer fields at
    their defaults, so one spec serves all kinds."""

    consumes: str | None
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
    service_time: DistSpec
    service_time_by_type: Mapping[str, DistSpec]
    ack_latency: DistSpec

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


# --------------------------------------------------------------------------- producers


@dataclass(frozen=True, slots=True)
class MessageSpec:
    """A producer's message fields, each generated (None: the message has none)."""

    key: GeneratorSpec | None
    type: GeneratorSpec | None
    priority: GeneratorSpec | None
    headers: Mapping[str, GeneratorSpec]  # {} without headers

    @classmethod
    def of(cls, resolved: Mapping[str, Any], path: str) -> MessageSpec:
        if not isinstance(resolved, Mapping):
            raise SpecError(f"{path}: the resolved scenario has {resolved!r}, not a mapping")
        # Every field is optional in the resolved form: an absent one is a message without it.
        return cls(resolved.get("key"), resolved.get("type"), resolved.get("priority"),
                   resolved.get("headers") or {})


@dataclass(frozen=True, slots=True)
class ProducerSpec:
    """A producer (`sim.model.producer.Producer`, ``count`` instances): it publishes to a
    queue or exchange, or calls a pool (exactly one of ``publish`` and ``call``)."""

    count: int
    arrivals: ArrivalSpec
    message: MessageSpec
    publish: str | None
    call: str | None
    routing_key: str | None
    on_reject: str  # fail, retry
    retry: PublishRetrySpec
    timeout: float | None  # a call's

    @classmethod
    def of(cls, resolved: Mapping[str, Any], path: str) -> ProducerSpec:
        given = _fields(cls, resolved, path)
        given["message"] = MessageSpec.of(given["message"], f"{path}.message")
        given["retry"] = _plain(PublishRetrySpec, given["retry"], f"{path}.retry")
        return cls(**given)


# --------------------------------------------------------------------------- faults


@dataclass(frozen=True, slots=True)
class WorkerStopSpec:
    """A scheduled crash or clean stop (``kind``) of some (or all) of a pool's workers."""

    kind: str  # crash, stop
    target: str
    workers: int | str  # a count, or "all"
    at: float
    restart_after: DistSpec | None
    silent: bool  # (a stop is never silent)


@dataclass(frozen=True, slots=True)
class RandomCrashSpec:
    """Every worker of a pool crashes after an exponential time of mean ``mtbf``."""

    target: str
    mtbf: float
    mttr: DistSpec
    silent: bool


@dataclass(frozen=True, slots=True)
class OutageSpec:
    """A broker is down from ``at`` for ``duration``."""

    target: str
    at: float
    duration: float


@dataclass(frozen=True, slots=True)
class SlowdownSpec:
    """A pool's every processing takes ``factor`` times as long, from ``at`` for ``duration``."""

    target: str
    factor: float
    at: float
    duration: float


FaultSpec = WorkerStopSpec | RandomCrashSpec | OutageSpec | SlowdownSpec


def fault_spec(resolved: Mapping[str, Any], path: str) -> FaultSpec:
    """The spec of one resolved fault, by its kind (and, for a crash, its form)."""
    kind = _picked(resolved, ("kind",), path)["kind"]
    if kind == "crash" and ("mtbf" in resolved or "mttr" in resolved):  # a random crash
        return _plain(RandomCrashSpec, resolved, path)
    if kind in ("crash", "stop"):
        given = {"silent": False, **resolved} if kind == "stop" else resolved  # (a stop has none)
        return _plain(WorkerStopSpec, given, path)
    if kind == "outage":
        return _plain(OutageSpec, resolved, path)
    if kind == "slowdown":
        return _plain(SlowdownSpec, resolved, path)
    raise SpecError(f"{path}.kind: the resolved scenario has unknown kind {kind!r}")


# --------------------------------------------------------------------------- the whole model


@dataclass(frozen=True, slots=True)
class ModelSpec:
    """Everything the model and the engine read of one resolved scenario."""

    name: str
    run: RunSpec
    brokers: Mapping[str, BrokerSpec]
    queues: Mapping[str, QueueSpec]
    exchanges: Mapping[str, ExchangeSpec]
    workers: Mapping[str, PoolSpec]
    producers: Mapping[str, ProducerSpec]
    faults: tuple[FaultSpec, ...]
    costs: Mapping[str, Any] | None  # passed through to the run's counters (sim.metrics.cost)


def model_spec(resolved: Mapping[str, Any]) -> ModelSpec:
    """The typed spec of a resolved scenario (`Scenario.data`); a `SpecError` names the YAML
    path of the first field it lacks."""
    top = _fields(ModelSpec, {"costs": None, **resolved}, "")  # (costs: only when priced)
    brokers = _section(top["brokers"], "brokers")
    queues = _section(top["queues"], "queues")
    queue_specs = {}
    for name, queue in queues.items():
        path = f"queues.{name}"
        broker = _picked(queue, ("broker",), path)["broker"]
        if broker not in brokers:
            raise SpecError(f"{path}.broker: the resolved scenario has no broker {broker!r}")
        queue_specs[name] = QueueSpec.of(queue, path, brokers[broker])
    return ModelSpec(
        name=top["name"],
        run=_plain(RunSpec, top["run"], "run"),
        brokers={n: _plain(BrokerSpec, s, f"brokers.{n}") for n, s in brokers.items()},
        queues=queue_specs,
        exchanges={n: ExchangeSpec.of(s, f"exchanges.{n}")
                   for n, s in _section(top["exchanges"], "exchanges").items()},
        workers={n: PoolSpec.of(s, f"workers.{n}")
                 for n, s in _section(top["workers"], "workers").items()},
        producers={n: ProducerSpec.of(s, f"producers.{n}")
                   for n, s in _section(top["producers"], "producers").items()},
        faults=tuple(fault_spec(f, f"faults[{i}]") for i, f in enumerate(top["faults"] or [])),
        costs=top["costs"],
    )


def _section(resolved: Any, path: str) -> Mapping[str, Any]:
    """A section of named components ({} when null)."""
    if resolved is None:
        return {}
    if not isinstance(resolved, Mapping):
        raise SpecError(f"{path}: the resolved scenario has {resolved!r}, not a mapping")
    return resolved
