"""``exchanges``: routing a publish to queues (docs/scenario-reference.md, "exchanges").

Each exchange lives on a broker (the one its bound queues are on, or ``broker:``) and routes
only to that broker's queues. Bindings are checked for what their type reads: a ``key`` for
``direct`` and ``topic`` (a topic pattern's ``*`` and ``#`` are whole words), a ``match`` for
``headers``, nothing for ``fanout`` and ``custom``; a ``custom`` exchange names
``module:function`` in the scenario's folder, imported here, so a missing file or a broken
import is reported at load. A custom exchange's bindings, if any, are the queues its function
chooses among (as RabbitMQ's plugin exchanges route among their bound queues); without
bindings it chooses among every queue of its broker.
"""

from __future__ import annotations

import re
from typing import Any

from sim.scenario import custom_code
from sim.scenario.checks import INVALID, Ctx, one_of, show, text
from sim.scenario.errors import Path
from sim.scenario.names import Names, reference
from sim.scenario.sections import each

EXCHANGE_TYPES = ("direct", "fanout", "topic", "headers", "custom")
EXCHANGE_KEYS = ["type", "broker", "bindings", "function", "alternate"]
BINDING_KEYS = {  # what a binding of each type reads, besides its queue
    "direct": ("key",),
    "topic": ("key",),
    "fanout": (),
    "headers": ("match", "x_match"),
    "custom": (),
}
_CALLABLE = re.compile(r"^([A-Za-z_][\w.]*|[\w./\\-]+\.py):[A-Za-z_]\w*$")


def _function(ctx: Ctx, value: Any, path: Path) -> Any:
    """``module:function`` (or ``file.py:function``) in the scenario's folder, imported now;
    resolved to ``/absolute/file.py:function``."""
    if not isinstance(value, str) or not _CALLABLE.match(value):
        return ctx.error(
            path, f"must be 'module:function' (a module in the scenario's folder), got "
            f"{show(value)}"
        )
    try:
        _, resolved = custom_code.load(value, ctx.base_dir)
    except custom_code.CustomCodeError as error:
        return ctx.error(path, f"cannot use {value}: {error}")
    return resolved


def _topic_pattern(ctx: Ctx, value: Any, path: Path) -> Any:
    pattern = text(ctx, value, path)
    if pattern is INVALID:
        return INVALID
    for word in pattern.split(".") if pattern else []:
        if word not in ("*", "#") and ("*" in word or "#" in word):
            return ctx.error(
                path, f"in a topic pattern, * and # stand alone between dots (as in "
                f"'order.*' or 'order.#'), got {show(value)}"
            )
    return pattern


def _match(ctx: Ctx, value: Any, path: Path) -> Any:
    given = ctx.mapping(value, path, None, "a mapping of header: value")
    if given is INVALID:
        return INVALID
    for name, wanted in given.items():
        if not isinstance(wanted, str | int | float | bool):
            return ctx.error((*path, name), f"must be a plain value, got {show(wanted)}")
    return {str(k): v for k, v in given.items()}


def resolve_exchanges(
    ctx: Ctx, top: dict[Any, Any], names: Names, brokers: dict[str, Any],
    queues: dict[str, Any],
) -> dict[str, Any]:
    """Every exchange, checked; ``queues`` (resolved) say which broker each queue is on."""
    queue = reference(names, "queues")
    default_broker = next(iter(brokers)) if len(brokers) == 1 else None

    def binding(ctx: Ctx, kind: Any, value: Any, path: Path) -> Any:
        reads = BINDING_KEYS.get(kind, ("key", "match", "x_match"))
        given = ctx.mapping(value, path, ["queue", *reads])
        if given is INVALID:
            return INVALID
        out = {"queue": ctx.field(given, path, "queue", queue)}
        if "key" in reads:
            check = _topic_pattern if kind == "topic" else text
            out["key"] = ctx.field(given, path, "key", check)
        if "match" in reads:
            out["match"] = ctx.field(given, path, "match", _match)
            out["x_match"] = ctx.field(given, path, "x_match", one_of("all", "any"), "all")
        return out

    def exchange(ctx: Ctx, name: str, given: dict[Any, Any], path: Path) -> Any:
        kind = ctx.field(given, path, "type", one_of(*EXCHANGE_TYPES))
        bindings = given.get("bindings")
        if bindings is None:
            bindings = []
        if not isinstance(bindings, list):
            ctx.error((*path, "bindings"), f"must be a list, got {show(bindings)}")
            bindings = []
        if kind not in ("custom", INVALID) and not bindings:
            ctx.error((*path, "bindings"), f"a {kind} exchange needs at least one binding "
                      "(e.g. bindings: [{queue: NAME" + (", key: ..." if kind in (
                          "direct", "topic") else "") + "}])")
        out = {
            "type": kind,
            "broker": ctx.field(given, path, "broker", reference(names, "brokers"), None),
            "bindings": [binding(ctx, kind, b, (*path, "bindings", i))
                         for i, b in enumerate(bindings)],
            "function": None,
            "alternate": ctx.field(given, path, "alternate", queue, None),
        }
        if kind == "custom":
            out["function"] = ctx.field(given, path, "function", _function)
        elif "function" in given:
            ctx.error((*path, "function"), f"only a custom exchange has a function (this one "
                      f"is {kind})")
        if any(v is INVALID for v in out.values()) or any(
            INVALID in b.values() if isinstance(b, dict) else True for b in out["bindings"]
        ):
            return INVALID
        return _place(ctx, out, path, queues, default_broker)

    return each(ctx, top, "exchanges", names, EXCHANGE_KEYS, exchange)


def _place(ctx: Ctx, out: dict[str, Any], path: Path, queues: dict[str, Any],
           default_broker: str | None) -> Any:
    """Put the exchange on a broker: its own ``broker``, else the one its queues are on; every
    queue it routes to must be there (an exchange routes within its broker)."""
    targets: list[tuple[Path, Any]] = [
        (("bindings", i, "queue"), b["queue"]) for i, b in enumerate(out["bindings"])
    ]
    if out["alternate"] is not None:
        targets.append((("alternate",), out["alternate"]))
    on = {name: queues[name]["broker"] for _, name in targets if name in queues}
    broker = out["broker"] or (next(iter(on.values())) if on else default_broker)
    if broker is None:
        return ctx.error((*path, "broker"), "missing: there are several brokers, say which one "
                         "this exchange is on")
    for where, name in targets:
        if name in on and on[name] != broker:
            return ctx.error(
                (*path, *where),
                f"queue {name!r} is on broker {on[name]!r}, but this exchange routes on "
                f"{broker!r} (an exchange routes within one broker; set broker: or move the "
                "queue)",
            )
    out["broker"] = broker
    return out
