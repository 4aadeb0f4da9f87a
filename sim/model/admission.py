"""Admission: what a queue with a ``max_length`` does with a publish when it is full.

- ``reject-publish``: the broker refuses the publish (the sender retries or gives up);
- ``drop-head``: the copy joins the line and the oldest ready copies are dropped (to the
  dead-letter queue, or lost) until the line fits;
- ``block``: the publisher waits; the copy is accepted only when room appears (its
  ``accepted_at`` is NaN until then), in order.

A copy that a waiting consumer takes at once never counts against ``max_length`` (with
``max_length: 0`` the queue is a loss system: Erlang B).
"""

from __future__ import annotations

from array import array
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sim.model.lines import ReadyLine

# Overflow policies: what a full queue does with a new publish.
REJECT_PUBLISH, DROP_HEAD, BLOCK = "reject-publish", "drop-head", "block"


class Admission:
    """One queue's bound: ``limit`` ready copies, and its ``policy`` beyond them.

    ``drop(cid)`` ends a copy drop-head pushed out of the line; ``blocked`` holds the copies
    of publishes waiting for room (``block``), which the queue admits as room appears."""

    def __init__(self, ready: ReadyLine, limit: int, policy: str, accepted_at: array,
                 drop: Callable[[int], None]) -> None:
        self.ready = ready
        self.limit = limit
        self.policy = policy
        self.refuses = policy == REJECT_PUBLISH
        self._accepted_at = accepted_at
        self._drop = drop
        self.blocked: deque[int] = deque()

    def rejects(self, waiting: bool) -> bool:
        """Whether a publish now is refused (``waiting``: a consumer would take it at once)."""
        return self.refuses and len(self.ready) >= self.limit and not waiting

    def overflows(self, cid: int) -> bool:
        """A copy arrives: True if the bound took care of it (blocked, or put in the line with
        the oldest dropped); False if it goes in the line as usual."""
        ready, limit = self.ready, self.limit
        if not (self.blocked or len(ready) >= limit):
            return False
        if self.policy == BLOCK:
            self._accepted_at[cid] = float("nan")
            self.blocked.append(cid)
            return True
        if self.policy == DROP_HEAD:
            ready.put(cid)
            while len(ready) > limit:
                self._drop(ready.take_oldest())
            return True
        return False
