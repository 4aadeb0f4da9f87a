"""What the three worker kinds share: a name, processing in progress, the job's length, a
crash that cancels it, and the effect of a processing that ended well (with its follow-up).

`sim.model.workers.Worker` (a queue's), `sim.model.log.LogConsumer` (a consumer group's) and
`sim.model.calls.CallWorker` (a call pool's) build on `ConsumerBase`.
"""

from __future__ import annotations

from array import array
from typing import TYPE_CHECKING, Any

from sim.model.contracts import Sampler
from sim.model.schedule import Call

if TYPE_CHECKING:
    from simpy import Environment

    from sim.model.pools import BasePool


class ConsumerBase:
    """One worker of a pool: ``running`` maps work in progress to its end (a `Call`)."""

    def __init__(self, pool: BasePool, index: int, code: int) -> None:
        self.pool = pool
        self.index = index
        self.code = code
        self.env: Environment = pool.env
        self.up = False
        self.retired = False  # scaled down: never starts again
        self.running: dict[Any, Call] = {}
        self.plain_service: Sampler | None = pool.plain
        self.jobs: array | None = pool.jobs  # (see BasePool.jobs)

    @property
    def name(self) -> str:
        return f"{self.pool.name}/{self.index}"

    def _came_up(self) -> None:
        """Up now: counted by the pool, drawing as the pool does now."""
        self.up = True
        self.plain_service = self.pool.plain
        self.pool.went_up(+1)

    def _draw(self, cid: int) -> float:
        """A new draw of the copy's job length (not yet slowed down)."""
        plain = self.plain_service
        return plain() if plain is not None else self.pool.service_time(cid)

    def _job(self, cid: int) -> float:
        """The copy's job here: the length drawn at its first processing by this pool, reused
        by every repeat (or, with ``service_on_repeat: fresh``, a new draw each time)."""
        jobs = self.jobs
        if jobs is not None:
            service = jobs[cid]
            if service == service:  # not NaN: this pool drew it before
                return service
        service = self._draw(cid)
        if jobs is not None:
            jobs[cid] = service
        return service

    def _run(self, key: Any, service: float, then: Any, value: Any) -> None:
        """Process for ``service`` seconds (times the pool's slowdown); ``then`` at the end."""
        pool = self.pool
        if pool.slowdown != 1.0:
            service *= pool.slowdown
        pool.busy_time += service
        call = Call(self.env, service, then, value)
        call.due = self.env.now + service
        self.running[key] = call

    def _cancel_running(self) -> None:
        """A crash: work in progress stops, its time left is taken off the pool's busy time."""
        now, pool = self.env.now, self.pool
        for call in self.running.values():
            call.cancel()
            pool.busy_time -= call.due - now

    def _took_effect(self, cid: int, now: float, processed: set[int] | None,
                     unique_at_commit: bool) -> None:
        """A processing of ``cid`` ended well: it counts, unless an idempotent consumer's
        unique constraint refuses a second effect; one that counts publishes the follow-up
        (before the ack: the follow-up is owed first)."""
        rec = self.pool.records
        if processed is not None:
            if cid in processed and unique_at_commit:
                rec.absorbed[cid] += 1
                return
            processed.add(cid)
        rec.processings[cid] += 1
        then = self.pool.then
        if then is not None:
            then.after(cid, now)
