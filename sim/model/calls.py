"""The synchronous baseline: a producer ``call``s a pool directly, with no broker and no queue.

This is the design the notes open with: the caller waits for a free worker and for the whole
processing, so its response time is the full latency, and it fails when the callee fails:

- a call made while no worker of the pool is up is refused at once (``unavailable``), unless
  the workers vanished silently (``silent: true``) and the call has a timeout: nothing tells
  the caller they are gone, so it waits for its timeout (``timeouts``);
- a call that waits (for a free worker, then for its processing) past the producer's
  ``timeout`` fails (``timeouts``); the processing, if it started, still runs to its end;
- a processing that fails (``error_rate``), or a worker that crashes or stops while
  processing (the connection is reset), fails the call (``failed``). A worker that vanishes
  silently (``silent: true``) leaves its callers waiting until their timeout, or, without
  one, fails them at once as a crash does;
- a call waiting for a worker when the last one goes down fails too.

Nothing is queued for later and nothing is retried: each failure is an ``error`` of the
producer. Calls are not message copies, so they make no rows in the messages table; the
producer's summary gives their count, errors and response times.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING, Any

from sim.model.consumer import ConsumerBase
from sim.model.contracts import FollowUpSink
from sim.model.pools import BasePool, Draws
from sim.model.schedule import Call

if TYPE_CHECKING:
    from simpy import Environment

    from sim.model.message import Message
    from sim.model.producer import Producer
    from sim.model.work import Work
    from sim.records import Records
    from sim.scenario.specs import PoolSpec


class PendingCall:
    """A call from its arrival until the caller has an answer and no worker runs it."""

    __slots__ = ("answered", "message", "producer", "timer", "worker")

    def __init__(self, message: Message, producer: Producer) -> None:
        self.message = message
        self.producer = producer
        self.timer: Call | None = None
        self.worker: CallWorker | None = None  # the worker processing it, if any
        self.answered = False


class CallPool(BasePool):
    """Workers that serve synchronous calls (a pool with no ``consumes``)."""

    source = None  # it consumes no queue
    workers: list[CallWorker]

    def __init__(
        self,
        env: Environment,
        name: str,
        records: Records,
        spec: PoolSpec,
        work: Work,
        draws: Draws,
        then: FollowUpSink | None = None,
    ) -> None:
        super().__init__(env, name, records, spec, draws, then)
        self.work = work
        self.vanished = 0  # workers down after a silent crash: callers cannot tell them gone
        self.free: deque[CallWorker] = deque()  # one entry per free slot of an up worker
        self.backlog: deque[PendingCall] = deque()  # calls waiting for a free slot
        self.finish(spec)

    def _new_worker(self, index: int, code: int) -> CallWorker:
        return CallWorker(self, index, code)

    def start(self) -> None:
        for worker in self.workers:
            worker.start()
        self.started()

    # -- calls ----------------------------------------------------------------------------
    def call(self, message: Message, producer: Producer) -> None:
        """A producer calls now: refused at once if no worker is up, else it waits."""
        if not self._up and not (self.vanished and producer.timeout is not None):
            producer.call_failed("unavailable")
            return
        self.work.enter()  # the drain waits for every call in progress
        pending = PendingCall(message, producer)
        if producer.timeout is not None:
            pending.timer = Call(self.env, producer.timeout, self._timed_out, pending)
        if self._up:
            self.backlog.append(pending)
            self._serve()
        # else: sent to a host that vanished; nothing answers before the timeout

    def _serve(self) -> None:
        free, backlog = self.free, self.backlog
        while free and backlog:
            pending = backlog.popleft()
            if pending.answered:
                continue  # timed out while waiting (its work already left)
            self._process(free.popleft(), pending)

    def _process(self, worker: CallWorker, pending: PendingCall) -> None:
        message = pending.message
        pending.worker = worker
        worker.process(pending, self.draw_service(message.type, message.service), self._done)

    def _done(self, event: Call) -> None:
        pending: PendingCall = event.value
        worker = pending.worker
        assert worker is not None
        del worker.running[pending]
        pending.worker = None
        now = self.env.now
        failed = self.failure is not None and self.failure() < self.error_rate
        if not failed and self.then is not None:
            self.then.after_call(pending.message, now)  # the effect happened, answered or not
        if not pending.answered:
            producer = pending.producer
            if failed:
                self._fail(pending, "failed")
            else:
                self._answer(pending)
                producer.call_answered(pending.message.published_at, now)
        self.work.leave()
        self.free.append(worker)
        self._serve()

    def _answer(self, pending: PendingCall) -> None:
        pending.answered = True
        if pending.timer is not None:
            pending.timer.cancel()
            pending.timer = None

    def _fail(self, pending: PendingCall, why: str) -> None:
        """The caller gets an error now (``why`` names the producer's counter)."""
        self._answer(pending)
        pending.producer.call_failed(why)

    def _timed_out(self, event: Call) -> None:
        pending: PendingCall = event.value
        pending.timer = None
        if pending.answered:
            return
        self._fail(pending, "timeouts")
        if pending.worker is None:
            self.work.leave()  # waiting, or its worker vanished: nothing runs it any more

    # -- workers coming and going ---------------------------------------------------------
    def worker_up(self, worker: CallWorker) -> None:
        self.free.extend([worker] * self.concurrency)
        self._serve()

    def worker_down(self, worker: CallWorker, silent: bool) -> None:
        self.free = deque(w for w in self.free if w is not worker)
        worker.cancel_running()
        for pending in list(worker.running):
            pending.worker = None
            if pending.answered:
                self.work.leave()  # its caller had given up already
            elif silent and pending.timer is not None:
                pass  # the caller hangs until its timeout (which then leaves the work)
            else:
                self._fail(pending, "failed")  # the connection is reset
                self.work.leave()
        worker.running.clear()
        if not self._up:  # nobody left to serve the calls waiting for a worker
            while self.backlog:
                pending = self.backlog.popleft()
                if pending.answered:
                    continue
                if self.vanished and pending.timer is not None:
                    continue  # waiting on a vanished host: its timeout will tell
                self._fail(pending, "unavailable")
                self.work.leave()


class CallWorker(ConsumerBase):
    """One server process of a call pool: ``concurrency`` calls at once."""

    pool: CallPool

    def __init__(self, pool: CallPool, index: int, code: int) -> None:
        super().__init__(pool, index, code)
        self.silent = False  # down after a silent crash (not yet restarted)

    def process(self, pending: PendingCall, service: float, then: Any) -> None:
        """Serve a call for ``service`` seconds (times the pool's slowdown)."""
        self._run(pending, service, then, pending)

    def cancel_running(self) -> None:
        self._cancel_running()

    def start(self) -> None:
        if self.up:
            return
        if self.silent:
            self.silent = False
            self.pool.vanished -= 1
        self._came_up()
        self.pool.worker_up(self)

    def crash(self, silent: bool = False, clean: bool = False) -> None:
        """The process dies (or stops): its calls in progress fail (see the module doc)."""
        if not self.up:
            return
        self.up = False
        if silent:
            self.silent = True
            self.pool.vanished += 1
        self.pool.worker_went_down(clean)
        self.pool.worker_down(self, silent)
