"""``workers``: consumer pools, their service times, acknowledgement mode and failures."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from sim.presets import AUTOSCALE_DEFAULTS
from sim.random import distributions
from sim.scenario.checks import (
    INVALID,
    REQUIRED,
    Ctx,
    boolean,
    duration,
    nullable,
    number,
    one_of,
    show,
    suggest,
    text,
    whole,
)
from sim.scenario.dist_specs import constant, distribution
from sim.scenario.errors import Path
from sim.scenario.names import Names, reference
from sim.scenario.not_yet import refuse
from sim.scenario.producers import routing_key_template
from sim.scenario.sections import each

WORKER_KEYS = [
    "consumes",
    "count",
    "concurrency",
    "prefetch",
    "ack",
    "ack_latency",
    "service_time",
    "service_time_by_type",
    "service_on_repeat",
    "error_rate",
    "retry",
    "idempotent",
    "then",
    "batch",
    "autoscale",
]
ACK_MODES = ("after_processing", "on_start", "on_delivery")
# idempotent: false (no dedupe), "at_start" (a dedupe check when processing begins: a copy
# processed before is acknowledged without running again; `true` means the same), or
# "at_commit" (the effect is committed under a unique constraint that refuses the second one).
IDEMPOTENCE = ("at_start", "at_commit")
# service_on_repeat: how long a repeated processing of a copy takes (a redelivery, a requeue,
# a Kafka reprocessing): "same", the length drawn at its first processing (the job is a
# property of the message), or "fresh", a new draw per processing (a job whose length is
# mostly the moment's luck: a contended lock, a cold cache).
REPEAT_SERVICE = ("same", "fresh")
# Keys that only mean something for a pool consuming a queue (not for one serving calls).
CONSUMER_ONLY = ("prefetch", "ack", "ack_latency", "retry", "idempotent", "batch",
                 "service_on_repeat")
DEFAULT_RETRY = {"requeue": True, "delay": 0.0}  # a failed message is requeued at once


def _by_type(ctx: Ctx, value: Any, path: Path) -> Any:
    given = ctx.mapping(value, path, None, "a mapping of message type: service time")
    if given is INVALID:
        return INVALID
    out = {key: distribution(ctx, dist, (*path, key)) for key, dist in given.items()}
    return INVALID if any(v is INVALID for v in out.values()) else out


def idempotence(ctx: Ctx, value: Any, path: Path) -> Any:
    """Checker: false, true (= "at_start"), "at_start" or "at_commit"; resolved to false,
    "at_start" or "at_commit"."""
    if value is False:
        return False
    if value is True:
        return "at_start"
    if isinstance(value, str) and value in IDEMPOTENCE:
        return value
    hint = suggest(value, IDEMPOTENCE) if isinstance(value, str) else ""
    return ctx.error(
        path,
        "must be false, at_start (a dedupe check when processing begins; true means the same) "
        f"or at_commit (a unique constraint refuses the second effect), got {show(value)}{hint}",
    )


def _settings(ctx: Ctx, value: Any, path: Path, fields: dict[str, tuple[Any, Any]]) -> Any:
    """A small mapping of fields, each ``key: (checker, default)``."""
    given = ctx.mapping(value, path, list(fields))
    if given is INVALID:
        return INVALID
    out = {  # (a default is copied: pools must not share one mutable value)
        k: ctx.field(given, path, k, check, copy.deepcopy(default))
        for k, (check, default) in fields.items()
    }
    return INVALID if any(v is INVALID for v in out.values()) else out


def resolve_workers(
    ctx: Ctx, top: dict[Any, Any], names: Names, queues: dict[str, Any]
) -> dict[str, Any]:
    """Every worker pool; ``queues`` (resolved) give the default prefetch of their consumers."""
    positive_time = duration(0.0, exclusive=True)
    retry = {"requeue": (boolean, True), "delay": (duration(0.0), 0.0)}
    producer_retry = {"attempts": (whole(1), 3), "backoff": (duration(0.0), 0.1)}
    features = {
        "then": {
            "publish": (reference(names, "queues", "exchanges"), REQUIRED),
            "probability": (number(0.0, 1.0), 1.0),
            "routing_key": (nullable(text), None),
            "on_reject": (one_of("fail", "retry"), "fail"),
            "retry": (_mapping_of(producer_retry), {"attempts": 3, "backoff": 0.1}),
        },
        "batch": {"every": (positive_time, REQUIRED), "max": (nullable(whole(1)), None)},
        "autoscale": {  # KEDA-style (docs/presets.md)
            "min": (whole(0), AUTOSCALE_DEFAULTS["min"]),
            "max": (whole(1), REQUIRED),
            "target_backlog": (number(0.0, exclusive=True), REQUIRED),
            "interval": (positive_time, AUTOSCALE_DEFAULTS["interval"]),
            "startup": (duration(0.0), AUTOSCALE_DEFAULTS["startup"]),
            "cooldown": (duration(0.0), AUTOSCALE_DEFAULTS["cooldown"]),
        },
    }

    def pool(ctx: Ctx, name: str, given: dict[Any, Any], path: Path) -> Any:
        consumes = ctx.field(given, path, "consumes", reference(names, "queues"), None)
        concurrency = ctx.field(given, path, "concurrency", whole(1), 1)
        # Celery on Redis reserves prefetch_multiplier x concurrency; others hold concurrency.
        queue = queues.get(consumes) if isinstance(consumes, str) else None
        multiplier = queue.get("prefetch_multiplier") if queue else None
        per_slot = multiplier if isinstance(multiplier, int) else 1
        default = concurrency * per_slot if concurrency is not INVALID else 1
        prefetch = ctx.field(given, path, "prefetch", whole(1), default)
        if prefetch is not INVALID and concurrency is not INVALID and prefetch < concurrency:
            prefetch = ctx.error(
                (*path, "prefetch"),
                f"must be >= concurrency ({concurrency}): a worker holds the messages it "
                f"processes, got {prefetch}",
            )
        out = {
            "consumes": consumes,
            "count": ctx.field(given, path, "count", whole(1), 1),
            "concurrency": concurrency,
            "prefetch": prefetch,
            "ack": ctx.field(given, path, "ack", one_of(*ACK_MODES), "after_processing"),
            "ack_latency": ctx.field(given, path, "ack_latency", distribution, constant(0.0)),
            "service_time": ctx.field(given, path, "service_time", distribution),
            "service_time_by_type": ctx.field(given, path, "service_time_by_type", _by_type, {}),
            "service_on_repeat": ctx.field(given, path, "service_on_repeat",
                                           one_of(*REPEAT_SERVICE), "same"),
            "error_rate": ctx.field(given, path, "error_rate", number(0.0, 1.0), 0.0),
            "retry": ctx.field(given, path, "retry", _mapping_of(retry), dict(DEFAULT_RETRY)),
            "idempotent": ctx.field(given, path, "idempotent", idempotence, False),
        }
        extra = {
            key: ctx.field(given, path, key, _mapping_of(fields), None)
            for key, fields in features.items()
        }
        then = extra["then"]
        if then not in (None, INVALID) and then["routing_key"] is not None:
            then["routing_key"] = routing_key_template(
                ctx, then["routing_key"], (*path, "then", "routing_key"))
        if consumes is None:
            for key in CONSUMER_ONLY:
                if key in given:
                    ctx.error((*path, key), f"{key} is for a pool that consumes a queue; this "
                              "pool has no consumes, so it serves synchronous calls")
        out["then"] = then
        out["batch"] = extra["batch"]
        out["autoscale"] = _autoscale(ctx, extra["autoscale"], out, given, path)
        if queue is not None and "partitions" in queue:
            _consumer_group(ctx, out, given, path)
        refuse(ctx, "workers", given, out, path)
        if any(v is INVALID for v in out.values()):
            return INVALID
        if _loops_without_time(out, queue):
            ctx.error(
                (*path, "error_rate"),
                f"every processing fails at once (error_rate: 1, no service time) and is "
                f"requeued at once (retry.delay: 0) with no max_deliveries on queue "
                f"{consumes}: the copies would loop forever without the clock moving; give "
                f"the pool a service_time, a retry.delay, or the queue a max_deliveries",
            )
            return INVALID
        return out

    return each(ctx, top, "workers", names, WORKER_KEYS, pool)


def _autoscale(ctx: Ctx, scale: Any, pool: dict[str, Any], given: Mapping[Any, Any],
               path: Path) -> Any:
    """``autoscale``: min <= count <= max, on a pool that consumes a queue continuously."""
    if scale in (None, INVALID):
        return scale
    where = (*path, "autoscale")
    if scale["min"] > scale["max"]:
        return ctx.error((*where, "min"), f"must be <= max ({scale['max']}), got {scale['min']}")
    if pool["consumes"] is None or pool["batch"] is not None:
        return ctx.error(where, "autoscale is for a pool that consumes a queue continuously "
                         "(not one serving calls, nor a batch job)")
    count = pool["count"]
    if count is not INVALID and not scale["min"] <= count <= scale["max"]:
        if "count" in given:
            return ctx.error((*path, "count"), f"the starting count must be within autoscale "
                             f"[min, max] = [{scale['min']}, {scale['max']}], got {count}")
        pool["count"] = max(scale["min"], 1) if scale["min"] <= 1 else scale["min"]
    return scale


def _consumer_group(ctx: Ctx, pool: dict[str, Any], given: Mapping[Any, Any],
                    path: Path) -> None:
    """A pool on a kafka topic is a consumer group: its consumers poll, process one record
    at a time and commit offsets; the queue-consumer keys do not apply."""
    for key in ("prefetch", "ack", "ack_latency", "retry", "batch"):
        if key in given:
            ctx.error((*path, key), f"{key} does not apply to a kafka consumer group (it commits "
                      "offsets: see the topic's commit and commit_interval)")
    if pool["concurrency"] not in (1, INVALID):
        ctx.error((*path, "concurrency"), "a kafka consumer processes its records one at a "
                  "time, in order: for more parallelism add consumers (count) and partitions")
    if pool["error_rate"] not in (0, 0.0, INVALID):
        ctx.error((*path, "error_rate"), "failed processing on a kafka consumer group is not "
                  "supported yet (there is no nack on a log)")


def retries_forever(pool: Mapping[str, Any], queue: Mapping[str, Any] | None) -> bool:
    """Whether a pool's copies would be retried without end: every processing fails and goes
    back to a queue that never gives up on it (no ``max_deliveries``)."""
    return (
        pool["error_rate"] >= 1
        and pool["retry"]["requeue"]
        and queue is not None
        and queue.get("max_deliveries") is None
    )


def _loops_without_time(pool: dict[str, Any], queue: dict[str, Any] | None) -> bool:
    """Whether a pool's failures would requeue copies forever at one instant: they retry
    forever (see retries_forever), at once, and every processing takes no time."""
    if not retries_forever(pool, queue) or pool["retry"]["delay"] > 0:
        return False
    services = [pool["service_time"], *pool["service_time_by_type"].values()]
    return all(
        (dist := distributions.make(spec)).is_constant and dist.mean == 0 for spec in services
    )


def pipeline_cycles(data: Mapping[str, Any]) -> list[tuple[str, list[str]]]:
    """The pipeline loops every message surely goes round: follow-ups with probability 1,
    through a queue or a fanout exchange, pool after pool, back to the queue they started
    from. One ``(queue, pools)`` per loop, starting at the queue written first."""
    sure: dict[str, list[tuple[str, str]]] = {}  # queue -> [(next queue, pool)]
    for name, pool in data["workers"].items():
        then, queue = pool.get("then"), pool["consumes"]
        if not then or queue is None or then["probability"] < 1:
            continue
        exchange = data.get("exchanges", {}).get(then["publish"])
        if exchange is None:
            reached = [then["publish"]]
        elif exchange["type"] == "fanout":
            reached = [b["queue"] for b in exchange["bindings"]]
        else:
            continue  # a key, headers or code decide: not surely
        sure.setdefault(queue, []).extend((r, name) for r in reached)
    out = []
    for start in sure:
        path: list[str] = []
        stack: list[tuple[str, list[str]]] = [(start, [])]
        seen: set[str] = set()
        while stack:
            queue, pools = stack.pop()
            for onward, pool in sure.get(queue, []):
                if onward == start:
                    path = [*pools, pool]
                    break
                if onward not in seen:
                    seen.add(onward)
                    stack.append((onward, [*pools, pool]))
            if path:
                break
        queues = {data["workers"][p]["consumes"] for p in path}
        if path and start == min(q for q in sure if q in queues):
            out.append((start, path))
    return out


def _instant(spec: Mapping[str, Any] | None) -> bool:
    """Whether a latency distribution (absent: none) is always zero."""
    if spec is None:
        return True
    dist = distributions.make(spec)
    return dist.is_constant and dist.mean == 0


def takes_no_time(data: Mapping[str, Any], pools: list[str]) -> bool:
    """Whether a message goes round these pipeline stages without the clock moving: every
    stage processes in no time and never fails, and its queue's broker publishes and delivers
    instantly (no latency, no capacity, no receive latency on a pull queue)."""
    for name in pools:
        pool = data["workers"][name]
        services = [pool["service_time"], *pool["service_time_by_type"].values()]
        if pool.get("batch") or pool["error_rate"] > 0 or not all(map(_instant, services)):
            return False
        queue = data["queues"][pool["consumes"]]
        broker = data["brokers"][queue["broker"]]
        if broker.get("capacity") is not None or not all(
            _instant(spec) for spec in (broker.get("publish_latency"),
                                        broker.get("deliver_latency"))):
            return False
        if queue.get("delivery") == "pull" and not _instant(queue.get("api_latency")):
            return False
    return True


def refuse_instant_pipeline_loops(ctx: Ctx, data: Mapping[str, Any]) -> None:
    """A pipeline loop that takes no time would publish follow-ups for ever at one instant
    (the clock never reaches the end of the run): refused, as a zero-time failure loop is."""
    for start, path in pipeline_cycles(data):
        if takes_no_time(data, path):
            chain = " -> ".join(path)
            ctx.error(
                ("workers", path[0], "then"),
                f"every message processed from queue {start} comes back to it at once "
                f"(follow-ups with probability 1 through {chain}, each stage with no "
                "service time and no publish or delivery latency): the messages would go "
                "round forever without the clock moving; give a stage a service_time or "
                "a then.probability below 1",
            )


def _mapping_of(fields: dict[str, tuple[Any, Any]]) -> Any:
    """Checker for a small mapping of ``fields`` (retry, and the ``later`` features)."""

    def check(ctx: Ctx, value: Any, path: Path) -> Any:
        return _settings(ctx, value, path, fields)

    return check
