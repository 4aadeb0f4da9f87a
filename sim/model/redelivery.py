"""Redelivery: what happens to a lost consumer's unacknowledged copies, one strategy per mode.

- ``none``: they are lost with the consumer;
- ``on_disconnect``: they come back when the connection closes: after ``disconnect_latency``
  (the OS closes a dead process's socket), or ``heartbeat`` for a silent host loss;
- ``transaction``: back at once (the database aborts the dead connection's transaction);
- ``visibility_timeout`` and ``lease``: the timers started at delivery bring them back; a clean
  stop gives them back at once (SQS: visibility set to 0).

A strategy gets the queue's own steps as functions at construction: ``give_back(unacked)``
returns the (copy, lease) pairs whose leases are still live, ``lose(cid)`` closes a copy's
lease and ends it lost.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from sim.model.contracts import Sampler
from sim.model.schedule import Call

if TYPE_CHECKING:
    from simpy import Environment

Held = list[tuple[int, int]]  # (copy id, lease) pairs


class Redelivery:
    """A redelivery mode: ``lost`` decides the fate of a lost consumer's unacked copies."""

    # Whether the broker closing every connection (an outage) returns them: only modes that
    # follow connections do; under timers the leases survive and the timers return them.
    on_outage = False

    def __init__(self, give_back: Callable[[Held], None], lose: Callable[[int], None]) -> None:
        self.give_back = give_back
        self.lose = lose

    def lost(self, unacked: Held, silent: bool, clean: bool) -> None:
        raise NotImplementedError


class Never(Redelivery):
    """redelivery: none: what the consumer held is lost with it."""

    def lost(self, unacked: Held, silent: bool, clean: bool) -> None:
        for cid, _ in unacked:
            self.lose(cid)


class OnDisconnect(Redelivery):
    """Back when the connection closes: a dead process's socket at once (after the latency),
    a vanished host only when its heartbeats stop."""

    on_outage = True

    def __init__(self, give_back: Callable[[Held], None], lose: Callable[[int], None],
                 env: Environment, heartbeat: float, latency: Sampler | None) -> None:
        super().__init__(give_back, lose)
        self.env = env
        self.heartbeat = heartbeat
        self.latency = latency

    def lost(self, unacked: Held, silent: bool, clean: bool) -> None:
        delay = self.heartbeat if silent else (self.latency() if self.latency else 0.0)
        Call(self.env, delay, self._closed, unacked)

    def _closed(self, event: Call) -> None:
        self.give_back(event.value)


class Transaction(Redelivery):
    """The database aborts the dead connection's transaction: back at once."""

    on_outage = True

    def lost(self, unacked: Held, silent: bool, clean: bool) -> None:
        self.give_back(unacked)


class ByTimer(Redelivery):
    """visibility_timeout and lease: the timers bring them back; a clean stop at once."""

    def lost(self, unacked: Held, silent: bool, clean: bool) -> None:
        if clean:
            self.give_back(unacked)


def strategy(mode: str, give_back: Callable[[Held], None], lose: Callable[[int], None],
             env: Environment, heartbeat: float, latency: Sampler | None) -> Redelivery:
    """The strategy of a ``redelivery`` mode."""
    if mode == "on_disconnect":
        return OnDisconnect(give_back, lose, env, heartbeat, latency)
    if mode == "none":
        return Never(give_back, lose)
    if mode == "transaction":
        return Transaction(give_back, lose)
    if mode in ("visibility_timeout", "lease"):
        return ByTimer(give_back, lose)
    raise ValueError(f"unknown redelivery mode {mode!r}")
