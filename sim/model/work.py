"""Work in progress: the one count that decides when a drained run is over.

Everything that can still change a copy's fate is counted here while it exists: a publish on its
way to the broker, a refused publish waiting to be retried, every open copy in a queue that has
consumers (or that expires into one), and a delivery a worker still runs although its copy has
ended (an orphan: its processing still counts). Each hand-off enters the new piece of work
*before* leaving the old one (a dead-lettered copy's new copy exists before the old one ends),
so the count never touches zero while something is still owed. No component decides alone that
the model is empty: when publishing is over and the count reaches zero, the run is drained.

A copy in a queue that nothing consumes can never be processed; such queues count into an
`inert` tracker, so they never hold a drain open.
"""

from __future__ import annotations

from collections.abc import Callable


class Work:
    """A count of work in progress that calls ``on_idle`` when it reaches zero after
    publishing has ended (``publishing`` is set False by the model)."""

    __slots__ = ("count", "on_idle", "publishing")

    def __init__(self) -> None:
        self.count = 0
        self.publishing = True
        self.on_idle: Callable[[], None] | None = None

    def enter(self) -> None:
        self.count += 1

    def leave(self) -> None:
        self.count -= 1
        if not self.count and not self.publishing:
            self.idle()

    def idle(self) -> None:
        """Nothing is in progress and publishing is over."""
        if self.on_idle is not None:
            self.on_idle()

    def publishing_ended(self) -> None:
        """No more publishes will start: from now on, zero means drained."""
        self.publishing = False
        if not self.count:
            self.idle()


def inert() -> Work:
    """A tracker for copies nothing can process: it counts, but never reports idle."""
    return Work()
