"""Parts of the format that are specified but not implemented yet: the one table to shrink.

Each is accepted by the schema (so it is not reported as an unknown key), its value is checked
like any other, and then it is refused with a message naming the YAML path, e.g.
``queues.orders.ttl: message expiry (ttl) is not supported yet``. When the model learns a
feature, delete its line here (and give the key its resolved default in the section module).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sim.scenario.checks import INVALID, Checker, Ctx, boolean, duration, one_of, whole
from sim.scenario.errors import Path

# Every broker type of §5, and the ones the model implements.
BROKER_TYPES = ("ideal", "rabbitmq", "sqs", "sqs-fifo", "kafka", "postgres", "redis", "in-process")
SUPPORTED_BROKER_TYPES = ("ideal",)


@dataclass(frozen=True)
class NotYet:
    """``what`` is refused when ``when(resolved value)`` holds (with ``if_absent``, also when
    the key is absent); ``hint`` says what to do instead."""

    what: str
    when: Callable[[Any], bool] = lambda value: value is not None
    if_absent: bool = False
    hint: str = ""


def _true(value: Any) -> bool:
    return value is True


NOT_YET: dict[str, dict[str, NotYet]] = {
    "top": {
        "exchanges": NotYet(
            "routing through exchanges (exchanges:)", bool, hint="publish to queues directly"
        ),
        "faults": NotYet("fault injection (faults:)", bool),
    },
    "producers": {
        "call": NotYet("a synchronous call to a worker pool (call:)"),
        "timeout": NotYet("a call timeout (timeout:)"),
        "routing_key": NotYet("a routing key (routing_key:)"),
        "on_reject": NotYet("retrying rejected publishes (on_reject: retry)", "retry".__eq__),
        # The default policy is what the resolved scenario shows, so it must load again.
        "retry": NotYet(
            "a retry policy for rejected publishes (retry:)",
            lambda v: v != {"attempts": 3, "backoff": 0.1},
        ),
    },
    "brokers": {
        "capacity": NotYet("a broker capacity (capacity:)"),
        "durable": NotYet("a non-durable broker (durable: false)", lambda v: v is False),
    },
    "queues": {
        "ttl": NotYet("message expiry (ttl:)"),
        "max_deliveries": NotYet("a delivery limit (max_deliveries:)"),
        "priority": NotYet("a priority queue (priority: true)", _true),
        "ordering": NotYet("per-key ordering (ordering: per-key)", "per-key".__eq__),
        "partitions": NotYet("partitioning (partitions:)"),
        # Broker keys set per queue: the resolved queue has no place for them yet.
        "publish_latency": NotYet("a per-queue publish_latency", hint="set it on the broker"),
        "deliver_latency": NotYet("a per-queue deliver_latency", hint="set it on the broker"),
        "capacity": NotYet("a per-queue capacity", hint="set it on the broker"),
        "durable": NotYet("a per-queue durable", hint="set it on the broker"),
    },
    "workers": {
        "consumes": NotYet(
            "a worker pool without consumes (serving synchronous calls)",
            lambda v: v is None,
            if_absent=True,
        ),
        "error_rate": NotYet("processing failures (error_rate > 0)", lambda v: v > 0),
        "retry": NotYet("a retry policy for failed messages (retry:)"),
        "idempotent": NotYet("idempotent processing (idempotent: true)", _true),
        "then": NotYet("a follow-up publish (then:)"),
        "batch": NotYet("a batch job (batch:)"),
        "autoscale": NotYet("autoscaling (autoscale:)"),
    },
}

# The keys of the broker presets of §5 (on a broker, or per queue), with the check of their
# values; none is supported yet.
PRESET_KEYS: dict[str, Checker] = {
    "heartbeat": duration(0.0, exclusive=True),
    "visibility_timeout": duration(0.0, exclusive=True),
    "batch_size": whole(1),
    "wait_time": duration(0.0),
    "dedup_window": duration(0.0, exclusive=True),
    "session_timeout": duration(0.0, exclusive=True),
    "commit": one_of("auto", "after_processing"),
    "commit_interval": duration(0.0, exclusive=True),
    "poll_interval": duration(0.0, exclusive=True),
    "notify": boolean,
    "claim": one_of("lease", "transaction"),
    "lock_timeout": duration(0.0, exclusive=True),
    "prefetch_multiplier": whole(1),
    "restore_interval": duration(0.0, exclusive=True),
    "reject_on_worker_lost": boolean,
}
for _section in ("brokers", "queues"):
    for _key in PRESET_KEYS:
        NOT_YET[_section][_key] = NotYet(f"the broker setting {_key!r}")


def refuse(
    ctx: Ctx, section: str, given: Mapping[Any, Any], resolved: Mapping[str, Any], path: Path
) -> None:
    """Report each not-yet-supported feature used in one component of ``section``."""
    for key, rule in NOT_YET[section].items():
        if key not in given and not rule.if_absent:
            continue
        value = resolved.get(key, given.get(key))
        if value is INVALID:
            continue  # its own problem is already reported
        if rule.when(value):
            hint = f" ({rule.hint})" if rule.hint else ""
            ctx.error((*path, key), f"{rule.what} is not supported yet{hint}")
