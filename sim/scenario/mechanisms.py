"""Broker mechanism keys (docs/presets.md): how messages reach workers and what brings
unacknowledged ones back. Each broker resolves them from its type's preset (`sim.presets`) and
its own keys; each queue from its broker and its own keys. Postgres users write
``claim: lease|transaction``, which resolves ``redelivery``; the rules between keys are checked
on the resolved values.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from functools import cache
from typing import Any

from sim.presets import BROKER_ONLY_KEYS, MECHANISM_KEYS, PRESETS
from sim.random.distributions import make as make_distribution
from sim.scenario.checks import (
    INVALID,
    Checker,
    Ctx,
    boolean,
    duration,
    nullable,
    one_of,
    rate,
    whole,
)
from sim.scenario.dist_specs import distribution
from sim.scenario.errors import Path

REDELIVERY = ("on_disconnect", "visibility_timeout", "lease", "transaction", "none")
CLAIMS = ("lease", "transaction")
_timeout = nullable(duration(0.0, exclusive=True))

CHECKERS: dict[str, Checker] = {
    "publish_latency": distribution,
    "deliver_latency": distribution,
    "capacity": nullable(rate(0.0, exclusive=True)),
    "durable": boolean,
    "delivery": one_of("push", "pull"),
    "prefetch_on_auto_ack": boolean,
    "api_latency": distribution,
    "batch_size": whole(1),
    "wait_time": duration(0.0),
    "poll_interval": duration(0.0),
    "notify": boolean,
    "notify_latency": distribution,
    "redelivery": one_of(*REDELIVERY),
    "claim": nullable(one_of(*CLAIMS)),
    "disconnect_latency": distribution,
    "heartbeat": duration(0.0),
    "visibility_timeout": _timeout,
    "restore_interval": _timeout,
    "lock_timeout": _timeout,
    "requeue": one_of("original", "head", "tail"),
    "dedup_window": _timeout,
    "embedded": boolean,
    "prefetch_multiplier": nullable(whole(1)),
}


@cache
def _resolved_preset(kind: str) -> dict[str, Any]:
    ctx = Ctx()
    out = {key: CHECKERS[key](ctx, value, (kind, key)) for key, value in PRESETS[kind].items()}
    if ctx.problems:  # a bad value in sim/presets.py: a bug, not a user's problem
        raise ValueError(f"invalid preset {kind!r}: " + "; ".join(map(str, ctx.problems)))
    return out


def preset(kind: str) -> dict[str, Any]:
    """The resolved defaults of a broker type (a fresh copy: callers may keep it)."""
    return copy.deepcopy(_resolved_preset(kind))


def _field(
    ctx: Ctx, given: Mapping[Any, Any], path: Path, key: str, base: Mapping[str, Any]
) -> Any:
    # A copy of the inherited value: YAML would write a value shared by two components as an
    # anchor and an alias, which nobody wants to read in a results folder's scenario.yaml.
    return ctx.field(given, path, key, CHECKERS[key], copy.deepcopy(base[key]))


def broker_settings(
    ctx: Ctx, given: Mapping[Any, Any], path: Path, base: Mapping[str, Any]
) -> dict[str, Any]:
    """The broker-only keys (latencies, capacity, durable): given, else ``base``'s."""
    return {key: _field(ctx, given, path, key, base) for key in BROKER_ONLY_KEYS}


def mechanisms(
    ctx: Ctx, given: Mapping[Any, Any], path: Path, base: Mapping[str, Any], kind: str | None
) -> dict[str, Any]:
    """Every mechanism key: given, else ``base``'s (the preset for a broker, the broker's for a
    queue). ``kind`` is the broker type (None if unknown: then ``claim`` is not judged)."""
    out = {key: _field(ctx, given, path, key, base) for key in MECHANISM_KEYS}
    claim = out["claim"] if given.get("claim") is not None else None
    if claim in CLAIMS:
        if kind is not None and kind != "postgres":
            out["claim"] = ctx.error(
                (*path, "claim"),
                f"claim is a postgres setting; on a {kind} broker set redelivery instead",
            )
        elif given.get("redelivery") is not None and out["redelivery"] not in (claim, INVALID):
            out["redelivery"] = ctx.error(
                (*path, "redelivery"),
                f"contradicts claim: {claim} (which means redelivery: {claim}); give one of them",
            )
        else:
            out["redelivery"] = claim
    if out["claim"] is not INVALID and out["redelivery"] is not INVALID:
        # claim is redelivery in postgres words: shown on postgres brokers and queues only
        redelivery = out["redelivery"]
        out["claim"] = redelivery if kind == "postgres" and redelivery in CLAIMS else None
    return out


def _mean(spec: Any) -> float | None:
    try:
        return float(make_distribution(spec).mean)
    except (ValueError, TypeError):
        return None


def check_rules(ctx: Ctx, out: Mapping[str, Any], path: Path) -> None:
    """Rules between resolved mechanism keys, reported at ``path`` (a broker or queue)."""
    if any(out.get(key) is INVALID for key in MECHANISM_KEYS):
        return  # the values' own problems are reported; their combination means nothing yet
    needs = {"visibility_timeout": "visibility_timeout", "lease": "lock_timeout"}
    key = needs.get(out["redelivery"])
    if key is not None and out[key] is None:
        ctx.error(
            (*path, key),
            f"redelivery: {out['redelivery']} needs {key} (a duration such as 30s), got null; "
            "for messages that never come back, use redelivery: none",
        )
    idle = out["delivery"] == "pull" and out["wait_time"] == 0 and out["poll_interval"] == 0
    if idle and _mean(out["api_latency"]) == 0:
        ctx.error(
            (*path, "delivery"),
            "a pull consumer that finds nothing would receive again at the same instant, "
            "forever: set wait_time (long poll), poll_interval or api_latency above 0",
        )
