"""The model: components built from a scenario's typed spec and wired together.

Like desmod, the model is a tree of components created from configuration: brokers host
queues, pools consume queues, producers publish to them. Each component draws from its own
random stream, derived from the run's seed and the component's name, so adding a pool or a
producer never changes the numbers another component draws.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any, cast

import numpy as np
from simpy import Environment

from sim.model.broker import Broker
from sim.model.calls import CallPool
from sim.model.contracts import Pool, Route, Sampler, Source
from sim.model.exchanges import make_exchange, routing_key_function
from sim.model.faults import Faults
from sim.model.group import LogPool
from sim.model.latencies import Latencies
from sim.model.log import GroupLog
from sim.model.partitions import Topic
from sim.model.pipeline import FollowUps
from sim.model.pools import Draws
from sim.model.producer import Producer, PublishBudget
from sim.model.publishing import Publisher
from sim.model.queue import Queue
from sim.model.routing import ToQueues
from sim.model.work import Work
from sim.model.workers import WorkerPool
from sim.random import arrivals, distributions, values
from sim.random.streams import stream
from sim.records import PENDING, Records
from sim.scenario.specs import (
    DistSpec,
    ExchangeSpec,
    GeneratorSpec,
    ModelSpec,
    QueueSpec,
    ThenSpec,
)


def sampler(spec: DistSpec, seed: int, name: str) -> Sampler | None:
    """A fast next-value function for a distribution; None when it is always zero."""
    dist = distributions.make(spec)
    if dist.is_constant and dist.mean == 0:
        return None
    return dist.sampler(stream(seed, name))


class Model:
    """All components of one run, built on a fresh SimPy environment from the scenario's
    typed spec (`sim.scenario.specs.model_spec`)."""

    def __init__(self, spec: ModelSpec, seed: int) -> None:
        self.env = env = Environment()
        self.spec = spec
        self.seed = seed
        run = spec.run
        self.duration: float | None = run.duration
        self.publishing = True
        self.publish_end = float("inf")
        self._on_publishing_end: list[Callable[[], None]] = []
        # Work in progress across the whole model: the drain ends when it reaches zero.
        self.work = Work()

        pool_specs = spec.workers
        # A kafka topic read by several consumer groups keeps one log per group, named
        # TOPIC@GROUP: each group's read of a message is its own copy.
        queue_specs = spec.queues
        self.logs_of: dict[str, list[str]] = {}  # topic -> the names of its group logs
        group_of: dict[str, str] = {}  # a group log -> its group (the pool reading it)
        for name, qspec in queue_specs.items():
            if qspec.log is not None:
                groups = [p for p, ps in pool_specs.items() if ps.consumes == name]
                self.logs_of[name] = (
                    [f"{name}@{group}" for group in groups] if len(groups) > 1 else [name]
                )
                group_of.update(zip(self.logs_of[name], groups, strict=False))
        queue_names = [n for name in queue_specs for n in self.logs_of.get(name, [name])]
        # Publishers: the producers, then the pools whose `then` publishes follow-ups.
        producer_names = list(spec.producers) + [
            name for name, ps in pool_specs.items() if ps.then is not None
        ]
        # Worker names (POOL/N) are interned as pools make their workers: codes never collide.
        self.records = rec = Records(queue_names, producer_names, [])

        self.brokers: dict[str, Broker] = {}
        for name, bspec in spec.brokers.items():
            publish = sampler(bspec.publish_latency, seed, f"brokers.{name}.publish_latency")
            self.brokers[name] = Broker(
                env, name, rec, publish, bspec.capacity, bspec.durable, bspec.embedded,
                self.work,
            )

        # Work in progress: copies in consumed queues, and in queues whose copies expire into
        # one (they expire on time, since no consumer reaches them at the head).
        consumed = {
            self._source_name(name, ps.consumes)
            for name, ps in pool_specs.items() if ps.consumes
        }
        tracked = self._tracked(queue_specs, consumed)

        self.queues: dict[str, Source] = {}
        self._plain: dict[str, Queue] = {}  # (the same, by kind: what a pool of each consumes)
        self._logs: dict[str, GroupLog] = {}
        for name, qspec in queue_specs.items():
            broker = self.brokers[qspec.broker]

            if qspec.log is not None:
                topic = Topic(name, qspec.log.partitions, rec)
                for log_name in self.logs_of[name]:
                    log = GroupLog(env, log_name, rec.queues.code(log_name), rec, qspec.log,
                                   broker, topic, sampler(qspec.api_latency, seed,
                                                          f"queues.{log_name}.api_latency"),
                                   self.work if log_name in tracked else None,
                                   group_of.get(log_name))
                    broker.host(log)
                    self.queues[log_name] = self._logs[log_name] = log
                continue
            queue = Queue(env, name, rec.queues.code(name), rec, qspec, broker,
                          _latencies(qspec, seed, name),
                          self.work if name in tracked else None,
                          on_time=name in tracked and name not in consumed)
            broker.host(queue)
            self.queues[name] = self._plain[name] = queue
        # Routes: every queue is its own default direct exchange (a topic's reaches each of
        # its groups' logs); then the exchanges.
        self.routes: dict[str, Route] = {}
        for name in queue_specs:
            targets = tuple(self.queues[n] for n in self.logs_of.get(name, [name]))
            self.routes[name] = ToQueues(targets, targets[0].broker)
        # Dead-lettering publishes again, through the same path as everything else. (A queue's
        # dead-letter queue may come after it, or be part of a loop: connected once all are.)
        self.internal = Publisher(env, "dead-letters", -1, self.work, None)
        for name, qspec in queue_specs.items():
            if qspec.dead_letter:
                self._plain[name].dead_letter_to(self.routes[qspec.dead_letter], self.internal)
        self.exchanges = {
            name: make_exchange(name, self._bind_group_logs(xspec), self.queues, self.brokers,
                                rec)
            for name, xspec in spec.exchanges.items()
        }
        self.routes.update(self.exchanges)
        self.budget = PublishBudget(run.messages, self.end_publishing)
        self.pools: dict[str, Pool] = {}
        sources = [self._source_name(name, ps.consumes)
                   for name, ps in pool_specs.items() if ps.consumes]
        for name, typed in pool_specs.items():
            by_type = {
                rec.types.code(type_): sampler(dist, seed, f"workers.{name}.service.{type_}")
                for type_, dist in typed.service_time_by_type.items()
            }
            failure = None
            if typed.error_rate > 0:
                failure = sampler(_UNIFORM, seed, f"workers.{name}.errors")
            service = sampler(typed.service_time, seed, f"workers.{name}.service") or _zero
            draws = Draws(service, {k: v or _zero for k, v in by_type.items()}, failure)
            then = self._follow_ups(name, typed.then) if typed.then else None
            consumes = typed.consumes
            pool: Pool
            if consumes is None:
                pool = CallPool(env, name, rec, typed, self.work, draws, then)
                self.pools[name] = pool
                continue
            source = self._source_name(name, consumes)
            private = sources.count(source) > 1  # its own job lengths for a shared queue
            if consumes in self.logs_of:
                pool = LogPool(env, name, self._logs[source], rec, typed, draws, then, private)
            else:
                ack_latency = sampler(typed.ack_latency, seed, f"workers.{name}.ack_latency")
                pool = WorkerPool(env, name, self._plain[source], rec, typed, ack_latency, draws,
                                  then, private)
            self.pools[name] = pool

        until = self.duration if self.duration is not None else float("inf")
        self.producers: list[Producer] = []
        for name, pspec in spec.producers.items():
            message = pspec.message
            generated = (("key", message.key), ("type", message.type),
                         ("priority", message.priority))
            fields = {
                field: values.make(gen, stream(seed, f"producers.{name}.message.{field}")).next
                for field, gen in generated if gen is not None
            }
            if message.headers:
                fields["headers"] = _headers(message.headers, seed, name)
            retry = pspec.retry if pspec.on_reject == "retry" else None
            routing_key = routing_key_function(pspec.routing_key, rec, name)
            for i in range(pspec.count):
                rng = stream(seed, f"producers.{name}[{i}].arrivals")
                process = arrivals.make(pspec.arrivals, rng)
                rows = process.rows
                if rows and "service_time" in rows:
                    rec.enable_service_times()
                producer = Producer(
                    env, name, rec.producers.code(name), process.times(), rows, fields,
                    rec.keys, rec.types, self.budget, until, self.work,
                    None if retry is None else (retry.attempts, retry.backoff),
                    routing_key, rec.headers,
                    route=None if pspec.publish is None else self.routes[pspec.publish],
                    callee=None if pspec.call is None else cast(CallPool, self.pools[pspec.call]),
                    timeout=pspec.timeout,
                )
                self.producers.append(producer)

        self.faults = Faults(
            env, spec.faults, self.pools, self.brokers,
            lambda dist, name: sampler(dist, seed, name) or _zero,
        )

    def _tracked(self, queue_specs: Mapping[str, QueueSpec], consumed: set[str]) -> set[str]:
        """The queues whose copies the drain waits for: consumed ones, and those whose copies
        expire into a consumed one (directly or through untracked ones)."""
        tracked = set(consumed)

        def reaches(name: str) -> bool:
            """Whether a queue's dead letters reach a tracked queue, directly or through
            untracked ones (a drop-head queue passes a dead letter on as it arrives)."""
            seen: set[str] = set()
            target = queue_specs[name].dead_letter
            while target is not None and target not in seen:
                if target in tracked:
                    return True
                seen.add(target)
                target = queue_specs[target].dead_letter
            return False

        growing = True
        while growing:
            onward = {
                name for name, qspec in queue_specs.items()
                if qspec.ttl is not None and name not in tracked and reaches(name)
            }
            growing = bool(onward)
            tracked |= onward
        return tracked

    def _source_name(self, pool: str, queue: str) -> str:
        """The queue a pool consumes: a topic read by several groups has a log per group."""
        logs = self.logs_of.get(queue)
        if logs is None or len(logs) == 1:
            return queue
        return f"{queue}@{pool}"

    def _bind_group_logs(self, spec: ExchangeSpec) -> ExchangeSpec:
        """An exchange's bindings, with a binding to a topic read by several groups made one
        binding per group log (each group gets its copy)."""
        if not any(len(logs) > 1 for logs in self.logs_of.values()):
            return spec
        bindings = tuple(
            replace(binding, queue=log)
            for binding in spec.bindings
            for log in self.logs_of.get(binding.queue, [binding.queue])
        )
        return replace(spec, bindings=bindings)

    def _follow_ups(self, pool: str, spec: ThenSpec) -> FollowUps:
        """A pool's ``then``: the publisher of its follow-up messages."""
        retry = spec.retry if spec.on_reject == "retry" else None
        probability = spec.probability
        return FollowUps(
            self.env, pool, self.records.producers.code(pool), self.work,
            None if retry is None else (retry.attempts, retry.backoff),
            routing_key_function(spec.routing_key, self.records, pool),
            self.routes[spec.publish], self.records, self.budget,
            None if probability >= 1 else sampler(_UNIFORM, self.seed, f"workers.{pool}.then"),
            probability,
        )

    def start(self) -> None:
        for pool in self.pools.values():
            pool.start()
        # Every instance counts as active before any starts: one whose arrivals never come must
        # not end publishing for the others.
        self.budget.active = len(self.producers)
        for producer in self.producers:
            producer.start()
        self.faults.start()

    def audit(self, drained: bool = False) -> list[str]:
        """Internal bookkeeping that must agree with itself (the tests check it every run).

        ``drained``: the run ended by draining, so no work may be left in progress."""
        problems = []
        state, queue = self.records.view("state"), self.records.view("queue")
        tracked = [q.code for q in self.queues.values() if q.work is self.work]
        open_copies = int(np.count_nonzero(np.isin(queue, tracked) & (state == PENDING)))
        if self.work.count < open_copies:
            problems.append(f"work in progress {self.work.count} < {open_copies} open copies")
        if drained and self.work.count:
            problems.append(f"drained with {self.work.count} pieces of work in progress")
        for q in self.queues.values():
            problems += q.audit()
        for pool in self.pools.values():
            problems += pool.audit()
        return problems

    def on_publishing_end(self, callback: Callable[[], None]) -> None:
        self._on_publishing_end.append(callback)

    def end_publishing(self) -> None:
        """No more publishes: stop every producer and tell whoever waits for it."""
        if not self.publishing:
            return
        self.publishing = False
        self.publish_end = self.env.now
        for producer in self.producers:
            producer.stop()
        for callback in self._on_publishing_end:
            callback()
        self.work.publishing_ended()


def _headers(spec: Mapping[str, GeneratorSpec], seed: int,
             producer: str) -> Callable[[], dict[str, Any]]:
    """A generator of a message's headers: one value stream per header."""
    makers = [
        (name, values.make(gen, stream(seed, f"producers.{producer}.message.headers.{name}")).next)
        for name, gen in spec.items()
    ]
    return lambda: {name: make() for name, make in makers}


def _latencies(spec: QueueSpec, seed: int, queue: str) -> Latencies:
    """A queue's latencies, each from its own stream (``queues.NAME.deliver_latency``...)."""
    def draw(dist: DistSpec, key: str) -> Sampler | None:
        return sampler(dist, seed, f"queues.{queue}.{key}")

    return Latencies(draw(spec.deliver_latency, "deliver_latency"),
                     draw(spec.api_latency, "api_latency"),
                     draw(spec.notify_latency, "notify_latency"),
                     draw(spec.disconnect_latency, "disconnect_latency"))


def _zero() -> float:
    return 0.0


_UNIFORM = {"dist": "uniform", "low": 0.0, "high": 1.0}
