"""Pipelines: a pool's ``then`` publishes a follow-up message when a processing completes.

The follow-up is a new message (a new id) with the same key, type, priority and headers, and
the same *flow*: the id of the producer's message the pipeline started from, so the summary
can judge a multi-stage design end to end (`flows`). It is published when the processing
ends, before its acknowledgement, through any queue or exchange; so a repeated processing (a
redelivery) publishes its follow-up again, as a real consumer would, while a repeat that an
idempotent consumer absorbs publishes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from sim.model.message import Message, from_records, new
from sim.model.publishing import Publisher

if TYPE_CHECKING:
    from simpy import Environment

    from sim.model.contracts import Route
    from sim.model.producer import PublishBudget
    from sim.model.work import Work
    from sim.records import Records


class FollowUps(Publisher):
    """The publisher of one pool's follow-up messages (a `sim.model.contracts.FollowUpSink`),
    always along one route."""

    def __init__(
        self,
        env: Environment,
        name: str,
        code: int,
        work: Work,
        retry: tuple[int, float] | None,
        routing_key: Callable[[Message], str] | None,
        route: Route,
        records: Records,
        ids: PublishBudget,
        draw: Callable[[], float] | None,
        probability: float,
    ) -> None:
        super().__init__(env, name, code, work, retry, routing_key, route)
        self.records = records
        self._ids = ids
        self._draw = draw  # uniform(0, 1) draws; None when every processing is followed up
        self.probability = probability

    def after(self, cid: int, now: float) -> None:
        """The copy ``cid`` was processed (its effect happened) at ``now``."""
        if self._draw is not None and self._draw() >= self.probability:
            return
        self._follow(from_records(self.records, cid), now)

    def after_call(self, message: Message, now: float) -> None:
        """A synchronous call's processing succeeded (``message`` was never a copy)."""
        if self._draw is not None and self._draw() >= self.probability:
            return
        self._follow(message, now)

    def _follow(self, done: Message, now: float) -> None:
        """Publish the follow-up of ``done``: a new message with its key, type, priority,
        headers and flow."""
        ids = self._ids
        message_id = ids.next_id
        ids.next_id = message_id + 1
        self.sent += 1
        headers = done.headers
        if headers is not None:
            self.records.headers[message_id] = headers
        message = new(message_id, done.key, done.type, done.flow, now, self.code)
        message.priority = done.priority
        message.headers = headers
        self.publish(message, self.route)
