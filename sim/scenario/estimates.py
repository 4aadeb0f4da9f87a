"""Expectations computed from a resolved scenario, without simulating it.

How long publishing lasts, how many messages each producer sends, how fast the pools of a queue
can process what reaches it, and so how long the run is likely to last. `sim.scenario.defaults`
sizes ``run.sample_interval`` from them and `sim.scenario.warnings` judges the load; both take
expected values from the analytic means of `sim.random` (arrival counts, service-time means),
never from a run.

Publishing ends at ``run.duration``, after ``run.messages`` sends, or when every producer has run
out of arrivals (a trace's last row, a schedule ending at rate 0, rate 0 itself), whichever
comes first, as in the engine. Its estimate is always finite or None: None only when the
budget is never expected to be reached by arrivals that never stop (a renewal process whose
gaps have an infinite mean).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, cast

import numpy as np

from sim.random import arrivals, distributions
from sim.scenario.arrival_specs import arrival_key

RESOLUTION = 1e-9  # seconds: arrivals closer than a nanosecond count as simultaneous
HORIZON = 1e12  # seconds (30,000 years): a budget not reached by then is never reached
MAX_LISTED = 100_000  # message types a generator may produce for the service-time mix


@dataclass
class Source:
    """The arrivals of one producer (all its instances together) and where they go."""

    name: str
    queue: str | None  # where it publishes: a queue or an exchange (None: it calls a pool)
    count: int
    process: arrivals.ArrivalProcess
    end: float  # when its last arrival is due (an upper estimate); inf if they never stop

    def expected(self, t: float) -> float:
        """Expected sends in [0, t)."""
        return self.count * self.process.expected_count(0.0, t)


def _last_arrival(process: arrivals.ArrivalProcess) -> float:
    """When a process runs out of arrivals (inf if it never does)."""
    if isinstance(process, arrivals.Poisson):
        if math.isinf(process.total):
            return math.inf
        positive = np.flatnonzero(process.rates > 0)
        if positive.size == 0:
            return 0.0
        # The last step with a positive rate ends where the final, zero-rate step begins.
        return float(process.starts[positive[-1] + 1])
    if isinstance(process, arrivals.Trace):
        return max(process.times(), default=0.0)
    if isinstance(process, arrivals.Bursty) and process.low == 0 and process.high == 0:
        return 0.0
    return math.inf


def sources(
    producers: Mapping[str, Any], built: Mapping[str, arrivals.ArrivalProcess] | None = None
) -> list[Source]:
    """Every producer's arrival process (a fixed generator: only the means count); ``built``
    holds processes already built, by `arrival_key` of their spec."""
    out = []
    for name, spec in producers.items():
        process = (built or {}).get(arrival_key(spec["arrivals"]))
        if process is None:
            process = arrivals.make(spec["arrivals"], np.random.default_rng(0))
        out.append(Source(name, spec["publish"], spec["count"], process, _last_arrival(process)))
    return out


def _total(srcs: list[Source], t: float) -> float:
    return sum(s.expected(t) for s in srcs)


def _just_after(t: float) -> float:
    """A time just after ``t``: [0, _just_after(t)) holds the arrivals at ``t`` itself."""
    return t + max(RESOLUTION, t * 1e-12)


def budget_time(messages: int, srcs: list[Source], limit: float = math.inf) -> float | None:
    """When the producers together are expected to have sent ``messages`` (at most ``limit``),
    or None if they are not expected to by then."""
    if _total(srcs, _just_after(0.0)) >= messages:
        return 0.0  # sent at t = 0 (constant arrivals, a trace's first rows)
    if math.isinf(limit):
        high = 1.0
        while _total(srcs, high) < messages:
            high *= 2
            if high > HORIZON:
                return None
    else:
        high = _just_after(limit)  # an arrival at the limit itself counts
        if _total(srcs, high) < messages:
            return None
    low = 0.0
    for _ in range(200):  # bisection to float precision
        mid = (low + high) / 2
        if not low < mid < high:
            break
        if _total(srcs, mid) < messages:
            low = mid
        else:
            high = mid
    return min(high, limit)


def publishing_time(run: Mapping[str, Any], srcs: list[Source]) -> float | None:
    """Expected length of the publishing window (see the module's docstring)."""
    limit = max((s.end for s in srcs), default=0.0)  # every arrival is out
    if run["duration"] is not None:
        limit = min(limit, run["duration"])
    end: float | None = limit
    if run["messages"] is not None:
        reached = budget_time(run["messages"], srcs, limit)
        if reached is not None:
            end = reached
    return end if end is not None and math.isfinite(end) else None


def sent(run: Mapping[str, Any], srcs: list[Source], publishing: float) -> dict[str, float]:
    """Expected sends of each producer in the publishing window."""
    duration = run["duration"]
    at_duration = duration is not None and publishing >= duration
    # Arrivals at the very end count when the budget or the arrivals ended publishing there;
    # at run.duration the window is [0, duration).
    t = publishing if at_duration else _just_after(publishing)
    counts = {s.name: s.expected(t) for s in srcs}
    budget, total = run["messages"], sum(counts.values())
    if budget is not None and total > budget:  # arrivals at the same instant as the last send
        counts = {name: n * budget / total for name, n in counts.items()}
    return counts


def mean(spec: Any) -> float:
    """The analytic mean of a resolved distribution."""
    return float(distributions.make(spec).mean)


def type_mix(spec: Any) -> list[tuple[Any, float]] | None:
    """The values a ``type`` generator produces with their probabilities; None when too many
    to list (a large zipf or uniform_int) or all distinct (a sequence)."""
    if not isinstance(spec, Mapping):
        return [(spec, 1.0)]
    if "choice" in spec:
        options = spec["choice"]
        if isinstance(options, Mapping):
            total = sum(options.values())
            return [(v, w / total) for v, w in options.items() if w > 0]
        return [(v, 1.0 / len(options)) for v in options]
    if "zipf" in spec and spec["zipf"]["n"] <= MAX_LISTED:
        n, s, prefix = spec["zipf"]["n"], spec["zipf"]["s"], spec.get("prefix")
        weights = np.arange(1, n + 1, dtype=np.float64) ** -s
        probs = (weights / weights.sum()).tolist()
        names = [k if prefix is None else f"{prefix}{k}" for k in range(1, n + 1)]
        return list(zip(names, probs, strict=True))
    if "uniform_int" in spec:
        lo, hi = spec["uniform_int"]
        if hi - lo < MAX_LISTED:
            return [(k, 1.0 / (hi - lo + 1)) for k in range(lo, hi + 1)]
    return None


class ServiceTimes:
    """Mean service times of one pool, by message type (the pool's own mean otherwise)."""

    def __init__(self, pool: Mapping[str, Any]) -> None:
        self.base = mean(pool["service_time"])
        self.by_type = {t: mean(d) for t, d in pool["service_time_by_type"].items()}

    def of_mix(self, mix: list[tuple[Any, float]] | None) -> float:
        if mix is None or not self.by_type:
            return self.base
        return math.fsum(p * self.by_type.get(v, self.base) for v, p in mix)

    def of_source(self, source: Source, message: Mapping[str, Any]) -> float:
        """Mean service time of a producer's messages: a trace's own ``service_time`` where a
        row gives one, else the message type's (the ``type`` field, else the trace's column)."""
        typed = "type" in message and bool(self.by_type)
        generated = type_mix(message["type"]) if typed else None
        rows = source.process.rows
        if not rows or ("service_time" not in rows and "type" not in rows):
            return self.of_mix(generated) if "type" in message else self.base
        n = len(cast(arrivals.Trace, source.process))  # only a trace has rows
        services = rows.get("service_time") or [None] * n
        given = [s for s in services if s is not None]
        rest = n - len(given)
        if rest == 0:
            return math.fsum(given) / n
        if "type" in message:
            rest_mean = self.of_mix(generated)
        elif "type" in rows:
            counts = Counter(t for t, s in zip(rows["type"], services, strict=True) if s is None)
            rest_mean = self.of_mix([(t, c / rest) for t, c in counts.items()])
        else:
            rest_mean = self.base
        return (math.fsum(given) + rest * rest_mean) / n


def processings(pool: Mapping[str, Any], queue: Mapping[str, Any]) -> float:
    """Expected processings of a copy: failures requeued up to ``max_deliveries`` (inf if a
    copy that always fails is requeued forever)."""
    p = pool["error_rate"]
    if p == 0 or not pool["retry"]["requeue"]:
        return 1.0  # a failure without requeue goes to the dead-letter queue (or is lost)
    limit = queue["max_deliveries"]
    if limit is None:
        return math.inf if p >= 1 else 1.0 / (1.0 - p)
    return float(limit) if p >= 1 else (1.0 - p**limit) / (1.0 - p)


@dataclass
class PoolRate:
    """How fast one pool processes a queue's copies."""

    name: str
    slots: int  # count x concurrency
    service: float  # mean service time of this queue's messages, s
    processings: float  # per copy, with retries
    rate: float  # copies completed per second: slots / (service x processings)


class Estimates:
    """Expectations of one resolved scenario (``run``, ``producers``, ``queues``, ``workers``:
    other sections are not needed); ``built``: arrival processes already built, by
    `arrival_key` of their spec."""

    def __init__(
        self,
        data: Mapping[str, Any],
        built: Mapping[str, arrivals.ArrivalProcess] | None = None,
    ) -> None:
        self.data = data
        self.run = data["run"]
        self.sources = sources(data["producers"], built)
        self.publishing = publishing_time(self.run, self.sources)
        self.sent = {} if self.publishing is None else sent(self.run, self.sources, self.publishing)
        self._pools: dict[str, list[PoolRate]] = {}  # by queue, computed once
        # Expected copies published to each queue: `into` where routing says exactly how many
        # (a queue, a fanout exchange, follow-ups along those), `upper` adding those that may
        # reach a queue by a key, headers or a custom router (each counted as if all did);
        # `uncertain` names the queues the upper bound was needed for.
        self.into: dict[str, float] = {}
        self.upper: dict[str, float] = {}
        self.uncertain: set[str] = set()
        for source in self.sources:
            if source.queue is not None:
                self._spread(source.queue, self.sent.get(source.name, 0.0), True)
        self._follow_ups()

    def _spread(self, target: str, copies: float, exact: bool) -> dict[str, float]:
        """Add ``copies`` published to ``target`` (a queue or an exchange) to the queues they
        reach; returns what each queue got."""
        exchange = self.data.get("exchanges", {}).get(target)
        if exchange is None:
            reached, sure = [target], True
        elif exchange["type"] == "fanout":
            reached, sure = list(dict.fromkeys(b["queue"] for b in exchange["bindings"])), True
        else:
            if exchange["type"] == "custom" and not exchange["bindings"]:
                reached = [q for q, spec in self.data["queues"].items()
                           if spec["broker"] == exchange["broker"]]
            else:
                reached = list(dict.fromkeys(b["queue"] for b in exchange["bindings"]))
            if exchange.get("alternate"):
                reached.append(exchange["alternate"])
            sure = False
        got = {}
        for queue in reached:
            self.upper[queue] = self.upper.get(queue, 0.0) + copies
            if exact and sure:
                self.into[queue] = self.into.get(queue, 0.0) + copies
            else:
                self.uncertain.add(queue)
            got[queue] = copies
        return got

    def _follow_ups(self, rounds: int = 50) -> None:
        """Pipelines: each copy a pool with ``then`` processes publishes a follow-up with its
        probability, so copies flow on stage by stage (the traffic equations of a Jackson
        network, solved by iteration; a cycle that never thins out stops after ``rounds``)."""
        stages = [(pool["consumes"], pool["then"]) for pool in self.data["workers"].values()
                  if pool.get("then") and pool["consumes"] is not None]
        called: dict[str, float] = {}
        for source in self.sources:
            call = self.data["producers"][source.name].get("call")
            if call:
                called[call] = called.get(call, 0.0) + self.sent.get(source.name, 0.0)
        fresh = dict(self.upper)
        exact = {q: q not in self.uncertain for q in fresh}
        for name, pool in self.data["workers"].items():
            if pool.get("then") and name in called:
                for queue, copies in self._spread(pool["then"]["publish"],
                                                  called[name] * pool["then"]["probability"],
                                                  True).items():
                    fresh[queue] = fresh.get(queue, 0.0) + copies
        flowing: set[str] = set()
        for _ in range(rounds):
            step: dict[str, float] = {}
            for queue, then in stages:
                copies = fresh.get(queue, 0.0) * then["probability"]
                if copies > 0:
                    for reached, got in self._spread(then["publish"], copies,
                                                     exact.get(queue, True)).items():
                        step[reached] = step.get(reached, 0.0) + got
            if sum(step.values()) <= 1e-9:
                break
            exact = {q: q not in self.uncertain for q in step}
            fresh = step
            flowing.update(step)
        else:  # follow-ups still flowing after `rounds` stages: a cycle, no steady estimate
            self.uncertain.update(flowing)

    def messages(self) -> float | None:
        """Expected sends in the whole run (None if publishing cannot be estimated)."""
        if self.publishing is None:
            return None
        return sum(self.sent.values())

    def pools_of(self, queue: str) -> list[PoolRate]:
        """The pools consuming ``queue`` and how fast each processes its copies."""
        if queue not in self._pools:
            self._pools[queue] = self._rates(queue)
        return self._pools[queue]

    def _rates(self, queue: str) -> list[PoolRate]:
        producers, out = self.data["producers"], []
        for name, pool in self.data["workers"].items():
            if pool["consumes"] != queue:
                continue
            spec = self.data["queues"][queue]
            times = ServiceTimes(pool)
            weights = [
                (self.sent[s.name], s)
                for s in self.sources
                if s.queue == queue and self.sent.get(s.name, 0.0) > 0
            ]
            total = sum(w for w, _ in weights)
            if total > 0:
                service = (
                    math.fsum(
                        w * times.of_source(s, producers[s.name]["message"]) for w, s in weights
                    )
                    / total
                )
            else:
                service = times.base
            # An autoscaled pool may grow to its max; a consumer group's parallelism is capped
            # by its topic's partitions (one owner each, one record at a time).
            scale = pool.get("autoscale")
            count = max(pool["count"], scale["max"]) if scale else pool["count"]
            if "partitions" in spec:
                slots = min(count, spec["partitions"])
            else:
                slots = count * pool["concurrency"]
            repeats = processings(pool, spec)
            if math.isinf(repeats):
                rate = 0.0  # copies that always fail come back forever: none completes
            else:
                work = service * repeats
                rate = math.inf if work == 0 else slots / work
            out.append(PoolRate(name, slots, service, repeats, rate))
        return out

    def capacity(self, queue: str) -> float:
        """Copies per second the pools of ``queue`` complete together (0 without pools); on
        a kafka topic each group reads every record, so the slowest group's rate."""
        pools = self.pools_of(queue)
        if pools and "partitions" in self.data["queues"][queue]:
            return min(p.rate for p in pools)
        return sum(p.rate for p in pools)

    def run_length(self) -> float | None:
        """Expected simulated time: publishing, extended while the consumed queues' pools work
        through what was published (bounded by the drain timeout); None if unknown."""
        if self.publishing is None:
            return None
        length = self.publishing
        if not self.run["drain"]:
            return length
        for queue, copies in self.upper.items():
            if copies <= 0 or not self.pools_of(queue):
                continue  # the drain does not wait for a queue nobody consumes
            capacity = self.capacity(queue)
            length = max(length, copies / capacity if capacity > 0 else math.inf)
        return min(length, self.publishing + self.run["drain_timeout"])
