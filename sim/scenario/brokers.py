"""``brokers`` (§5) and ``queues`` (§6): presets of defaults, per-queue settings, references."""

from __future__ import annotations

from typing import Any

from sim.scenario.checks import (
    INVALID,
    Ctx,
    boolean,
    duration,
    nullable,
    one_of,
    rate,
    show,
    suggest,
    whole,
)
from sim.scenario.dist_specs import constant, distribution
from sim.scenario.errors import Path
from sim.scenario.names import Names, reference
from sim.scenario.not_yet import BROKER_TYPES, PRESET_KEYS, SUPPORTED_BROKER_TYPES, refuse
from sim.scenario.sections import each

# Defaults each broker type gives its brokers (and their queues); user keys override them.
PRESETS: dict[str, dict[str, Any]] = {
    "ideal": {"publish_latency": 0.0, "deliver_latency": 0.0, "capacity": None, "durable": True},
}
DEFAULT_BROKER = "default"

BROKER_KEYS = ["type", "publish_latency", "deliver_latency", "capacity", "durable", *PRESET_KEYS]
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
    "publish_latency",
    "deliver_latency",
    "capacity",
    "durable",
    *PRESET_KEYS,
]
_PRESETS_SHOWN = "broker preset keys such as heartbeat or visibility_timeout"
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


def _presets(ctx: Ctx, given: dict[Any, Any], path: Path) -> dict[str, Any]:
    """The preset keys' values, checked (they are refused later, but typos show now)."""
    return {
        key: check(ctx, given[key], (*path, key))
        for key, check in PRESET_KEYS.items()
        if key in given
    }


def _broker_settings(ctx: Ctx, given: dict[Any, Any], path: Path, preset: dict[str, Any]) -> Any:
    return {
        "publish_latency": ctx.field(
            given, path, "publish_latency", distribution, constant(preset["publish_latency"])
        ),
        "deliver_latency": ctx.field(
            given, path, "deliver_latency", distribution, constant(preset["deliver_latency"])
        ),
        "capacity": ctx.field(
            given, path, "capacity", nullable(rate(0.0, exclusive=True)), preset["capacity"]
        ),
        "durable": ctx.field(given, path, "durable", boolean, preset["durable"]),
    }


def _broker(ctx: Ctx, name: str, given: dict[Any, Any], path: Path) -> Any:
    kind = ctx.field(given, path, "type", broker_type, "ideal")
    preset = PRESETS.get(kind, PRESETS["ideal"])  # an unsupported type: still check the rest
    out = {"type": kind, **_broker_settings(ctx, given, path, preset)}
    presets = _presets(ctx, given, path)
    refuse(ctx, "brokers", given, {**out, **presets}, path)
    return INVALID if any(v is INVALID for v in out.values()) else out


def resolve_brokers(ctx: Ctx, top: dict[Any, Any], names: Names) -> dict[str, Any]:
    """Every broker; with none given, one ``ideal`` broker (named ``default`` if that is free)."""
    shown = ", ".join(k for k in BROKER_KEYS if k not in PRESET_KEYS) + ", " + _PRESETS_SHOWN
    brokers = each(ctx, top, "brokers", names, BROKER_KEYS, _broker, shown)
    if top.get("brokers") not in (None, {}):
        return brokers
    name = DEFAULT_BROKER
    while name in names.section_of:  # a component named "default" must not clash with it
        name = f"{DEFAULT_BROKER}-broker" if name == DEFAULT_BROKER else name + "-"
    names.add(name, "brokers")
    preset = PRESETS["ideal"]
    return {name: {"type": "ideal", **_broker_settings(Ctx(), {}, (), preset)}}


def resolve_queues(ctx: Ctx, top: dict[Any, Any], names: Names) -> dict[str, Any]:
    """Every queue, with its broker resolved and its dead-letter queue checked."""
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
        queue_name = nullable(reference(names, "queues"))
        dead_letter = ctx.field(given, path, "dead_letter", queue_name, None)
        if dead_letter == name:
            dead_letter = ctx.error((*path, "dead_letter"), "a queue cannot dead-letter to itself")
        out = {
            "broker": broker,
            "max_length": ctx.field(given, path, "max_length", nullable(whole(0)), None),
            "overflow": ctx.field(given, path, "overflow", one_of(*OVERFLOW), "reject-publish"),
            "ttl": ctx.field(given, path, "ttl", nullable(duration(0.0, exclusive=True)), None),
            "max_deliveries": ctx.field(given, path, "max_deliveries", nullable(whole(1)), None),
            "dead_letter": dead_letter,
            "priority": ctx.field(given, path, "priority", boolean, False),
            "ordering": ctx.field(given, path, "ordering", one_of(*ORDERING), "fifo"),
        }
        extra = {"partitions": ctx.field(given, path, "partitions", whole(1), None)}
        preset = PRESETS["ideal"]
        per_queue = _broker_settings(ctx, {k: given[k] for k in preset if k in given}, path, preset)
        extra.update({k: v for k, v in per_queue.items() if k in given})
        extra.update(_presets(ctx, given, path))
        refuse(ctx, "queues", given, {**out, **extra}, path)
        return INVALID if any(v is INVALID for v in out.values()) else out

    shown = ", ".join(k for k in QUEUE_KEYS if k not in PRESET_KEYS) + ", " + _PRESETS_SHOWN
    return each(ctx, top, "queues", names, QUEUE_KEYS, queue, shown)
