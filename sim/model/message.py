"""A message: created once by whatever publishes it, then routed to zero or more queues.

Each queue a message reaches holds its own *copy* (a row of the records); the message itself
lives only while it travels from its publisher to the broker (or waits to be retried). Fields
that drive routing and service are kept as the records store them: ``key`` and ``type`` as
interned codes (-1 for none), names only where a routing key or a custom router asks.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sim.records import Records


class Message:
    """One publish: id, ordering key, type, priority, headers, flow, and where it came from.

    ``flow`` is the id of the producer's message a pipeline started from (a follow-up keeps
    it); ``copy`` is the copy number its copies get (a dead letter is the next copy of the
    message it came from); ``service`` a trace's service time (None: drawn by the pool);
    ``producer`` the records code of the component that published it first; ``routing_key``
    is set by the publisher when its route needs one.

    Made once per publish, so it is cheap to make: slots, no ``__init__`` frame; `new` sets
    every field (the six every message has from its arguments, the others to their defaults).
    """

    __slots__ = (
        "copy",
        "flow",
        "headers",
        "id",
        "key",
        "priority",
        "producer",
        "published_at",
        "routing_key",
        "service",
        "type",
    )  # fmt: skip

    id: int
    key: int
    type: int
    priority: int
    headers: dict[str, Any] | None
    flow: int
    published_at: float
    service: float | None
    producer: int
    copy: int
    routing_key: str | None

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={getattr(self, k)!r}" for k in self.__slots__)
        return f"Message({fields})"


_new = object.__new__


def new(id: int, key: int, type: int, flow: int, published_at: float, producer: int) -> Message:
    """A message with the fields every message has (the rest at their defaults)."""
    message = _new(Message)
    message.id = id
    message.key = key
    message.type = type
    message.flow = flow
    message.published_at = published_at
    message.producer = producer
    message.priority = message.copy = 0
    message.headers = message.service = message.routing_key = None
    return message


def from_records(records: Records, cid: int) -> Message:
    """The message a copy was made from, rebuilt from its row (the one place that does it):
    its id, key, type, flow, publish time, producer, priority, headers, trace service time
    and copy number. A dead letter is the next copy of it (the caller adds 1 to ``copy``)."""
    rec = records
    message_id = rec.id[cid]
    message = new(message_id, rec.key[cid], rec.type[cid], rec.flow[cid],
                  rec.published_at[cid], rec.producer[cid])
    message.priority = rec.priority[cid]
    message.headers = rec.headers.get(message_id)
    service = rec.service_time[cid] if rec.service_time is not None else None
    if service is not None and service == service:  # not NaN: a trace gave it
        message.service = service
    message.copy = rec.copy[cid]
    return message
