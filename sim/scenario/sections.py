"""Walking a named section (``queues: {NAME: {...}}``) component by component."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sim.scenario.checks import INVALID, Ctx, show
from sim.scenario.names import Names

Resolver = Callable[[Ctx, str, dict[Any, Any], tuple[str, str]], Any]


def each(
    ctx: Ctx,
    top: dict[Any, Any],
    section: str,
    names: Names,
    allowed: list[str],
    resolve: Resolver,
    shown: str | None = None,
) -> dict[str, Any]:
    """Resolve every component of ``section``; invalid ones are left out (problems recorded).

    A component with nothing under it (``orders:``) is an empty mapping: all defaults.
    """
    value = top.get(section)
    if value is None:
        return {}
    if not isinstance(value, dict):
        ctx.error((section,), f"must be a mapping of name: settings, got {show(value)}")
        return {}
    out: dict[str, Any] = {}
    for name, config in value.items():
        if (section, name) in names.bad:
            continue  # already reported; a duplicate name is still checked, for its own problems
        path = (section, name)
        given = ctx.mapping(config, path, allowed, shown=shown)
        if given is INVALID:
            continue
        resolved = resolve(ctx, name, given, path)
        if resolved is not INVALID:
            out[name] = resolved
    return out
