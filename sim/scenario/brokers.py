"""``brokers`` and ``queues``: presets of defaults, per-queue settings, references.

A broker's keys come from its type's preset (`sim.presets`) unless set on the broker; a queue's
mechanism keys from its broker unless set on the queue. Latencies, capacity and durability are
broker-level only.
"""

from __future__ import annotations

import copy
from typing import Any

from sim.presets import (
    BROKER_ONLY_KEYS,
    KAFKA_DEFAULTS,
    KAFKA_QUEUE_DEFAULTS,
    MECHANISM_KEYS,
    QUEUE_DEFAULTS,
)
from sim.scenario.checks import (
    INVALID,
    Ctx,
    boolean,
    duration,
    nullable,
    one_of,
    show,
    suggest,
    whole,
)
from sim.scenario.errors import Path
from sim.scenario.mechanisms import broker_settings, check_rules, mechanisms, preset
from sim.scenario.names import Names, reference
from sim.scenario.not_yet import BROKER_TYPES, LATER_BROKER_KEYS, SUPPORTED_BROKER_TYPES, refuse
from sim.scenario.sections import each

DEFAULT_BROKER = "default"

# Kafka's consumer-group keys (docs/presets.md): on kafka brokers and topics only.
KAFKA_CHECKERS: dict[str, Any] = {
    "session_timeout": duration(0.0, exclusive=True),
    "commit": one_of("auto", "after_processing"),
    "commit_interval": duration(0.0, exclusive=True),
    "max_poll_records": whole(1),
    "max_poll_interval": duration(0.0, exclusive=True),
    "assignment": one_of("range", "cooperative-sticky"),
    "rebalance_time": duration(0.0),
}
# Queue keys a kafka topic has no use for (a log keeps everything, in order, per partition).
NOT_ON_A_TOPIC = ("max_length", "overflow", "ttl", "max_deliveries", "dead_letter", "priority",
                  "ordering")
BROKER_KEYS = ["type", *BROKER_ONLY_KEYS, *MECHANISM_KEYS, *KAFKA_CHECKERS, *LATER_BROKER_KEYS]
QUEUE_KEYS = [
    "broker",
    "max_length",
    "overflow",
    "ttl",
    "max_deliveries",
    "dead_letter",
    "priority",
    "ordering",
    "partitions",
    *BROKER_ONLY_KEYS,
    *MECHANISM_KEYS,
    *KAFKA_CHECKERS,
    *LATER_BROKER_KEYS,
]
_MECHANISMS_SHOWN = "a broker mechanism key such as delivery, redelivery or visibility_timeout"
OVERFLOW = ("reject-publish", "drop-head", "block")
ORDERING = ("fifo", "per-key")


def broker_type(ctx: Ctx, value: Any, path: Path) -> Any:
    """Checker: a known broker type the model implements."""
    if value in SUPPORTED_BROKER_TYPES:
        return value
    if value in BROKER_TYPES:
        supported = ", ".join(SUPPORTED_BROKER_TYPES)
        return ctx.error(
            path, f"broker type {value!r} is not supported yet (supported: {supported})"
        )
    return ctx.error(
        path,
        f"unknown broker type {show(value)}{suggest(value, BROKER_TYPES)} "
        f"(known: {', '.join(BROKER_TYPES)})",
    )


def _later(ctx: Ctx, given: dict[Any, Any], path: Path) -> dict[str, Any]:
    """The not-yet-supported broker keys' values, checked (they are refused later)."""
    return {
        key: check(ctx, given[key], (*path, key))
        for key, check in LATER_BROKER_KEYS.items()
        if key in given
    }


def _kafka(ctx: Ctx, given: dict[Any, Any], path: Path, kind: str | None,
           base: dict[str, Any], keys: dict[str, Any]) -> dict[str, Any]:
    """Kafka's keys: resolved from ``base`` on a kafka broker or topic, refused elsewhere."""
    if kind == "kafka":
        return {
            key: ctx.field(given, path, key, check, copy.deepcopy(base[key]))
            for key, check in keys.items()
        }
    for key in keys:
        if key in given:
            where = "this queue's broker" if path[0] == "queues" else "this broker"
            ctx.error((*path, key), f"{key} is a kafka setting; {where} is {kind or 'ideal'}")
    return {}


def _broker(ctx: Ctx, name: str, given: dict[Any, Any], path: Path) -> Any:
    kind = ctx.field(given, path, "type", broker_type, "ideal")
    valid_kind = kind if kind is not INVALID else None
    base = preset(valid_kind or "ideal")  # an unsupported type: still check the rest
    out = {
        "type": kind,
        **broker_settings(ctx, given, path, base),
        **mechanisms(ctx, given, path, base, valid_kind),
        **_kafka(ctx, given, path, valid_kind, KAFKA_DEFAULTS, KAFKA_CHECKERS),
    }
    refuse(ctx, "brokers", given, {**out, **_later(ctx, given, path)}, path)
    if valid_kind is not None:
        check_rules(ctx, out, path)
    return INVALID if any(v is INVALID for v in out.values()) else out


def resolve_brokers(ctx: Ctx, top: dict[Any, Any], names: Names) -> dict[str, Any]:
    """Every broker; with none given, one ``ideal`` broker (named ``default`` if that is free)."""
    shown = ", ".join(["type", *BROKER_ONLY_KEYS]) + ", or " + _MECHANISMS_SHOWN
    brokers = each(ctx, top, "brokers", names, BROKER_KEYS, _broker, shown)
    if top.get("brokers") not in (None, {}):
        return brokers
    name = DEFAULT_BROKER
    while name in names.section_of:  # a component named "default" must not clash with it
        name = f"{DEFAULT_BROKER}-broker" if name == DEFAULT_BROKER else name + "-"
    names.add(name, "brokers")
    return {name: {"type": "ideal", **preset("ideal")}}


def _declared_type(top: dict[Any, Any], broker: Any) -> str | None:
    """The type a broker was given, if the broker itself is invalid (for its queues' checks)."""
    declared = top.get("brokers")
    config = declared.get(broker) if isinstance(declared, dict) else None
    kind = config.get("type", "ideal") if isinstance(config, dict) else None
    return kind if kind in QUEUE_DEFAULTS else None


def resolve_queues(
    ctx: Ctx, top: dict[Any, Any], names: Names, brokers: dict[str, Any]
) -> dict[str, Any]:
    """Every queue, with its broker's keys inherited and its dead-letter queue checked."""
    declared = top.get("brokers")
    if isinstance(declared, dict) and declared:  # even those with bad names: they were meant
        all_brokers = [str(n) for n in declared]
    else:
        all_brokers = names.in_sections("brokers")
    only = all_brokers[0] if len(all_brokers) == 1 else None

    def queue(ctx: Ctx, name: str, given: dict[Any, Any], path: Path) -> Any:
        if only is None and "broker" not in given:
            broker = ctx.error(
                (*path, "broker"),
                f"missing: there are several brokers ({', '.join(all_brokers)}), say which one",
            )
        else:
            broker = ctx.field(given, path, "broker", reference(names, "brokers"), only)
        resolved_broker = brokers.get(broker) if isinstance(broker, str) else None
        if resolved_broker is not None:
            kind: str | None = resolved_broker["type"]
            base = resolved_broker
        else:  # the broker is invalid (reported there): check this queue's own values anyway
            kind = _declared_type(top, broker)
            base = preset(kind or "ideal")
        queue_name = nullable(reference(names, "queues"))
        dead_letter = ctx.field(given, path, "dead_letter", queue_name, None)
        if dead_letter == name:
            dead_letter = ctx.error((*path, "dead_letter"), "a queue cannot dead-letter to itself")
        ordering = QUEUE_DEFAULTS[kind or "ideal"]["ordering"]
        out = {
            "broker": broker,
            "max_length": ctx.field(given, path, "max_length", nullable(whole(0)), None),
            "overflow": ctx.field(given, path, "overflow", one_of(*OVERFLOW), "reject-publish"),
            "ttl": ctx.field(given, path, "ttl", nullable(duration(0.0, exclusive=True)), None),
            "max_deliveries": ctx.field(given, path, "max_deliveries", nullable(whole(1)), None),
            "dead_letter": dead_letter,
            "priority": ctx.field(given, path, "priority", boolean, False),
            "ordering": ctx.field(given, path, "ordering", one_of(*ORDERING), ordering),
            **mechanisms(ctx, given, path, base, kind),
        }
        overflow = out["overflow"]
        if overflow in ("block", "drop-head") and out["max_length"] is None:
            # Without a bound the queue is never full: the policy would silently do nothing.
            out["overflow"] = ctx.error(
                (*path, "overflow"),
                f"overflow: {overflow} needs max_length (how many ready copies make the queue "
                "full); without it the queue is never full and the policy does nothing",
            )
        if kind == "kafka":
            out.update(_kafka(ctx, given, path, kind, {**KAFKA_DEFAULTS, **base},
                              KAFKA_CHECKERS))
            out.update(_kafka(ctx, given, path, kind, KAFKA_QUEUE_DEFAULTS,
                              {"partitions": whole(1)}))
            for key in NOT_ON_A_TOPIC:
                if key in given:
                    ctx.error((*path, key), f"{key} does not apply to a kafka topic (a log "
                              "keeps every record, in order within its partition)")
        else:
            _kafka(ctx, given, path, kind, {}, {**KAFKA_CHECKERS, "partitions": whole(1)})
        # Refused below, but checked first so their typos show too.
        extra: dict[str, Any] = {}
        per_queue = broker_settings(ctx, given, path, base)
        extra.update({k: v for k, v in per_queue.items() if k in given})
        extra.update(_later(ctx, given, path))
        refuse(ctx, "queues", given, {**out, **extra}, path)
        if resolved_broker is not None and any(key in given for key in MECHANISM_KEYS):
            check_rules(ctx, out, path)  # the broker's own values were checked on the broker
        return INVALID if any(v is INVALID for v in out.values()) else out

    shown = ", ".join(QUEUE_KEYS[:9]) + ", or " + _MECHANISMS_SHOWN
    return each(ctx, top, "queues", names, QUEUE_KEYS, queue, shown)
