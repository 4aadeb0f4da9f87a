"""``run`` (§3) and the defaults that depend on the rest of the scenario.

``drain_timeout`` defaults to ``10 * duration`` (one day when only ``messages`` is given) and
``sample_interval`` to ``duration / 500``. With only ``messages``, the duration is estimated as
the time the producers need, on average, to publish that many messages (from the expected
counts of their arrival processes: rates, schedules, traces), so a short run still gets about
500 samples; if that cannot be estimated (e.g. a schedule that ends at rate 0 before enough
messages), 1 s is used.
With both ``duration`` and ``messages``, publishing stops at whichever comes first.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from sim.random.arrivals import make as make_arrivals
from sim.scenario.checks import INVALID, Ctx, boolean, duration, nullable, whole

RUN_KEYS = [
    "duration",
    "messages",
    "warmup",
    "drain",
    "drain_timeout",
    "seed",
    "replications",
    "sample_interval",
]
SAMPLES_PER_RUN = 500
DRAIN_FACTOR = 10
MESSAGES_DRAIN_TIMEOUT = 86400.0
FALLBACK_SAMPLE_INTERVAL = 1.0


def expected_publish_time(messages: int, producers: dict[str, Any]) -> float | None:
    """Mean time for all producers together to publish ``messages`` (None if unknown)."""
    processes = [
        (producer["count"], make_arrivals(producer["arrivals"], np.random.default_rng(0)))
        for producer in producers.values()
    ]
    if not processes:
        return None

    def total(t: float) -> float:
        return sum(n * process.expected_count(0.0, t) for n, process in processes)

    high = 1.0
    while total(high) < messages:
        high *= 2
        if high > 1e12:
            return None
    low = 0.0
    for _ in range(100):  # bisection to float precision
        mid = (low + high) / 2
        if total(mid) < messages:
            low = mid
        else:
            high = mid
    return high if high > 0 else None


def resolve_run(ctx: Ctx, top: dict[Any, Any], producers: dict[str, Any] | None) -> Any:
    """The ``run`` section with every default; ``producers`` (None if invalid) for estimates."""
    if "run" not in top:
        return ctx.error((), "missing required key 'run' (it needs duration or messages)")
    path = ("run",)
    given = ctx.mapping(top["run"], path, RUN_KEYS)
    if given is INVALID:
        return INVALID
    positive = duration(0.0, exclusive=True)
    length = ctx.field(given, path, "duration", nullable(positive), None)
    messages = ctx.field(given, path, "messages", nullable(whole(1)), None)
    if given.get("duration") is None and given.get("messages") is None:
        ctx.error(path, "needs duration (how long producers publish) or messages (how many)")
    warmup = ctx.field(given, path, "warmup", duration(0.0), 0.0)
    if isinstance(length, float) and isinstance(warmup, float) and warmup >= length:
        warmup = ctx.error(
            (*path, "warmup"), f"must be shorter than run.duration ({length:g} s), got {warmup:g} s"
        )
    estimate: float | None = length if isinstance(length, float) else None
    if estimate is None and isinstance(messages, int) and producers:
        try:
            estimate = expected_publish_time(messages, producers)
        except (ValueError, TypeError):  # reported with the producers, if a problem at all
            estimate = None
    drain_default = MESSAGES_DRAIN_TIMEOUT
    if isinstance(length, float):
        drain_default = DRAIN_FACTOR * length
    sample_default = estimate / SAMPLES_PER_RUN if estimate else FALLBACK_SAMPLE_INTERVAL
    out = {
        "duration": length,
        "messages": messages,
        "warmup": warmup,
        "drain": ctx.field(given, path, "drain", boolean, True),
        "drain_timeout": ctx.field(given, path, "drain_timeout", duration(0.0), drain_default),
        "seed": ctx.field(given, path, "seed", whole(0), 0),
        "replications": ctx.field(given, path, "replications", whole(1), 1),
        "sample_interval": ctx.field(given, path, "sample_interval", positive, sample_default),
    }
    return INVALID if any(v is INVALID for v in out.values()) else out
