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
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from sim.model.schedule import Call
from sim.model.workers import Pool

if TYPE_CHECKING:
    from simpy import Environment

    from sim.model.message import Message
    from sim.model.producer import Producer
    from sim.model.work import Work
    from sim.records import Records


class PendingCall:
    """A call from its arrival until the caller has an answer and no worker runs it."""

    __slots__ = ("answered", "message", "producer", "timer", "worker")

    def __init__(self, message: Message, producer: Producer) -> None:
        self.message = message
        self.producer = producer
        self.timer: Call | None = None
        self.worker: CallWorker | None = None  # the worker processing it, if any
        self.answered = False


class CallPool(Pool):
    """Workers that serve synchronous calls (a pool with no ``consumes``)."""

    queue = None  # it consumes no queue

    def __init__(
        self,
        env: Environment,
        name: str,
        records: Records,
        spec: dict[str, Any],
        work: Work,
        ack_latency: Callable[[], float] | None,
        service: Callable[[], float],
        service_by_type: dict[int, Callable[[], float]],
        failure: Callable[[], float] | None,
    ) -> None:
        super().__init__(env, name, records, spec, service, service_by_type, failure)
        self.work = work
        self.vanished = 0  # workers down after a silent crash: callers cannot tell them gone
        self.free: deque[CallWorker] = deque()  # one entry per free slot of an up worker
        self.backlog: deque[PendingCall] = deque()  # calls waiting for a free slot
        self.workers = [
            CallWorker(self, i, records.workers.code(f"{name}/{i}")) for i in range(spec["count"])
        ]

    def start(self) -> None:
        for worker in self.workers:
            worker.start()
        self.started()

    # -- calls ----------------------------------------------------------------------------
    def call(self, message: Message, producer: Producer) -> None:
        """A producer calls now: refused at once if no worker is up, else it waits."""
        if not self._up and not (self.vanished and producer.timeout is not None):
            producer.unavailable += 1
            producer.rejected += 1
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
        service = self.draw_service(message.type, message.service) * self.slowdown
        self.busy_time += service
        now = self.env.now
        pending.worker = worker
        call = Call(self.env, service, self._done, pending)
        call.due = now + service
        worker.running[pending] = call

    def _done(self, event: Call) -> None:
        pending: PendingCall = event._value
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
                producer.accepted += 1
                producer.call_times.append(pending.message.published_at)
                producer.call_times.append(now - pending.message.published_at)
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
        producer = pending.producer
        setattr(producer, why, getattr(producer, why) + 1)
        producer.rejected += 1

    def _timed_out(self, event: Call) -> None:
        pending: PendingCall = event._value
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
        now = self.env.now
        for pending, call in list(worker.running.items()):
            call.cancel()
            self.busy_time -= call.due - now
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


class CallWorker:
    """One server process of a call pool: ``concurrency`` calls at once."""

    def __init__(self, pool: CallPool, index: int, code: int) -> None:
        self.pool = pool
        self.index = index
        self.code = code
        self.up = False
        self.silent = False  # down after a silent crash (not yet restarted)
        self.running: dict[PendingCall, Call] = {}

    def start(self) -> None:
        if self.up:
            return
        self.up = True
        if self.silent:
            self.silent = False
            self.pool.vanished -= 1
        self.pool.went_up(+1)
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
