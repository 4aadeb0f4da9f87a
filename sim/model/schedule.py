"""Scheduling a method call on the SimPy clock without a process.

Components are written in callback style: a timeout carries a copy id (or a small tuple) as its
value and one bound method as its callback. That costs one heap push and one call per event,
where a SimPy process would also resume a generator.
"""

from __future__ import annotations

from collections.abc import Callable
from operator import attrgetter
from typing import Any

from simpy import Environment
from simpy.events import NORMAL, Event


class Call(Event):
    """An event that calls ``callback(event)`` after ``delay``; its value is ``value``.

    Cancel a pending call with :meth:`cancel` (a crash stopping work in progress): the event
    stays in SimPy's heap but does nothing when its time comes, so nothing that happens once
    per message may rely on cancelling (lease timers keep one wake-up per queue instead).

    ``value`` is what the call carries (read by the callback); ``due`` is set by a component
    that needs to know when work in progress would end (a crash takes the rest off).
    """

    due: float
    # The carried value, read without SimPy's pending check (a Call is triggered as it is
    # made) and without a Python frame: the one place that reads the private field.
    value = property(attrgetter("_value"))  # type: ignore[assignment]  # (Event.value: a def)

    def __init__(
        self, env: Environment, delay: float, callback: Callable[[Any], None], value: Any = None
    ) -> None:
        self.env = env
        self.callbacks = [callback]
        self._value = value
        self._ok = True
        env.schedule(self, NORMAL, delay)

    def cancel(self) -> None:
        if self.callbacks:
            self.callbacks.clear()
