"""A consumer group's pool alone, with a stub log (a `LogSource`): what its consumer asks of
the log and when, with exact times (counted service draws, no broker, no topic)."""

from __future__ import annotations

from typing import Any

from component_stubs import env, pool_spec, publish, records

from sim.model.group import LogPool
from sim.model.pools import Draws
from sim.model.requests import Requests
from sim.model.work import Work


class StubLog:
    """One partition holding the given records, owned by the first member; records every
    call a member or the pool makes on it."""

    api_latency = None
    auto_commit = False  # a commit after each record (``commit: manual``)
    commit_interval = 5.0
    max_poll_records = 2
    max_poll_interval = 300.0
    session_timeout = 10.0

    def __init__(self, e: Any, cids: list[int]) -> None:
        self.env = e
        self.group: str | None = "g"  # (the build gives a log its group when it makes it)
        self.requests = Requests()
        self.work = Work()
        self.logs = [list(cids)]
        self.committed = [0]
        self.owner: list[Any] = [None]
        self.position = 0
        self.consumers: list[Any] = []
        self.calls: list[tuple[Any, ...]] = []

    def register(self, consumer: Any) -> None:
        self.consumers.append(consumer)

    def form(self) -> None:
        self.calls.append(("form",))
        first = self.consumers[0]
        first.partitions, self.owner[0] = [0], first

    def membership_changed(self) -> None:
        self.calls.append(("membership_changed", self.env.now))

    def fetch(self, consumer: Any, limit: int) -> list[tuple[int, int]]:
        self.calls.append(("fetch", limit, self.env.now))
        end = min(len(self.logs[0]), self.position + limit)
        got = [(0, offset) for offset in range(self.position, end)]
        self.position = end
        return got

    def next_resume(self, consumer: Any) -> float | None:
        return None

    def commit(self, part: int, offset: int) -> None:
        self.calls.append(("commit", part, offset, self.env.now))
        self.committed[part] = offset

    def complete(self, cid: int, at: float, worker_code: int) -> None:
        self.calls.append(("complete", cid, at))

    def rewind(self, parts: list[int]) -> None:
        self.calls.append(("rewind", list(parts), self.env.now))
        self.position = self.committed[0]


def counted(*lengths: float):
    it = iter(lengths)
    return lambda: next(it)


def make(n: int = 2):
    e, rec = env(), records(["t"])
    cids = [publish(rec, 0, i) for i in range(n)]
    log = StubLog(e, cids)
    pool = LogPool(e, "g", log, rec, pool_spec(), Draws(counted(2.0, 3.0, 4.0)))
    pool.start()
    return e, rec, log, pool, cids


def test_a_consumer_fetches_processes_in_order_completes_and_commits_each_record():
    e, rec, log, pool, (a, b) = make()
    assert pool.source is log
    e.run(until=100)
    # Fetched together at 0; a runs 2.0 s, b 3.0 s after it; each completes, then is committed
    # (manual commits); the empty fetch at 5.0 leaves the consumer waiting.
    assert log.calls == [("form",), ("fetch", 2, 0.0), ("complete", a, 2.0), ("commit", 0, 1, 2.0),
                         ("complete", b, 5.0), ("commit", 0, 2, 5.0), ("fetch", 2, 5.0)]
    assert (log.requests.receive, log.requests.empty_receive, log.requests.commit) == (1, 1, 2)
    assert [rec.processings[c] for c in (a, b)] == [1, 1]
    assert pool.busy_time_until(100.0) == 5.0 and pool.workers[0].waiting


def test_a_crash_rewinds_the_consumers_partitions_and_its_session_ends_later():
    e, rec, log, pool, (a, _) = make()
    e.run(until=1.0)
    pool.workers[0].crash()
    e.run(until=100)
    # The processing of a never ends: nothing completes or commits; the fetch positions go
    # back at once, and the coordinator notices after session_timeout (10 s).
    assert log.calls == [("form",), ("fetch", 2, 0.0), ("rewind", [0], 1.0),
                         ("membership_changed", 11.0)]
    assert rec.processings[a] == 0 and pool.crashes == 1 and pool.up == 0
    assert pool.busy_time_until(100.0) == 1.0  # the cancelled processing's rest taken off
