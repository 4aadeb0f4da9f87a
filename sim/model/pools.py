"""What every pool has, whatever it consumes: its service time and failures, its follow-ups,
its workers (added, started, retired) and what it reports over time.

Three kinds build on `BasePool`: `sim.model.calls.CallPool` serves synchronous calls, and two
consume a source through `ConsumingPool` (idempotent consumers, an autoscaler):
`sim.model.workers.WorkerPool` consumes a queue, `sim.model.group.LogPool` is a consumer group
of a topic. Each kind's constructor ends with ``finish(spec)``, which adds what they all build
the same way once the kind has set its own parts. Each worker kind builds on
`sim.model.consumer.ConsumerBase`.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sim.model.autoscale import Autoscaler
from sim.model.contracts import FollowUpSink, Sampler
from sim.scenario.specs import PoolSpec

if TYPE_CHECKING:
    from simpy import Environment

    from sim.model.contracts import Source
    from sim.records import Records


@dataclass(frozen=True, slots=True)
class Draws:
    """What a pool draws from its own streams (`sim.model.build` makes them): a job's length
    (its message type's, else ``service``) and, with an error rate, a uniform draw per
    processing that fails it when under the rate (``failure``)."""

    service: Sampler
    by_type: dict[int, Sampler] = field(default_factory=dict)
    failure: Sampler | None = None


class BasePool:
    """A pool's service time and failures, its follow-ups (``then``), and what it reports
    over time (workers up, worker-seconds up, busy slot-seconds).

    It keeps ``busy_time`` (service started so far, the rest of a cancelled processing taken
    off) and ``workers`` whose ``running`` maps work in progress to its end event (a `Call`
    with its ``due`` time)."""

    workers: list[Any]
    # The fewest and most workers up since the run began (None until the pool has started).
    min_up: int | None = None
    max_up: int | None = None

    def __init__(
        self,
        env: Environment,
        name: str,
        records: Records,
        spec: PoolSpec,
        draws: Draws,
        then: FollowUpSink | None = None,
        private_jobs: bool = False,
    ) -> None:
        self.env = env
        self.name = name
        self.records = records
        self.concurrency: int = spec.concurrency
        self.initial_count: int = spec.count
        self.service = draws.service
        self.service_by_type = draws.by_type
        self.error_rate: float = spec.error_rate
        self.failure = draws.failure  # uniform(0, 1) draws, when error_rate > 0
        # Each copy's job length, drawn at its first processing here and reused by every
        # repeat (None: ``service_on_repeat: fresh``, a new draw per processing). A pool whose
        # queue other pools consume too keeps a column of its own (``private_jobs``).
        self.jobs: array | None = (
            records.job_column(private=private_jobs)
            if spec.service_on_repeat == "same" else None)
        self.then = then  # the pool's follow-up publishes (its ``then``), if any
        # The common case draws straight from the pool's stream, with no per-copy look-up
        # (set by start: a trace that gives service times enables them after the build).
        self.plain: Sampler | None = None
        self.slowdown = 1.0
        self.busy_time = 0.0
        self.crashes = 0
        self._up = 0
        self._up_area = 0.0
        self._up_since = 0.0
        self.on_new_worker: list[Callable[[Any], None]] = []  # faults follow new workers
        self.workers = []  # every worker ever made (retired ones stay, down)

    def finish(self, spec: PoolSpec) -> None:
        """The last step of a pool's constructor, once its kind has set its own parts: its
        first ``count`` workers."""
        for _ in range(spec.count):
            self.add_worker()

    # -- workers --------------------------------------------------------------------------
    def add_worker(self) -> Any:
        """A new worker, named ``POOL/N`` with N never reused (its code is interned now)."""
        index = len(self.workers)
        worker = self._new_worker(index, self.records.workers.code(f"{self.name}/{index}"))
        self.workers.append(worker)
        for listener in self.on_new_worker:
            listener(worker)
        return worker

    def _new_worker(self, index: int, code: int) -> Any:
        raise NotImplementedError

    def retire(self, worker: Any) -> None:
        """Take a worker out for good: a clean stop (its unacknowledged copies go back)."""
        worker.crash(clean=True)
        worker.retired = True

    def _choose_plain(self) -> None:
        plain = self.records.service_time is None and not self.service_by_type
        self.plain = self.service if plain else None

    # -- service --------------------------------------------------------------------------
    def draw_service(self, type_: int, given: float | None) -> float:
        """A processing's length: ``given`` by a trace (None or NaN: none), else a draw for
        its type, else the pool's draw."""
        if given is not None and given == given:  # not NaN
            return given
        if self.service_by_type:
            by_type = self.service_by_type.get(type_)
            if by_type is not None:
                return by_type()
        return self.service()

    def service_time(self, cid: int) -> float:
        """How long this copy takes here: a trace's value, its type's, or the pool's."""
        rec = self.records
        given = rec.service_time[cid] if rec.service_time is not None else None
        return self.draw_service(rec.type[cid], given)

    # -- what it reports ------------------------------------------------------------------
    def worker_went_down(self, clean: bool) -> None:
        """A worker stopped (``clean``) or crashed: one fewer up, one more crash if it was."""
        self.went_up(-1)
        if not clean:
            self.crashes += 1

    def went_up(self, delta: int) -> None:
        now = self.env.now
        self._up_area += self._up * (now - self._up_since)
        self._up_since = now
        self._up += delta
        if self.min_up is not None:
            self.min_up = min(self.min_up, self._up)
            self.max_up = max(self.max_up or 0, self._up)

    def started(self) -> None:
        """The pool's first workers are up: from now on the fewest and most up are tracked."""
        self.min_up = self.max_up = self._up

    @property
    def up(self) -> int:
        return self._up

    def up_time_until(self, now: float) -> float:
        """Worker-seconds up from 0 to ``now``."""
        return self._up_area + self._up * (now - self._up_since)

    def busy_time_until(self, now: float) -> float:
        """Slot-seconds spent processing up to ``now`` (work in progress counted so far)."""
        remaining = sum(
            call.due - now for worker in self.workers for call in worker.running.values()
        )
        return self.busy_time - remaining

    def figures(self, end: float) -> dict[str, Any]:
        """The pool's counts for the summary, up to ``end``."""
        return {
            "count": self.initial_count,
            "slots": self.initial_count * self.concurrency,
            "busy_time": self.busy_time_until(end),
            "up_time": self.up_time_until(end),
            "crashes": self.crashes,
            "min_up": self.min_up,
            "max_up": self.max_up,
            "workers_made": len(self.workers),
        }

    def audit(self) -> list[str]:
        """Bookkeeping that must agree with itself (none to check here)."""
        return []


class ConsumingPool(BasePool):
    """A pool that consumes a `Source` (a queue's pool, a consumer group): besides its
    workers, its idempotent consumers and its autoscaler (see `idempotency`)."""

    source: Source
    autoscaler: Autoscaler | None
    processed: set[int] | None  # copies whose processing had its effect (idempotent)
    seen_at_start: set[int] | None  # the same, checked as processing begins (at_start)
    unique_at_commit: bool  # a repeat's effect is refused as it commits (at_commit)

    def finish(self, spec: PoolSpec) -> None:
        """The last step of the constructor, once the kind has set its ``source``: its
        idempotent consumers, its autoscaler (which reads the source) and its first workers."""
        self.processed, self.seen_at_start, self.unique_at_commit = idempotency(spec)
        scale = spec.autoscale
        self.autoscaler = Autoscaler(self.env, self, scale) if scale else None
        super().finish(spec)


def idempotency(spec: PoolSpec) -> tuple[set[int] | None, set[int] | None, bool]:
    """A consuming pool's idempotent consumers: ``(processed, seen_at_start, at_commit)``.

    Idempotent consumers remember the copies whose processing had its effect. at_start: a
    dedupe check as processing begins skips a copy already done (a repeat that overlaps the
    first processing still runs, and counts). at_commit: a unique constraint refuses the
    repeat's effect when it commits (it still costs worker time), so at most one processing
    of a copy has an effect."""
    mode = "at_start" if spec.idempotent is True else spec.idempotent
    processed: set[int] | None = set() if mode else None
    return processed, processed if mode == "at_start" else None, mode == "at_commit"
