"""A queue on a broker: its ready line, delivery to consumers, and what brings copies back.

The queue holds copy ids, not message objects: everything about a copy lives in the records.
Its behaviour is a handful of orthogonal mechanisms read from the resolved scenario (a broker
preset is only their defaults):

- **delivery**: ``push`` hands the next ready copy to a consumer with a free prefetch slot
  (round robin, as RabbitMQ does); ``pull`` waits for workers to ask (see `WorkerPool`).
- **leases**: a delivery opens a lease on the copy (``records.lease``); an ack, a visibility
  timer or a return is valid only for the lease it was issued under, so a copy redelivered
  while its first consumer still works on it is acknowledged only by the newest holder.
- **redelivery** of an unacknowledged copy: when the consumer's connection closes
  (``on_disconnect``: after ``disconnect_latency``, or ``heartbeat`` for a silent failure), at
  once when its transaction aborts (``transaction``), when a timer from delivery runs out
  (``visibility_timeout``, or ``lease`` with ``lock_timeout``), or never (``none``). Under a
  timer the copy is deleted by its id: a holder whose time ran out can still delete it, even
  after it was delivered again (SQS accepts an older receipt handle), so a job longer than the
  visibility timeout is repeated but completes.
- **requeue** position, **ordering** (fifo, per-key, priority), **ttl**, **max_deliveries**
  with **dead_letter**, and **overflow** when ``max_length`` ready copies wait.
"""

from __future__ import annotations

from array import array
from collections import deque
from collections.abc import Callable
from contextlib import suppress
from typing import TYPE_CHECKING, Any

from sim.model.lines import FifoLine, KeyedLine, PriorityLine
from sim.model.message import new
from sim.model.schedule import Call
from sim.model.work import Work, inert
from sim.model.workers import CID_MASK, LEASE_SHIFT
from sim.records import COMPLETED, DEAD_LETTERED, EXPIRED, LOST, PENDING, Records

if TYPE_CHECKING:
    from simpy import Environment

    from sim.model.broker import Broker
    from sim.model.routing import ToQueues
    from sim.model.workers import Worker

# Overflow policies: what a full queue does with a new publish.
REJECT_PUBLISH, DROP_HEAD, BLOCK = "reject-publish", "drop-head", "block"
_COMPACT = 4096  # handled lease deadlines kept before the arrays are compacted
Sampler = Callable[[], float]


class Queue:
    """One queue: a line of ready copies and the consumers it serves."""

    def __init__(
        self,
        env: Environment,
        name: str,
        code: int,
        records: Records,
        spec: dict[str, Any],
        broker: Broker,
        sampler: Callable[[str], Sampler | None],
    ) -> None:
        self.env = env
        self.name = name
        self.code = code
        self.records = records
        self.broker = broker
        self.requests = broker.requests  # API calls, by kind
        self.max_length: int | None = spec["max_length"]
        self.overflow: str = spec["overflow"]
        self.ttl: float | None = spec["ttl"]
        self.max_deliveries: int | None = spec["max_deliveries"]
        self.requeue: str = spec["requeue"]
        self.push = spec["delivery"] == "push"
        self.prefetch_on_auto_ack: bool = spec["prefetch_on_auto_ack"]
        self.redelivery: str = spec["redelivery"]
        # The redelivery mode as a strategy chosen now: what a lost consumer's unacknowledged
        # copies go through (see consumer_lost).
        self._redeliver = {
            "none": self._redeliver_never,
            "on_disconnect": self._redeliver_on_disconnect,
            "transaction": self._redeliver_now,
            "visibility_timeout": self._redeliver_by_timer,
            "lease": self._redeliver_by_timer,
        }[self.redelivery]
        self.heartbeat: float = spec["heartbeat"]
        self.disconnect_latency = sampler("disconnect_latency")
        self.deliver_latency = sampler("deliver_latency")
        # Pull delivery: read by the workers' receive loop.
        self.api_latency = sampler("api_latency")
        self.batch_size: int = spec["batch_size"]
        self.wait_time: float = spec["wait_time"]
        self.poll_interval: float = spec["poll_interval"]
        self.notify: bool = spec["notify"]
        self.notify_latency = sampler("notify_latency")
        # A timer from delivery returns the copy unless it is acknowledged first.
        self.lease_timeout: float | None = (
            spec["visibility_timeout"] if self.redelivery == "visibility_timeout"
            else spec["lock_timeout"] if self.redelivery == "lease" else None
        )
        self.restore_interval: float | None = (
            spec["restore_interval"] if self.redelivery == "visibility_timeout" else None
        )
        if spec["ordering"] == "per-key":
            self.ready: Any = KeyedLine(records)
        elif spec["priority"]:
            self.ready = PriorityLine(records)
        else:
            self.ready = FifoLine()
        self._fifo = isinstance(self.ready, FifoLine)
        self.dead_letter: Queue | None = None
        # Set by the model with dead_letter: the route to it and the publisher that uses it.
        self.dead_letter_route: ToQueues | None = None
        self.dead_letters: Any = None
        self.consumers: list[Worker] = []
        self.free: deque[Worker] = deque()  # push: up consumers with room for another copy
        self.pollers: deque[Worker] = deque()  # pull: workers in a long poll, waiting
        self.sleepers: set[Worker] = set()  # pull: workers sleeping after an empty receive
        self.blocked: deque[int] = deque()  # publishes waiting for room (overflow: block)
        # Lease timers. Every lease of a queue has the same length, so deadlines come in the
        # order leases were opened: one array of deadlines and a single wake-up per queue,
        # instead of an event per delivery left in SimPy's heap after its ack (see _expire).
        self.timed: set[int] = set()  # copies whose timed lease is live (not acked, not out)
        self._due = array("d")  # deadline of each lease opened, in order
        self._due_token = array("q")  # its delivery token (copy id | lease << LEASE_SHIFT)
        self._due_head = 0  # first deadline not yet handled
        self._wake: Call | None = None  # the one pending wake-up for the head deadline
        self.timed_out: list[int] = []  # visibility ran out; waiting for a restore check
        # Deliveries still held by a worker although their copy ended (see _orphan_holders).
        self.orphans: set[int] = set()
        self._dispatching = False  # a copy ending inside dispatch must not start another one
        # Expiry is lazy (at the head, as RabbitMQ does) where consumers take copies; a queue
        # nobody consumes whose expired copies go on to a consumed one expires them on time.
        self._expiries: deque[tuple[float, int]] | None = None
        self._expiry_wake: Call | None = None
        # Work in progress (the drain's count). The model gives a consumed queue the run's
        # tracker; an unconsumed queue keeps an inert one: its copies never hold a drain open.
        self.work: Work = inert()
        self.in_flight = 0  # copies with a live lease (delivered, not yet acknowledged)
        self.max_depth = 0
        # Cumulative counts, sampled into the time series.
        self.enqueued = 0
        self.completed = 0
        self.rejected = 0  # publishes finally refused (after any retries)
        self.refused = 0  # refused publish attempts, retries included
        self.republished = 0  # copies taken again: a nacked publish republished (Republish)

    # -- publishing ---------------------------------------------------------------------
    def rejects(self) -> bool:
        """Whether a publish now would be refused (full, ``reject-publish``).

        A copy that a waiting consumer takes at once never counts against ``max_length``
        (with ``max_length: 0`` the queue is a loss system: Erlang B).
        """
        limit = self.max_length
        return (
            limit is not None
            and self.overflow == REJECT_PUBLISH
            and len(self.ready) >= limit
            and not (self.free or self.pollers)
        )

    def put(self, cid: int) -> None:
        """Place an accepted copy: straight to a waiting consumer, else in the ready line."""
        self.work.count += 1  # (Work.enter, inlined: once per copy)
        self.enqueued += 1
        if self._fifo and (self.free or self.pollers) and not self.broker.down:
            self._hand_over(cid)
            return
        limit = self.max_length
        ready = self.ready
        if limit is not None and (self.blocked or len(ready) >= limit):
            if self.overflow == BLOCK:
                # The publisher waits: the copy is accepted only when room appears.
                self.records.accepted_at[cid] = float("nan")
                self.blocked.append(cid)
                return
            if self.overflow == DROP_HEAD:
                ready.put(cid)
                while len(ready) > limit:
                    self._drop(ready.take_oldest())
                self._after_put()
                return
        ready.put(cid)
        if len(ready) > self.max_depth:
            self.max_depth = len(ready)
        if self._expiries is not None:
            self._expire_later(cid)
        self._after_put()

    def _after_put(self) -> None:
        if self.broker.down:
            return
        if not self._fifo and (self.free or self.pollers):
            self.dispatch()
        elif self.sleepers and self.notify:
            self._wake_sleepers()

    def _drop(self, cid: int) -> None:
        """Drop-head overflow: the oldest ready copy goes to the dead-letter queue or is lost."""
        self._dead_letter_or(cid, LOST)

    def _dead_letter_or(self, cid: int, state: int) -> None:
        """End a copy that will not be processed here: dead-lettered, or ``state``."""
        route = self.dead_letter_route
        if route is None:
            self._end(cid, state)
            return
        # Dead-lettering publishes the message again (the next copy of it), at once, through
        # the one publishing path: a dead-letter queue that refuses it (full, or its broker
        # down) leaves the copy lost. The new copy exists before this one ends: the work is
        # handed over, never dropped to zero in between.
        rec = self.records
        message_id = rec.id[cid]
        service = rec.service_time[cid] if rec.service_time is not None else None
        message = new(message_id, rec.key[cid], rec.type[cid], rec.flow[cid],
                      rec.published_at[cid], rec.producer[cid])
        message.priority = rec.priority[cid]
        message.headers = rec.headers.get(message_id)
        if service is not None and service == service:  # not NaN: a trace gave it
            message.service = service
        message.copy = rec.copy[cid] + 1
        taken = route.broker.accept(message, route, self.dead_letters, 0, self.env.now)
        self._end(cid, DEAD_LETTERED if taken else LOST)

    # -- taking copies off the line -----------------------------------------------------
    def _take(self) -> int | None:
        """The next deliverable copy; copies older than ``ttl`` expire on the way."""
        ready = self.ready
        while ready:
            cid = ready.take()
            if self.ttl is None or self.env.now - self.records.accepted_at[cid] <= self.ttl:
                return cid
            self._dead_letter_or(cid, EXPIRED)
        return None

    def expire_on_time(self) -> None:
        """Expire copies when their ttl runs out, not when a consumer reaches them (the model
        asks this of an unconsumed queue whose expired copies are dead-lettered onward)."""
        self._expiries = deque()

    def _expire_later(self, cid: int) -> None:
        due = self.env.now + self.ttl  # type: ignore[operator]
        self._expiries.append((due, cid))  # type: ignore[union-attr]
        if self._expiry_wake is None:
            self._expiry_wake = Call(self.env, self.ttl, self._expire_due)  # type: ignore[arg-type]

    def _expire_due(self, _event: Call) -> None:
        expiries, now, rec = self._expiries, self.env.now, self.records
        assert expiries is not None
        while expiries and expiries[0][0] <= now:
            _, cid = expiries.popleft()
            if rec.state[cid] != PENDING:
                continue  # dropped meanwhile
            try:
                self.ready.remove(cid)
            except (ValueError, KeyError):
                continue  # not in the line (still blocked outside it)
            self._dead_letter_or(cid, EXPIRED)
        self._expiry_wake = (
            Call(self.env, expiries[0][0] - now, self._expire_due) if expiries else None
        )

    def expire_overdue(self) -> None:
        """End-of-run sweep: ready copies whose ttl has passed expire (lazy expiry's rest)."""
        if self.ttl is None:
            return
        now, accepted = self.env.now, self.records.accepted_at
        for cid in list(self.ready.snapshot()):
            if now - accepted[cid] > self.ttl:
                self.ready.remove(cid)
                self._dead_letter_or(cid, EXPIRED)

    def dispatch(self) -> None:
        """Hand ready copies to waiting consumers, then admit blocked publishes."""
        if self.broker.down or self._dispatching:
            return
        # A copy that ends in here (expired at the head) may free a key and ask to dispatch:
        # this loop goes on anyway, so that inner call returns at once.
        self._dispatching = True
        free, ready = self.free, self.ready
        take = ready.take if self.ttl is None else self._take
        while free and ready:
            cid = take()
            if cid is None:
                break
            worker = free.popleft()
            self._deliver(cid, worker)
            if worker.held < worker.prefetch or worker.unbounded:
                free.append(worker)
        while self.pollers and ready:
            cid = take()
            if cid is None:
                break
            self._hand_to_poller(cid)
        self._dispatching = False
        if self.blocked:
            self._admit_blocked()

    def _admit_blocked(self) -> None:
        """Accept waiting publishes (overflow: block) while there is room, in order."""
        blocked, ready, limit = self.blocked, self.ready, self.max_length or 0
        while blocked:
            if len(ready) < limit:
                cid = blocked.popleft()
                self.records.accepted_at[cid] = self.env.now
                ready.put(cid)
                if len(ready) > self.max_depth:
                    self.max_depth = len(ready)
            elif not len(ready) and (self.free or self.pollers):
                cid = blocked.popleft()
                self.records.accepted_at[cid] = self.env.now
                self._hand_over(cid)
            else:
                break
        if ready and (self.free or self.pollers):
            self.dispatch()

    def take_for(self, worker: Worker, n: int) -> int:
        """Pull: deliver up to ``n`` ready copies to ``worker``; returns how many."""
        if self.broker.down:
            return 0
        taken = 0
        while taken < n and self.ready:
            cid = self._take()
            if cid is None:
                break
            self._deliver(cid, worker)
            taken += 1
        if taken:
            self._admit_blocked()
        return taken

    def _hand_over(self, cid: int) -> None:
        """Deliver to a waiting consumer (the line is empty, so order is kept)."""
        if self.free:
            worker = self.free.popleft()
            self._deliver(cid, worker)
            if worker.held < worker.prefetch or worker.unbounded:
                self.free.append(worker)
        else:
            self._hand_to_poller(cid)

    def _hand_to_poller(self, cid: int) -> None:
        worker = self.pollers.popleft()
        worker.end_long_poll()
        self.requests.receive += 1  # the long poll returns with this copy
        self._deliver(cid, worker)

    def _wake_sleepers(self) -> None:
        """NOTIFY: every sleeping poller wakes after the notify latency and receives again."""
        for worker in list(self.sleepers):
            worker.wake(self.notify_latency() if self.notify_latency else 0.0)
        self.sleepers.clear()

    def _deliver(self, cid: int, worker: Worker) -> None:
        rec = self.records
        rec.deliveries[cid] += 1
        lease = rec.lease[cid] + 1
        rec.lease[cid] = lease
        delivery = cid | (lease << LEASE_SHIFT)
        if worker.auto_ack:
            lease = -1  # acknowledged on delivery: the broker forgets it
            if not self._fifo:
                self.ready.done(cid)
        else:
            self.in_flight += 1
            if self.lease_timeout is not None:
                self._open_timed_lease(cid, delivery)
        # The worker books the delivery itself (holding, prefetch count). first_delivered_at
        # is set as a delivery arrives: one lost on the way (its worker stopped, its lease ran
        # out first) never reached a consumer.
        if self.deliver_latency is None:
            worker.deliver(delivery, lease)
        else:
            worker.hold(delivery, lease)
            Call(self.env, self.deliver_latency(), worker.received, delivery)

    # -- the source interface: what a pool's workers ask of the queue --------------------
    # attach / detach / request / ack / settle_failed (nack) / consumer_lost (disconnected):
    # the queue owns its consumer lines (free, pollers, sleepers); a worker owns what it holds.
    def attach(self, worker: Worker) -> None:
        """A worker (re)connects and asks for work: pushed to, or polling."""
        if self.restore_interval is not None:
            self.restore_check()
        if worker.pool.batch is not None:
            worker.pool.batch.release(worker)  # a batch job's worker takes work only in a run
        elif self.push:
            self.free.append(worker)
            self.dispatch()
        else:
            worker.poll()

    def detach(self, worker: Worker, silent: bool, clean: bool) -> None:
        """A worker is gone (crash, or ``clean`` stop): forget it, then settle what it held."""
        if worker in self.free:
            self.free.remove(worker)
        if worker in self.pollers:
            self.pollers.remove(worker)
            self.requests.empty_receive += 1  # its long poll was made, and ends with nothing
        self.sleepers.discard(worker)
        tokens = worker.drop_all()
        held = sorted((t & CID_MASK, lease) for t, lease in tokens.items())
        self.consumer_lost(held, silent, clean)
        if self.orphans:
            for token in tokens:  # after the copies' fates are settled: a hand-off
                self.let_go(token)

    def request(self, worker: Worker, n: int) -> int:
        """Pull: a receive of up to ``n`` copies; an empty one leaves the worker waiting
        (long poll, sleep, or until the broker is back). Returns how many were delivered."""
        got = self.take_for(worker, n)
        if got:
            self.requests.receive += 1
            return got
        if self.broker.down:
            self.requests.empty_receive += 1  # (an error answer: a call all the same)
            self.sleepers.add(worker)  # until the broker is back (outage_ended)
        elif self.wait_time > 0:
            # A long poll: one request, counted when it returns (a copy, or empty).
            self.pollers.append(worker)
            worker.wait(self.wait_time, worker._long_poll_expired)
        else:
            self.requests.empty_receive += 1
            self.sleepers.add(worker)
            worker.wait(self.poll_interval, worker._wake)
        return 0

    def long_poll_expired(self, worker: Worker) -> bool:
        """A long poll ended empty; True if the worker should sleep ``poll_interval`` now."""
        self.requests.empty_receive += 1
        if worker in self.pollers:
            self.pollers.remove(worker)
        if self.poll_interval > 0:
            self.sleepers.add(worker)
            return True
        return False

    def woke(self, worker: Worker) -> None:
        self.sleepers.discard(worker)

    # -- acknowledgements and returns ---------------------------------------------------
    def ack(self, cid: int, lease: int) -> bool:
        """An ack reaches the broker; True if it settles a pending copy.

        An early ack may land after the processing ended (the copy is already completed): it
        still closes the lease. With a visibility timeout, a copy that became visible again
        but was not received since can still be deleted by its holder: it leaves the line.
        Under a timer an ack deletes by copy id, so an older holder's ack settles the copy
        even after it was delivered again (see the module docstring).
        """
        self.requests.ack += 1
        rec = self.records
        if self.broker.down:
            return False
        if rec.lease[cid] != lease:
            if self.lease_timeout is None or lease < 0 or rec.state[cid] != PENDING:
                return False
            if cid in self.timed:  # delivered again: the newer holder now works for nothing
                self._close_lease(cid)
                if not self._fifo:
                    self.ready.done(cid)
            else:  # visible again, waiting for a restore check, or for a delayed requeue
                self._withdraw(cid)
            return True
        if self.lease_timeout is None:
            self.in_flight -= 1  # (_end_lease without a timer: the common case, inlined)
        elif cid not in self.timed:
            self._withdraw(cid)
        else:
            self._end_lease(cid)
        if not self._fifo:
            self.ready.done(cid)
        return rec.state[cid] == PENDING

    def _orphan_holders(self, cid: int) -> None:
        """The copy has just ended, but workers may still hold earlier deliveries of it (a
        visibility timeout ran out, a connection dropped in an outage): their processing runs
        to its end and counts, so the drain waits for each to be let go."""
        orphans = self.orphans
        for worker in self.consumers:
            for token in worker.holding:
                if token & CID_MASK == cid and token not in orphans:
                    orphans.add(token)
                    self.work.enter()

    def let_go(self, token: int) -> None:
        """A worker is done with a delivery: if it was orphaned, the drain no longer waits."""
        if token in self.orphans:
            self.orphans.remove(token)
            self.work.leave()

    def _withdraw(self, cid: int) -> None:
        """Take a copy whose visibility ran out off the line (or the restore list)."""
        if cid in self.timed_out:
            self.timed_out.remove(cid)
            return
        with suppress(ValueError, KeyError):  # gone from the line: expired or dead-lettered
            self.ready.remove(cid)

    def release(self, worker: Worker) -> None:
        """A consumer has room again (an ack arrived, or it finished an auto-acked copy)."""
        if not worker.up:
            return
        if worker.pool.batch is not None:
            worker.pool.batch.release(worker)  # a batch job hands out work only in a run
            return
        if self.push:
            if worker.held == worker.prefetch - 1 and not worker.unbounded:
                self.free.append(worker)
                if self.ready or self.blocked:
                    self.dispatch()
            elif not self._fifo and self.free and self.ready:
                self.dispatch()  # the ack freed a key whose next copy can go to anyone free
        else:
            worker.poll()
            if not self._fifo and self.pollers and self.ready:
                self.dispatch()  # a long poll returns as soon as a freed key's copy is there

    def settle_failed(self, cid: int, lease: int, requeue: bool, delay: float) -> None:
        """A nack: processing failed. Requeue (now or after ``delay``) or dead-letter."""
        self.requests.nack += 1
        rec = self.records
        if rec.state[cid] != PENDING:
            return
        if lease >= 0:
            if not self._lease_live(cid, lease):
                return  # redelivered, or its visibility ran out: it is back on the line
            self._close_lease(cid)
        if not requeue:
            self._dead_letter_or(cid, LOST)
        elif delay > 0:
            Call(self.env, delay, self._requeue_later, cid)
        else:
            self._return([cid])

    def _requeue_later(self, event: Call) -> None:
        cid = event._value
        if self.records.state[cid] == PENDING:
            self._return([cid])

    def _lease_live(self, cid: int, lease: int) -> bool:
        """Whether ``lease`` is the copy's current, unexpired lease."""
        return self.records.lease[cid] == lease and (
            self.lease_timeout is None or cid in self.timed
        )

    def _close_lease(self, cid: int) -> None:
        """End the copy's current lease: a late ack or timer for it will be ignored."""
        self.records.lease[cid] += 1
        self._end_lease(cid)

    def _end_lease(self, cid: int) -> None:
        self.in_flight -= 1
        self.timed.discard(cid)  # its deadline stays in _due, skipped when reached

    def _return(self, cids: list[int]) -> None:
        """Copies come back to the line (their leases already closed), or are dead-lettered."""
        rec, limit = self.records, self.max_deliveries
        back = []
        for cid in cids:
            if rec.state[cid] != PENDING:
                continue
            if limit is not None and rec.deliveries[cid] >= limit:
                self._dead_letter_or(cid, LOST)
            else:
                back.append(cid)
        if back:
            self.ready.put_back(back, self.requeue)
            if len(self.ready) > self.max_depth:
                self.max_depth = len(self.ready)
            self.dispatch()
            if self.sleepers and self.notify:
                self._wake_sleepers()

    # -- lease timers -------------------------------------------------------------------
    def _open_timed_lease(self, cid: int, token: int) -> None:
        self.timed.add(cid)
        self._due.append(self.env.now + self.lease_timeout)  # type: ignore[operator]
        self._due_token.append(token)
        if self._wake is None:
            self._wake = Call(self.env, self.lease_timeout, self._expire)  # type: ignore[arg-type]

    def _expire(self, event: Call) -> None:
        """The head deadline is due: expire every live lease due by now, then sleep until the
        next live one. Settled leases are skipped here, never woken up for."""
        self._wake = event  # leases opened meanwhile are handled below, not woken for
        now, rec, timed = self.env.now, self.records, self.timed
        due, tokens = self._due, self._due_token
        i = self._due_head
        while i < len(due) and due[i] <= now:
            token = tokens[i]
            i += 1
            cid, lease = token & CID_MASK, token >> LEASE_SHIFT
            if cid in timed and rec.lease[cid] == lease:
                self._lease_expired(cid)
        while i < len(due):
            token = tokens[i]
            cid = token & CID_MASK
            if cid in timed and rec.lease[cid] == token >> LEASE_SHIFT:
                break
            i += 1
        if i >= _COMPACT and 2 * i >= len(due):  # drop the handled deadlines, amortised O(1)
            del due[:i]
            del tokens[:i]
            i = 0
        self._due_head = i
        self._wake = Call(self.env, due[i] - now, self._expire) if i < len(due) else None

    def _lease_expired(self, cid: int) -> None:
        """A live lease ran out without an ack."""
        self.timed.discard(cid)
        self.in_flight -= 1
        if self.records.state[cid] != PENDING:
            return
        # The lease stays: until someone receives the copy again, its holder may still delete
        # it (see ack). A new delivery opens a new lease.
        if self.restore_interval is not None:
            self.timed_out.append(cid)  # visible again only at a live worker's restore check
        else:
            self._return([cid])

    def restore_check(self) -> None:
        """Celery/kombu: a live worker restores the timed-out copies (to the head)."""
        if self.timed_out and any(worker.up for worker in self.consumers):
            cids, self.timed_out = self.timed_out, []
            self._return(cids)

    def consumer_lost(self, held: list[tuple[int, int]], silent: bool, clean: bool) -> None:
        """A consumer died or stopped holding these (copy, lease) pairs.

        Acknowledged copies (lease -1) that had not completed are lost with the worker's
        memory. Unacknowledged ones come back as the redelivery rule says.
        """
        rec = self.records
        unacked = []
        for cid, lease in held:
            if rec.state[cid] != PENDING:
                if lease >= 0 and self._lease_live(cid, lease):
                    self._close_lease(cid)  # completed, its early ack died with the worker
                    if not self._fifo:
                        self.ready.done(cid)  # and its key is free (per-key lines)
                continue
            if lease < 0:
                if not self._fifo:
                    self.ready.done(cid)
                self._end(cid, LOST)
            elif rec.lease[cid] == lease:
                unacked.append((cid, lease))
        if unacked:
            self._redeliver(unacked, silent, clean)

    def _redeliver_never(self, unacked: list[tuple[int, int]], silent: bool,
                         clean: bool) -> None:
        """redelivery: none: what the consumer held is lost with it."""
        for cid, _ in unacked:
            self._close_lease(cid)
            self._end(cid, LOST)

    def _redeliver_on_disconnect(self, unacked: list[tuple[int, int]], silent: bool,
                                 clean: bool) -> None:
        """The OS closes a dead process's socket at once; a vanished host is noticed only
        when its heartbeats stop."""
        delay = self.heartbeat if silent else (
            self.disconnect_latency() if self.disconnect_latency else 0.0)
        Call(self.env, delay, self._connection_closed, unacked)

    def _redeliver_now(self, unacked: list[tuple[int, int]], silent: bool,
                       clean: bool) -> None:
        """The database aborts the dead connection's transaction: back at once."""
        self._connection_closed_now(unacked)

    def _redeliver_by_timer(self, unacked: list[tuple[int, int]], silent: bool,
                            clean: bool) -> None:
        """visibility_timeout and lease: the timers started at delivery bring them back; a
        clean stop gives them back at once (SQS: visibility set to 0)."""
        if clean:
            self._connection_closed_now(unacked)

    def _connection_closed(self, event: Call) -> None:
        self._connection_closed_now(event._value)

    def _connection_closed_now(self, unacked: list[tuple[int, int]]) -> None:
        rec = self.records
        back = []
        for cid, lease in unacked:
            if rec.state[cid] == PENDING and self._lease_live(cid, lease):
                self._close_lease(cid)
                back.append(cid)
        self._return(back)

    # -- broker outages -----------------------------------------------------------------
    def outage_started(self, loses_messages: bool) -> None:
        """The broker went down. Non-durable (or in-process) queues lose every copy; durable
        ones keep theirs, and consumers' unacknowledged copies come back as connections drop."""
        rec = self.records
        if loses_messages:
            for cid in [*self.ready.drain_all(), *self.blocked, *self.timed_out]:
                self._end(cid, LOST)
            self.blocked.clear()
            self.timed_out.clear()
        elif self.redelivery not in ("on_disconnect", "transaction"):
            return  # leases survive the outage; acks fail meanwhile, so the timers return them
        back = []
        for worker in self.consumers:
            for delivery, lease in list(worker.holding.items()):
                cid = delivery & CID_MASK
                if lease < 0 or rec.lease[cid] != lease or rec.state[cid] != PENDING:
                    continue
                self._close_lease(cid)
                if loses_messages:
                    if not self._fifo:
                        self.ready.done(cid)
                    self._end(cid, LOST)
                else:
                    back.append(cid)
        self._return(sorted(back))

    def outage_ended(self) -> None:
        self.dispatch()
        if not self.push:
            for worker in list(self.sleepers):
                worker.wake(0.0)
            self.sleepers.clear()

    # -- end states ---------------------------------------------------------------------
    def complete(self, cid: int, at: float, worker_code: int) -> None:
        """The copy was processed and acknowledged (first time only counts)."""
        rec = self.records
        if rec.state[cid] != PENDING:
            return
        rec.state[cid] = COMPLETED
        rec.completed_at[cid] = at
        rec.worker[cid] = worker_code
        if rec.deliveries[cid] > 1:  # the only way another worker can still hold it
            self._orphan_holders(cid)
        self.completed += 1
        work = self.work  # (Work.leave, inlined: once per copy)
        work.count -= 1
        if not work.count and not work.publishing:
            work.idle()

    def _end(self, cid: int, state: int) -> None:
        rec = self.records
        if rec.state[cid] != PENDING:
            return
        rec.state[cid] = state
        if rec.deliveries[cid]:
            self._orphan_holders(cid)
        if not self._fifo:
            self.ready.done(cid)  # a per-key line frees the key if this copy held it
            if self.ready and (self.free or self.pollers):
                self.dispatch()
        self.work.leave()
