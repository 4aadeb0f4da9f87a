"""``faults``: each fault, in file order, resolved to one form naming its ``kind`` and
``target``.

Users write ``{crash: POOL, workers: 2, at: 5m}``; the resolved form ``{kind: crash, target:
POOL, ...}`` is accepted as input too, so a resolved scenario loads again as it is. A crash is
scheduled (``at``, hitting ``workers`` workers once) or random (``mtbf``, each worker failing
after exponential times with that mean and coming back after ``mttr``).

A scheduled crash or a stop must say how many workers it hits: a count or ``all`` (every
worker up at that moment). A missing ``workers`` is an error rather than a default: a default
of one is the silent partial crash the user did not ask for, and a default of all turns "a
worker crashes" into "the pool is gone". A slowdown slows the whole pool (``workers: all``,
its default and only value: a slow dependency slows every worker alike).
"""

from __future__ import annotations

from typing import Any

from sim.scenario.checks import (
    INVALID,
    REQUIRED,
    Checker,
    Ctx,
    boolean,
    duration,
    nullable,
    number,
    show,
)
from sim.scenario.dist_specs import distribution
from sim.scenario.errors import Path
from sim.scenario.names import Names, reference

KINDS = ("crash", "stop", "outage", "slowdown")
_CRASH_KEYS = ("workers", "at", "restart_after", "silent", "mtbf", "mttr")
ALLOWED: dict[str, tuple[str, ...]] = {
    "crash": _CRASH_KEYS,
    "stop": ("workers", "at", "restart_after"),
    "outage": ("at", "duration"),
    "slowdown": ("workers", "factor", "at", "duration"),
}
_at, _length = duration(0.0), duration(0.0, exclusive=True)
ALL = "all"


def _workers_hit(ctx: Ctx, value: Any, path: Path) -> Any:
    """A count of workers (>= 1) or ``all``."""
    if value == ALL:
        return ALL
    whole_number = not isinstance(value, bool) and (
        isinstance(value, int) or (isinstance(value, float) and value.is_integer())
    )
    if not whole_number or value < 1:
        return ctx.error(path, f"must be a whole number >= 1 or all, got {show(value)}")
    return int(value)


def _whole_pool(ctx: Ctx, value: Any, path: Path) -> Any:
    """``all``: a slowdown slows every worker of its pool."""
    if value != ALL:
        return ctx.error(
            path,
            f"must be all, got {show(value)}: a slowdown slows every worker of the pool "
            "(a slow dependency); to take some workers out, crash or stop them",
        )
    return ALL


_workers: tuple[Checker, Any] = (_workers_hit, REQUIRED)
_restart: tuple[Checker, Any] = (nullable(distribution), None)
# The resolved keys of each form (besides kind and target), in order: (checker, default).
FORMS: dict[str, dict[str, tuple[Checker, Any]]] = {
    "crash": {
        "workers": _workers,
        "at": (_at, REQUIRED),
        "restart_after": _restart,
        "silent": (boolean, False),
    },
    "random crash": {
        "mtbf": (_length, REQUIRED),
        "mttr": (distribution, REQUIRED),
        "silent": (boolean, False),
    },
    "stop": {"workers": _workers, "at": (_at, REQUIRED), "restart_after": _restart},
    "outage": {"at": (_at, REQUIRED), "duration": (_length, REQUIRED)},
    "slowdown": {
        "workers": (_whole_pool, ALL),
        "factor": (number(0.0, exclusive=True), REQUIRED),
        "at": (_at, REQUIRED),
        "duration": (_length, REQUIRED),
    },
}


def _kind_and_target(ctx: Ctx, fault: dict[Any, Any], path: Path) -> tuple[Any, Path] | None:
    """(kind, path of the target) of either input form, or None after reporting why not."""
    named = [k for k in KINDS if k in fault]
    if "kind" in fault:
        if named:
            ctx.error(path, f"give {{{named[0]}: NAME}} or {{kind: ..., target: NAME}}, not both")
            return None
        kind = fault["kind"]
        if kind not in KINDS:
            ctx.error((*path, "kind"), f"must be one of {', '.join(KINDS)}, got {show(kind)}")
            return None
        if "target" not in fault:
            ctx.error(path, "missing required key 'target'")
            return None
        return kind, (*path, "target")
    if len(named) != 1:
        ctx.error(path, f"a fault needs exactly one of {', '.join(KINDS)}")
        return None
    return named[0], (*path, named[0])


def resolve_faults(
    ctx: Ctx,
    top: dict[Any, Any],
    names: Names,
    workers: dict[str, Any],
    queues: dict[str, Any],
) -> list[Any]:
    """Every fault; ``workers`` and ``queues`` (resolved) for counts and hints."""
    pool = reference(names, "workers")
    broker = reference(names, "brokers")

    def outage_target(ctx: Ctx, value: Any, path: Path) -> Any:
        if isinstance(value, str) and names.section_of.get(value) == "queues":
            owner = queues.get(value, {}).get("broker")
            hint = f" ({owner!r})" if isinstance(owner, str) else ""
            message = f"{value!r} is a queue; an outage takes down a broker: name its broker"
            return ctx.error(path, message + hint)
        return broker(ctx, value, path)

    value = top.get("faults")
    if value is None:
        return []
    if not isinstance(value, list):
        ctx.error(("faults",), f"must be a list of faults, got {show(value)}")
        return []
    out: list[Any] = []
    for i, fault in enumerate(value):
        path = ("faults", i)
        if not isinstance(fault, dict):
            ctx.error(path, f"must be a mapping such as {{crash: POOL, at: 5m}}, got {show(fault)}")
            continue
        found = _kind_and_target(ctx, fault, path)
        if found is None:
            continue
        kind, target_path = found
        naming = ("kind", "target") if "kind" in fault else (kind,)
        ctx.mapping(fault, path, [*naming, *ALLOWED[kind]])
        check_target = outage_target if kind == "outage" else pool
        target = check_target(ctx, fault[target_path[-1]], target_path)
        form = kind
        if kind == "crash":
            form = _crash_form(ctx, fault, path)
            if form is None:
                continue
        fields = FORMS[form]
        resolved = {"kind": kind, "target": target}
        if form in ("crash", "stop") and "workers" not in fault:
            # No default (see the module's docstring): the user says how many.
            resolved["workers"] = ctx.error(
                path,
                f"missing required key 'workers': how many workers the {kind} hits, a count "
                "(workers: 1) or workers: all",
            )
        for key, (check, default) in fields.items():
            if key not in resolved:
                resolved[key] = ctx.field(fault, path, key, check, default)
        size = workers.get(target, {}).get("count") if isinstance(target, str) else None
        hit = resolved.get("workers")
        if isinstance(size, int) and isinstance(hit, int) and hit > size:
            resolved["workers"] = ctx.error(
                (*path, "workers"),
                f"must be <= the pool's count ({size}), got {hit}; workers: all hits every "
                "worker, whatever the count",
            )
        if all(v is not INVALID for v in resolved.values()):
            out.append(resolved)
    return out


def _crash_form(ctx: Ctx, fault: dict[Any, Any], path: Path) -> str | None:
    """"crash" (scheduled) or "random crash", or None after reporting a mix of the two."""
    if ("at" in fault) == ("mtbf" in fault):
        ctx.error(path, "a crash needs either at (scheduled) or mtbf (random), not both")
        return None
    if "mtbf" in fault:
        stray = [k for k in ("workers", "restart_after") if k in fault]
        for key in stray:
            ctx.error(
                (*path, key),
                f"{key} is for scheduled crashes (at:); a random crash (mtbf:) strikes every "
                "worker of the pool, each coming back after mttr",
            )
        return None if stray else "random crash"
    if "mttr" in fault:
        ctx.error(
            (*path, "mttr"),
            "mttr is for random crashes (mtbf:); a scheduled crash comes back after "
            "restart_after",
        )
        return None
    return "crash"
