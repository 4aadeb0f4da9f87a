"""Worker pools: consumer processes that hold, process and acknowledge messages.

A worker holds up to ``prefetch`` unacknowledged copies (its local buffer plus those in
processing) and processes up to ``concurrency`` of them at once. When the acknowledgement
reaches the broker depends on the ack mode, and that decides when the prefetch slot frees and
what a crash costs:

- ``after_processing`` (at-least-once, Celery's ``acks_late``): ``ack_latency`` after the end of
  processing. A crash returns every held copy; one whose ack was still on its way is processed
  twice (the ack window).
- ``on_start`` (Celery's default): as processing starts. A crash loses the running copies and
  returns the buffered ones.
- ``on_delivery`` (auto-ack): acknowledged as delivered, so a crash loses all it held. Whether
  ``prefetch`` still bounds what is pushed is the broker's ``prefetch_on_auto_ack``.

On a ``pull`` broker each worker runs a receive loop: a receive takes ``api_latency`` and
returns up to ``batch_size`` copies; an empty one long-polls up to ``wait_time`` or sleeps
``poll_interval`` (woken early by ``notify``); a worker with room receives again at once.
"""

from __future__ import annotations

from array import array
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from sim.model.autoscale import Autoscaler
from sim.model.batch import BatchJob
from sim.model.schedule import Call

if TYPE_CHECKING:
    from simpy import Environment

    from sim.model.pipeline import FollowUps
    from sim.model.queue import Queue
    from sim.records import Records

AFTER_PROCESSING, ON_START, ON_DELIVERY = "after_processing", "on_start", "on_delivery"
# A delivery token: the copy id with its lease in the high bits (see Worker processing).
LEASE_SHIFT = 32
CID_MASK = (1 << LEASE_SHIFT) - 1


class Pool:
    """What every pool has: its service time and failures, its follow-ups, and what it reports
    over time (workers up, worker-seconds up, busy slot-seconds).

    A pool keeps ``busy_time`` (service started so far, the rest of a cancelled processing
    taken off) and ``workers`` whose ``running`` maps work in progress to its end event.
    `WorkerPool` consumes a queue or a log; `sim.model.calls.CallPool` serves calls."""

    workers: list[Any]
    # The fewest and most workers up since the run began (None until the pool has started).
    min_up: int | None = None
    max_up: int | None = None

    def __init__(
        self,
        env: Environment,
        name: str,
        records: Records,
        spec: dict[str, Any],
        service: Callable[[], float],
        service_by_type: dict[int, Callable[[], float]],
        failure: Callable[[], float] | None,
    ) -> None:
        self.env = env
        self.name = name
        self.records = records
        self.concurrency: int = spec["concurrency"]
        self.initial_count: int = spec["count"]
        self.service = service
        self.service_by_type = service_by_type
        self.error_rate: float = spec["error_rate"]
        self.failure = failure  # uniform(0, 1) draws, when error_rate > 0
        # Each copy's job length, drawn at its first processing here and reused by every
        # repeat (None: ``service_on_repeat: fresh``, a new draw per processing). The model
        # gives a pool a column of its own when its queue is shared with other pools.
        self.jobs: array | None = (
            records.jobs[0] if spec.get("service_on_repeat", "same") == "same" else None)
        self.then: FollowUps | None = None  # set by the model: the pool's follow-up publishes
        self.slowdown = 1.0
        self.busy_time = 0.0
        self.crashes = 0
        self._up = 0
        self._up_area = 0.0
        self._up_since = 0.0
        self.on_new_worker: list[Callable[[Any], None]] = []  # faults follow new workers

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



class WorkerPool(Pool):
    """Identical workers consuming one queue, with one service-time stream between them."""

    def __init__(
        self,
        env: Environment,
        name: str,
        queue: Queue,
        records: Records,
        spec: dict[str, Any],
        ack_latency: Callable[[], float] | None,
        service: Callable[[], float],
        service_by_type: dict[int, Callable[[], float]],
        failure: Callable[[], float] | None,
    ) -> None:
        super().__init__(env, name, records, spec, service, service_by_type, failure)
        self.queue = queue
        self.prefetch: int = spec["prefetch"]
        self.ack: str = spec["ack"]
        self.ack_latency = ack_latency
        self.retry_requeue: bool = spec["retry"]["requeue"]
        self.retry_delay: float = spec["retry"]["delay"]
        # Idempotent consumers remember the copies whose processing had its effect. at_start:
        # a dedupe check as processing begins skips a copy already done (a repeat that overlaps
        # the first processing still runs, and counts). at_commit: a unique constraint refuses
        # the repeat's effect when it commits (it still costs worker time), so at most one
        # processing of a copy has an effect.
        mode = "at_start" if spec["idempotent"] is True else spec["idempotent"]
        self.processed: set[int] | None = set() if mode else None
        self.seen_at_start = self.processed if mode == "at_start" else None
        self.unique_at_commit = mode == "at_commit"
        self.batch = BatchJob(self, spec["batch"]) if spec.get("batch") else None
        scale = spec.get("autoscale")
        self.autoscaler = Autoscaler(env, self, scale) if scale else None
        self.workers: list[Worker] = []  # every worker ever made (retired ones stay, down)
        self.plain: Callable[[], float] | None = None  # set by start
        for _ in range(spec["count"]):
            self.add_worker()

    def add_worker(self) -> Worker:
        """A new worker, named ``POOL/N`` with N never reused (its code is interned now)."""
        index = len(self.workers)
        worker = Worker(self, index, self.records.workers.code(f"{self.name}/{index}"))
        worker.plain_service = self.plain
        worker.jobs = self.jobs
        self.workers.append(worker)
        self.queue.consumers.append(worker)
        for listener in self.on_new_worker:
            listener(worker)
        return worker

    def retire(self, worker: Worker) -> None:
        """Take a worker out for good: a clean stop (its unacknowledged copies go back)."""
        worker.crash(clean=True)
        worker.retired = True

    def start(self) -> None:
        # The common case draws straight from the pool's stream, with no per-copy look-up.
        plain = self.records.service_time is None and not self.service_by_type
        self.plain = self.service if plain else None
        for worker in self.workers:
            worker.plain_service = self.plain
            worker.jobs = self.jobs
            worker.start()
        self.started()
        if self.autoscaler is not None:
            self.autoscaler.start()
        if self.batch is not None:
            self.batch.start()
        if self.queue.restore_interval is not None:
            Call(self.env, self.queue.restore_interval, self._restore_tick)

    def _restore_tick(self, _event: Call) -> None:
        self.queue.restore_check()
        Call(self.env, self.queue.restore_interval, self._restore_tick)

    def service_time(self, cid: int) -> float:
        """How long this copy takes here: a trace's value, its type's, or the pool's."""
        rec = self.records
        given = rec.service_time[cid] if rec.service_time is not None else None
        return self.draw_service(rec.type[cid], given)

class Worker:
    """One consumer process of a pool."""

    def __init__(self, pool: WorkerPool, index: int, code: int) -> None:
        self.pool = pool
        self.index = index
        self.code = code
        self.env = pool.env
        self.queue = pool.queue
        self.prefetch = pool.prefetch
        self.concurrency = pool.concurrency
        self.up = False
        self.retired = False  # scaled down: never starts again
        self.held = 0  # copies counted against prefetch
        self.busy = 0  # copies in processing, at most concurrency
        # All keyed by delivery token (copy id | lease << LEASE_SHIFT).
        self.buffer: deque[int] = deque()
        self.running: dict[int, Call] = {}
        self.holding: dict[int, int] = {}  # every delivery held -> its lease (-1: acknowledged)
        self.acks: dict[int, Call] = {}  # acks on their way to the broker
        self.auto_ack = pool.ack == ON_DELIVERY
        self.unbounded = self.auto_ack and not self.queue.prefetch_on_auto_ack
        self._ack_on_start = pool.ack == ON_START
        ack_after = pool.ack == AFTER_PROCESSING
        self._instant_ack_after = ack_after and pool.ack_latency is None
        # The ack mode as strategies chosen now, not branches per copy: what a processing
        # that ended well does, and what an ack reaching the broker does.
        self._settle: Callable[[int, float], None] = (
            self._send_ack if ack_after else self._settle_acked)
        self._ack_arrived: Callable[[int, float], None] = (
            self._late_ack_arrived if ack_after else self._early_ack_arrived)
        self.plain_service: Callable[[], float] | None = None  # set by WorkerPool.start
        self.jobs: array | None = pool.jobs  # (see Pool.jobs; set again by WorkerPool.start)
        # Record columns used on every copy (arrays grow in place: the references hold).
        self._started_at = pool.records.started_at
        self._first_delivered_at = pool.records.first_delivered_at
        self._processings = pool.records.processings
        # Pull delivery state: a receive in progress, a long poll, or a sleep.
        self.polling = False
        self._poll_timer: Call | None = None

    # -- life cycle ---------------------------------------------------------------------
    def start(self) -> None:
        """(Re)start: connect to the queue and ask for work."""
        if self.up or self.retired:
            return
        self.up = True
        self.pool.went_up(+1)
        self.queue.attach(self)

    def crash(self, silent: bool = False, clean: bool = False) -> None:
        """The process dies (or, ``clean``, shuts down): work in progress is gone."""
        if not self.up:
            return
        self.up = False
        pool, queue = self.pool, self.queue
        pool.worker_went_down(clean)
        now = self.env.now
        for call in self.running.values():
            call.cancel()
            pool.busy_time -= call.due - now
        for call in self.acks.values():
            call.cancel()  # an ack not yet at the broker dies with the connection
        self._cancel_poll()
        queue.detach(self, silent, clean)

    def drop_all(self) -> dict[int, int]:
        """Forget every delivery (the process is gone); returns what was held."""
        holding = self.holding
        self.holding = {}
        self.running.clear()
        self.acks.clear()
        self.buffer.clear()
        self.held = self.busy = 0
        return holding

    def hold(self, token: int, lease: int) -> None:
        """The queue hands this worker a delivery (lease -1: already acknowledged)."""
        self.holding[token] = lease
        if not self.unbounded:
            self.held += 1

    def deliver(self, token: int, lease: int) -> None:
        """A delivery with no latency: held and received at once (one call on the hot path)."""
        self.holding[token] = lease
        if not self.unbounded:
            self.held += 1
        self.receive(token)

    # -- receiving ----------------------------------------------------------------------
    def received(self, event: Call) -> None:
        self.receive(event._value)

    def receive(self, token: int) -> None:
        """A delivery arrives: process it now or keep it in the local buffer."""
        if token not in self.holding:
            return  # delivered to a process that has died since
        now = self.env.now
        first = self._first_delivered_at
        cid = token & CID_MASK
        if first[cid] != first[cid]:  # NaN: the copy's first delivery to reach a consumer
            first[cid] = now
        if self.busy < self.concurrency and not self.buffer:
            self._start(token, now)
        else:
            self.buffer.append(token)

    def poll(self) -> None:
        """Pull: receive if up, idle in the loop and with room for more."""
        if not self.up or self.polling or self.held >= self.prefetch:
            return
        self.polling = True
        queue = self.queue
        if queue.api_latency is None:
            self._receive_now()
        else:
            self._poll_timer = Call(self.env, queue.api_latency(), self._receive_done)

    def _receive_done(self, _event: Call) -> None:
        self._poll_timer = None
        self._receive_now()

    def _receive_now(self) -> None:
        queue = self.queue
        room = self.prefetch - self.held
        if queue.request(self, min(queue.batch_size, room)):
            self.polling = False
            self.poll()  # room left: receive again at once (as pollers do after a job)

    def wait(self, delay: float, then: Callable[[Call], None]) -> None:
        """An empty receive: the queue keeps this worker waiting until ``then`` (or a copy)."""
        self._poll_timer = Call(self.env, delay, then)

    def end_long_poll(self) -> None:
        """A copy arrived for this long poll: the receive returns with it."""
        self._cancel_poll()
        self.polling = False

    def _long_poll_expired(self, _event: Call) -> None:
        self._poll_timer = None
        queue = self.queue
        if queue.long_poll_expired(self):
            self._poll_timer = Call(self.env, queue.poll_interval, self._wake)
        else:
            self.polling = False
            self.poll()

    def wake(self, delay: float) -> None:
        """NOTIFY (or the broker's return): stop sleeping and receive again after ``delay``."""
        self._cancel_poll()
        self.polling = True  # still in the loop: no other receive may start meanwhile
        self._poll_timer = Call(self.env, delay, self._wake)

    def _wake(self, _event: Call) -> None:
        self._poll_timer = None
        self.queue.woke(self)
        self.polling = False
        self.poll()

    def _cancel_poll(self) -> None:
        if self._poll_timer is not None:
            self._poll_timer.cancel()
            self._poll_timer = None
        self.polling = False

    # -- processing ---------------------------------------------------------------------
    # A worker tracks *deliveries*, not copies: a token is the copy id with its lease in the
    # high bits, so a copy delivered twice to the same worker (a visibility timeout ran out
    # while it was still here) is two separate pieces of work.
    def _start(self, token: int, now: float) -> None:
        pool = self.pool
        cid = token & CID_MASK
        self.busy += 1
        started = self._started_at
        if started[cid] != started[cid]:  # NaN: the copy's first processing starts now
            started[cid] = now
            plain = self.plain_service
            service = plain() if plain is not None else pool.service_time(cid)
            jobs = self.jobs
            if jobs is not None:
                jobs[cid] = service  # every repeat takes as long (see Pool.jobs)
        else:
            seen = pool.seen_at_start
            if seen is not None and cid in seen:
                # Idempotent consumer: already done, acknowledged without running again.
                pool.records.absorbed[cid] += 1
                call = Call(self.env, 0.0, self._absorbed, token)
                call.due = now
                self.running[token] = call
                if self._ack_on_start:
                    self._send_ack(token, now)
                return
            service = self._repeat_length(cid)
        if pool.slowdown != 1.0:
            service *= pool.slowdown
        pool.busy_time += service
        call = Call(self.env, service, self._finished, token)
        call.due = now + service
        self.running[token] = call
        if self._ack_on_start:
            self._send_ack(token, now)

    def _repeat_length(self, cid: int) -> float:
        """A repeated processing's length: the copy's job as drawn the first time this pool
        processed it (a pool sharing the queue draws its own), or with ``service_on_repeat:
        fresh`` a new draw."""
        jobs = self.jobs
        if jobs is not None:
            service = jobs[cid]
            if service == service:  # not NaN: this pool drew it before
                return service
        plain = self.plain_service
        service = plain() if plain is not None else self.pool.service_time(cid)
        if jobs is not None:
            jobs[cid] = service
        return service

    def _absorbed(self, event: Call) -> None:
        token = event._value
        del self.running[token]
        self.busy -= 1
        self._next()
        self._settle(token, self.env.now)

    def _finished(self, event: Call) -> None:
        token = event._value
        del self.running[token]
        self.busy -= 1
        pool = self.pool
        if pool.failure is not None and pool.failure() < pool.error_rate:
            self._next()
            self._failed(token)
            return
        cid = token & CID_MASK
        now = self.env.now
        processed = pool.processed
        if processed is None:
            self._processings[cid] += 1
            if pool.then is not None:
                pool.then.after(cid, now)  # before the ack: the follow-up is owed first
        elif cid in processed and pool.unique_at_commit:
            pool.records.absorbed[cid] += 1  # the unique constraint refuses the second effect
        else:
            pool.records.processings[cid] += 1
            processed.add(cid)
            if pool.then is not None:
                pool.then.after(cid, now)
        # Start the next buffered copy before the ack frees a slot, so a freshly pushed
        # copy never overtakes one already waiting here.
        if self.buffer:
            self._start(self.buffer.popleft(), now)
        if self._instant_ack_after:
            # The common case, inlined: a manual ack that reaches the broker at once.
            queue = self.queue
            del self.holding[token]
            self.held -= 1
            if queue.ack(cid, token >> LEASE_SHIFT):
                queue.complete(cid, now, self.code)
            if queue.orphans:
                queue.let_go(token)
            queue.release(self)
            return
        self._settle(token, now)

    def _next(self) -> None:
        if self.buffer and self.busy < self.concurrency:
            self._start(self.buffer.popleft(), self.env.now)

    def _settle_acked(self, token: int, now: float) -> None:
        """Processing ended well on a copy acknowledged before (on_start, on_delivery): it
        completes now. (With after_processing, ``_settle`` is ``_send_ack``.)"""
        self.queue.complete(token & CID_MASK, now, self.code)
        if token not in self.acks:  # (an early ack still on its way keeps its entry)
            self._let_go(token)
        if self.auto_ack and not self.unbounded:
            self.held -= 1
            self.queue.release(self)

    def _failed(self, token: int) -> None:
        """Processing failed: the copy is nacked (requeued, delayed, or dead-lettered)."""
        pool = self.pool
        lease = self.holding[token]
        ack = self.acks.pop(token, None)
        if ack is not None:
            ack.cancel()  # an early ack still on its way: the nack overtakes it
        # Still counted against prefetch: unacknowledged, or auto-acked under a bound.
        counted = lease >= 0 or (self.auto_ack and not self.unbounded)
        if counted:
            self.held -= 1
        self.queue.settle_failed(token & CID_MASK, lease, pool.retry_requeue, pool.retry_delay)
        self._let_go(token)
        if counted:
            self.queue.release(self)

    def _send_ack(self, token: int, at: float) -> None:
        latency = self.pool.ack_latency
        if latency is None:
            self._ack_arrived(token, at)
        else:
            self.acks[token] = Call(self.env, latency(), self._ack_event, (token, at))

    def _ack_event(self, event: Call) -> None:
        token, at = event._value
        del self.acks[token]
        self._ack_arrived(token, at)

    def _late_ack_arrived(self, token: int, at: float) -> None:
        """after_processing: the ack settles the copy, which completes (if still pending)."""
        queue = self.queue
        cid = token & CID_MASK
        valid = queue.ack(cid, token >> LEASE_SHIFT)
        self.held -= 1
        if valid:
            queue.complete(cid, at, self.code)
        self._let_go(token)
        queue.release(self)

    def _early_ack_arrived(self, token: int, at: float) -> None:
        """on_start: the ack sent as processing began reaches the broker."""
        queue = self.queue
        queue.ack(token & CID_MASK, token >> LEASE_SHIFT)
        self.held -= 1
        if token in self.running:
            # on_start: the copy stays held (running) but no longer counts against prefetch.
            self.holding[token] = -1
        else:
            self._let_go(token)  # it finished before its early ack landed
        queue.release(self)

    def _let_go(self, token: int) -> None:
        """The worker is done with a delivery."""
        self.holding.pop(token, None)
        if self.queue.orphans:
            self.queue.let_go(token)
