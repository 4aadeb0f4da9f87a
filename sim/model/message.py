"""A message: created once by whatever publishes it, then routed to zero or more queues.

Each queue a message reaches holds its own *copy* (a row of the records); the message itself
lives only while it travels from its publisher to the broker (or waits to be retried). Fields
that drive routing and service are kept as the records store them: ``key`` and ``type`` as
interned codes (-1 for none), names only where a routing key or a custom router asks.
"""

from __future__ import annotations

from typing import Any


class Message:
    """One publish: id, ordering key, type, priority, headers, flow, and where it came from.

    ``flow`` is the id of the producer's message a pipeline started from (a follow-up keeps
    it); ``copy`` is the copy number its copies get (a dead letter is the next copy of the
    message it came from); ``service`` a trace's service time (None: drawn by the pool);
    ``producer`` the records code of the component that published it first.
    """

    __slots__ = (
        "id", "key", "type", "priority", "headers", "flow", "published_at", "service",
        "producer", "copy", "routing_key",
    )  # fmt: skip

    def __init__(
        self,
        id: int,
        key: int,
        type: int,
        priority: int,
        headers: dict[str, Any] | None,
        flow: int,
        published_at: float,
        service: float | None,
        producer: int,
        copy: int = 0,
    ) -> None:
        self.id = id
        self.key = key
        self.type = type
        self.priority = priority
        self.headers = headers
        self.flow = flow
        self.published_at = published_at
        self.service = service
        self.producer = producer
        self.copy = copy
        self.routing_key: str | None = None  # set by the publisher when its route needs one
