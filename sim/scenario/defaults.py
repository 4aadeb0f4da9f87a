"""``run`` and the defaults that depend on the rest of the scenario.

``drain_timeout`` defaults to ``10 * duration`` (one day when only ``messages`` is given).
``sample_interval`` defaults to the estimated run length / 500 (`sim.scenario.estimates`: the
publishing window, extended while the pools work through a backlog or a burst), never below
1 ms; when the run is expected to take no time at all (nothing ever arrives, or a burst of
instant work) or cannot be estimated, 1 s. So the default gives at most about 500 samples
over the estimated run. An explicit ``sample_interval`` must be at least 1 µs and give at most
a million samples over the estimated run; anything finer is an error.
With both ``duration`` and ``messages``, publishing stops at whichever comes first.
``warmup: auto`` stays the string ``"auto"`` in the resolved scenario: the run chooses its
warm-up by MSER-5 on its latency series (`sim.experiment.warmup`) and reports it.
"""

from __future__ import annotations

import math
from typing import Any

from sim.format import show_duration
from sim.scenario.checks import INVALID, Checker, Ctx, boolean, duration, nullable, show, whole
from sim.scenario.errors import Path
from sim.scenario.estimates import Estimates

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
SAMPLES_PER_RUN = 500  # the default: about this many samples over the estimated run
MIN_DEFAULT_SAMPLE_INTERVAL = 1e-3  # the default never samples more often than every 1 ms
FALLBACK_SAMPLE_INTERVAL = 1.0  # when the run takes no time or its length is unknown
MIN_SAMPLE_INTERVAL = 1e-6  # an explicit value below 1 µs is an error
MAX_SAMPLES = 1_000_000  # ... and so is one giving more samples over the estimated run
DRAIN_FACTOR = 10
MESSAGES_DRAIN_TIMEOUT = 86400.0


AUTO_WARMUP = "auto"


def _warmup(ctx: Ctx, value: Any, path: Path) -> Any:
    """Checker: a duration >= 0, or ``auto`` (MSER-5 chooses it per run)."""
    if value == AUTO_WARMUP:
        return AUTO_WARMUP
    seconds = duration(0.0)(ctx, value, path)
    if seconds is INVALID and isinstance(value, str) and value.strip().lower() == AUTO_WARMUP:
        ctx.problems[-1] = type(ctx.problems[-1])(  # a near miss: say what is accepted
            ctx.problems[-1].path, ctx.problems[-1].line,
            f"must be a duration or auto, got {show(value)}", ctx.problems[-1].source)
    return seconds


def default_sample_interval(length: float | None) -> float:
    """The default ``sample_interval`` for a run expected to last ``length`` seconds."""
    if length is None or not length > 0 or math.isinf(length):
        return FALLBACK_SAMPLE_INTERVAL
    return max(length / SAMPLES_PER_RUN, MIN_DEFAULT_SAMPLE_INTERVAL)


def smallest_sample_interval(length: float | None) -> float:
    """The smallest explicit ``sample_interval`` accepted for a run of ``length`` seconds."""
    if length is None or math.isinf(length):
        return MIN_SAMPLE_INTERVAL
    return max(MIN_SAMPLE_INTERVAL, length / MAX_SAMPLES)


def _sample_interval(length: float | None) -> Checker:
    """Checker: a positive duration, not absurdly fine for a run of ``length`` seconds."""
    positive = duration(0.0, exclusive=True)
    smallest = smallest_sample_interval(length)

    def check(ctx: Ctx, value: Any, path: Path) -> Any:
        seconds = positive(ctx, value, path)
        if seconds is INVALID or seconds >= smallest:
            return seconds
        if smallest > MIN_SAMPLE_INTERVAL:
            why = (
                f"at most {MAX_SAMPLES:,} samples over the run, expected to last about "
                f"{show_duration(length)}"
            )
        else:
            why = "finer intervals only multiply the samples"
        return ctx.error(
            path, f"must be at least {show_duration(smallest)} ({why}), got {show(value)}"
        )

    return check


def estimated_length(
    ctx: Ctx,
    run: dict[str, Any],
    producers: dict[str, Any] | None,
    queues: dict[str, Any] | None,
    workers: dict[str, Any] | None,
) -> float | None:
    """The run's expected length, or None when it cannot be estimated (invalid sections)."""
    if producers is None or any(run[k] is INVALID for k in ("drain", "drain_timeout")):
        return None
    data = {
        "run": run,
        "producers": producers,
        "queues": queues if queues is not None and workers is not None else {},
        "workers": workers if queues is not None and workers is not None else {},
    }
    try:
        return Estimates(data, ctx.arrivals).run_length()
    except (ValueError, TypeError):  # reported with the producers, if a problem at all
        return None


def resolve_run(
    ctx: Ctx,
    top: dict[Any, Any],
    producers: dict[str, Any] | None,
    queues: dict[str, Any] | None = None,
    workers: dict[str, Any] | None = None,
) -> Any:
    """The ``run`` section with every default. ``producers`` (None if invalid) give the
    publishing time; ``queues`` and ``workers`` (None if anything is invalid) how long the
    pools need for what was published."""
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
    warmup = ctx.field(given, path, "warmup", _warmup, 0.0)
    if isinstance(length, float) and isinstance(warmup, float) and warmup >= length:
        warmup = ctx.error(
            (*path, "warmup"), f"must be shorter than run.duration ({length:g} s), got {warmup:g} s"
        )
    drain_default = MESSAGES_DRAIN_TIMEOUT
    if isinstance(length, float):
        drain_default = DRAIN_FACTOR * length
    out = {
        "duration": length,
        "messages": messages,
        "warmup": warmup,
        "drain": ctx.field(given, path, "drain", boolean, True),
        "drain_timeout": ctx.field(given, path, "drain_timeout", duration(0.0), drain_default),
        "seed": ctx.field(given, path, "seed", whole(0), 0),
        "replications": ctx.field(given, path, "replications", whole(1), 1),
    }
    estimate = None
    if length is not INVALID and messages is not INVALID and (length or messages):
        estimate = estimated_length(ctx, out, producers, queues, workers)
    default = default_sample_interval(estimate)
    check = _sample_interval(estimate)
    out["sample_interval"] = ctx.field(given, path, "sample_interval", check, default)
    return INVALID if any(v is INVALID for v in out.values()) else out
