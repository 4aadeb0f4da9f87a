"""A queue on a broker: a facade over its mechanisms, and the delivery of copies to consumers.

The queue holds copy ids, not message objects: everything about a copy lives in the records.
Its behaviour is a handful of orthogonal mechanisms read from the resolved scenario (a broker
preset is only their defaults), each in its own module:

- **the ready line** (`sim.model.lines`): which copy goes next (fifo, per-key, priority) and
  where a returned one goes back (``requeue``);
- **admission** (`sim.model.admission`): ``overflow`` when ``max_length`` ready copies wait;
- **expiry** (`sim.model.expiry`): ``ttl``, lazily at the head or on time;
- **settlement** (`sim.model.settlement`, over `sim.model.leases`, `sim.model.redelivery`):
  acks, nacks, lease timers, lost consumers, each valid only under the lease it was issued
  for; ``max_deliveries`` with ``dead_letter``;
- **waiting consumers** of the pull loop (`sim.model.pull`): long polls, sleepers, notify;
- **delivery** (here): ``push`` hands the next ready copy to a consumer with a free prefetch
  slot (round robin, as RabbitMQ does); ``pull`` waits for workers to ask. The queue owns its
  consumer lines; a worker owns what it holds;
- **outages** and **end states** (here): what a broker outage does to the copies, and the one
  place a copy ends (completed, dead-lettered, expired, lost).

A worker reaches the queue only through `sim.model.contracts.QueueSource` (attach, detach,
request, ack, nack, complete, release), the queue a worker only through `Consumer`.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING, Any

from sim.model import expiry
from sim.model.admission import BLOCK, Admission
from sim.model.contracts import Consumer, Hub, Route, Sender
from sim.model.leases import CID_MASK, token
from sim.model.lines import make_line
from sim.model.message import from_records
from sim.model.pull import Waiting
from sim.model.schedule import Call
from sim.model.settlement import Settlement
from sim.model.work import Work, inert
from sim.records import COMPLETED, DEAD_LETTERED, EXPIRED, LOST, PENDING, Records
from sim.scenario.specs import QueueSpec

if TYPE_CHECKING:
    from simpy import Environment

    from sim.model.latencies import Latencies


class Queue:
    """One queue: a line of ready copies and the consumers it serves.

    ``work`` is the drain's count for a queue that has consumers (or that expires into one);
    an unconsumed queue keeps an inert one: its copies never hold a drain open. ``on_time``:
    copies expire when their ttl runs out, not when a consumer reaches them (asked of an
    unconsumed queue whose expired copies are dead-lettered onward)."""

    def __init__(
        self,
        env: Environment,
        name: str,
        code: int,
        records: Records,
        spec: QueueSpec,
        broker: Hub,
        latencies: Latencies,
        work: Work | None = None,
        on_time: bool = False,
    ) -> None:
        self.env = env
        self.name = name
        self.code = code
        self.records = records
        self.broker = broker
        self.ttl: float | None = spec.ttl
        self.max_deliveries: int | None = spec.max_deliveries
        self.requeue: str = spec.requeue
        self.push = spec.delivery == "push"
        self.prefetch_on_auto_ack: bool = spec.prefetch_on_auto_ack
        self.deliver_latency = latencies.deliver
        # Pull delivery: read by the workers' receive loop.
        self.api_latency = latencies.api
        self.batch_size: int = spec.batch_size
        self.poll_interval: float = spec.poll_interval
        self.ready = make_line(spec.ordering, spec.priority, records)
        # A copy for a waiting consumer may skip the line when the line says order is kept.
        self._direct = self.ready.direct
        self.max_length: int | None = spec.max_length
        self.admission = (None if self.max_length is None else Admission(
            self.ready, self.max_length, spec.overflow, records.accepted_at, self._drop))
        # Publishes waiting for room (overflow: block); always empty without a bound.
        self.blocked: deque[int] = (
            deque() if self.admission is None else self.admission.blocked)
        # Set by the model with dead_letter: the route to it and the publisher that uses it.
        self.dead_letter_route: Route | None = None
        self.dead_letters: Sender | None = None
        self.consumers: list[Consumer] = []
        self.free: deque[Consumer] = deque()  # push: up consumers with room for another copy
        # pull: workers in a long poll, and workers asleep after an empty receive
        self.waiting = waiting = Waiting(spec, latencies.notify, broker.requests)
        self.pollers = waiting.pollers
        self.long_poll_expired = waiting.long_poll_expired
        self.woke = waiting.woke
        # Deliveries still held by a worker although their copy ended (see _orphan_holders).
        self.orphans: set[int] = set()
        self._dispatching = False  # a copy ending inside dispatch must not start another one
        self.work: Work = inert() if work is None else work
        self._on_time = (expiry.OnTime(env, self.ttl, self._expired)
                         if on_time and self.ttl is not None else None)
        # Leases, acks, nacks and lost consumers; its calls are the queue's own (no frame
        # in between on the hot path: the bound methods are the queue's attributes).
        self.settlement = settlement = Settlement(
            env, records, self, spec, latencies.disconnect)
        self.restore_interval = settlement.restore_interval
        self.ack = settlement.ack
        self.nack = settlement.nack
        self.restore_check = settlement.restore_check
        self.max_depth = 0
        # Cumulative counts, sampled into the time series.
        self.enqueued = 0
        self.completed = 0
        self.rejected = 0  # publishes finally refused (after any retries)
        self.refused = 0  # refused publish attempts, retries included
        self.republished = 0  # copies taken again: a nacked publish republished (Republish)

    def register(self, consumer: Consumer) -> None:
        """A worker of a pool consuming this queue exists (it attaches when it starts)."""
        self.consumers.append(consumer)

    def dead_letter_to(self, route: Route, sender: Sender) -> None:
        """Connect the dead-letter queue: ``route`` to it, published by ``sender``."""
        self.dead_letter_route = route
        self.dead_letters = sender

    # -- what the broker, the monitor and the model ask ------------------------------------
    def rejects(self) -> bool:
        """Whether a publish now would be refused (full, ``reject-publish``)."""
        admission = self.admission
        return admission is not None and admission.rejects(bool(self.free or self.pollers))

    def refuse(self) -> None:
        self.refused += 1  # every refused attempt; `rejected` counts final refusals

    def reject(self) -> None:
        self.rejected += 1

    def republish(self) -> None:
        self.republished += 1

    @property
    def in_flight(self) -> int:
        """Copies with a live lease (delivered, not yet acknowledged)."""
        return self.settlement.in_flight

    @property
    def timed(self) -> set[int]:
        """Copies whose timed lease is live (empty without lease timers)."""
        return self.settlement.timed

    def depth(self) -> int:
        return len(self.ready)

    def backlog(self) -> int:
        """Ready and unacknowledged copies (as RabbitMQ counts a queue's messages)."""
        return len(self.ready) + self.in_flight

    def max_useful_consumers(self) -> int | None:
        return None

    def partition_lags(self) -> list[int] | None:
        return None

    def figures(self, end: float) -> dict[str, Any]:
        """The queue's counts for the summary."""
        return {"rejected": self.rejected, "refused_attempts": self.refused,
                "max_depth": self.max_depth, "republished_copies": self.republished}

    def audit(self) -> list[str]:
        problems = []
        if self.in_flight < 0:
            problems.append(f"queue {self.name}: in_flight {self.in_flight} < 0")
        held = {t for w in self.consumers for t in w.holding}
        if self.orphans - held:
            problems.append(f"queue {self.name}: orphaned deliveries nobody holds")
        return problems

    # -- publishing ---------------------------------------------------------------------
    def put(self, cid: int) -> None:
        """Place an accepted copy: straight to a waiting consumer, else in the ready line."""
        self.work.count += 1  # (Work.enter, inlined: once per copy)
        self.enqueued += 1
        if self._direct and (self.free or self.pollers) and not self.broker.down:
            self._hand_over(cid)
            return
        admission = self.admission
        if admission is not None and admission.overflows(cid):
            if admission.policy != BLOCK:
                self._after_put()  # (drop-head: in the line, the oldest dropped)
            return
        ready = self.ready
        ready.put(cid)
        if len(ready) > self.max_depth:
            self.max_depth = len(ready)
        if self._on_time is not None:
            self._on_time.later(cid)
        self._after_put()

    def _after_put(self) -> None:
        if self.broker.down:
            return
        if self.free or self.pollers:  # (a line that keeps order was handed over before)
            self.dispatch()
        else:
            self.waiting.notified()

    def _drop(self, cid: int) -> None:
        """Drop-head overflow: the oldest ready copy goes to the dead-letter queue or is lost."""
        self.dead_letter_or(cid, LOST)

    def dead_letter_or(self, cid: int, state: int) -> None:
        """End a copy that will not be processed here: dead-lettered, or ``state``."""
        route = self.dead_letter_route
        if route is None or self.dead_letters is None:
            self.end(cid, state)
            return
        # Dead-lettering publishes the message again (the next copy of it), at once, through
        # the one publishing path: a dead-letter queue that refuses it (full, or its broker
        # down) leaves the copy lost. The new copy exists before this one ends: the work is
        # handed over, never dropped to zero in between.
        message = from_records(self.records, cid)
        message.copy += 1
        taken = route.broker.accept(message, route, self.dead_letters, 0, self.env.now)
        self.end(cid, DEAD_LETTERED if taken else LOST)

    # -- expiry -------------------------------------------------------------------------
    def _take(self) -> int | None:
        """The next deliverable copy; copies older than ``ttl`` expire on the way."""
        ready = self.ready
        while ready:
            cid = ready.take()
            if self.ttl is None or self.env.now - self.records.accepted_at[cid] <= self.ttl:
                return cid
            self.dead_letter_or(cid, EXPIRED)
        return None

    def _expired(self, cid: int) -> None:
        """On-time expiry: the copy's ttl ran out (if it still waits in the line)."""
        if self.records.state[cid] != PENDING:
            return  # dropped meanwhile
        try:
            self.ready.remove(cid)
        except (ValueError, KeyError):
            return  # not in the line (still blocked outside it)
        self.dead_letter_or(cid, EXPIRED)

    def expire_overdue(self) -> None:
        """End-of-run sweep: ready copies whose ttl has passed expire (lazy expiry's rest)."""
        if self.ttl is None:
            return
        for cid in expiry.overdue(self.ready.snapshot(), self.records.accepted_at,
                                  self.env.now, self.ttl):
            self.ready.remove(cid)
            self.dead_letter_or(cid, EXPIRED)

    # -- delivery -----------------------------------------------------------------------
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
        accepted_at = self.records.accepted_at
        while blocked:
            if len(ready) < limit:
                cid = blocked.popleft()
                accepted_at[cid] = self.env.now
                ready.put(cid)
                if len(ready) > self.max_depth:
                    self.max_depth = len(ready)
            elif not len(ready) and (self.free or self.pollers):
                cid = blocked.popleft()
                accepted_at[cid] = self.env.now
                self._hand_over(cid)
            else:
                break
        if ready and (self.free or self.pollers):
            self.dispatch()

    def take_for(self, worker: Consumer, n: int) -> int:
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
        self.broker.requests.receive += 1  # (costs) the long poll returns with this copy
        self._deliver(cid, worker)

    def _deliver(self, cid: int, worker: Consumer) -> None:
        """The one place a copy is delivered: a new lease, then the worker books it."""
        rec = self.records
        rec.deliveries[cid] += 1
        lease = rec.lease[cid] + 1
        rec.lease[cid] = lease
        delivery = token(cid, lease)
        if worker.auto_ack:
            lease = -1  # acknowledged on delivery: the broker forgets it
            self.ready.done(cid)
        else:
            settlement = self.settlement  # (Settlement.open, inlined: once per copy)
            settlement.in_flight += 1
            if settlement.timers is not None:
                settlement.timers.open(cid, delivery)
        # The worker books the delivery (holding, prefetch count); first_delivered_at is set
        # as it arrives: one lost on the way (worker stopped, lease ran out) reached no one.
        if self.deliver_latency is None:
            worker.deliver(delivery, lease)
        else:
            worker.hold(delivery, lease)
            Call(self.env, self.deliver_latency(), worker.received, delivery)

    # -- the source interface: what a pool's workers ask of the queue --------------------
    def attach(self, worker: Consumer) -> None:
        """A worker (re)connects and asks for work: pushed to, or polling."""
        if self.restore_interval is not None:
            self.restore_check()
        if worker.scheduled:
            worker.room()  # a batch job's worker takes work only in a run
        elif self.push:
            self.free.append(worker)
            self.dispatch()
        else:
            worker.poll()

    def detach(self, worker: Consumer, silent: bool, clean: bool) -> None:
        """A worker is gone (crash, or ``clean`` stop): forget it, then settle what it held."""
        if worker in self.free:
            self.free.remove(worker)
        self.waiting.forget(worker)
        tokens = worker.drop_all()
        held = sorted((t & CID_MASK, lease) for t, lease in tokens.items())
        self.settlement.consumer_lost(held, silent, clean)
        if self.orphans:
            for delivery in tokens:  # after the copies' fates are settled: a hand-off
                self.let_go(delivery)

    def request(self, worker: Consumer, n: int) -> int:
        """Pull: a receive of up to ``n`` copies; an empty one leaves the worker waiting
        (long poll, sleep, or until the broker is back). Returns how many were delivered."""
        got = self.take_for(worker, n)
        if got:
            self.broker.requests.receive += 1  # (costs) a receive that returned copies
        else:
            self.waiting.empty_receive(worker, self.broker.down)
        return got

    def release(self, worker: Consumer) -> None:
        """A consumer has room again (an ack arrived, or it finished an auto-acked copy)."""
        if not worker.up:
            return
        if worker.scheduled:
            worker.room()  # a batch job hands out work only in a run
            return
        if self.push:
            if worker.held == worker.prefetch - 1 and not worker.unbounded:
                self.free.append(worker)
                if self.ready or self.blocked:
                    self.dispatch()
            elif self.free and self.ready:
                self.dispatch()  # the ack freed a key whose next copy can go to anyone free
        else:
            worker.poll()
            if self.pollers and self.ready:
                self.dispatch()  # a long poll returns as soon as a freed key's copy is there

    # -- settling: what the settlement asks of the line ---------------------------------
    def _orphan_holders(self, cid: int) -> None:
        """The copy has just ended, but workers may still hold earlier deliveries of it (a
        visibility timeout ran out, a connection dropped in an outage): their processing runs
        to its end and counts, so the drain waits for each to be let go."""
        orphans = self.orphans
        for worker in self.consumers:
            for delivery in worker.holding:
                if delivery & CID_MASK == cid and delivery not in orphans:
                    orphans.add(delivery)
                    self.work.enter()

    def let_go(self, token: int) -> None:
        """A worker is done with a delivery: if it was orphaned, the drain no longer waits."""
        if token in self.orphans:
            self.orphans.remove(token)
            self.work.leave()

    def back_to_line(self, cids: list[int]) -> None:
        """Copies come back to the line (their leases already closed), or are dead-lettered."""
        rec, limit = self.records, self.max_deliveries
        back = []
        for cid in cids:
            if rec.state[cid] != PENDING:
                continue
            if limit is not None and rec.deliveries[cid] >= limit:
                self.dead_letter_or(cid, LOST)
            else:
                back.append(cid)
        if back:
            self.ready.put_back(back, self.requeue)
            if len(self.ready) > self.max_depth:
                self.max_depth = len(self.ready)
            self.dispatch()
            self.waiting.notified()

    # -- broker outages -----------------------------------------------------------------
    def outage_started(self, loses_messages: bool) -> None:
        """The broker went down. Non-durable (or in-process) queues lose every copy; durable
        ones keep theirs, and consumers' unacknowledged copies come back as connections drop."""
        if loses_messages:
            timed_out = self.settlement.timed_out
            for cid in [*self.ready.drain_all(), *self.blocked, *timed_out]:
                self.end(cid, LOST)
            self.blocked.clear()
            timed_out.clear()
        self.settlement.connections_dropped(loses_messages)

    def outage_ended(self) -> None:
        self.dispatch()
        if not self.push:
            self.waiting.wake_all()

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

    def end(self, cid: int, state: int) -> None:
        """The one place a copy ends other than completed (dead-lettered, expired, lost)."""
        rec = self.records
        if rec.state[cid] != PENDING:
            return
        rec.state[cid] = state
        if rec.deliveries[cid]:
            self._orphan_holders(cid)
        self.ready.done(cid)  # a per-key line frees the key if this copy held it
        if self.ready and (self.free or self.pollers):
            self.dispatch()
        self.work.leave()
