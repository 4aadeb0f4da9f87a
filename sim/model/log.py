"""Kafka-style partitioned logs: a topic's partitions, one consumer group's offsets, rebalances.

A topic keeps every record (retention is unlimited in the model): a keyed record goes to
partition ``stable_hash(key) % partitions``, an unkeyed one round-robin (`Topic`, in
`sim.model.partitions`). Each consumer group reads the whole topic on its own (`GroupLog`,
here): the group's read of a record is a copy in the records, so a topic read by two groups
has two copies of every message, each with its own fate. Within a group each partition has
one owner at a time (`sim.model.partitions.assign`), a `sim.model.group.LogConsumer` seen
here as a `GroupMember`, which fetches from its position and commits offsets; a copy's work
(see `sim.model.work`) ends when its offset is committed, so a drained run waits until every
group has committed everything (lag zero).

What the group coordinator does (Apache Kafka's documented behaviour, simplified):

- a consumer joins when it starts, leaves at once on a clean stop (committing what it has
  processed, with auto-commit), and is removed ``session_timeout`` after a crash (its
  heartbeats stop; a silent host is the same), or as soon as it spends longer than
  ``max_poll_interval`` between two polls (it goes on processing what it holds, but its commits
  fail and it rejoins at its next poll: the slow-consumer rebalance storm);
- each membership change is a rebalance: ``range`` (eager) revokes every partition, and
  ``cooperative-sticky`` only the ones that move; revoked partitions are paused for
  ``rebalance_time``, then their new owner resumes from the committed offset, so what was
  processed but not committed is processed again, and nothing is lost;
- a consumer that is revoked while it cooperates drops the records of the revoked partitions it
  had fetched but not started; the one in processing finishes, but its commit is refused.
"""

from __future__ import annotations

import math
from array import array
from typing import TYPE_CHECKING, Any

from sim.model.contracts import GroupMember, Sampler
from sim.model.partitions import Topic, assign
from sim.model.work import Work, inert
from sim.records import COMPLETED, PENDING, Records

if TYPE_CHECKING:
    from simpy import Environment

    from sim.model.contracts import Hub
    from sim.scenario.specs import LogSpec


class GroupLog:
    """One consumer group's view of a topic: offsets, owners and commits, per partition.

    It is a `sim.model.contracts.Source` as a queue is: the broker puts copies in it, the
    monitor, the autoscaler and the model read it the same way; its consumer group's pool
    and members use it as a `sim.model.contracts.LogSource`."""

    max_length = None  # a log never refuses a publish (retention is unlimited)

    def __init__(self, env: Environment, name: str, code: int, records: Records,
                 spec: LogSpec, broker: Hub, topic: Topic,
                 api_latency: Sampler | None, work: Work | None = None,
                 group: str | None = None) -> None:
        self.env = env
        self.name = name
        self.code = code
        self.records = records
        self.broker = broker
        self.requests = broker.requests  # API calls, by kind (costs)
        self.topic = topic
        n = topic.partitions
        self.partitions = n
        self.logs = [array("q") for _ in range(n)]
        self.committed = [0] * n
        self.committed_total = 0  # the sum of committed offsets (lag = enqueued - this)
        self.position = [0] * n  # the owner's next fetch
        self.owner: list[GroupMember | None] = [None] * n
        self.paused_until = [0.0] * n
        self.strategy: str = spec.assignment
        self.rebalance_time: float = spec.rebalance_time
        self.session_timeout: float = spec.session_timeout
        self.max_poll_interval: float = spec.max_poll_interval
        self.max_poll_records: int = spec.max_poll_records
        self.auto_commit = spec.commit == "auto"
        self.commit_interval: float = spec.commit_interval
        self.api_latency = api_latency
        self.consumers: list[GroupMember] = []
        self.orphans: set[int] = set()  # (a queue's; a log has none)
        self.work: Work = inert() if work is None else work
        self.enqueued = 0
        self.completed = 0
        self.rejected = 0
        self.refused = 0
        self.republished = 0  # (a log never refuses, so never takes a republished copy)
        self.max_depth = 0
        self.rebalances = 0
        self.max_lag = 0
        # Per partition, for the summary (`partition_figures`): the largest lag, and the sums
        # of the append times and of the commit times of its records. The lag's time integral
        # is the time each record spent appended and not committed, added up: exact, and two
        # additions per record instead of an update of the area at each change.
        self.part_max_lag = [0] * n
        self.appended_at_sum = [0.0] * n
        self.committed_at_sum = [0.0] * n
        self.group = group  # the consumer group's pool (None: no pool reads the topic)
        self._formed = False  # the group's first assignment is made before the run, no pause

    # -- what the broker and the monitor ask -----------------------------------------------
    def rejects(self) -> bool:
        return False

    def refuse(self) -> None:
        self.refused += 1  # (only while its broker is down)

    def reject(self) -> None:
        self.rejected += 1

    def republish(self) -> None:
        self.republished += 1  # (never: a log never refuses, so nothing is republished to it)

    def register(self, consumer: GroupMember) -> None:
        """A consumer of the group exists (it joins when it starts)."""
        self.consumers.append(consumer)

    def backlog(self) -> int:
        """The group's lag: records not committed (fetched ones included)."""
        return self.lag()

    def max_useful_consumers(self) -> int | None:
        """A consumer beyond the partitions would own none."""
        return self.partitions

    def figures(self, end: float) -> dict[str, Any]:
        """The log's counts for the summary, with the group's and each partition's."""
        return {"rejected": self.rejected, "refused_attempts": self.refused,
                "max_depth": self.max_depth, "republished_copies": self.republished,
                "max_lag": self.max_lag, "rebalances": self.rebalances, "group": self.group,
                "partitions": self.partition_figures(end)}

    def audit(self) -> list[str]:
        """The group's offsets must agree with themselves."""
        problems = []
        for part in range(self.partitions):
            if not 0 <= self.committed[part] <= len(self.logs[part]):
                problems.append(f"topic {self.name}: partition {part} committed "
                                f"{self.committed[part]} outside its log")
            if self.part_max_lag[part] < len(self.logs[part]) - self.committed[part]:
                problems.append(f"topic {self.name}: partition {part} max lag "
                                f"{self.part_max_lag[part]} below its lag")
            if not all(map(math.isfinite, (self.appended_at_sum[part],
                                           self.committed_at_sum[part]))):
                problems.append(f"topic {self.name}: partition {part} lag times not finite")
        if self.lag() != sum(len(x) for x in self.logs) - sum(self.committed):
            problems.append(f"topic {self.name}: lag {self.lag()} disagrees with its offsets")
        for consumer in self.consumers:
            if len(consumer.running) > 1:
                problems.append(f"consumer {consumer.name} runs several records")
        return problems

    def put(self, cid: int) -> None:
        """Append a record to its partition (the group's copy); wake the owner if it waits."""
        self.work.count += 1  # a copy's work ends when its offset is committed
        self.enqueued += 1
        part = self.topic.partition(cid)
        log = self.logs[part]
        part_lag = len(log) - self.committed[part]
        self.appended_at_sum[part] += self.records.accepted_at[cid]  # (now, set by the broker)
        log.append(cid)
        if part_lag >= self.part_max_lag[part]:
            self.part_max_lag[part] = part_lag + 1
        lag = self.lag()
        if lag > self.max_lag:
            self.max_lag = lag
        depth = self.depth()
        if depth > self.max_depth:
            self.max_depth = depth
        owner = self.owner[part]
        if owner is not None and owner.waiting:
            owner.wake()

    def lag(self) -> int:
        """Records not yet committed, over every partition."""
        return self.enqueued - self.committed_total

    def partition_lags(self) -> list[int] | None:
        return [len(log) - c for log, c in zip(self.logs, self.committed, strict=True)]

    def partition_figures(self, end: float) -> list[dict[str, Any]]:
        """Per partition, for the summary: its ``records`` (the length of its log), the lag's
        time integral over [0, ``end``] (``lag_area``), its ``max_lag`` and its ``owner`` at
        ``end`` (``POOL/N``, or None when no member holds it)."""
        out = []
        for part, log in enumerate(self.logs):
            lag = len(log) - self.committed[part]
            owner = self.owner[part]
            # Each record's time uncommitted, up to `end` for those still uncommitted (never
            # below 0: the two sums may differ by rounding when every record is committed at
            # once).
            area = self.committed_at_sum[part] + lag * end - self.appended_at_sum[part]
            out.append({
                "records": len(log),
                "lag_area": max(0.0, area),
                "max_lag": self.part_max_lag[part],
                "owner": None if owner is None else owner.name,
            })
        return out

    def depth(self) -> int:
        """Records not yet fetched by the group (fetched but uncommitted ones are in flight)."""
        return sum(
            len(log) - (max(self.position[p], self.committed[p]) if self.owner[p] is not None
                        else self.committed[p])
            for p, log in enumerate(self.logs)
        )

    @property
    def in_flight(self) -> int:
        return self.lag() - self.depth()

    def expire_overdue(self) -> None:
        """(A queue's end-of-run sweep: a log keeps everything.)"""

    def outage_started(self, loses_messages: bool) -> None:
        """The broker is down: fetches and commits wait (the log itself is replicated)."""

    def outage_ended(self) -> None:
        for consumer in self.consumers:
            if consumer.waiting:
                consumer.wake()

    # -- offsets ----------------------------------------------------------------------------
    def commit(self, part: int, offset: int) -> None:
        """The group's committed offset of a partition moves on: those copies' work is done."""
        done = offset - self.committed[part]
        if done <= 0 or self.broker.down:
            return
        self.committed_at_sum[part] += self.env.now * done
        self.committed[part] = offset
        self.committed_total += done
        work = self.work
        work.count -= done
        if not work.count and not work.publishing:
            work.idle()

    def complete(self, cid: int, at: float, worker_code: int) -> None:
        """A member processed the record ``cid`` at ``at``: its copy completes, the first
        time only (a record processed again after a rebalance completes nothing more)."""
        rec = self.records
        if rec.state[cid] == PENDING:
            rec.state[cid] = COMPLETED
            rec.completed_at[cid] = at
            rec.worker[cid] = worker_code
            self.completed += 1

    def rewind(self, parts: list[int]) -> None:
        """A member's process is gone: its fetch positions in ``parts`` die with it, so
        whoever owns them next (it again, if it keeps them) fetches from the committed offsets."""
        for part in parts:
            self.position[part] = self.committed[part]

    def fetch(self, consumer: GroupMember, limit: int) -> list[tuple[int, int]]:
        """Up to ``limit`` (partition, offset) pairs from the consumer's unpaused partitions."""
        if self.broker.down:
            return []
        now = self.env.now
        got: list[tuple[int, int]] = []
        parts = consumer.partitions
        if not parts:
            return got
        start = consumer.rotate % len(parts)
        consumer.rotate += 1
        deliveries = self.records.deliveries
        for part in parts[start:] + parts[:start]:
            if self.paused_until[part] > now:
                continue
            # (a record in processing through an eager rebalance may have committed past the
            # reset position: never fetch what is committed)
            log, pos = self.logs[part], max(self.position[part], self.committed[part])
            end = min(len(log), pos + limit - len(got))
            for offset in range(pos, end):
                deliveries[log[offset]] += 1
                got.append((part, offset))
            self.position[part] = end
            if len(got) >= limit:
                break
        return got

    def next_resume(self, consumer: GroupMember) -> float | None:
        """When the earliest paused partition of the consumer resumes (None: none paused)."""
        now = self.env.now
        paused = [self.paused_until[p] for p in consumer.partitions if self.paused_until[p] > now]
        return min(paused) if paused else None

    # -- membership and rebalances -----------------------------------------------------------
    def form(self) -> None:
        """The group's first assignment, made before the run (no pause)."""
        self._formed = True
        self._rebalance(pause=False)

    def membership_changed(self) -> None:
        """A consumer joined or left: rebalance now (once the group has formed)."""
        if self._formed:
            self._rebalance(pause=True)

    def _rebalance(self, pause: bool) -> None:
        now = self.env.now
        members = [c for c in self.consumers if c.member]
        # A crashed member still in the group (its session has not expired) keeps its place
        # until this rebalance, which it cannot rejoin: it is dropped now.
        for consumer in self.consumers:
            if consumer.member and not consumer.up:
                consumer.leave_group()
        members = [c for c in members if c.up]
        old = list(self.owner)
        new = assign(self.strategy, self.partitions, members, old)
        eager = self.strategy == "range"
        if pause:
            self.rebalances += 1
        for part in range(self.partitions):
            before, after = old[part], new[part]
            if not eager and before is after:
                continue
            if before is not None:
                before.revoked(part)
            self.owner[part] = after
            self.position[part] = self.committed[part]
            if pause:
                self.paused_until[part] = now + self.rebalance_time
        publishing = self.work.publishing
        for consumer in self.consumers:
            consumer.partitions = [p for p in range(self.partitions) if self.owner[p] is consumer]
            if publishing and consumer.partitions:
                consumer.owned_while_publishing = True
        for consumer in members:
            if consumer.waiting:
                consumer.wake()
