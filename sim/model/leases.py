"""Leases: delivery tokens, and one queue's lease timers as a single timer wheel.

A delivery opens a lease on a copy (``records.lease``): an ack, a timer or a return is valid
only for the lease it was issued under. A worker tracks deliveries by *token*, the copy id
with its lease in the high bits, so a copy delivered twice to the same worker is two pieces
of work.

Under a timer (``visibility_timeout``, ``lease``) every lease of a queue has the same length,
so deadlines come in the order leases were opened: `LeaseTimers` keeps one array of deadlines
and a single pending wake-up per queue, instead of an event per delivery left in SimPy's heap
after its ack.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable
from typing import TYPE_CHECKING

from sim.model.schedule import Call

if TYPE_CHECKING:
    from simpy import Environment

LEASE_SHIFT = 32
CID_MASK = (1 << LEASE_SHIFT) - 1
_COMPACT = 4096  # handled deadlines kept before the arrays are compacted


def token(cid: int, lease: int) -> int:
    """A delivery's token: the copy id with its lease in the high bits."""
    return cid | (lease << LEASE_SHIFT)


class LeaseTimers:
    """The live timed leases of one queue and their deadlines (one wake-up at a time).

    ``timed`` holds the copies whose timed lease is live (not acknowledged, not run out);
    ``expired(cid)`` is called when one runs out, after it left ``timed``."""

    def __init__(self, env: Environment, lease: array, timeout: float,
                 expired: Callable[[int], None]) -> None:
        self.env = env
        self._lease = lease  # the records' lease column (grows in place: the reference holds)
        self.timeout = timeout
        self._expired = expired
        self.timed: set[int] = set()
        self._due = array("d")  # deadline of each lease opened, in order
        self._due_token = array("q")  # its delivery token
        self._due_head = 0  # first deadline not yet handled
        self._wake: Call | None = None  # the one pending wake-up for the head deadline

    def open(self, cid: int, token: int) -> None:
        """A timed lease starts now for the delivery ``token`` of ``cid``."""
        self.timed.add(cid)
        self._due.append(self.env.now + self.timeout)
        self._due_token.append(token)
        if self._wake is None:
            self._wake = Call(self.env, self.timeout, self._expire)

    def _expire(self, event: Call) -> None:
        """The head deadline is due: expire every live lease due by now, then sleep until the
        next live one. Settled leases are skipped here, never woken up for."""
        self._wake = event  # leases opened meanwhile are handled below, not woken for
        now, lease_of, timed = self.env.now, self._lease, self.timed
        due, tokens = self._due, self._due_token
        i = self._due_head
        while i < len(due) and due[i] <= now:
            token = tokens[i]
            i += 1
            cid, lease = token & CID_MASK, token >> LEASE_SHIFT
            if cid in timed and lease_of[cid] == lease:
                timed.discard(cid)
                self._expired(cid)
        while i < len(due):
            token = tokens[i]
            cid = token & CID_MASK
            if cid in timed and lease_of[cid] == token >> LEASE_SHIFT:
                break
            i += 1
        if i >= _COMPACT and 2 * i >= len(due):  # drop the handled deadlines, amortised O(1)
            del due[:i]
            del tokens[:i]
            i = 0
        self._due_head = i
        self._wake = Call(self.env, due[i] - now, self._expire) if i < len(due) else None
