"""Distributions: a number or duration string is a constant, else ``{dist: NAME, ...}``.

Keys and alternatives come from `sim.random.spec` (shared with the samplers), each parameter is
converted by its kind (durations to seconds, rates to per second), and the result is built once
by `sim.random.distributions` to check the values together.
"""

from __future__ import annotations

from typing import Any

from sim.random.spec import ALTERNATIVES, PARAMETERS
from sim.scenario.checks import (
    INVALID,
    Checker,
    Ctx,
    duration,
    existing_file,
    list_of,
    number,
    rate,
    show,
    suggest,
    whole,
)
from sim.scenario.errors import Path
from sim.scenario.random_checks import checked_make


def constant(value: float) -> dict[str, Any]:
    """The resolved form of a fixed time."""
    return {"dist": "constant", "value": float(value)}


def _components(ctx: Ctx, value: Any, path: Path) -> Any:
    return list_of(_component)(ctx, value, path)


def _component(ctx: Ctx, value: Any, path: Path) -> Any:
    if not isinstance(value, dict):
        return ctx.error(path, f"must be a mapping {{weight: W, dist: ...}}, got {show(value)}")
    weight = ctx.field(value, path, "weight", number(0.0, exclusive=True))
    inner = _mapping_dist(ctx, value, path, extra=("weight",))
    if weight is INVALID or inner is INVALID:
        return INVALID
    return {"weight": weight, **inner}


KIND_CHECKERS: dict[str, Checker] = {
    "time": duration(0.0),
    "rate": rate(0.0, exclusive=True),
    "number": number(),
    "int": whole(),
    "time_list": list_of(duration(0.0)),
    "number_list": list_of(number()),
    "file": existing_file,
    "components": _components,
}


def _groups_text(groups: list[tuple[str, ...]]) -> str:
    return ", or ".join(" and ".join(repr(k) for k in g) for g in groups)


def _mapping_dist(ctx: Ctx, value: dict[Any, Any], path: Path, extra: tuple[str, ...] = ()) -> Any:
    """Resolve a ``{dist: ...}`` mapping; ``extra`` keys belong to the caller (a weight)."""
    name = value.get("dist")
    if "dist" not in value:
        return ctx.error(
            path,
            "a distribution needs 'dist:' (e.g. {dist: exponential, mean: 20ms}) "
            "or is a fixed duration such as 20ms",
        )
    if not isinstance(name, str) or name not in PARAMETERS:
        return ctx.error(
            (*path, "dist"),
            f"unknown distribution {show(name)}{suggest(name, PARAMETERS)} "
            f"(known: {', '.join(PARAMETERS)})",
        )
    params = PARAMETERS[name]
    ctx.mapping(value, path, ["dist", *params, *extra])
    given = {k for k in params if k in value}
    groups = ALTERNATIVES[name]
    complete = [g for g in groups if set(g) <= given]
    if not complete:
        return ctx.error(path, f"{name} needs {_groups_text(groups)}")
    if len(complete) > 1:
        return ctx.error(path, f"{name} takes {_groups_text(complete)}, not both")
    grouped = {k for g in groups for k in g}
    stray = sorted((given & grouped) - set(complete[0]))
    if stray:
        return ctx.error(
            path,
            f"{name} with {' and '.join(complete[0])} does not take {', '.join(stray)}",
        )
    resolved: dict[str, Any] = {"dist": name}
    for key, kind in params.items():
        if key in value:
            resolved[key] = KIND_CHECKERS[kind](ctx, value[key], (*path, key))
    if any(v is INVALID for v in resolved.values()):
        return INVALID
    if checked_make(ctx, path, "distributions", resolved, with_rng=False) is INVALID:
        return INVALID
    return resolved


def distribution(ctx: Ctx, value: Any, path: Path) -> Any:
    """Checker: a distribution, resolved to ``{dist: NAME, params in seconds}``."""
    if isinstance(value, dict):
        return _mapping_dist(ctx, value, path)
    if isinstance(value, str | int | float) and not isinstance(value, bool):
        seconds = duration(0.0)(ctx, value, path)
        return INVALID if seconds is INVALID else constant(seconds)
    return ctx.error(
        path,
        "must be a distribution: a duration such as 20ms or a mapping such as "
        f"{{dist: exponential, mean: 20ms}}, got {show(value)}",
    )
