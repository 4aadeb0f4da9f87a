"""The contracts between the model's rooms, as `typing.Protocol`s.

Each component talks to another only through what is written here; a checker (mypy) holds
every implementation to it, and no component asks another's type to decide what to do:

- a `Target` takes copies from a broker (a queue, or a consumer group's log);
- a `Source` is what a pool's consumers take copies from and what the model, the monitor and
  the autoscaler read (a `Queue` or a `GroupLog`); a `QueueSource` is a queue's side of it, the
  calls a `Consumer` (a worker of a pool) makes on it; a `LogSource` is a consumer group's
  log, as its pool and its members (`GroupMember`) use it;
- a `Consumer` is what a queue calls on a worker: deliveries, the pull loop's wake-ups;
- a `Route` says where a publish goes; a `Sender` is told how its publish ended, and reports
  its own counts (`PublishCounts`);
- a `Member` is one worker of any kind, as faults and the autoscaler see it, and a `Pool` its
  pool; a `FollowUpSink` publishes a processing's follow-up (a pool's ``then``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from sim.model.message import Message
    from sim.model.requests import Requests
    from sim.model.schedule import Call
    from sim.model.work import Work

# The next value of a random stream (a service time, a latency, a uniform draw).
Sampler = Callable[[], float]


class Hub(Protocol):
    """A broker as the components it hosts see it (`sim.model.broker.Broker`)."""

    @property
    def name(self) -> str: ...

    @property
    def down(self) -> bool: ...

    @property
    def instant(self) -> bool:
        """No publish latency, no capacity: a publish is accepted as it is sent."""

    @property
    def requests(self) -> Requests:
        """Its API calls by kind (costs), counted by the queues and logs it hosts."""

    def publish(self, message: Message, route: Route, sender: Sender, attempt: int) -> bool:
        """``sender`` sends a message now along ``route``; True if it was accepted as it was
        sent (an instant broker), else refused or on its way (``Sender.arrived``)."""
        ...

    def accept(self, message: Message, route: Route, sender: Sender, attempt: int,
               now: float) -> bool:
        """The publish reaches the broker now; True if every target took its copy."""
        ...


class Target(Protocol):
    """Where a broker puts a copy of a publish: a queue, or one group's log of a topic."""

    @property
    def name(self) -> str: ...

    @property
    def code(self) -> int: ...

    @property
    def broker(self) -> Hub: ...

    @property
    def max_length(self) -> int | None: ...

    def rejects(self) -> bool:
        """Whether a publish now would be refused (only asked when ``max_length`` is set)."""
        ...

    def refuse(self) -> None:
        """A publish attempt was refused (full, or the broker down)."""
        ...

    def reject(self) -> None:
        """A publish gave up for good after a refusal here (counted once per queue)."""
        ...

    def put(self, cid: int) -> None:
        """Take an accepted copy."""
        ...

    def republish(self) -> None:
        """The copy just taken is a second one of a publish an exchange routed again."""
        ...


class Source(Target, Protocol):
    """What a pool consumes, as the model, the monitor, the autoscaler and faults see it."""

    @property
    def consumers(self) -> Sequence[Any]:
        """Every consumer ever attached (the Member of each kind)."""

    @property
    def work(self) -> Work: ...

    @property
    def enqueued(self) -> int: ...

    @property
    def completed(self) -> int: ...

    @property
    def rejected(self) -> int: ...

    @property
    def max_depth(self) -> int: ...

    def register(self, consumer: Any) -> None:
        """A consumer of it exists (a pool made it); it connects when it starts."""
        ...

    @property
    def in_flight(self) -> int:
        """Copies taken by consumers and not yet settled (acknowledged, or committed)."""
        ...

    def depth(self) -> int:
        """Copies waiting to be taken."""
        ...

    def backlog(self) -> int:
        """What an autoscaler scales on: waiting copies plus those in flight (a log's lag)."""
        ...

    def max_useful_consumers(self) -> int | None:
        """Consumers beyond this many would sit idle (a topic's partitions); None: no cap."""
        ...

    def partition_lags(self) -> list[int] | None:
        """Each partition's lag (a log), or None (a queue has no partitions)."""
        ...

    def outage_started(self, loses_messages: bool) -> None: ...

    def outage_ended(self) -> None: ...

    def expire_overdue(self) -> None:
        """End-of-run sweep of copies whose ttl has passed."""
        ...

    def figures(self, end: float) -> dict[str, Any]:
        """The source's own counts for the summary (``end``: the simulation's end)."""
        ...

    def audit(self) -> list[str]:
        """Its bookkeeping's disagreements with itself (none in a correct run)."""
        ...


class QueueSource(Source, Protocol):
    """A queue's side of consuming: what a `Consumer` (a worker) calls on it."""

    @property
    def api_latency(self) -> Sampler | None: ...

    @property
    def batch_size(self) -> int: ...

    @property
    def poll_interval(self) -> float: ...

    @property
    def orphans(self) -> set[int]: ...

    @property
    def restore_interval(self) -> float | None: ...

    @property
    def prefetch_on_auto_ack(self) -> bool: ...

    def attach(self, consumer: Consumer) -> None:
        """A consumer (re)connects and asks for work."""
        ...

    def detach(self, consumer: Consumer, silent: bool, clean: bool) -> None:
        """A consumer is gone (crash, ``silent`` host loss, or ``clean`` stop)."""
        ...

    def request(self, consumer: Consumer, n: int) -> int:
        """Pull: a receive of up to ``n`` copies; returns how many were delivered."""
        ...

    def take_for(self, consumer: Consumer, n: int) -> int:
        """Deliver up to ``n`` ready copies now (a batch job's quota); returns how many."""
        ...

    def ack(self, cid: int, lease: int) -> bool:
        """An ack under ``lease`` reaches the broker; True if it settles a pending copy."""
        ...

    def nack(self, cid: int, lease: int, requeue: bool, delay: float) -> None:
        """Processing failed: requeue (now, or after ``delay``) or dead-letter."""
        ...

    def complete(self, cid: int, at: float, worker_code: int) -> None:
        """The copy was processed and acknowledged at ``at`` by the worker ``worker_code``."""
        ...

    def release(self, consumer: Consumer) -> None:
        """The consumer has room for another copy."""
        ...

    def let_go(self, token: int) -> None:
        """The consumer is done with a delivery (an orphaned one no longer holds the drain)."""
        ...

    def long_poll_expired(self, consumer: Consumer) -> bool:
        """A long poll ended empty; True if the consumer should sleep ``poll_interval``."""
        ...

    def woke(self, consumer: Consumer) -> None:
        """The consumer's sleep after an empty receive ended."""
        ...

    def restore_check(self) -> None:
        """A live worker restores timed-out copies (Celery/kombu)."""
        ...


class GroupMember(Protocol):
    """A consumer of a group as its log sees it (`sim.model.group.LogConsumer`)."""

    up: bool
    member: bool  # in the group (owns partitions or may be given some)
    waiting: bool  # idle in its poll loop: a record for it wakes it
    partitions: list[int]
    rotate: int  # where its next fetch starts among its partitions
    owned_while_publishing: bool
    running: dict[Any, Any]

    @property
    def name(self) -> str: ...

    def wake(self) -> None: ...

    def revoked(self, part: int) -> None: ...

    def leave_group(self) -> None: ...


class LogSource(Source, Protocol):
    """A consumer group's log of a topic (`sim.model.log.GroupLog`), as the group's pool
    (`sim.model.group.LogPool`) and its members (`GroupMember`) use it: a member fetches
    (partition, offset) pairs from the partitions it owns, processes them in order, commits
    offsets, and joins, leaves or is removed (each change a rebalance)."""

    group: str | None  # the consumer group's pool (its figures name it)
    api_latency: Sampler | None
    requests: Requests  # its broker's API calls by kind: members count fetches and commits
    auto_commit: bool
    commit_interval: float
    max_poll_records: int
    max_poll_interval: float
    session_timeout: float

    @property
    def logs(self) -> Sequence[Sequence[int]]:
        """Each partition's records: copy ids by offset."""

    @property
    def committed(self) -> Sequence[int]:
        """Each partition's committed offset."""

    @property
    def owner(self) -> Sequence[GroupMember | None]:
        """Each partition's owner (None: no member holds it)."""

    def form(self) -> None:
        """The group's first assignment, made before the run (no pause)."""

    def membership_changed(self) -> None:
        """A member joined or left: a rebalance (once the group has formed)."""

    def fetch(self, consumer: GroupMember, limit: int) -> list[tuple[int, int]]:
        """Up to ``limit`` (partition, offset) pairs from the member's unpaused partitions."""

    def next_resume(self, consumer: GroupMember) -> float | None:
        """When the member's earliest paused partition resumes (None: none is paused)."""

    def commit(self, part: int, offset: int) -> None:
        """The group's committed offset of ``part`` moves on to ``offset``."""

    def complete(self, cid: int, at: float, worker_code: int) -> None:
        """A member processed the record ``cid`` at ``at`` (its copy completes, once)."""

    def rewind(self, parts: list[int]) -> None:
        """A member's process is gone: its fetch positions in ``parts`` go back to the
        committed offsets."""


class Consumer(Protocol):
    """A worker as its queue sees it: what it holds, and how deliveries and wake-ups reach
    it. ``holding`` maps each delivery token (see `sim.model.leases`) to its lease."""

    @property
    def up(self) -> bool: ...

    @property
    def held(self) -> int: ...

    @property
    def prefetch(self) -> int: ...

    @property
    def unbounded(self) -> bool: ...

    @property
    def auto_ack(self) -> bool: ...

    @property
    def scheduled(self) -> bool:
        """Takes work only while its pool's batch job runs."""

    @property
    def holding(self) -> dict[int, int]: ...

    def deliver(self, token: int, lease: int) -> None:
        """A delivery with no latency: held and received at once."""
        ...

    def hold(self, token: int, lease: int) -> None:
        """A delivery is on its way (it arrives through ``received``)."""
        ...

    def received(self, event: Call) -> None:
        """A delivery sent with a latency arrives (its token is the event's value)."""
        ...

    def poll(self) -> None:
        """Pull: receive if there is room and nothing else is in progress."""
        ...

    def room(self) -> None:
        """A scheduled (batch) consumer has room or came up: its job may hand it more."""
        ...

    def long_poll(self, wait: float) -> None:
        """An empty receive: wait up to ``wait`` for a copy (``end_long_poll`` ends it)."""
        ...

    def end_long_poll(self) -> None:
        """A copy arrived for the long poll: the receive returns with it."""
        ...

    def sleep(self, interval: float) -> None:
        """An empty receive: sleep ``interval`` before receiving again (or until woken)."""
        ...

    def wake(self, delay: float) -> None:
        """Stop sleeping and receive again after ``delay`` (NOTIFY, or the broker's return)."""
        ...

    def drop_all(self) -> dict[int, int]:
        """Forget every delivery (the process is gone); returns what was held."""
        ...


class Member(Protocol):
    """One worker of any kind (a queue's, a consumer group's, a call pool's), as faults and
    the autoscaler see it."""

    @property
    def index(self) -> int: ...

    @property
    def up(self) -> bool: ...

    @property
    def retired(self) -> bool: ...

    @property
    def name(self) -> str:
        """``POOL/N``."""
        ...

    def start(self) -> None: ...

    def crash(self, silent: bool = False, clean: bool = False) -> None: ...


class Pool(Protocol):
    """A pool as the model, faults, the autoscaler and the engine see it."""

    @property
    def name(self) -> str: ...

    @property
    def source(self) -> Source | None:
        """What it consumes (None: it serves calls)."""

    @property
    def workers(self) -> Sequence[Any]: ...

    slowdown: float
    then: FollowUpSink | None
    on_new_worker: list[Callable[[Any], None]]

    @property
    def up(self) -> int: ...

    def start(self) -> None: ...

    def add_worker(self) -> Member: ...

    def retire(self, worker: Any) -> None: ...

    def busy_time_until(self, now: float) -> float: ...

    def up_time_until(self, now: float) -> float: ...

    def figures(self, end: float) -> dict[str, Any]:
        """The pool's own counts for the summary."""
        ...

    def audit(self) -> list[str]: ...


class PublishCounts(Protocol):
    """A publisher as the engine reads it once the run is over: its own counts."""

    @property
    def name(self) -> str: ...

    def figures(self) -> dict[str, Any]:
        """Its counts for the summary: ``sent``, ``accepted``, ``rejected`` and ``retries``
        (publishes), and for a caller of a pool ``answered``, ``unavailable``, ``timeouts``,
        ``failed`` and ``call_times`` (its calls: a caller publishes nothing)."""

    def publish_requests(self) -> dict[str, int]:
        """Its publish requests (first attempts and retries) by the broker they went to."""


class FollowUpSink(PublishCounts, Protocol):
    """Publishes a pool's follow-up when a processing took effect (a pool's ``then``)."""

    def after(self, cid: int, now: float) -> None:
        """The copy ``cid`` was processed at ``now``."""
        ...

    def after_call(self, message: Message, now: float) -> None:
        """A synchronous call's processing succeeded."""
        ...


class Sender(Protocol):
    """Whoever publishes, as the broker tells it how a publish ended. The sender counts its
    own outcomes from the answers of `Hub.publish` and `Hub.accept`: a publish on its way
    (a publish latency or capacity) arrives through ``arrived``, which hands it to
    ``accept``, so no publish costs a call back to tell its sender."""

    def arrived(self, event: Call) -> None:
        """A publish on its way reaches the broker now (``event.value``: the message, its
        route, the attempt); it ends the work the broker entered for it."""

    def refused(self, message: Message, queues: Sequence[Target], attempt: int,
                route: Any = None, routed: Sequence[Target] = ()) -> None:
        """The broker refused the copies for ``queues``: retry, or give up."""


class Route(Protocol):
    """Where a publish goes: a fixed set of targets, or an exchange's strategy."""

    @property
    def name(self) -> str: ...

    @property
    def broker(self) -> Hub: ...

    @property
    def needs_key(self) -> bool:
        """Whether a publisher must give messages a routing key."""

    @property
    def fixed(self) -> Sequence[Target] | None:
        """The targets when they never depend on the message."""

    @property
    def had(self) -> frozenset[Target] | None:
        """A republish: the targets that took a copy before."""

    def route(self, message: Message) -> Sequence[Target]: ...

    def republish(self, had: frozenset[Target]) -> Route:
        """This route again for a publish some of its targets refused (``had``: the targets
        that took a copy before)."""
        ...
