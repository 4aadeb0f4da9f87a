"""A kafka consumer group: its consumers (`LogConsumer`) and the pool of them (`LogPool`).

Each consumer polls the partitions its group's log assigns it, processes records one at a time
in order and commits offsets. Both know the log only as a `sim.model.contracts.LogSource`
(a `sim.model.log.GroupLog` in a run); see `sim.model.log` for what the group coordinator does.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING, Any

from sim.model.consumer import ConsumerBase
from sim.model.contracts import FollowUpSink, LogSource
from sim.model.pools import ConsumingPool, Draws
from sim.model.schedule import Call
from sim.records import Records

if TYPE_CHECKING:
    from simpy import Environment

    from sim.scenario.specs import PoolSpec


class LogConsumer(ConsumerBase):
    """One consumer of a group: polls its partitions, processes records one at a time in
    order, and commits offsets (every ``commit_interval`` at a poll, or after each record)."""

    pool: LogPool

    def __init__(self, pool: LogPool, index: int, code: int) -> None:
        super().__init__(pool, index, code)
        self.log: LogSource = pool.log
        self.member = False  # in the group (owns partitions or may be given some)
        self.partitions: list[int] = []
        self.batch: deque[tuple[int, int]] = deque()  # fetched, not yet started
        self.current: tuple[int, int] | None = None  # (running has at most one entry)
        self.holding: dict[int, int] = {}  # (a queue's worker holds deliveries; none here)
        self.processed: dict[int, int] = {}  # partition -> offset after the last one processed
        self.waiting = False
        self.rotate = 0
        self.polls = 0
        self.last_commit = 0.0
        self.incarnation = 0
        self._timer: Call | None = None
        # Whether it was up, and owned a partition, at some moment while producers published
        # (`LogPool.idle_consumers`: up then, and never owning one, is idle).
        self.up_while_publishing = False
        self.owned_while_publishing = False

    # -- life cycle -------------------------------------------------------------------------
    def start(self) -> None:
        """(Re)start: join the group (a rebalance, once it has formed) and poll."""
        if self.up or self.retired:
            return
        self.come_up()
        self.log.membership_changed()
        self.poll()

    def come_up(self) -> None:
        """Up and a member of the group, without a rebalance yet (the group's first
        assignment is made once all its first members are up: `GroupLog.form`)."""
        self._came_up()
        self.up_while_publishing |= self.log.work.publishing
        self.incarnation += 1
        self.last_commit = self.env.now
        self.member = True

    def join(self) -> None:
        self.member = True
        self.log.membership_changed()

    def leave_group(self) -> None:
        self.member = False

    def crash(self, silent: bool = False, clean: bool = False) -> None:
        """The process dies (or stops cleanly: it commits what it processed and leaves)."""
        if not self.up:
            return
        log = self.log
        self.pool.worker_went_down(clean)
        self._cancel_running()
        self.running.clear()
        self.current = None
        self.batch.clear()
        self._cancel_timer()
        self.waiting = False
        if clean and self.member and log.auto_commit:
            self._commit_processed()
        # The process's fetch positions die with it: whoever owns these partitions next (this
        # consumer again, if it keeps them) fetches from the committed offsets.
        log.rewind(self.partitions)
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
        if self.incarnation == event.value and not self.up and self.member:
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
            Call(self.env, log.max_poll_interval, self._poll_deadline, (self.polls, False))
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
        polls, again = event.value
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
            service = self._job(cid)  # a reprocessing after a rebalance is the same job
        self._run(cid, service, self._finished, (part, offset, cid, absorbed))

    def _finished(self, event: Call) -> None:
        part, offset, cid, absorbed = event.value
        self.running.pop(cid, None)
        self.current = None
        pool, log = self.pool, self.log
        now = self.env.now
        if not absorbed:
            self._took_effect(cid, now, pool.processed, pool.unique_at_commit)
        log.complete(cid, now, self.code)
        if log.owner[part] is self and self.member:
            self.processed[part] = offset + 1
            if not log.auto_commit:
                log.requests.commit += 1
                log.commit(part, offset + 1)
        self._next()


class LogPool(ConsumingPool):
    """A consumer group: ``count`` consumers of one topic's group log (a `LogSource`)."""

    workers: list[LogConsumer]

    def __init__(
        self,
        env: Environment,
        name: str,
        log: LogSource,
        records: Records,
        spec: PoolSpec,
        draws: Draws,
        then: FollowUpSink | None = None,
        private_jobs: bool = False,
    ) -> None:
        super().__init__(env, name, records, spec, draws, then, private_jobs)
        self.log = log
        self.source = log
        self.finish(spec)

    def _new_worker(self, index: int, code: int) -> LogConsumer:
        consumer = LogConsumer(self, index, code)
        self.log.register(consumer)
        return consumer

    def idle_consumers(self) -> int:
        """Consumers that were up while producers published but owned no partition at any
        moment of it: they cost worker time and did nothing (more consumers than partitions,
        or the assignor left them out)."""
        return sum(1 for c in self.workers
                   if c.up_while_publishing and not c.owned_while_publishing)

    def start(self) -> None:
        self._choose_plain()
        for consumer in self.workers:
            consumer.come_up()
        self.log.form()
        self.started()
        if self.autoscaler is not None:
            self.autoscaler.start()
        for consumer in self.workers:
            consumer.poll()

    def figures(self, end: float) -> dict[str, Any]:
        return {**super().figures(end), "idle_consumers": self.idle_consumers()}
