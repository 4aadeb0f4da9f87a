"""Producers: instances that send messages at the instants of their arrival process.

Each instance walks its own iterator of arrival times (numpy blocks behind it) and, at each
instant, draws the message's fields and sends it. Publishing is asynchronous: the producer
does not wait for processing, only for the broker to accept (the queue design of the notes).
A producer with ``call`` waits for a pool to process the message instead (the synchronous
baseline, `sim.model.calls`).
"""

from __future__ import annotations

from array import array
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, Protocol

from sim.model.message import Message
from sim.model.publishing import Publisher
from sim.model.schedule import Call

_new = object.__new__

if TYPE_CHECKING:
    from simpy import Environment

    from sim.model.contracts import Route
    from sim.model.work import Work
    from sim.records import Codes


class Callee(Protocol):
    """What a calling producer calls (a pool serving calls, `sim.model.calls.CallPool`)."""

    def call(self, message: Message, producer: Producer) -> None:
        """Process ``message`` for ``producer``, who waits; the pool tells it how it ended."""


class PublishBudget:
    """Shared stop rule: publishing ends at ``duration`` or after ``messages`` sends.

    It also hands out message ids (follow-ups take theirs here too, without counting
    against ``messages``, which counts what the producers send)."""

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


class Producer(Publisher):
    """One producer instance: at each arrival, a new message sent to its target.

    Its messages go along ``route`` (a queue or an exchange, through its broker) or to
    ``callee``, a pool it calls synchronously and waits for (at most ``timeout``): exactly
    one of the two, given when the model is built (``send(message)`` is the chosen way).
    """

    def __init__(
        self,
        env: Environment,
        name: str,
        code: int,
        times: Iterator[float],
        rows: dict[str, list[Any]] | None,
        fields: dict[str, Callable[[], Any]],
        keys: Codes,
        types: Codes,
        budget: PublishBudget,
        until: float,
        work: Work,
        retry: tuple[int, float] | None,
        routing_key: Callable[[Message], str] | None,
        headers: dict[int, dict[str, Any]],
        *,
        route: Route | None = None,
        callee: Callee | None = None,
        timeout: float | None = None,
    ) -> None:
        if (route is None) == (callee is None):
            raise ValueError(f"producer {name}: give it a route or a callee (one of them)")
        super().__init__(env, name, code, work, retry, routing_key, route)
        self._times = times
        self._rows = rows
        self._row = 0
        self._key = fields.get("key")
        self._type = fields.get("type")
        self._priority = fields.get("priority")
        self._headers = fields.get("headers")
        self._headers_by_id = headers
        self._keys = keys
        self._types = types
        self._budget = budget
        self._until = until
        self._pending: Call | None = None
        self._next_at = 0.0  # the instant of the next arrival (saves reading the clock)
        self._accept_now: Callable[..., bool] | None = None
        self.send: Callable[[Message], None] = self._publish
        # The common case, a queue's own route on a broker with no latency or capacity:
        # Broker.publish would call accept at once, so the producer calls it itself.
        if route is not None and route.fixed is not None and route.broker.instant:
            self._accept_now = route.broker.accept
        # Synchronous calls (see sim.model.calls): the timeout, the errors by cause, and
        # (published_at, response time) of each answered call, flat.
        self.calls = callee is not None
        self.timeout = timeout
        if callee is not None:
            self.send = lambda message: callee.call(message, self)
        self.unavailable = self.timeouts = self.failed = 0
        self.call_times = array("d")

    def figures(self) -> dict[str, Any]:
        """Its counts for the summary. A caller's calls are not publishes: its accepted and
        rejected publishes are zero, and its calls are counted apart (answered, each error by
        cause, and ``call_times``: the (published_at, response time) of each answered call,
        flat)."""
        if not self.calls:
            return super().figures()
        return {"sent": self.sent, "accepted": 0, "rejected": 0, "retries": 0,
                "answered": self.accepted, "unavailable": self.unavailable,
                "timeouts": self.timeouts, "failed": self.failed,
                "call_times": array("d", self.call_times)}

    def call_answered(self, published_at: float, now: float) -> None:
        """A call made at ``published_at`` was answered at ``now``."""
        self.accepted += 1
        self.call_times.append(published_at)
        self.call_times.append(now - published_at)

    def call_failed(self, why: str) -> None:
        """A call ended in an error: ``unavailable``, ``timeouts`` or ``failed``."""
        if why == "unavailable":
            self.unavailable += 1
        elif why == "timeouts":
            self.timeouts += 1
        elif why == "failed":
            self.failed += 1
        else:
            raise ValueError(f"unknown call error {why!r}")
        self.rejected += 1

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
        service = None
        if self._rows is not None:
            key, type_, priority, service = self._trace_fields()
        if self._key is not None:
            key = self._keys.code(self._key())
        if self._type is not None:
            type_ = self._types.code(self._type())
        if self._priority is not None:
            priority = int(self._priority())
        message = _new(Message)  # (message.new, inlined: once per message)
        message.id = message.flow = message_id
        message.key = key
        message.type = type_
        message.published_at = now
        message.producer = self.code
        message.priority = priority
        message.service = service
        message.copy = 0
        message.routing_key = None
        message.headers = None
        if self._headers is not None:
            message.headers = self._headers_by_id[message_id] = self._headers()
        accept = self._accept_now
        if accept is not None:  # a queue on an instant broker: accepted as it is sent
            if accept(message, self.route, self, 0, now):
                self.accepted += 1  # (a refusal told the producer already)
        else:
            self.send(message)
        if budget.left > 0:
            budget.left -= 1
            if budget.left == 0:
                budget.on_exhausted()
                return
        self._schedule()

    def _publish(self, message: Message) -> None:
        self.publish(message, self.route)

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
