"""The whole scenario: top-level keys, names, then each section, into the resolved dict.

Sections are resolved in dependency order (brokers before the queues that inherit from them,
queues before the pools whose prefetch they set, pools before the faults that name them,
producers before the run defaults estimated from their rates), and every problem found on the
way is kept.
"""

from __future__ import annotations

from typing import Any

from sim.scenario.brokers import resolve_brokers, resolve_queues
from sim.scenario.checks import INVALID, Ctx, nullable, show
from sim.scenario.costs import resolve_costs
from sim.scenario.defaults import resolve_run
from sim.scenario.errors import Path
from sim.scenario.extras import resolve_exchanges
from sim.scenario.faults import resolve_faults
from sim.scenario.names import collect
from sim.scenario.producers import resolve_producers
from sim.scenario.workers import refuse_instant_pipeline_loops, resolve_workers

TOP_KEYS = [
    "name",
    "description",
    "run",
    "producers",
    "brokers",
    "queues",
    "exchanges",
    "workers",
    "faults",
    "costs",
]


MAX_NAME_BYTES = 128  # UTF-8: 128 ASCII characters, 64 Cyrillic, 42 CJK; leaves room for the
# prefixes and suffixes of results folders (a comparison's "00-NAME", a taken run-id's "-2")


def scenario_name(ctx: Ctx, value: Any, path: Path) -> Any:
    """Checker: the scenario's name, which becomes a folder under results/."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return ctx.error(path, f"must be a string; quote it: '{value}'")
    if not isinstance(value, str) or not value.strip():
        return ctx.error(path, f"must be a non-empty string, got {show(value)}")
    if any(c in value for c in "/\\") or value.startswith(".") or not value.isprintable():
        return ctx.error(
            path, f"must be usable as a folder name (no '/', '\\', leading '.'), got {show(value)}"
        )
    size = len(value.encode("utf-8"))
    if size > MAX_NAME_BYTES:
        # Found here, not when the results folder is written after the whole run.
        return ctx.error(
            path,
            f"must be at most {MAX_NAME_BYTES} bytes long (it names the results folder, and "
            f"file systems allow 255), got {len(value)} characters ({size} bytes)",
        )
    return value


def _string(ctx: Ctx, value: Any, path: Path) -> Any:
    if not isinstance(value, str):
        return ctx.error(path, f"must be a string, got {show(value)}")
    return value


def resolve(raw: Any, ctx: Ctx) -> dict[str, Any] | None:
    """The resolved scenario (docs/architecture.md), or None with the problems in ``ctx``."""
    if raw is None:
        ctx.error((), "the scenario is empty: expected a mapping with name, run and producers")
        return None
    if not isinstance(raw, dict):
        ctx.error(
            (), f"the top level must be a mapping (name, run, producers, ...), got {show(raw)}"
        )
        return None
    ctx.mapping(raw, (), TOP_KEYS)
    names = collect(ctx, raw)
    out: dict[str, Any] = {
        "name": ctx.field(raw, (), "name", scenario_name),
        "description": ctx.field(raw, (), "description", nullable(_string), None),
    }
    brokers = resolve_brokers(ctx, raw, names)
    queues = resolve_queues(ctx, raw, names, brokers)
    exchanges = resolve_exchanges(ctx, raw, names, brokers, queues)
    workers = resolve_workers(ctx, raw, names, queues)
    before = len(ctx.problems)
    producers = resolve_producers(ctx, raw, names, workers)
    # The run defaults use the producers' rates, and the pools' speed on what reaches their
    # queues: each only when sound.
    sound = not ctx.problems
    out["run"] = resolve_run(
        ctx,
        raw,
        producers if len(ctx.problems) == before else None,
        queues if sound else None,
        workers if sound else None,
    )
    out["producers"] = producers
    out["brokers"] = brokers
    out["queues"] = queues
    out["exchanges"] = exchanges
    out["workers"] = workers
    out["faults"] = resolve_faults(ctx, raw, names, workers, queues)
    if "costs" in raw:  # optional: a scenario without it has no cost section
        out["costs"] = resolve_costs(ctx, raw, names, brokers, workers)
    if ctx.problems or any(v is INVALID for v in out.values()):
        return None
    refuse_instant_pipeline_loops(ctx, out)  # (needs every section resolved)
    if ctx.problems:
        return None
    return out
