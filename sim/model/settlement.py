"""Settlement: acks, nacks and lost consumers, judged by the lease they were issued under.

A delivery opens a lease on its copy (``records.lease``); an ack, a visibility timer or a
return is valid only for the lease it was issued under, so a copy redelivered while its first
consumer still works on it is acknowledged only by the newest holder. Under a timer
(``visibility_timeout``, ``lease``; see `sim.model.leases.LeaseTimers`) an ack deletes by copy
id: a holder whose time ran out can still delete the copy, even after it was delivered again
(SQS accepts an older receipt handle), so a job longer than the visibility timeout is repeated
but completes. What a lost consumer's unacknowledged copies go through is the queue's
redelivery strategy (`sim.model.redelivery`).

`Settlement` is one queue's part: it keeps the live leases (``in_flight``, ``timed``) and the
copies whose visibility ran out; the line itself is its queue's (`LineOwner`).
"""

from __future__ import annotations

from contextlib import suppress
from typing import TYPE_CHECKING, Protocol

from sim.model import redelivery
from sim.model.contracts import Consumer, Hub, Sampler
from sim.model.leases import CID_MASK, LeaseTimers
from sim.model.schedule import Call
from sim.records import LOST, PENDING, Records

if TYPE_CHECKING:
    from collections.abc import Sequence

    from simpy import Environment

    from sim.model.lines import ReadyLine
    from sim.scenario.specs import QueueSpec


class LineOwner(Protocol):
    """The queue a settlement works for: its line and the end of a copy."""

    @property
    def broker(self) -> Hub: ...

    @property
    def ready(self) -> ReadyLine: ...

    @property
    def consumers(self) -> Sequence[Consumer]: ...

    def back_to_line(self, cids: list[int]) -> None:
        """Copies (their leases closed) go back to the line, or are dead-lettered."""
        ...

    def dead_letter_or(self, cid: int, state: int) -> None:
        """End a copy that will not be processed here: dead-lettered, or ``state``."""
        ...

    def end(self, cid: int, state: int) -> None:
        """End a copy (lost, expired, dead-lettered)."""
        ...


class Settlement:
    """One queue's leases and how acks, nacks, timers and lost consumers settle copies."""

    def __init__(self, env: Environment, records: Records, owner: LineOwner,
                 spec: QueueSpec, disconnect_latency: Sampler | None) -> None:
        self.env = env
        self.records = records
        self.owner = owner
        self.broker = owner.broker
        self.requests = owner.broker.requests  # API calls, by kind (costs)
        self.ready = owner.ready
        mode: str = spec.redelivery
        self.redelivery = redelivery.strategy(
            mode, self._give_back, self._lose, env, spec.heartbeat, disconnect_latency)
        # A timer from delivery returns the copy unless it is acknowledged first.
        self.lease_timeout: float | None = (
            spec.visibility_timeout if mode == "visibility_timeout"
            else spec.lock_timeout if mode == "lease" else None
        )
        self.timers = (None if self.lease_timeout is None else LeaseTimers(
            env, records.lease, self.lease_timeout, self._lease_expired))
        # Copies whose timed lease is live (not acked, not run out); empty without timers.
        self.timed: set[int] = set() if self.timers is None else self.timers.timed
        self.restore_interval: float | None = (
            spec.restore_interval if mode == "visibility_timeout" else None
        )
        self.timed_out: list[int] = []  # visibility ran out; waiting for a restore check
        self.in_flight = 0  # copies with a live lease (delivered, not yet acknowledged)

    def open(self, cid: int, delivery: int) -> None:
        """A delivery (token ``delivery``) opened a lease on the copy."""
        self.in_flight += 1
        if self.timers is not None:
            self.timers.open(cid, delivery)

    # -- acks and nacks -----------------------------------------------------------------
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
                self.close_lease(cid)
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
        self.ready.done(cid)
        return rec.state[cid] == PENDING

    def _withdraw(self, cid: int) -> None:
        """Take a copy whose visibility ran out off the line (or the restore list)."""
        if cid in self.timed_out:
            self.timed_out.remove(cid)
            return
        with suppress(ValueError, KeyError):  # gone from the line: expired or dead-lettered
            self.ready.remove(cid)

    def nack(self, cid: int, lease: int, requeue: bool, delay: float) -> None:
        """Processing failed. Requeue (now or after ``delay``) or dead-letter."""
        self.requests.nack += 1
        rec = self.records
        if rec.state[cid] != PENDING:
            return
        if lease >= 0:
            if not self.lease_live(cid, lease):
                return  # redelivered, or its visibility ran out: it is back on the line
            self.close_lease(cid)
        if not requeue:
            self.owner.dead_letter_or(cid, LOST)
        elif delay > 0:
            Call(self.env, delay, self._requeue_later, cid)
        else:
            self.owner.back_to_line([cid])

    def _requeue_later(self, event: Call) -> None:
        cid = event.value
        if self.records.state[cid] == PENDING:
            self.owner.back_to_line([cid])

    # -- leases -------------------------------------------------------------------------
    def lease_live(self, cid: int, lease: int) -> bool:
        """Whether ``lease`` is the copy's current, unexpired lease."""
        return self.records.lease[cid] == lease and (
            self.lease_timeout is None or cid in self.timed
        )

    def close_lease(self, cid: int) -> None:
        """End the copy's current lease: a late ack or timer for it will be ignored."""
        self.records.lease[cid] += 1
        self._end_lease(cid)

    def _end_lease(self, cid: int) -> None:
        self.in_flight -= 1
        self.timed.discard(cid)  # its deadline stays with the timers, skipped when reached

    def _lease_expired(self, cid: int) -> None:
        """A live lease ran out without an ack (the timers took it out of ``timed``)."""
        self.in_flight -= 1
        if self.records.state[cid] != PENDING:
            return
        # The lease stays: until someone receives the copy again, its holder may still delete
        # it (see ack). A new delivery opens a new lease.
        if self.restore_interval is not None:
            self.timed_out.append(cid)  # visible again only at a live worker's restore check
        else:
            self.owner.back_to_line([cid])

    def restore_check(self) -> None:
        """Celery/kombu: a live worker restores the timed-out copies (to the head)."""
        if self.timed_out and any(worker.up for worker in self.owner.consumers):
            cids, self.timed_out = self.timed_out, []
            self.owner.back_to_line(cids)

    # -- lost consumers and connections -------------------------------------------------
    def consumer_lost(self, held: list[tuple[int, int]], silent: bool, clean: bool) -> None:
        """A consumer died or stopped holding these (copy, lease) pairs.

        Acknowledged copies (lease -1) that had not completed are lost with the worker's
        memory. Unacknowledged ones come back as the redelivery rule says.
        """
        rec = self.records
        unacked = []
        for cid, lease in held:
            if rec.state[cid] != PENDING:
                if lease >= 0 and self.lease_live(cid, lease):
                    self.close_lease(cid)  # completed, its early ack died with the worker
                    self.ready.done(cid)  # and its key is free (per-key lines)
                continue
            if lease < 0:
                self.ready.done(cid)
                self.owner.end(cid, LOST)
            elif rec.lease[cid] == lease:
                unacked.append((cid, lease))
        if unacked:
            self.redelivery.lost(unacked, silent, clean)

    def _lose(self, cid: int) -> None:
        """Redelivery ``none``: the copy is lost with its consumer."""
        self.close_lease(cid)
        self.owner.end(cid, LOST)

    def _give_back(self, unacked: list[tuple[int, int]]) -> None:
        """The connection closed: copies whose leases are still live come back."""
        rec = self.records
        back = []
        for cid, lease in unacked:
            if rec.state[cid] == PENDING and self.lease_live(cid, lease):
                self.close_lease(cid)
                back.append(cid)
        self.owner.back_to_line(back)

    def connections_dropped(self, loses_messages: bool) -> None:
        """The broker went down: every consumer's connection drops. With the messages lost,
        what consumers held unacknowledged is lost; otherwise it comes back, unless the
        leases survive the outage (under timers acks fail meanwhile, so the timers return
        them)."""
        if not loses_messages and not self.redelivery.on_outage:
            return
        rec = self.records
        back = []
        for worker in self.owner.consumers:
            for delivery, lease in list(worker.holding.items()):
                cid = delivery & CID_MASK
                if lease < 0 or rec.lease[cid] != lease or rec.state[cid] != PENDING:
                    continue
                self.close_lease(cid)
                if loses_messages:
                    self.ready.done(cid)
                    self.owner.end(cid, LOST)
                else:
                    back.append(cid)
        self.owner.back_to_line(sorted(back))
