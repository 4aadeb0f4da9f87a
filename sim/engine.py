"""Runs one replication: build the model, publish, drain, stop, hand back the records.

A run is a pure function of (scenario, seed). Publishing stops at ``run.duration`` or after
``run.messages`` sends (or when every producer has run out of arrivals); with ``drain`` the
simulation then goes on until the model's work in progress (see `sim.model.work`) is zero, at
most ``drain_timeout``; what is left is ``pending``. Every run therefore ends: publishing is
bounded by the duration, the budget or the arrivals, and the drain by its timeout.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Mapping
from itertools import repeat
from typing import Any

import numpy as np
from simpy import Environment
from simpy.core import EmptySchedule, StopSimulation
from simpy.events import Event

from sim.model.build import Model
from sim.model.contracts import PublishCounts
from sim.model.monitor import Monitor
from sim.model.publishing import figures_by_name
from sim.model.requests import by_broker
from sim.model.schedule import Call
from sim.progress import Progress
from sim.records import RunData
from sim.scenario.specs import ModelSpec, model_spec

# Tests set this to check the model's internal bookkeeping at the end of every run.
AUDIT = False

# The clock must move: a model that handles this many events without time advancing (plus a
# generous allowance per message a producer sent at that instant: a burst is not a loop) is in
# a loop that takes no time (say, a copy failing instantly and requeued at once, forever), and
# would otherwise never end. Only producers' sends earn an allowance: a loop of pipeline
# stages makes a new message at every step, so counting those would let it run for ever. A
# send may pass once through every stage of a pipeline, so its allowance grows with them.
STILL_CLOCK_EVENTS = 1_000_000
STILL_CLOCK_EVENTS_PER_SEND = 20
_CHECK_EVERY = 1 << 16  # events between two looks at the clock


class ModelStuck(RuntimeError):
    """The simulation clock stood still for too many events (see STILL_CLOCK_EVENTS)."""


def simulate(scenario: Mapping[str, Any] | ModelSpec, seed: int | None = None,
             progress: Progress | None = None) -> RunData:
    """Run the scenario once with ``seed`` (default: ``run.seed``): its resolved dict (what
    callers, process pools and Dask hand over) or its typed spec (`model_spec` of it)."""
    started = time.perf_counter()
    spec = scenario if isinstance(scenario, ModelSpec) else model_spec(scenario)
    run = spec.run
    seed = run.seed if seed is None else seed
    model = Model(spec, seed)
    env = model.env
    done = env.event()
    timed_out = False

    def finish(_event: Any = None) -> None:
        if not done.triggered:
            done.succeed()

    def drain_timeout(_event: Any) -> None:
        nonlocal timed_out
        if not done.triggered:
            timed_out = True
            finish()

    def publishing_ended() -> None:
        if not run.drain:
            finish()
            return
        Call(env, run.drain_timeout, drain_timeout)
        model.work.on_idle = finish  # the model calls it once its work reaches zero

    window = _PoolWindow(model, run.warmup)
    model.on_publishing_end(window.close)
    model.on_publishing_end(publishing_ended)
    if model.duration is not None:
        Call(env, model.duration, lambda _event: model.end_publishing())

    def tick(now: float) -> None:
        window.read()
        if progress is None:
            return
        if not model.publishing:
            progress(1.0)
        elif run.messages is not None:
            sent = sum(producer.sent for producer in model.producers)
            progress(min(1.0, sent / run.messages))
        else:
            assert model.duration is not None  # a run has a duration or a message budget
            progress(now / model.duration)

    monitor = Monitor(env, run.sample_interval, list(model.queues.values()),
                      list(model.pools.values()), tick, _callers(model))
    monitor.start()
    model.start()
    # Everything alive now (the libraries, the model) lives for the whole run: freezing it
    # spares the cyclic garbage collector from walking it again and again while the run
    # allocates millions of short-lived events (a quarter of the run time otherwise).
    gc.freeze()
    stages = 1 + sum(1 for pool in model.pools.values() if pool.then is not None)
    producers = model.producers
    try:
        _run_until(env, done, lambda: sum(p.sent for p in producers), stages)
    finally:
        gc.unfreeze()
    for queue in model.queues.values():
        queue.expire_overdue()  # expiry is lazy (at the head); settle what is overdue now
    model.records.drop_jobs()  # (no processing starts any more)
    if AUDIT:
        problems = model.audit(drained=run.drain and not timed_out)
        if problems:
            raise AssertionError("model bookkeeping: " + "; ".join(problems))
    monitor.sample()
    sim_end = env.now
    # The publishing window: run.duration, unless the message budget or the arrivals ran out
    # first (publish_end is infinite while publishing goes on).
    duration = model.publish_end if model.duration is None else min(
        model.duration, model.publish_end)
    return RunData(
        records=model.records,
        timeseries=monitor.columns,
        counters=_counters(model, sim_end, window),
        meta={
            "scenario": spec.name,
            "seed": seed,
            "duration": float(duration),
            "warmup": float(run.warmup),
            "sim_end": float(sim_end),
            "drain_timed_out": timed_out,
            "wall_seconds": time.perf_counter() - started,
        },
    )


def _callers(model: Model) -> list[tuple[str, list[Any], Any]]:
    """Each calling producer's name, its instances and the pool it calls, for the monitor."""
    out = []
    for name, spec in model.spec.producers.items():
        if spec.call:
            instances = [p for p in model.producers if p.name == name]
            out.append((name, instances, model.pools[spec.call]))
    return out


def _run_until(env: Environment, done: Event, sent: Callable[[], int], stages: int = 1) -> None:
    """``env.run(until=done)``, watching that the clock moves (see STILL_CLOCK_EVENTS);
    ``sent()`` is how many messages the producers have sent so far (follow-ups and dead
    letters not included), ``stages`` how many pools a send can pass through (1 + the pools
    with ``then``)."""
    done.callbacks.append(StopSimulation.callback)
    step, still, last, sent_before = env.step, 0, env.now, sent()
    try:
        while True:
            for _ in repeat(None, _CHECK_EVERY):
                step()
            if env.now != last:
                still, last, sent_before = 0, env.now, sent()
                continue
            still += _CHECK_EVERY
            allowed = STILL_CLOCK_EVENTS + STILL_CLOCK_EVENTS_PER_SEND * stages * (
                sent() - sent_before)
            if still >= allowed:
                raise ModelStuck(
                    f"the simulation clock stood still at t = {last:g} s for {still:,} events: "
                    "the model is in a loop that takes no time (e.g. a pool whose every "
                    "processing fails at once and is requeued at once, or pipeline stages "
                    "that publish to each other instantly); give the work some service_time, "
                    "a retry delay, the queue a max_deliveries, or a then.probability below 1"
                )
    except StopSimulation:
        return
    except EmptySchedule:
        return  # nothing left to happen (the monitor normally keeps ticking)


class _PoolWindow:
    """Each pool's cumulative busy slot-seconds and worker-seconds up while publishing runs,
    read at the start, at ``warmup`` (exactly), at every tick of the time series and at the
    end of publishing. Utilization is measured over [warmup, end of publishing], the window
    of throughput, so a pool's figure does not depend on how long another pool drains after
    publishing stops; the metrics take the two ends from these readings (interpolated
    between ticks when ``run.warmup: auto`` chooses the warm-up after the run).

    A reading costs one pass over the pool's workers, a few thousand times per run at most:
    nothing per message.
    """

    def __init__(self, model: Model, warmup: float) -> None:
        self.model = model
        self.times: list[float] = []
        self.readings: dict[str, list[tuple[float, float]]] = {name: [] for name in model.pools}
        self.read()
        if warmup > 0:
            Call(model.env, warmup, self.read)

    def read(self, _event: Any = None) -> None:
        """Record every pool's (busy, up) now, while publishing runs."""
        if self.model.publishing:
            self._take()

    def close(self) -> None:
        """The last reading, at the end of publishing (called back once it has ended)."""
        self._take()

    def _take(self) -> None:
        now = self.model.env.now
        if self.times and now <= self.times[-1]:
            return  # one reading per instant
        self.times.append(now)
        for name, pool in self.model.pools.items():
            self.readings[name].append((pool.busy_time_until(now), pool.up_time_until(now)))

    def of(self, name: str) -> np.ndarray:
        """Pool ``name``'s readings: rows of (time, busy slot-seconds, worker-seconds up)."""
        rows = self.readings[name]
        out = np.empty((len(rows), 3))
        out[:, 0] = self.times
        out[:, 1:] = rows
        return out


def _counters(model: Model, sim_end: float,
              window: _PoolWindow) -> dict[str, Any]:
    """Every component's own figures, collected (the engine computes none of them)."""
    publishers: list[PublishCounts] = [*model.producers, *(
        p.then for p in model.pools.values() if p.then is not None)]
    producers = figures_by_name(publishers)
    # Each component reports its own figures (a kafka group's log and pool add theirs).
    queues = {name: q.figures(sim_end) for name, q in model.queues.items()}
    exchanges = {name: exchange.counters() for name, exchange in model.exchanges.items()}
    workers = {}
    for name, pool in model.pools.items():
        workers[name] = pool.figures(sim_end)
        # Cumulative (time, busy, up) while publishing: utilization's window is cut out of
        # them (sim.metrics.summary).
        workers[name]["readings"] = window.of(name)
    return {"producers": producers, "queues": queues, "exchanges": exchanges,
            "workers": workers, "requests": by_broker(model.brokers, publishers),
            "costs": model.spec.costs}
