"""Kafka-style partitioned logs: a topic's partitions, one consumer group's offsets, rebalances.

A topic keeps every record (retention is unlimited in the model): a keyed record goes to
partition ``stable_hash(key) % partitions``, an unkeyed one round-robin (`Topic`). Each consumer
group reads the whole topic on its own (`GroupLog`): the group's read of a record is a copy in
the records, so a topic read by two groups has two copies of every message, each with its own
fate. Within a group each partition has one owner at a time (`Assignment`), which fetches from
its position and commits offsets; a copy's work (see `sim.model.work`) ends when its offset is
committed, so a drained run waits until every group has committed everything (lag zero).

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
import zlib
from array import array
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from sim.model.schedule import Call
from sim.model.work import Work, inert
from sim.model.workers import WorkerPool
from sim.records import COMPLETED, NAN, PENDING, Records

if TYPE_CHECKING:
    from simpy import Environment

    from sim.model.broker import Broker

Sampler = Callable[[], float]


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


class _Depth:
    """``len()`` of a group's unread records, for the monitor (a queue's ready line)."""

    def __init__(self, log: GroupLog) -> None:
        self.log = log

    def __len__(self) -> int:
        return self.log.depth()


class GroupLog:
    """One consumer group's view of a topic: offsets, owners and commits, per partition.

    It answers the broker and the monitor as a queue does (``put``, ``ready``, counts)."""

    max_length = None
    overflow = "reject-publish"
    restore_interval = None
    dead_letter = None
    push = False

    def __init__(self, env: Environment, name: str, code: int, records: Records,
                 spec: dict[str, Any], broker: Broker, topic: Topic,
                 api_latency: Sampler | None) -> None:
        self.env = env
        self.name = name
        self.code = code
        self.records = records
        self.broker = broker
        self.requests = broker.requests  # API calls, by kind
        self.topic = topic
        n = topic.partitions
        self.partitions = n
        self.logs = [array("q") for _ in range(n)]
        self.committed = [0] * n
        self.committed_total = 0  # the sum of committed offsets (lag = enqueued - this)
        self.position = [0] * n  # the owner's next fetch
        self.owner: list[LogConsumer | None] = [None] * n
        self.paused_until = [0.0] * n
        self.strategy: str = spec["assignment"]
        self.rebalance_time: float = spec["rebalance_time"]
        self.session_timeout: float = spec["session_timeout"]
        self.max_poll_interval: float = spec["max_poll_interval"]
        self.max_poll_records: int = spec["max_poll_records"]
        self.auto_commit = spec["commit"] == "auto"
        self.commit_interval: float = spec["commit_interval"]
        self.api_latency = api_latency
        self.consumers: list[LogConsumer] = []
        self.orphans: set[int] = set()  # (a queue's; a log has none)
        self.ready = _Depth(self)
        self.work: Work = inert()
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
        self.group: str | None = None  # the consumer group's pool (set by it)
        self._formed = False  # the group's first assignment is made before the run, no pause

    # -- what the broker and the monitor ask -----------------------------------------------
    def rejects(self) -> bool:
        return False

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

    def partition_lags(self) -> list[int]:
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
                "owner": None if owner is None else f"{owner.pool.name}/{owner.index}",
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

    def fetch(self, consumer: LogConsumer, limit: int) -> list[tuple[int, int]]:
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

    def next_resume(self, consumer: LogConsumer) -> float | None:
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


class LogConsumer:
    """One consumer of a group: polls its partitions, processes records one at a time in
    order, and commits offsets (every ``commit_interval`` at a poll, or after each record)."""

    def __init__(self, pool: LogPool, index: int, code: int) -> None:
        self.pool = pool
        self.index = index
        self.code = code
        self.env = pool.env
        self.log: GroupLog = pool.queue
        self.up = False
        self.retired = False
        self.member = False  # in the group (owns partitions or may be given some)
        self.partitions: list[int] = []
        self.batch: deque[tuple[int, int]] = deque()  # fetched, not yet started
        self.current: tuple[int, int] | None = None
        self.running: dict[int, Call] = {}  # (for the pool's busy time: at most one entry)
        self.holding: dict[int, int] = {}  # (a queue's worker holds deliveries; none here)
        self.processed: dict[int, int] = {}  # partition -> offset after the last one processed
        self.waiting = False
        self.rotate = 0
        self.polls = 0
        self.last_commit = 0.0
        self.incarnation = 0
        self._timer: Call | None = None
        self.plain_service: Sampler | None = None
        # Whether it was up, and owned a partition, at some moment while producers published
        # (`LogPool.idle_consumers`: up then, and never owning one, is idle).
        self.up_while_publishing = False
        self.owned_while_publishing = False
        self.jobs: array | None = pool.jobs  # (see Pool.jobs)

    # -- life cycle -------------------------------------------------------------------------
    def start(self) -> None:
        if self.up or self.retired:
            return
        self.up = True
        self.up_while_publishing |= self.log.work.publishing
        self.incarnation += 1
        self.pool.went_up(+1)
        self.last_commit = self.env.now
        self.join()
        self.poll()

    def join(self) -> None:
        self.member = True
        self.log.membership_changed()

    def leave_group(self) -> None:
        self.member = False

    def crash(self, silent: bool = False, clean: bool = False) -> None:
        """The process dies (or stops cleanly: it commits what it processed and leaves)."""
        if not self.up:
            return
        pool, log = self.pool, self.log
        now = self.env.now
        pool.worker_went_down(clean)
        for call in self.running.values():
            call.cancel()
            pool.busy_time -= call.due - now
        self.running.clear()
        self.current = None
        self.batch.clear()
        self._cancel_timer()
        self.waiting = False
        if clean and self.member and log.auto_commit:
            self._commit_processed()
        # The process's fetch positions die with it: whoever owns these partitions next (this
        # consumer again, if it keeps them) fetches from the committed offsets.
        for part in self.partitions:
            log.position[part] = log.committed[part]
        self.processed.clear()
        if clean:
            self.up = False
            if self.member:
                self.member = False
                log.membership_changed()
            return
        self.up = False
        if self.member:  # the coordinator notices only when the session times out
            Call(self.env, log.session_timeout, self._session_expired, self.incarnation)

    def _session_expired(self, event: Call) -> None:
        if self.incarnation == event._value and not self.up and self.member:
            self.member = False
            self.log.membership_changed()

    def revoked(self, part: int) -> None:
        """A partition moves away: a cooperating member commits what it processed of it
        (auto-commit) and drops what it fetched but did not start; a member already removed
        (too slow) keeps processing what it holds, for nothing."""
        if self.up and self.member:
            if self.log.auto_commit and part in self.processed:
                self.log.requests.commit += 1
                self.log.commit(part, self.processed[part])
            if self.batch:
                self.batch = deque(item for item in self.batch if item[0] != part)
        self.processed.pop(part, None)

    # -- polling ----------------------------------------------------------------------------
    def poll(self) -> None:
        """The consumer's poll: (re)join if it was removed, auto-commit, fetch."""
        if not self.up:
            return
        self.waiting = False
        self._cancel_timer()
        log = self.log
        self.polls += 1
        if not self.member:
            self.join()  # removed for a slow poll: back in the group, another rebalance
        if log.auto_commit and self.env.now >= self.last_commit + log.commit_interval:
            self._commit_processed()
        got = log.fetch(self, log.max_poll_records)
        if got:
            log.requests.receive += 1
            self.batch.extend(got)
            Call(self.env, log.max_poll_interval, self._poll_deadline, self.polls)
            if log.api_latency is None:
                self._next()
            else:
                self._timer = Call(self.env, log.api_latency(), self._fetched)
            return
        log.requests.empty_receive += 1
        self._idle()

    def _fetched(self, _event: Call) -> None:
        self._timer = None
        self._next()

    def _idle(self) -> None:
        """Nothing to fetch: wait for a record, a resume, or the next auto-commit."""
        log = self.log
        self.waiting = True
        wake_at = log.next_resume(self)
        if log.auto_commit and any(
            self.processed.get(p, 0) > log.committed[p] for p in self.partitions
        ):
            due = self.last_commit + log.commit_interval
            wake_at = due if wake_at is None else min(wake_at, due)
        if wake_at is not None:
            self._timer = Call(self.env, max(0.0, wake_at - self.env.now), self._woken)

    def wake(self) -> None:
        """A record arrived on an owned partition (or one resumed): poll again now."""
        if self.waiting and self.up:
            self._cancel_timer()
            self.poll()

    def _woken(self, _event: Call) -> None:
        self._timer = None
        if self.waiting:
            self.poll()

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _poll_deadline(self, event: Call) -> None:
        """``max_poll_interval`` after a poll: if no poll came since, the member is removed.
        A record finishing at this very instant is let finish first (a poll that comes just
        in time is not late): the check looks again once it has."""
        polls, again = event._value if isinstance(event._value, tuple) else (event._value, False)
        if self.polls != polls or not self.up or not self.member or self.waiting:
            return
        now = self.env.now
        if not again and any(call.due <= now for call in self.running.values()):
            Call(self.env, 0.0, self._poll_deadline, (polls, True))
            return
        self.member = False
        self.log.membership_changed()

    def _commit_processed(self) -> None:
        self.last_commit = self.env.now
        log = self.log
        log.requests.commit += 1  # one OffsetCommit request for every partition it owns
        for part in self.partitions:
            offset = self.processed.get(part)
            if offset is not None:
                log.commit(part, offset)

    # -- processing -------------------------------------------------------------------------
    def _next(self) -> None:
        """Start the next fetched record, or poll again when the batch is done."""
        if not self.up or self.current is not None:
            return
        if not self.batch:
            self.poll()
            return
        part, offset = self.batch.popleft()
        cid = self.log.logs[part][offset]
        pool, rec, now = self.pool, self.pool.records, self.env.now
        if rec.first_delivered_at[cid] != rec.first_delivered_at[cid]:
            rec.first_delivered_at[cid] = now
        if rec.started_at[cid] != rec.started_at[cid]:
            rec.started_at[cid] = now
        self.current = (part, offset)
        seen = pool.seen_at_start
        absorbed = seen is not None and cid in seen
        if absorbed:  # idempotent consumer: already done, skipped
            rec.absorbed[cid] += 1
            service = 0.0
        else:
            jobs = self.jobs
            service = jobs[cid] if jobs is not None else NAN
            if service != service:  # NaN: first processing by this group (or a fresh draw)
                plain = self.plain_service
                service = plain() if plain is not None else pool.service_time(cid)
                if jobs is not None:
                    jobs[cid] = service  # a reprocessing after a rebalance is the same job
            service *= pool.slowdown
            pool.busy_time += service
        call = Call(self.env, service, self._finished, (part, offset, cid, absorbed))
        call.due = now + service
        self.running[cid] = call

    def _finished(self, event: Call) -> None:
        part, offset, cid, absorbed = event._value
        self.running.pop(cid, None)
        self.current = None
        pool, rec, log = self.pool, self.pool.records, self.log
        now = self.env.now
        if not absorbed:
            processed = pool.processed
            if processed is not None and cid in processed and pool.unique_at_commit:
                rec.absorbed[cid] += 1
            else:
                rec.processings[cid] += 1
                if processed is not None:
                    processed.add(cid)
                if pool.then is not None:
                    pool.then.after(cid, now)
        if rec.state[cid] == PENDING:
            rec.state[cid] = COMPLETED
            rec.completed_at[cid] = now
            rec.worker[cid] = self.code
            log.completed += 1
        if log.owner[part] is self and self.member:
            self.processed[part] = offset + 1
            if not log.auto_commit:
                log.requests.commit += 1
                log.commit(part, offset + 1)
        self._next()


class LogPool(WorkerPool):
    """A consumer group: ``count`` consumers of one topic (a `GroupLog`)."""

    queue: GroupLog  # type: ignore[assignment]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.queue.group = self.name

    def idle_consumers(self) -> int:
        """Consumers that were up while producers published but owned no partition at any
        moment of it: they cost worker time and did nothing (more consumers than partitions,
        or the assignor left them out)."""
        return sum(1 for c in self.workers
                   if c.up_while_publishing and not c.owned_while_publishing)

    def add_worker(self) -> LogConsumer:  # type: ignore[override]
        index = len(self.workers)
        consumer = LogConsumer(self, index, self.records.workers.code(f"{self.name}/{index}"))
        consumer.plain_service = self.plain
        consumer.jobs = self.jobs
        self.workers.append(consumer)  # type: ignore[arg-type]
        self.queue.consumers.append(consumer)
        for listener in self.on_new_worker:
            listener(consumer)
        return consumer

    def start(self) -> None:
        plain = self.records.service_time is None and not self.service_by_type
        self.plain = self.service if plain else None
        for consumer in self.workers:
            consumer.plain_service = self.plain
            consumer.jobs = self.jobs
            consumer.up = True
            consumer.up_while_publishing |= self.queue.work.publishing
            consumer.member = True
            self.went_up(+1)
        self.queue.form()
        self.started()
        if self.autoscaler is not None:
            self.autoscaler.start()
        for consumer in self.workers:
            consumer.poll()

    def audit(self) -> list[str]:
        """The group's offsets must agree with themselves (see `Model.audit`)."""
        log, problems = self.queue, []
        for part in range(log.partitions):
            if not 0 <= log.committed[part] <= len(log.logs[part]):
                problems.append(f"topic {log.name}: partition {part} committed "
                                f"{log.committed[part]} outside its log")
            if log.part_max_lag[part] < len(log.logs[part]) - log.committed[part]:
                problems.append(f"topic {log.name}: partition {part} max lag "
                                f"{log.part_max_lag[part]} below its lag")
            if not all(map(math.isfinite, (log.appended_at_sum[part],
                                           log.committed_at_sum[part]))):
                problems.append(f"topic {log.name}: partition {part} lag times not finite")
        if log.lag() != sum(len(x) for x in log.logs) - sum(log.committed):
            problems.append(f"topic {log.name}: lag {log.lag()} disagrees with its offsets")
        for consumer in self.workers:
            if len(consumer.running) > 1:
                problems.append(f"consumer {self.name}/{consumer.index} runs several records")
        return problems
