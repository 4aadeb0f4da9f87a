"""Custom routing for scenarios/custom_routing.yaml: ``exchanges.NAME.function: routing:route``.

mqsim loads this file from the scenario's folder and calls the function once per message with:

- ``message``: a dict with ``id``, ``key``, ``type``, ``priority``, ``headers`` (a dict),
  ``routing_key``, ``flow`` and ``producer`` (None for a field the message does not have);
- ``queues``: the names of the queues the exchange may route to: its bound queues if it lists
  ``bindings: [{queue: NAME}, ...]``, else every queue on its broker.

It returns a list of queue names: one copy goes to each. An empty list (or None) makes the
message unroutable (its exchange's alternate queue, or dropped). Raising, or naming a queue
that is not in ``queues``, stops the run as an invalid scenario.
"""

from __future__ import annotations

import zlib

# The biggest accounts get a lane of their own, so that their traffic neither waits behind
# the others nor makes the shard it would hash to a hot one.
VIP = {"customer-1", "customer-2", "customer-3"}
SHARDS = ["shard-0", "shard-1", "shard-2", "shard-3"]


def shard_of(key: str | None) -> str:
    """The same key always goes to the same shard, so one worker per shard processes each
    customer's messages one at a time, in order. crc32 and not hash(): Python salts the
    hash of a string differently in every process, and the run must be reproducible."""
    return SHARDS[zlib.crc32((key or "").encode()) % len(SHARDS)]


def route(message: dict, queues: list[str]) -> list[str]:
    """VIP customers to their lane, everyone else to the shard of their key."""
    if message["key"] in VIP:
        return ["vip"]
    return [shard_of(message["key"])]


def by_hash(message: dict, queues: list[str]) -> list[str]:
    """Hash sharding alone, without the VIP lane (the other side of the scenario)."""
    return [shard_of(message["key"])]
