"""A topic's partitions: where a record goes, and who owns each partition after a rebalance.

A keyed record goes to partition ``stable_hash(key) % partitions``, an unkeyed one round-robin
(`Topic`); `assign` is the group coordinator's assignor (``range`` or ``cooperative-sticky``).
"""

from __future__ import annotations

import zlib
from typing import Any

from sim.records import Records


def stable_hash(key: Any) -> int:
    """A hash of a key that is the same in every run and process (CRC-32 of its text):
    Python's ``hash`` of a string is salted per process, so partitions would change."""
    return zlib.crc32(str(key).encode("utf-8"))


class Topic:
    """A topic's partitioner, shared by the groups that read it (one partition per message)."""

    def __init__(self, name: str, partitions: int, records: Records) -> None:
        self.name = name
        self.partitions = partitions
        self.records = records
        self._next = 0  # round robin for unkeyed records
        self._last_id = -1  # the message most recently placed (its other groups' copies follow)
        self._last = 0
        self._by_key: dict[int, int] = {}

    def partition(self, cid: int) -> int:
        rec = self.records
        message = rec.id[cid]
        if message == self._last_id:
            return self._last
        key = rec.key[cid]
        if key >= 0:
            part = self._by_key.get(key)
            if part is None:
                part = self._by_key[key] = stable_hash(rec.keys.values[key]) % self.partitions
        else:
            part = self._next
            self._next = (part + 1) % self.partitions
        self._last_id, self._last = message, part
        return part


def assign(strategy: str, partitions: int, members: list[Any],
           owners: list[Any]) -> list[Any]:
    """The owner of each partition after a rebalance (None: no member left).

    ``range``: members in order take contiguous ranges, the first ``partitions % n`` one more
    (Kafka's RangeAssignor for one topic). ``cooperative-sticky``: each member keeps what it
    owned, up to its fair share, and the rest goes to the members with the fewest."""
    n = len(members)
    if n == 0:
        return [None] * partitions
    if strategy == "range":
        out: list[Any] = []
        base, extra = divmod(partitions, n)
        for i, member in enumerate(members):
            out += [member] * (base + (1 if i < extra else 0))
        return out
    base, extra = divmod(partitions, n)
    quota = {id(m): base for m in members}
    out = [None] * partitions
    kept = {id(m): 0 for m in members}
    bigger = extra  # members that may keep base + 1
    for member in members:
        mine = [p for p in range(partitions) if owners[p] is member]
        allowed = base
        if bigger and len(mine) > base:
            allowed, bigger = base + 1, bigger - 1
        quota[id(member)] = allowed
        for p in mine[:allowed]:
            out[p] = member
            kept[id(member)] += 1
    for member in members:  # members that did not take an extra one may still get one
        if bigger and quota[id(member)] == base:
            quota[id(member)], bigger = base + 1, bigger - 1
    for p in range(partitions):
        if out[p] is None:
            member = min(
                (m for m in members if kept[id(m)] < quota[id(m)]),
                key=lambda m: kept[id(m)],
            )
            out[p] = member
            kept[id(member)] += 1
    return out
