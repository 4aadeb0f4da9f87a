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

from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING

from sim.model.batch import BatchJob
from sim.model.consumer import ConsumerBase
from sim.model.contracts import FollowUpSink, QueueSource, Sampler
from sim.model.leases import CID_MASK, LEASE_SHIFT
from sim.model.pools import ConsumingPool, Draws
from sim.model.schedule import Call

if TYPE_CHECKING:
    from simpy import Environment

    from sim.records import Records
    from sim.scenario.specs import PoolSpec

AFTER_PROCESSING, ON_START, ON_DELIVERY = "after_processing", "on_start", "on_delivery"


class WorkerPool(ConsumingPool):
    """Identical workers consuming one queue, with one service-time stream between them."""

    workers: list[Worker]

    def __init__(
        self,
        env: Environment,
        name: str,
        queue: QueueSource,
        records: Records,
        spec: PoolSpec,
        ack_latency: Sampler | None,
        draws: Draws,
        then: FollowUpSink | None = None,
        private_jobs: bool = False,
    ) -> None:
        super().__init__(env, name, records, spec, draws, then, private_jobs)
        self.queue = queue
        self.source = queue
        self.prefetch: int = spec.prefetch
        self.ack: str = spec.ack
        self.ack_latency = ack_latency
        self.retry_requeue: bool = spec.retry.requeue
        self.retry_delay: float = spec.retry.delay
        self.batch = BatchJob(self, spec.batch) if spec.batch else None
        self.finish(spec)

    def _new_worker(self, index: int, code: int) -> Worker:
        worker = Worker(self, index, code)
        self.queue.register(worker)
        return worker

    def start(self) -> None:
        self._choose_plain()
        for worker in self.workers:
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
        Call(self.env, self.queue.restore_interval or 0.0, self._restore_tick)

    def audit(self) -> list[str]:
        """Each worker's counts must agree with what it holds and runs."""
        problems = []
        for w in self.workers:
            leases = list(w.holding.values())
            counted = sum(1 for lease in leases if lease >= 0)
            if w.auto_ack and not w.unbounded:
                counted = len(leases)
            if not w.unbounded and w.held != counted:
                problems.append(f"worker {self.name}/{w.index}: held {w.held}, {counted} held")
            if w.busy != len(w.running):
                problems.append(f"worker {self.name}/{w.index}: busy {w.busy}, "
                                f"{len(w.running)} running")
        return problems


class Worker(ConsumerBase):
    """One consumer process of a pool (a `sim.model.contracts.Consumer` of its queue)."""

    pool: WorkerPool

    def __init__(self, pool: WorkerPool, index: int, code: int) -> None:
        super().__init__(pool, index, code)
        self.queue = pool.queue
        self.prefetch = pool.prefetch
        self.concurrency = pool.concurrency
        # A batch job's worker takes work only while a run goes (its job hands it out).
        self.scheduled = pool.batch is not None
        self.held = 0  # copies counted against prefetch
        self.busy = 0  # copies in processing, at most concurrency
        # All keyed by delivery token (copy id | lease << LEASE_SHIFT).
        self.buffer: deque[int] = deque()
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
        # Record columns used on every copy (arrays grow in place: the references hold).
        self._started_at = pool.records.started_at
        self._processings = pool.records.processings
        self._first_delivered_at = pool.records.first_delivered_at
        # Pull delivery state: a receive in progress, a long poll, or a sleep.
        self.polling = False
        self._poll_timer: Call | None = None

    # -- life cycle ---------------------------------------------------------------------
    def start(self) -> None:
        """(Re)start: connect to the queue and ask for work."""
        if self.up or self.retired:
            return
        self._came_up()
        self.queue.attach(self)

    def crash(self, silent: bool = False, clean: bool = False) -> None:
        """The process dies (or, ``clean``, shuts down): work in progress is gone."""
        if not self.up:
            return
        self.up = False
        self.pool.worker_went_down(clean)
        self._cancel_running()
        for call in self.acks.values():
            call.cancel()  # an ack not yet at the broker dies with the connection
        self._cancel_poll()
        self.queue.detach(self, silent, clean)

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
        self.receive(event.value)

    def room(self) -> None:
        """A scheduled worker has room (or came up): its batch job may hand it more."""
        batch = self.pool.batch
        if batch is not None:
            batch.release(self)

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

    def long_poll(self, wait: float) -> None:
        """An empty receive: the queue holds it open up to ``wait`` (or until a copy comes)."""
        self._poll_timer = Call(self.env, wait, self._long_poll_expired)

    def sleep(self, interval: float) -> None:
        """An empty receive: receive again after ``interval`` (or when woken)."""
        self._poll_timer = Call(self.env, interval, self._wake)

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
        cid = token & CID_MASK
        self.busy += 1
        started = self._started_at
        if started[cid] != started[cid]:  # NaN: the copy's first processing starts now
            started[cid] = now
            plain = self.plain_service  # (ConsumerBase._draw, inlined: once per copy)
            service = plain() if plain is not None else self.pool.service_time(cid)
            jobs = self.jobs
            if jobs is not None:
                jobs[cid] = service  # every repeat takes as long (see BasePool.jobs)
        else:
            seen = self.pool.seen_at_start
            if seen is not None and cid in seen:
                # Idempotent consumer: already done, acknowledged without running again.
                self.pool.records.absorbed[cid] += 1
                self._run(token, 0.0, self._absorbed, token)
                if self._ack_on_start:
                    self._send_ack(token, now)
                return
            service = self._job(cid)  # a repeat: the same job (a pool sharing the queue
            # draws its own), or with ``service_on_repeat: fresh`` a new draw
        pool = self.pool  # (ConsumerBase._run, inlined: once per copy)
        if pool.slowdown != 1.0:
            service *= pool.slowdown
        pool.busy_time += service
        call = Call(self.env, service, self._finished, token)
        call.due = now + service
        self.running[token] = call
        if self._ack_on_start:
            self._send_ack(token, now)

    def _absorbed(self, event: Call) -> None:
        token = event.value
        del self.running[token]
        self.busy -= 1
        self._next()
        self._settle(token, self.env.now)

    def _finished(self, event: Call) -> None:
        token = event.value
        del self.running[token]
        self.busy -= 1
        pool = self.pool
        if pool.failure is not None and pool.failure() < pool.error_rate:
            self._next()
            self._failed(token)
            return
        cid = token & CID_MASK
        now = self.env.now
        if pool.processed is None and pool.then is None:
            self._processings[cid] += 1  # (ConsumerBase._took_effect's common case, inlined)
        else:
            self._took_effect(cid, now, pool.processed, pool.unique_at_commit)
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
        self.queue.nack(token & CID_MASK, lease, pool.retry_requeue, pool.retry_delay)
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
        token, at = event.value
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
