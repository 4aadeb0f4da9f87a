"""Arrival processes, resolved to the shapes `sim.random.arrivals` takes:

``{process: poisson, rate: R}`` or ``{process: poisson, schedule: [{until: T, rate: R}, ...,
{rate: R}]}``, ``{process: constant, interval: I}`` (a ``rate`` becomes ``1/rate``),
``{process: renewal, interarrival: DIST}``, ``{process: bursty, rates: [lo, hi],
mean_durations: [dl, dh]}``, ``{process: trace, file: ABSPATH}``.
"""

from __future__ import annotations

from typing import Any

from sim.scenario.checks import (
    INVALID,
    Ctx,
    duration,
    existing_file,
    list_of,
    rate,
    show,
    suggest,
)
from sim.scenario.dist_specs import distribution
from sim.scenario.errors import Path
from sim.scenario.random_checks import checked_make


def arrival_key(spec: Any) -> str:
    """A resolved arrivals spec as a key (equal specs, equal keys)."""
    return repr(spec)


# Each process and its keys; where a list of groups is given, exactly one group is required.
PROCESSES: dict[str, list[tuple[str, ...]]] = {
    "poisson": [("rate",), ("schedule",)],
    "constant": [("interval",), ("rate",)],
    "renewal": [("interarrival",)],
    "bursty": [("rates", "mean_durations")],
    "trace": [("file",)],
}
EXAMPLE = "{process: poisson, rate: 100}"


def _schedule(ctx: Ctx, value: Any, path: Path) -> Any:
    if not isinstance(value, list) or not value:
        return ctx.error(
            path,
            f"must be a list of {{until: T, rate: R}} steps, the last without until, "
            f"got {show(value)}",
        )
    steps: list[Any] = []
    previous = 0.0
    for i, raw in enumerate(value):
        where = (*path, i)
        step = ctx.mapping(raw, where, ["until", "rate"], "a mapping {until: T, rate: R}")
        if step is INVALID:
            steps.append(INVALID)
            continue
        last = i == len(value) - 1
        out: dict[str, Any] = {}
        if last and "until" in step:
            ctx.error((*where, "until"), "the last step must not have until (it lasts to the end)")
            out["until"] = INVALID
        elif not last:
            until = ctx.field(step, where, "until", duration(0.0, exclusive=True))
            if until is not INVALID and until <= previous:
                ctx.error((*where, "until"), f"must be later than the step before ({previous:g} s)")
                until = INVALID
            if until is not INVALID:
                previous = until
            out["until"] = until
        out["rate"] = ctx.field(step, where, "rate", rate(0.0))
        steps.append(out)
    if any(s is INVALID or INVALID in s.values() for s in steps):
        return INVALID
    return steps


def arrivals(ctx: Ctx, value: Any, path: Path) -> Any:
    """Checker for a producer's ``arrivals``."""
    if not isinstance(value, dict):
        return ctx.error(path, f"must be a mapping such as {EXAMPLE}, got {show(value)}")
    process = value.get("process")
    if "process" not in value:
        return ctx.error(path, f"missing required key 'process' ({', '.join(PROCESSES)})")
    if not isinstance(process, str) or process not in PROCESSES:
        return ctx.error(
            (*path, "process"),
            f"unknown arrival process {show(process)}{suggest(process, PROCESSES)} "
            f"(known: {', '.join(PROCESSES)})",
        )
    groups = PROCESSES[process]
    keys = [k for g in groups for k in g]
    if ctx.mapping(value, path, ["process", *keys]) is INVALID:
        return INVALID
    complete = [g for g in groups if all(k in value for k in g)]
    if len(complete) != 1:
        options = " or ".join(" and ".join(g) for g in groups)
        verb = "needs" if not complete else "takes only one of"
        return ctx.error(path, f"{process} arrivals {verb} {options}")
    out: dict[str, Any] = {"process": process}
    given = complete[0]
    if process == "poisson" and given == ("rate",):
        out["rate"] = rate(0.0)(ctx, value["rate"], (*path, "rate"))
    elif process == "poisson":
        out["schedule"] = _schedule(ctx, value["schedule"], (*path, "schedule"))
    elif process == "constant" and given == ("interval",):
        out["interval"] = duration(0.0, exclusive=True)(ctx, value["interval"], (*path, "interval"))
    elif process == "constant":
        per_second = rate(0.0, exclusive=True)(ctx, value["rate"], (*path, "rate"))
        out["interval"] = INVALID if per_second is INVALID else 1.0 / per_second
    elif process == "renewal":
        out["interarrival"] = distribution(ctx, value["interarrival"], (*path, "interarrival"))
    elif process == "bursty":
        out["rates"] = list_of(rate(0.0), length=2)(ctx, value["rates"], (*path, "rates"))
        out["mean_durations"] = list_of(duration(0.0, exclusive=True), length=2)(
            ctx, value["mean_durations"], (*path, "mean_durations")
        )
    else:
        out["file"] = existing_file(ctx, value["file"], (*path, "file"))
    if any(v is INVALID for v in out.values()):
        return INVALID
    process = checked_make(ctx, path, "arrivals", out)
    if process is INVALID:
        return INVALID
    ctx.arrivals[arrival_key(out)] = process  # the estimates reuse it (a trace is read once)
    return out
