"""The API calls clients make to a broker, counted by kind (what a per-request price bills).

One `Requests` per broker, shared by its queues (and kafka group logs): the model increments a
field where it makes the call, nothing more. Publishes are not counted here: every publish
attempt is a producer's ``sent`` or a retry (``Publisher.retries``), so each publisher reports
them by broker at the end of the run (``Publisher.publish_requests``) and `by_broker` adds them
up, at no cost per message. What each kind means on each preset is in docs/presets.md ("Prices
and what a request is").
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Protocol


class Requests:
    """Counts of one broker's API calls other than publishes.

    ``receive``: a receive (pull, a kafka fetch, a postgres claim) that returned messages;
    ``empty_receive``: one that returned nothing (a short poll, an expired long poll, a call
    during an outage); ``ack``: an acknowledgement or delete reaching for the broker;
    ``nack``: a failed processing given back (a nack or reject; SQS: a visibility change);
    ``commit``: a kafka offset commit.
    """

    __slots__ = ("ack", "commit", "empty_receive", "nack", "receive")
    KINDS = ("receive", "empty_receive", "ack", "nack", "commit")

    def __init__(self) -> None:
        self.receive = 0
        self.empty_receive = 0
        self.ack = 0
        self.nack = 0
        self.commit = 0

    def counts(self) -> dict[str, int]:
        """Every kind's count (zeros included: zero is a value)."""
        return {kind: getattr(self, kind) for kind in self.KINDS}


class Publishes(Protocol):
    """A publisher as `by_broker` reads it (`sim.model.contracts.PublishCounts`)."""

    def publish_requests(self) -> dict[str, int]:
        """Its publish requests (first attempts and retries) by the broker they went to."""
        ...


def by_broker(brokers: Mapping[str, Any],
              publishers: Iterable[Publishes]) -> dict[str, dict[str, int]]:
    """Each broker's requests by kind, ``publish`` first: the publish attempts (first sends
    and retries) each publisher reports by broker (``publish_requests``). A synchronous
    caller publishes nothing; dead-lettering is the broker's own move, not a request."""
    counts = dict.fromkeys(brokers, 0)
    for publisher in publishers:
        for name, n in publisher.publish_requests().items():
            counts[name] = counts.get(name, 0) + n
    return {name: {"publish": counts[name], **broker.requests.counts()}
            for name, broker in brokers.items()}
