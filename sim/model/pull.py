"""The pull loop's waiting consumers: workers in a long poll, and workers asleep.

On a ``pull`` queue each worker runs a receive loop (see `sim.model.workers`): an empty
receive long-polls up to ``wait_time`` (a copy that arrives meanwhile ends it at once), or
sleeps ``poll_interval``; ``notify`` (PostgreSQL's LISTEN/NOTIFY) wakes sleepers after
``notify_latency`` when copies arrive; a broker that comes back wakes every sleeper.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING

from sim.model.contracts import Consumer, Sampler
from sim.model.requests import Requests

if TYPE_CHECKING:
    from sim.scenario.specs import QueueSpec


class Waiting:
    """One queue's ``pollers`` (in a long poll, served first come first served) and
    ``sleepers`` (asleep after an empty receive)."""

    def __init__(self, spec: QueueSpec, notify_latency: Sampler | None,
                 requests: Requests) -> None:
        self.requests = requests  # the broker's API calls: an empty receive is one
        self.wait_time: float = spec.wait_time
        self.poll_interval: float = spec.poll_interval
        self.notify: bool = spec.notify
        self.notify_latency = notify_latency
        self.pollers: deque[Consumer] = deque()
        self.sleepers: set[Consumer] = set()

    def empty_receive(self, worker: Consumer, broker_down: bool) -> None:
        """A receive found nothing: the worker waits (long poll, sleep, or for the broker)."""
        if broker_down:
            self.requests.empty_receive += 1  # (an error answer: a call all the same)
            self.sleepers.add(worker)  # until the broker is back (woken by wake_all)
        elif self.wait_time > 0:
            # A long poll: one request, counted when it returns (a copy, or empty).
            self.pollers.append(worker)
            worker.long_poll(self.wait_time)
        else:
            self.requests.empty_receive += 1
            self.sleepers.add(worker)
            worker.sleep(self.poll_interval)

    def long_poll_expired(self, worker: Consumer) -> bool:
        """A long poll ended empty; True if the worker should sleep ``poll_interval`` now."""
        self.requests.empty_receive += 1
        if worker in self.pollers:
            self.pollers.remove(worker)
        if self.poll_interval > 0:
            self.sleepers.add(worker)
            return True
        return False

    def woke(self, worker: Consumer) -> None:
        """A worker's sleep ended."""
        self.sleepers.discard(worker)

    def forget(self, worker: Consumer) -> None:
        """The worker is gone."""
        if worker in self.pollers:
            self.pollers.remove(worker)
            self.requests.empty_receive += 1  # its long poll was made, and ends with nothing
        self.sleepers.discard(worker)

    def notified(self) -> None:
        """Copies arrived: with NOTIFY, every sleeper wakes after the notify latency and
        receives again."""
        if not (self.sleepers and self.notify):
            return
        for worker in list(self.sleepers):
            worker.wake(self.notify_latency() if self.notify_latency else 0.0)
        self.sleepers.clear()

    def wake_all(self) -> None:
        """The broker is back: every sleeper receives again now."""
        for worker in list(self.sleepers):
            worker.wake(0.0)
        self.sleepers.clear()
