"""The ready line of a queue: which copy goes next.

Three orders, one interface: ``put`` (a new copy at the back), ``take`` (the next copy to
deliver), ``put_back`` (a returned copy: at its ``original`` position, the ``head`` or the
``tail``), ``done`` (a delivered copy has settled: per-key lines let the key go again),
``remove`` (expiry sweeps) and ``len``/``bool`` (``bool`` says whether something can be taken
now, which for per-key lines is not the same as being non-empty). ``direct`` says whether a
copy arriving at an empty line may go straight to a waiting consumer (order is kept).

The queue calls ``done`` for every copy that settles, whatever the line: only a per-key line
has something to release, so the others make it free (a FIFO line's is a C call, since it
runs once per ack).
"""

from __future__ import annotations

import heapq
from bisect import insort
from collections import deque
from collections.abc import Iterator
from typing import Protocol

from sim.records import Records

ORIGINAL, HEAD, TAIL = "original", "head", "tail"


class ReadyLine(Protocol):
    """The order of a queue's ready copies (see the module docstring)."""

    direct: bool

    def __len__(self) -> int: ...  # (truth: whether a copy can be taken now)

    def put(self, cid: int) -> None: ...

    def take(self) -> int: ...

    def take_oldest(self) -> int: ...

    def put_back(self, cids: list[int], where: str) -> None: ...

    def done(self, cid: int) -> object: ...

    def remove(self, cid: int) -> None: ...

    def snapshot(self) -> Iterator[int]: ...

    def drain_all(self) -> list[int]: ...


def make_line(ordering: str, priority: bool, records: Records) -> ReadyLine:
    """The line a queue's ``ordering`` and ``priority`` ask for."""
    if ordering == "per-key":
        return KeyedLine(records)
    if priority:
        return PriorityLine(records)
    return FifoLine()


class FifoLine(deque[int]):
    """First in, first out: copy ids in publish order (the common case, C-speed methods)."""

    direct = True
    put = deque.append
    take = deque.popleft
    take_oldest = deque.popleft  # drop-head overflow
    # Nothing to release in a plain FIFO line: a builtin that takes the id and does nothing
    # observable (not a descriptor, so it is called with the id alone, without a frame).
    done = bool

    def put_back(self, cids: list[int], where: str) -> None:
        if where == TAIL:
            self.extend(cids)
        elif where == HEAD or not self or cids[-1] < self[0]:
            self.extendleft(reversed(cids))
        else:
            # Original position: ids are in publish order, so an ordered insert restores it.
            items = list(self)
            for cid in cids:
                insort(items, cid)
            self.clear()
            self.extend(items)

    def snapshot(self) -> Iterator[int]:
        return iter(list(self))

    def drain_all(self) -> list[int]:
        items = list(self)
        self.clear()
        return items


class PriorityLine:
    """Highest ``priority`` first, then publish order (non-preemptive priority queueing)."""

    direct = False  # (a copy always goes through the line, so its depth is counted)

    def __init__(self, records: Records) -> None:
        self._records = records
        self._heap: list[tuple[int, int]] = []

    def __len__(self) -> int:
        return len(self._heap)

    def __bool__(self) -> bool:
        return bool(self._heap)

    def put(self, cid: int) -> None:
        heapq.heappush(self._heap, (-self._records.priority[cid], cid))

    def take(self) -> int:
        return heapq.heappop(self._heap)[1]

    take_oldest = take  # drop-head drops the head, which is the most urgent copy

    def put_back(self, cids: list[int], where: str) -> None:
        # Within a priority level a returned copy goes back by id (its original position);
        # head and tail have no meaning across priority levels.
        for cid in cids:
            self.put(cid)

    def done(self, cid: int) -> None:
        """Nothing to release."""

    def remove(self, cid: int) -> None:
        self._heap.remove((-self._records.priority[cid], cid))
        heapq.heapify(self._heap)

    def snapshot(self) -> Iterator[int]:
        return iter([cid for _, cid in sorted(self._heap)])

    def drain_all(self) -> list[int]:
        items = list(self.snapshot())
        self._heap.clear()
        return items


class KeyedLine:
    """Per-key groups, one copy per key in flight at a time (SQS FIFO message groups).

    Copies without a key form one group. A key is *available* when it has ready copies and
    none delivered and unsettled; keys become available in the order their group got ready.
    """

    direct = False  # a waiting consumer may not take a copy whose key is in flight

    def __init__(self, records: Records) -> None:
        self._keys = records.key
        self._groups: dict[int, deque[int]] = {}
        self._available: deque[int] = deque()
        self._busy: dict[int, int] = {}  # key -> the copy of it in flight
        self._n = 0

    def __len__(self) -> int:
        return self._n

    def __bool__(self) -> bool:
        return bool(self._available)

    def put(self, cid: int) -> None:
        key = self._keys[cid]
        group = self._groups.get(key)
        if group is None:
            self._groups[key] = deque((cid,))
            if key not in self._busy:
                self._available.append(key)
        else:
            group.append(cid)
        self._n += 1

    def take(self) -> int:
        key = self._available.popleft()
        group = self._groups[key]
        cid = group.popleft()
        if not group:
            del self._groups[key]
        self._busy[key] = cid
        self._n -= 1
        return cid

    def take_oldest(self) -> int:
        """The earliest-published ready copy, whether or not its key is free (drop-head)."""
        key = min(self._groups, key=lambda k: self._groups[k][0])
        cid = self._groups[key][0]
        self.remove(cid)
        return cid

    def put_back(self, cids: list[int], where: str) -> None:
        for cid in reversed(cids) if where != TAIL else cids:
            key = self._keys[cid]
            group = self._groups.get(key)
            if group is None:
                group = self._groups[key] = deque()
            if where == TAIL:
                group.append(cid)
            elif where == HEAD or not group or cid < group[0]:
                group.appendleft(cid)
            else:
                items = list(group)
                insort(items, cid)
                group.clear()
                group.extend(items)
            self._n += 1
            self._release(key, cid)

    def done(self, cid: int) -> None:
        """The copy settled (or ended): its key is free again if it was the one in flight.
        Safe to call for any copy, any number of times."""
        self._release(self._keys[cid], cid)

    def _release(self, key: int, cid: int) -> None:
        if self._busy.get(key) == cid:
            del self._busy[key]
        if key in self._groups and key not in self._busy and key not in self._available:
            self._available.append(key)

    def remove(self, cid: int) -> None:
        key = self._keys[cid]
        group = self._groups[key]
        group.remove(cid)
        self._n -= 1
        if not group:
            del self._groups[key]
            if key in self._available:
                self._available.remove(key)

    def snapshot(self) -> Iterator[int]:
        return iter(sorted(cid for group in self._groups.values() for cid in group))

    def drain_all(self) -> list[int]:
        """Empty the line; keys in flight stay busy until their copies settle."""
        items = list(self.snapshot())
        self._groups.clear()
        self._available.clear()
        self._n = 0
        return items
