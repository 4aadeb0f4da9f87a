"""A consumer group's log alone, with stub members: placement, fetches, commits, lag and
rebalances, exact on a few records (no broker behind it, no consumer processes)."""

from __future__ import annotations

from typing import Any

from component_stubs import StubBroker, env, publish, records

from sim.model.log import GroupLog
from sim.model.partitions import Topic, stable_hash
from sim.model.work import Work
from sim.scenario.specs import LogSpec

SPEC: dict[str, Any] = {"assignment": "range", "rebalance_time": 3.0, "session_timeout": 10.0,
        "max_poll_interval": 300.0, "max_poll_records": 2, "commit": "manual",
        "commit_interval": 5.0}


class StubMember:
    """A member of the group that records what the log tells it."""

    def __init__(self, name: str) -> None:
        self._name = name
        self.up = True
        self.member = True
        self.waiting = False
        self.partitions: list[int] = []
        self.rotate = 0
        self.owned_while_publishing = False
        self.running: dict[Any, Any] = {}
        self.told: list[tuple[Any, ...]] = []

    @property
    def name(self) -> str:
        return self._name

    def wake(self) -> None:
        self.told.append(("wake",))

    def revoked(self, part: int) -> None:
        self.told.append(("revoked", part))

    def leave_group(self) -> None:
        self.member = False


def make(partitions: int = 2, **spec: Any):
    e, rec = env(), records(["t"])
    topic = Topic("t", partitions, rec)
    log = GroupLog(e, "t", 0, rec, LogSpec(partitions=partitions, **{**SPEC, **spec}),
                   StubBroker(), topic, None, Work())
    return e, rec, log


def keyed(rec, message_id: int, key: str) -> int:
    return publish(rec, 0, message_id, key=rec.keys.code(key))


def test_keyed_records_go_to_their_stable_partition_and_unkeyed_ones_round_robin():
    _, rec, log = make(partitions=3)
    for i, key in enumerate(["a", "b", "a"]):
        log.put(keyed(rec, i, key))
    for i in range(3, 6):
        log.put(publish(rec, 0, i))
    a, b = stable_hash("a") % 3, stable_hash("b") % 3
    by_part = [list(part) for part in log.logs]
    assert [c for c in by_part[a] if c < 3] == [0, 2] and [c for c in by_part[b] if c < 3] == [1]
    assert [[c for c in part if c >= 3] for part in by_part] == [[3], [4], [5]]  # round robin
    assert log.lag() == 6 and log.enqueued == 6 and log.work.count == 6


def test_a_member_fetches_at_most_max_poll_records_and_commits_move_the_lag():
    _, rec, log = make(partitions=1)
    member = StubMember("g/0")
    log.register(member)
    log.form()
    assert member.partitions == [0]
    for i in range(3):
        log.put(publish(rec, 0, i))
    assert log.fetch(member, 2) == [(0, 0), (0, 1)]
    assert (log.depth(), log.in_flight, log.lag()) == (1, 2, 3)
    log.commit(0, 2)
    assert (log.lag(), log.committed_total, log.work.count) == (1, 2, 1)
    assert log.fetch(member, 2) == [(0, 2)]
    assert [rec.deliveries[c] for c in range(3)] == [1, 1, 1]
    assert log.audit() == []


def test_a_record_for_a_waiting_owner_wakes_it():
    _, rec, log = make(partitions=1)
    member = StubMember("g/0")
    log.register(member)
    log.form()
    member.waiting = True
    log.put(publish(rec, 0, 0))
    assert member.told == [("wake",)]


def test_a_join_rebalances_range_and_pauses_the_moved_partitions():
    _, _, log = make(partitions=2)
    first, second = StubMember("g/0"), StubMember("g/1")
    log.register(first)
    log.form()
    assert first.partitions == [0, 1] and log.rebalances == 0  # formed before the run
    log.register(second)
    log.membership_changed()
    assert (first.partitions, second.partitions) == ([0], [1])
    assert first.told == [("revoked", 0), ("revoked", 1)]  # range is eager: all revoked
    assert log.rebalances == 1 and log.paused_until == [3.0, 3.0]
    assert log.next_resume(second) == 3.0
    assert log.partition_lags() == [0, 0] and log.backlog() == 0
    assert log.max_useful_consumers() == 2


def test_the_figures_report_each_partition():
    e, rec, log = make(partitions=1)
    member = StubMember("g/0")
    log.register(member)
    log.form()
    log.put(publish(rec, 0, 0))
    e.run(until=4.0)
    log.commit(0, 1)
    figures = log.figures(end=10.0)
    assert figures["partitions"] == [{"records": 1, "lag_area": 4.0, "max_lag": 1,
                                      "owner": "g/0"}]
    assert (figures["max_lag"], figures["rebalances"], figures["rejected"]) == (1, 0, 0)


def test_a_processed_record_completes_once_and_the_log_counts_it():
    from sim.records import COMPLETED
    _, rec, log = make(partitions=1)
    cid = publish(rec, 0, 0)
    log.put(cid)
    log.complete(cid, 2.5, 7)
    assert (rec.state[cid], rec.completed_at[cid], rec.worker[cid]) == (COMPLETED, 2.5, 7)
    log.complete(cid, 9.0, 8)  # processed again after a rebalance: it completed already
    assert (rec.completed_at[cid], rec.worker[cid], log.completed) == (2.5, 7, 1)


def test_a_rewind_sends_the_fetch_positions_back_to_the_committed_offsets():
    _, rec, log = make(partitions=2)
    member = StubMember("g/0")
    log.register(member)
    log.form()
    for i in range(4):
        log.put(publish(rec, 0, i))  # unkeyed: partitions 0, 1, 0, 1
    assert log.fetch(member, 4) == [(0, 0), (0, 1), (1, 0), (1, 1)]
    log.commit(0, 1)
    log.rewind([0, 1])  # the member's process is gone: what it fetched is fetched again
    assert log.position == [1, 0] and log.depth() == 3
    assert log.fetch(member, 4) == [(1, 0), (1, 1), (0, 1)]  # (the fetch rotates)
