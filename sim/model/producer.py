"""Producers: instances that send messages at the instants of their arrival process.

Each instance walks its own iterator of arrival times (numpy blocks behind it) and, at each
instant, draws the message's fields and publishes it. Publishing is asynchronous: the producer
does not wait for processing, only for the broker to accept (the queue design of the notes).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from sim.model.schedule import Call

if TYPE_CHECKING:
    from simpy import Environment

    from sim.model.broker import Broker
    from sim.model.queue import Queue
    from sim.records import Codes


class PublishBudget:
    """Shared stop rule: publishing ends at ``duration`` or after ``messages`` sends."""

    def __init__(self, messages: int | None, on_exhausted: Callable[[], None]) -> None:
        self.left = messages if messages is not None else -1
        self.on_exhausted = on_exhausted
        self.next_id = 0
        self.active = 0  # producer instances that still have arrivals to come

    def producer_done(self) -> None:
        """An instance ran out of arrivals (a trace ended); the last one ends publishing."""
        self.active -= 1
        if self.active == 0:
            self.on_exhausted()


class Producer:
    """One producer instance publishing to one queue."""

    def __init__(
        self,
        env: Environment,
        name: str,
        code: int,
        times: Iterator[float],
        rows: dict[str, list[Any]] | None,
        fields: dict[str, Callable[[], Any]],
        broker: Broker,
        queue: Queue,
        keys: Codes,
        types: Codes,
        budget: PublishBudget,
        until: float,
        retry: dict[str, Any] | None,
    ) -> None:
        self.env = env
        self.name = name
        self.code = code
        self._times = times
        self._rows = rows
        self._row = 0
        self._key = fields.get("key")
        self._type = fields.get("type")
        self._priority = fields.get("priority")
        # on_reject: retry -> (attempts, backoff); None -> a refused publish is an error.
        self._retry = None if retry is None else (retry["attempts"], retry["backoff"])
        self._broker = broker
        self._queue = queue
        self._keys = keys
        self._types = types
        self._budget = budget
        self._until = until
        self._pending: Call | None = None
        self._next_at = 0.0  # the instant of the next arrival (saves reading the clock)
        self.sent = 0
        self.accepted = 0
        self.rejected = 0

    def start(self) -> None:
        """Schedule the first arrival (the model counts every instance as active first)."""
        self._schedule()

    def stop(self) -> None:
        if self._pending is not None:
            self._pending.cancel()
            self._pending = None

    def _schedule(self) -> None:
        at = next(self._times, None)
        if at is None or at >= self._until:
            self._pending = None
            if at is None:
                self._budget.producer_done()
            return
        # (called at start, when the clock reads 0, or from _arrive, at the last arrival)
        self._pending = Call(self.env, at - self._next_at, self._arrive)
        self._next_at = at

    def _arrive(self, _event: Call) -> None:
        now = self._next_at  # the clock reads this instant now
        budget = self._budget
        message_id = budget.next_id
        budget.next_id = message_id + 1
        self.sent += 1
        key = type_ = -1
        priority = 0
        service_time = None
        if self._rows is not None:
            key, type_, priority, service_time = self._trace_fields()
        if self._key is not None:
            key = self._keys.code(self._key())
        if self._type is not None:
            type_ = self._types.code(self._type())
        if self._priority is not None:
            priority = int(self._priority())
        self._broker.publish(
            self._queue, self, message_id, now, key, type_, priority, service_time
        )
        if budget.left > 0:
            budget.left -= 1
            if budget.left == 0:
                budget.on_exhausted()
                return
        self._schedule()

    def rejected_publish(self, message: tuple[Any, ...], attempt: int) -> None:
        """The broker refused a publish: retry after the backoff, or count an error."""
        if self._retry is not None and attempt < self._retry[0]:
            self._broker.work.enter()  # the drain waits for a publish being retried
            Call(self.env, self._retry[1], self._retry_publish, (message, attempt + 1))
        else:
            self.rejected += 1
            message[0].rejected += 1  # the publish gave up: a final refusal, counted once

    def _retry_publish(self, event: Call) -> None:
        message, attempt = event._value
        self._broker.publish(*message, attempt=attempt)
        self._broker.work.leave()

    def _trace_fields(self) -> tuple[int, int, int, float | None]:
        """Fields a trace row gives for this arrival (the trace replays them exactly)."""
        rows, i = self._rows, self._row
        assert rows is not None
        self._row = i + 1
        key = self._keys.code(_present(rows.get("key"), i))
        type_ = self._types.code(_present(rows.get("type"), i))
        priority = _present(rows.get("priority"), i)
        service_time = _present(rows.get("service_time"), i)
        return (key, type_, 0 if priority is None else int(priority),
                None if service_time is None else float(service_time))


def _present(column: list[Any] | None, i: int) -> Any:
    """The row's value, or None when the column is absent or the cell is empty."""
    if column is None:
        return None
    value = column[i]
    if value is None or value != value or value == "":
        return None
    return value
