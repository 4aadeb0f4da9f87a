"""Scheduling a method call on the SimPy clock without a process.

Components are written in callback style: a timeout carries a copy id (or a small tuple) as its
value and one bound method as its callback. That costs one heap push and one call per event,
where a SimPy process would also resume a generator.
"""

from __future__ import annotations

from collections.abc import Callable
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
    # The carried value as a plain attribute, the one way components read it: SimPy's
    # ``Event.value`` is a property with a pending check (a Call is triggered as it is made),
    # dearer than an attribute on a path taken once per message; this class attribute shadows
    # it so that the instance's own can be set.
    value: Any = None

    def __init__(
        self, env: Environment, delay: float, callback: Callable[[Any], None], value: Any = None
    ) -> None:
        self.env = env
        self.callbacks = [callback]
        self._value = self.value = value  # (SimPy's field, and ours)
        self._ok = True
        env.schedule(self, NORMAL, delay)

    def cancel(self) -> None:
        if self.callbacks:
            self.callbacks.clear()
