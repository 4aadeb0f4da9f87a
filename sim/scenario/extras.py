"""``exchanges``: checked in full (names, references, units) so a scenario written for
later versions gets its typos reported, then refused by `not_yet`.
"""

from __future__ import annotations

import re
from typing import Any

from sim.scenario.checks import (
    INVALID,
    Ctx,
    one_of,
    show,
    text,
)
from sim.scenario.errors import Path
from sim.scenario.names import Names, reference
from sim.scenario.sections import each

EXCHANGE_TYPES = ("direct", "fanout", "topic", "headers", "custom")
EXCHANGE_KEYS = ["type", "bindings", "function", "alternate"]
_CALLABLE = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")


def _function(ctx: Ctx, value: Any, path: Path) -> Any:
    if not isinstance(value, str) or not _CALLABLE.match(value):
        return ctx.error(path, f"must be 'module:function', got {show(value)}")
    return value


def resolve_exchanges(ctx: Ctx, top: dict[Any, Any], names: Names) -> dict[str, Any]:
    """Every exchange, checked."""
    queue = reference(names, "queues")

    def binding(ctx: Ctx, value: Any, path: Path) -> Any:
        given = ctx.mapping(value, path, ["queue", "key", "match", "x_match"])
        if given is INVALID:
            return INVALID
        return {
            "queue": ctx.field(given, path, "queue", queue),
            "key": ctx.field(given, path, "key", text, None),
            "match": ctx.field(given, path, "match", _any_mapping, None),
            "x_match": ctx.field(given, path, "x_match", one_of("all", "any"), "all"),
        }

    def exchange(ctx: Ctx, name: str, given: dict[Any, Any], path: Path) -> Any:
        kind = ctx.field(given, path, "type", one_of(*EXCHANGE_TYPES))
        bindings = given.get("bindings") or []
        if not isinstance(bindings, list):
            ctx.error((*path, "bindings"), f"must be a list, got {show(bindings)}")
            bindings = []
        out = {
            "type": kind,
            "bindings": [binding(ctx, b, (*path, "bindings", i)) for i, b in enumerate(bindings)],
            "function": ctx.field(given, path, "function", _function, None),
            "alternate": ctx.field(given, path, "alternate", queue, None),
        }
        if kind == "custom" and "function" not in given:
            ctx.error((*path, "function"), "missing: a custom exchange needs 'module:function'")
        return out

    return each(ctx, top, "exchanges", names, EXCHANGE_KEYS, exchange)


def _any_mapping(ctx: Ctx, value: Any, path: Path) -> Any:
    return ctx.mapping(value, path, None)
