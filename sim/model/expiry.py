"""Expiry of ready copies older than a queue's ``ttl``.

Expiry is lazy where consumers take copies (at the head, as RabbitMQ does: see
`Queue.take`), with an end-of-run sweep (`overdue`). A queue nobody consumes, whose expired
copies are dead-lettered onward to a consumed one, expires them on time instead (`OnTime`):
one deadline per copy, in the order they were accepted, and one pending wake-up.
"""

from __future__ import annotations

from array import array
from collections import deque
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from sim.model.schedule import Call

if TYPE_CHECKING:
    from simpy import Environment


class OnTime:
    """Expires each copy ``ttl`` after it was accepted: ``expire(cid)`` is called then."""

    def __init__(self, env: Environment, ttl: float, expire: Callable[[int], None]) -> None:
        self.env = env
        self.ttl = ttl
        self._expire = expire
        self._due: deque[tuple[float, int]] = deque()
        self._wake: Call | None = None

    def later(self, cid: int) -> None:
        """A copy entered the line now."""
        self._due.append((self.env.now + self.ttl, cid))
        if self._wake is None:
            self._wake = Call(self.env, self.ttl, self._expire_due)

    def _expire_due(self, _event: Call) -> None:
        due, now = self._due, self.env.now
        while due and due[0][0] <= now:
            self._expire(due.popleft()[1])
        self._wake = Call(self.env, due[0][0] - now, self._expire_due) if due else None


def overdue(cids: Iterable[int], accepted_at: array, now: float, ttl: float) -> list[int]:
    """The copies among ``cids`` whose ttl has passed at ``now`` (the end-of-run sweep)."""
    return [cid for cid in cids if now - accepted_at[cid] > ttl]
