"""``producers``: arrivals, message fields, where messages go, and what a reject does."""

from __future__ import annotations

from typing import Any

from sim.scenario.arrival_specs import arrivals
from sim.scenario.checks import INVALID, Ctx, duration, nullable, one_of, text, whole
from sim.scenario.errors import Path
from sim.scenario.generator_specs import message
from sim.scenario.names import Names, reference
from sim.scenario.not_yet import refuse
from sim.scenario.sections import each

PRODUCER_KEYS = [
    "count",
    "arrivals",
    "message",
    "publish",
    "call",
    "routing_key",
    "on_reject",
    "retry",
    "timeout",
]
DEFAULT_RETRY = {"attempts": 3, "backoff": 0.1}


def retry_policy(ctx: Ctx, value: Any, path: Path) -> Any:
    """Checker: ``{attempts, backoff}``, missing keys taking the defaults."""
    given = ctx.mapping(value, path, list(DEFAULT_RETRY))
    if given is INVALID:
        return INVALID
    out = {
        "attempts": ctx.field(given, path, "attempts", whole(1), DEFAULT_RETRY["attempts"]),
        "backoff": ctx.field(given, path, "backoff", duration(0.0), DEFAULT_RETRY["backoff"]),
    }
    return INVALID if INVALID in out.values() else out


def resolve_producers(ctx: Ctx, top: dict[Any, Any], names: Names) -> dict[str, Any]:
    """Every producer; at least one is required."""

    def producer(ctx: Ctx, name: str, given: dict[Any, Any], path: Path) -> Any:
        publish = ctx.field(
            given, path, "publish", nullable(reference(names, "queues", "exchanges")), None
        )
        call = ctx.field(given, path, "call", nullable(reference(names, "workers")), None)
        if given.get("publish") is None and given.get("call") is None:
            publish = ctx.error(
                (*path, "publish"),
                "missing: say where messages go, with publish (a queue or exchange) "
                "or call (a worker pool)",
            )
        elif given.get("publish") is not None and given.get("call") is not None:
            call = ctx.error((*path, "call"), "give publish or call, not both")
        out = {
            "count": ctx.field(given, path, "count", whole(1), 1),
            "arrivals": ctx.field(given, path, "arrivals", arrivals),
            "message": ctx.field(given, path, "message", message, {}),
            "publish": publish,
            "call": call,
            "routing_key": ctx.field(given, path, "routing_key", nullable(text), None),
            "on_reject": ctx.field(given, path, "on_reject", one_of("fail", "retry"), "fail"),
            "retry": ctx.field(given, path, "retry", retry_policy, dict(DEFAULT_RETRY)),
            "timeout": ctx.field(
                given, path, "timeout", nullable(duration(0.0, exclusive=True)), None
            ),
        }
        refuse(ctx, "producers", given, out, path)
        return INVALID if any(v is INVALID for v in out.values()) else out

    producers = each(ctx, top, "producers", names, PRODUCER_KEYS, producer)
    if "producers" not in top:
        ctx.error((), "missing required key 'producers' (at least one producer)")
    elif top["producers"] in (None, {}):
        ctx.error(("producers",), "at least one producer is required")
    return producers
