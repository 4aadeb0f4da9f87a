"""Faults: crashes, clean stops, broker outages and slowdowns, on the simulation clock.

Each fault only calls the components' own transitions (``Worker.crash``, ``Worker.start``,
``Broker.outage``); what happens to the messages follows from the broker's mechanisms and the
pool's ack mode. Random crashes draw from their own stream per fault and worker.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from sim.model.schedule import Call
from sim.scenario.specs import (
    DistSpec,
    FaultSpec,
    OutageSpec,
    RandomCrashSpec,
    SlowdownSpec,
    WorkerStopSpec,
)

if TYPE_CHECKING:
    from simpy import Environment

    from sim.model.broker import Broker
    from sim.model.contracts import Member, Pool, Sampler


class Faults:
    """Schedules the scenario's faults against the model's pools and brokers."""

    def __init__(
        self,
        env: Environment,
        specs: Sequence[FaultSpec],
        pools: dict[str, Pool],
        brokers: dict[str, Broker],
        sampler: Callable[[DistSpec, str], Sampler],  # a next-value function, never None
    ) -> None:
        self.env = env
        self.specs = specs
        self.pools = pools
        self.brokers = brokers
        self.sampler = sampler

    def start(self) -> None:
        for index, spec in enumerate(self.specs):
            name = f"faults[{index}]"
            if isinstance(spec, RandomCrashSpec):
                self._random_crashes(spec, name)
            elif isinstance(spec, WorkerStopSpec):
                Call(self.env, spec.at, self._stop_workers, (spec, name))
            elif isinstance(spec, OutageSpec):
                Call(self.env, spec.at, self._outage, spec)
            else:
                Call(self.env, spec.at, self._slow_down, spec)

    # -- crashes and stops ----------------------------------------------------------------
    def _stop_workers(self, event: Call) -> None:
        spec, name = event.value
        pool = self.pools[spec.target]
        victims = [w for w in pool.workers if w.up]
        if spec.workers != "all":  # a count: the first that are up; all: every one up now
            victims = victims[: spec.workers]
        clean = spec.kind == "stop"
        restart = self._restart_delay(spec, name)
        for worker in victims:
            worker.crash(silent=spec.silent, clean=clean)
            if restart is not None:
                Call(self.env, restart(), self._restart, worker)

    def _restart_delay(self, spec: WorkerStopSpec, name: str) -> Sampler | None:
        if spec.restart_after is None:
            return None
        return self.sampler(spec.restart_after, f"{name}.restart_after")

    def _restart(self, event: Call) -> None:
        event.value.start()

    def _random_crashes(self, spec: RandomCrashSpec, name: str) -> None:
        """Each worker fails after an exponential time with mean ``mtbf``, repairs in ``mttr``."""
        pool = self.pools[spec.target]

        def follow(worker: Member) -> None:
            # Each worker's own streams (by its name): a worker added later gets its own cycle.
            stream = f"{name}.{worker.name}"
            up_for = self.sampler({"dist": "exponential", "mean": spec.mtbf}, stream + ".up")
            repair = self.sampler(spec.mttr, stream + ".repair")
            cycle = _CrashCycle(self.env, worker, up_for, repair, spec.silent)
            cycle.schedule()

        for worker in pool.workers:
            follow(worker)
        pool.on_new_worker.append(follow)

    # -- brokers and pools ----------------------------------------------------------------
    def _outage(self, event: Call) -> None:
        spec: OutageSpec = event.value
        broker = self.brokers[spec.target]
        if broker.down:
            return
        if broker.embedded:
            # The broker is the producer's process: its workers die with it and come back.
            victims = [w for queue in broker.queues for w in queue.consumers if w.up]
            for worker in victims:
                worker.crash()
            for worker in victims:
                Call(self.env, spec.duration, self._restart, worker)
        broker.outage(spec.duration)

    def _slow_down(self, event: Call) -> None:
        spec: SlowdownSpec = event.value
        pool = self.pools[spec.target]
        pool.slowdown *= spec.factor
        Call(self.env, spec.duration, self._speed_up, spec)

    def _speed_up(self, event: Call) -> None:
        spec: SlowdownSpec = event.value
        self.pools[spec.target].slowdown /= spec.factor


class _CrashCycle:
    """Up for an exponential time, crash, repair, start again: forever."""

    def __init__(self, env: Environment, worker: Member, up_for: Sampler, repair: Sampler,
                 silent: bool) -> None:
        self.env, self.worker = env, worker
        self.up_for, self.repair, self.silent = up_for, repair, silent

    def schedule(self) -> None:
        Call(self.env, self.up_for(), self._fail)

    def _fail(self, _event: Call) -> None:
        if self.worker.retired:
            return  # scaled down for good: the cycle ends
        self.worker.crash(silent=self.silent)
        Call(self.env, self.repair(), self._repaired)

    def _repaired(self, _event: Call) -> None:
        self.worker.start()
        self.schedule()

