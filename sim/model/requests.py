"""The API calls clients make to a broker, counted by kind (what a per-request price bills).

One `Requests` per broker, shared by its queues (and kafka group logs): the model increments a
field where it makes the call, nothing more. Publishes are not counted here: every publish
attempt is a producer's ``sent`` or a retry (``Publisher.retries``), so the engine adds them up
per broker at the end of the run, at no cost per message (`sim.engine`). What each kind means
on each preset is in docs/presets.md ("Prices and what a request is").
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any


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


def by_broker(brokers: Mapping[str, Any], publishers: Iterable[Any]) -> dict[str, dict[str, int]]:
    """Each broker's requests by kind, ``publish`` first: the publish attempts (first sends
    and retries) of every publisher whose route leads to it. A synchronous caller has no
    route and publishes nothing; dead-lettering is the broker's own move, not a request."""
    publishes = dict.fromkeys(brokers, 0)
    for publisher in publishers:
        route = getattr(publisher, "_route", None) or getattr(publisher, "route", None)
        if route is None:
            continue
        name = route.broker.name
        publishes[name] = publishes.get(name, 0) + publisher.sent + publisher.retries
    return {name: {"publish": publishes[name], **broker.requests.counts()}
            for name, broker in brokers.items()}
