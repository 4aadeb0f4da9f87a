"""A queue's latencies, as the samplers its mechanisms draw from (None: always zero).

Each is the queue's own or else its broker's (`sim.scenario.specs.QueueSpec` resolves which),
drawn from its own stream, named for the queue and the latency, so a latency added to one
queue changes no other draw.
"""

from __future__ import annotations

from dataclasses import dataclass

from sim.model.contracts import Sampler


@dataclass(frozen=True, slots=True)
class Latencies:
    deliver: Sampler | None = None  # push: from the broker to the consumer
    api: Sampler | None = None  # pull: each receive call's round trip
    notify: Sampler | None = None  # long poll: a publish reaching a waiting receive
    disconnect: Sampler | None = None  # how long a dead consumer's connection takes to drop


NONE = Latencies()  # every latency zero (a queue built alone, in the tests)
