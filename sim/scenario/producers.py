"""``producers``: arrivals, message fields, where messages go, and what a reject does."""

from __future__ import annotations

import string
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


TEMPLATE_FIELDS = ("type", "key", "priority", "producer", "headers")


def routing_key_template(ctx: Ctx, value: str, path: Path) -> Any:
    """Checker: a routing key template such as ``"order.{type}"`` or ``"{headers[region]}"``,
    filled from the message's fields (TEMPLATE_FIELDS)."""
    try:
        fields = [name for _, name, _, _ in string.Formatter().parse(value) if name is not None]
    except ValueError as error:
        return ctx.error(path, f"is not a valid template ({error}); write e.g. 'order.{{type}}'")
    for name in fields:
        base = name.split("[")[0].split(".")[0]
        if base not in TEMPLATE_FIELDS or (base == "headers" and "[" not in name) or (
                base != "headers" and name != base):
            return ctx.error(
                path, f"unknown field {{{name}}} in the template (use "
                f"{', '.join('{' + f + '}' for f in TEMPLATE_FIELDS[:-1])} or {{headers[NAME]}})"
            )
    return value


def resolve_producers(
    ctx: Ctx, top: dict[Any, Any], names: Names, workers: dict[str, Any]
) -> dict[str, Any]:
    """Every producer; at least one is required. ``workers`` (resolved) are the pools a
    ``call`` may name: only those that consume no queue serve calls."""

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
        elif isinstance(call, str) and workers.get(call, {}).get("consumes") is not None:
            call = ctx.error(
                (*path, "call"),
                f"pool {call!r} consumes queue {workers[call]['consumes']!r}; a call needs a "
                "pool with no consumes (one that serves calls)",
            )
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
        if out["routing_key"] not in (None, INVALID):
            out["routing_key"] = routing_key_template(ctx, out["routing_key"],
                                                      (*path, "routing_key"))
        if given.get("call") is not None:
            # (the defaults are accepted: a resolved scenario spells them out)
            publishing_only = {"routing_key": None, "on_reject": "fail", "retry": DEFAULT_RETRY}
            for key, default in publishing_only.items():
                if out[key] not in (default, INVALID):
                    ctx.error((*path, key), "a call goes straight to its pool: no routing key, "
                              "and a failed call is an error, never retried")
        elif given.get("timeout") is not None:
            ctx.error((*path, "timeout"), "only a call has a timeout (a publish waits only for "
                      "the broker to accept it)")
        refuse(ctx, "producers", given, out, path)
        return INVALID if any(v is INVALID for v in out.values()) else out

    producers = each(ctx, top, "producers", names, PRODUCER_KEYS, producer)
    if "producers" not in top:
        ctx.error((), "missing required key 'producers' (at least one producer)")
    elif top["producers"] in (None, {}):
        ctx.error(("producers",), "at least one producer is required")
    return producers
