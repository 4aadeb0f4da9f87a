"""Every run ends: a run stopped by a message budget finishes, conserves, and drains cleanly.

Generated scenarios publish ``run.messages`` messages (no ``run.duration``) through every
queue broker preset, with random publish latencies, dead-letter
chains whose dead-letter queues have their own workers (reached through ``max_deliveries``,
``ttl``, failed processings with ``retry.requeue: false`` and ``drop-head`` overflow), every
ack mode, prefetch, push and pull delivery, ``error_rate`` with retries, producers of rate 0,
a single message, a single worker, exchanges (fanout, direct, topic, headers; with and without
an alternate queue), pipelines (``then`` onward along the chain, with a probability), batch
jobs, synchronous calls (with and without a timeout), and faults: scheduled crashes with and
without restart, silent crashes, random (mtbf/mttr) crashes, clean stops, broker outages and
slowdowns; pools are autoscaled now and then. Kafka scenarios (``kafka_scenarios``) publish to
topics of 1-4 partitions read by one to three consumer groups (keyed or not, every commit mode
and assignment, short and default session timeouts, small polls, slow polls, autoscaled
groups, follow-ups into a plain queue), under the same faults.

For each run the test asserts:

(a) it ends within a bounded number of SimPy events and a bounded simulated time. Each run
    wraps ``simpy.Environment.step`` with a counter that raises ``AssertionError`` once the
    run takes more steps than :func:`budget` allows, or its next event lies beyond the
    simulated-time bound, so a hang is a failure, not a frozen test run. :func:`budget`
    says how the bound follows from the scenario.
(b) conservation and the model's own bookkeeping (``run_checked`` from conftest; the engine's
    ``AUDIT`` is on);
(c) after a drain that did not time out (``summary["drain_timed_out"]``, checked against the
    clock), nothing is ``pending`` in a queue that a pool consumes (a queue nobody consumes
    may keep copies: nothing can ever process them);
(d) no idle backlog: a consumed queue never keeps ready copies for long beside up workers
    that hold nothing and finish nothing (a stuck queue, which a drain can only end by
    timing out, so (c) alone would excuse it); see :func:`idle_backlogs`;
(e) no livelock: no copy is delivered more often than its failures and faults explain; see
    :func:`redeliveries_allowed`;
(f) the message budget is spent: when some producer never runs out of arrivals, the producers
    sent exactly ``run.messages`` (a rejected send counts); otherwise at most that many.

The same checks run on minimised scenarios of the failures found so far
(``test_minimised_scenarios_end``).

``MQSIM_EVERY_RUN_ENDS_EXAMPLES=500 .venv/bin/pytest tests/test_every_run_ends.py`` runs many
more examples than the default (which keeps the file around 20 s when it passes;
shrinking a failure takes longer).
"""

from __future__ import annotations

import contextlib
import math
import os
import textwrap
from typing import Any

import numpy as np
import pytest
import simpy
import yaml
from conftest import run_checked
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

import sim
from sim.random import distributions

EXAMPLES = int(os.environ.get("MQSIM_EVERY_RUN_ENDS_EXAMPLES", "120"))
SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

BROKER_TYPES = ["ideal", "rabbitmq", "sqs", "sqs-fifo", "postgres", "redis", "in-process"]
PULL_BY_DEFAULT = {"sqs", "sqs-fifo", "postgres"}
DRAIN_TIMEOUTS = [0.5, 2.0, 10.0, 30.0, 60.0]

# -- the generator ---------------------------------------------------------------------------

latencies = st.sampled_from([
    0.0,
    0.003,
    {"dist": "exponential", "mean": 0.005},
    {"dist": "uniform", "low": 0.0, "high": 0.02},
    {"dist": "lognormal", "mean": 0.01, "cv": 1.5},
    {"dist": "exponential", "mean": 0.3},
])

services = st.one_of(
    st.sampled_from([0.01, 0.1, 0.5, 2.0]),
    st.sampled_from([0.02, 0.2, 1.0]).map(lambda m: {"dist": "exponential", "mean": m}),
    st.tuples(st.sampled_from([0.05, 0.5]), st.sampled_from([0.5, 2.0])).map(
        lambda t: {"dist": "lognormal", "mean": t[0], "cv": t[1]}),
    st.sampled_from([(0.0, 0.3), (0.1, 3.0)]).map(
        lambda t: {"dist": "uniform", "low": t[0], "high": t[1]}),
)


@st.composite
def arrival_processes(draw) -> dict:
    kind = draw(st.sampled_from(
        ["poisson", "poisson", "constant", "constant", "zero", "bursty", "renewal", "schedule"]))
    if kind == "poisson":
        return {"process": "poisson", "rate": draw(st.sampled_from([0.5, 2.0, 10.0, 50.0]))}
    if kind == "zero":
        return {"process": "poisson", "rate": 0}
    if kind == "constant":
        return {"process": "constant", "interval": draw(st.sampled_from([0.01, 0.1, 1.0, 3.0]))}
    if kind == "bursty":
        return {"process": "bursty", "rates": draw(st.sampled_from([[0, 20], [1, 30]])),
                "mean_durations": [draw(st.sampled_from([0.5, 3.0])), 1.0]}
    if kind == "renewal":
        return {"process": "renewal", "interarrival": draw(st.sampled_from([
            {"dist": "uniform", "low": 0.0, "high": 0.4},
            {"dist": "lognormal", "mean": 0.2, "cv": 2.0}]))}
    # A schedule: silent first, or ending silent (a finite stream of arrivals).
    until = draw(st.sampled_from([0.5, 2.0]))
    rate = draw(st.sampled_from([1.0, 10.0]))
    if draw(st.booleans()):
        return {"process": "poisson", "schedule": [{"until": until, "rate": 0}, {"rate": rate}]}
    return {"process": "poisson", "schedule": [{"until": until, "rate": rate}, {"rate": 0}]}


@st.composite
def broker_specs(draw) -> dict:
    kind = draw(st.sampled_from(BROKER_TYPES))
    spec: dict[str, Any] = {"type": kind}
    if draw(st.integers(0, 3)):  # mostly: a random publish latency
        spec["publish_latency"] = draw(latencies)
    if draw(st.integers(0, 3)) == 0:
        spec["deliver_latency"] = draw(latencies)
    if draw(st.integers(0, 3)) == 0:
        spec["durable"] = False
    if draw(st.integers(0, 5)) == 0:
        spec["capacity"] = draw(st.sampled_from([5.0, 200.0]))
    if kind in ("sqs", "sqs-fifo", "redis"):
        spec["visibility_timeout"] = draw(st.sampled_from([0.3, 1.0, 5.0, 30.0]))
    if kind == "redis":
        spec["restore_interval"] = draw(st.sampled_from([0.5, 2.0, 10.0]))
    if kind in ("sqs", "sqs-fifo"):
        spec["wait_time"] = draw(st.sampled_from([0.0, 0.5, 20.0]))
        spec["api_latency"] = draw(st.sampled_from([0.0, 0.01, {"dist": "exponential",
                                                                 "mean": 0.01}]))
        if spec["wait_time"] == 0 and spec["api_latency"] == 0:
            spec["poll_interval"] = 0.2
        spec["batch_size"] = draw(st.sampled_from([1, 10]))
    if kind == "postgres":
        spec["claim"] = draw(st.sampled_from(["lease", "transaction"]))
        spec["lock_timeout"] = draw(st.sampled_from([0.5, 3.0, 14400.0]))
        spec["notify"] = draw(st.booleans())
        if spec["notify"] and draw(st.booleans()):
            spec["notify_latency"] = draw(latencies)
        spec["poll_interval"] = draw(st.sampled_from([0.1, 1.0]))
    if kind == "rabbitmq" and draw(st.booleans()):
        spec["heartbeat"] = draw(st.sampled_from([0.5, 5.0]))
    if kind == "rabbitmq" and draw(st.integers(0, 3)) == 0:
        spec["disconnect_latency"] = draw(latencies)
    # Swap the delivery style now and then (a pull consumer needs a way to wait).
    if draw(st.integers(0, 4)) == 0:
        if kind in PULL_BY_DEFAULT:
            spec["delivery"] = "push"
        else:
            spec["delivery"] = "pull"
            spec["poll_interval"] = draw(st.sampled_from([0.05, 0.5]))
            spec["batch_size"] = draw(st.sampled_from([1, 3]))
    return spec


@st.composite
def pool_specs(draw, queue: str, broker_type: str) -> dict:
    concurrency = draw(st.integers(1, 2))
    pool: dict[str, Any] = {
        "consumes": queue,
        "count": draw(st.sampled_from([1, 1, 2, 3])),
        "concurrency": concurrency,
        "ack": draw(st.sampled_from(["after_processing", "after_processing", "on_start",
                                     "on_delivery"])),
        "service_time": draw(services),
    }
    if broker_type != "redis" or draw(st.booleans()):
        pool["prefetch"] = concurrency + draw(st.sampled_from([0, 0, 1, 4]))
    if draw(st.booleans()):
        pool["ack_latency"] = draw(st.sampled_from([0.01, 0.2, {"dist": "exponential",
                                                                 "mean": 0.05}]))
    if draw(st.booleans()):
        pool["error_rate"] = draw(st.sampled_from([0.2, 0.5]))
        pool["retry"] = {"requeue": draw(st.booleans()),
                         "delay": draw(st.sampled_from([0.0, 0.0, 0.3]))}
    if draw(st.integers(0, 3)) == 0:
        pool["idempotent"] = True
    if draw(st.integers(0, 4)) == 0:
        pool["service_time_by_type"] = {"slow": draw(services)}
    if draw(st.integers(0, 4)) == 0:
        pool["autoscale"] = draw(autoscales(pool["count"]))
    return pool


@st.composite
def autoscales(draw, count: int) -> dict:
    """An autoscale around ``count`` (min <= count <= max)."""
    return {"min": draw(st.integers(0, count)), "max": count + draw(st.integers(0, 3)),
            "target_backlog": draw(st.sampled_from([1, 3, 20])),
            "interval": draw(st.sampled_from([0.2, 1.0, 5.0])),
            "startup": draw(st.sampled_from([0.0, 0.5, 3.0])),
            "cooldown": draw(st.sampled_from([0.0, 1.0, 10.0]))}


@st.composite
def scenarios(draw, explicit_sample_interval: bool = True) -> dict:
    messages = draw(st.one_of(st.just(1), st.integers(1, 5), st.integers(1, 40),
                              st.integers(100, 200)))
    brokers = {f"b{i}": draw(broker_specs()) for i in range(draw(st.integers(1, 2)))}
    broker_names = list(brokers)

    # A dead-letter chain q0 -> q1 -> ..., each dead-letter queue with its own workers
    # (mostly), and now and then a queue nobody consumes.
    chain = draw(st.integers(1, 3))
    queues: dict[str, dict] = {}
    for i in range(chain):
        broker = draw(st.sampled_from(broker_names))
        queue: dict[str, Any] = {"broker": broker}
        if i + 1 < chain:
            queue["dead_letter"] = f"q{i + 1}"
        elif draw(st.integers(0, 3)) == 0:
            queue["dead_letter"] = "idle"  # the chain ends in a queue without consumers
        if draw(st.booleans()):
            queue["max_deliveries"] = draw(st.integers(1, 3))
        if draw(st.integers(0, 2)) == 0:
            queue["ttl"] = draw(st.sampled_from([0.05, 0.5, 3.0]))
        if draw(st.integers(0, 3)) == 0:
            queue["max_length"] = draw(st.integers(0, 5))
            queue["overflow"] = draw(st.sampled_from(["reject-publish", "drop-head", "block"]))
        if brokers[broker]["type"] != "sqs-fifo" and draw(st.integers(0, 4)) == 0:
            queue[draw(st.sampled_from(["priority", "ordering"]))] = True
            if "ordering" in queue:
                queue["ordering"] = "per-key"
        if draw(st.integers(0, 4)) == 0:
            queue["requeue"] = draw(st.sampled_from(["original", "head", "tail"]))
        queues[f"q{i}"] = queue
    if "idle" in [q.get("dead_letter") for q in queues.values()] or draw(st.integers(0, 4)) == 0:
        queues["idle"] = {"broker": draw(st.sampled_from(broker_names))}

    workers: dict[str, dict] = {}
    for i in range(chain):
        if i == 0 and draw(st.integers(0, 9)) == 0:
            continue  # even the first queue may lack consumers
        if i > 0 and draw(st.integers(0, 5)) == 0:
            continue
        kind = brokers[queues[f"q{i}"]["broker"]]["type"]
        workers[f"w{i}"] = draw(pool_specs(f"q{i}", kind))
        if draw(st.integers(0, 7)) == 0:  # a second pool on the same queue
            workers[f"w{i}b"] = draw(pool_specs(f"q{i}", kind))

    # Pipelines: a pool's follow-ups go onward along the chain (never back: no cycles).
    for name, pool in workers.items():
        index = int(name[1:].rstrip("b"))
        if index + 1 < chain and draw(st.integers(0, 3)) == 0:
            pool["then"] = {"publish": f"q{draw(st.integers(index + 1, chain - 1))}",
                            "probability": draw(st.sampled_from([0.3, 1.0]))}
        if "then" not in pool and "autoscale" not in pool and draw(st.integers(0, 5)) == 0:
            pool["batch"] = {"every": draw(st.sampled_from([0.5, 2.0]))}
            if draw(st.booleans()):
                pool["batch"]["max"] = draw(st.integers(1, 5))

    # An exchange on q0's broker, bound to some of the queues there.
    exchanges: dict[str, dict] = {}
    if draw(st.integers(0, 2)) == 0:
        here = [q for q, spec in queues.items() if spec["broker"] == queues["q0"]["broker"]]
        bound = draw(st.lists(st.sampled_from(here), min_size=1, max_size=3))
        kind = draw(st.sampled_from(["fanout", "direct", "topic", "headers"]))
        keys = {"direct": ["fast", "slow"], "topic": ["fast", "*", "#", "slow.#"]}
        bindings = []
        for q in bound:
            binding: dict[str, Any] = {"queue": q}
            if kind in keys:
                binding["key"] = draw(st.sampled_from(keys[kind]))
            if kind == "headers":
                binding["match"] = {"h": draw(st.sampled_from(["x", "y"]))}
                binding["x_match"] = draw(st.sampled_from(["all", "any"]))
            bindings.append(binding)
        exchanges["ex"] = {"type": kind, "bindings": bindings}
        if draw(st.booleans()):
            exchanges["ex"]["alternate"] = draw(st.sampled_from(here))

    targets = [q for q in queues if q != "idle"] + list(exchanges)
    producers: dict[str, dict] = {}
    for i in range(draw(st.integers(1, 3))):
        producer: dict[str, Any] = {
            "count": draw(st.sampled_from([1, 1, 2])),
            "arrivals": draw(arrival_processes()),
            "publish": draw(st.sampled_from(["q0", "q0", "q0", *targets, *queues])),
            "message": {"key": {"choice": ["a", "b", "c"]},
                        "priority": {"choice": [0, 1, 2]},
                        "type": {"choice": {"fast": 0.8, "slow": 0.2}},
                        "headers": {"h": {"choice": ["x", "y"]}}},
        }
        if draw(st.booleans()):
            producer["on_reject"] = "retry"
            producer["retry"] = {"attempts": draw(st.integers(1, 4)),
                                 "backoff": draw(st.sampled_from([0.0, 0.05, 0.5]))}
        producers[f"p{i}"] = producer
    # The synchronous baseline beside it now and then: callers of a pool with no queue.
    if draw(st.integers(0, 3)) == 0:
        workers["api"] = {"count": draw(st.sampled_from([1, 2])),
                          "concurrency": draw(st.integers(1, 2)),
                          "service_time": draw(services)}
        if draw(st.booleans()):
            workers["api"]["error_rate"] = 0.3
        if chain > 1 and draw(st.booleans()):
            workers["api"]["then"] = {"publish": "q1", "probability": 0.5}
        caller: dict[str, Any] = {"arrivals": draw(arrival_processes()), "call": "api"}
        if draw(st.booleans()):
            caller["timeout"] = draw(st.sampled_from([0.05, 0.5, 3.0]))
        producers["caller"] = caller

    estimate = publish_time_bound(messages, producers) or 0.0
    drain_timeout = draw(st.sampled_from(DRAIN_TIMEOUTS))
    faults = []
    pools = list(workers)
    # Faults strike while publishing and while draining.
    horizon = min(estimate, 30.0) + min(drain_timeout, 10.0) + 1.0
    for _ in range(draw(st.integers(0, 4))):
        at = draw(st.floats(0.0, horizon))
        kind = draw(st.sampled_from(["crash", "silent", "random", "stop", "outage", "slow"]))
        if kind == "outage":
            faults.append({"outage": draw(st.sampled_from(broker_names)), "at": at,
                           "duration": draw(st.sampled_from([0.05, 1.0, 5.0]))})
            continue
        if not pools:
            continue
        pool = draw(st.sampled_from(pools))
        hit = draw(st.one_of(st.integers(1, workers[pool]["count"]), st.just("all")))
        restart = draw(st.sampled_from([None, 0.2, 2.0, {"dist": "exponential", "mean": 1.0}]))
        if kind in ("crash", "silent"):
            fault = {"crash": pool, "workers": hit, "at": at, "silent": kind == "silent"}
        elif kind == "random":
            fault = {"crash": pool, "mtbf": draw(st.sampled_from([0.5, 2.0, 10.0])),
                     "mttr": {"dist": "exponential",
                              "mean": draw(st.sampled_from([0.1, 1.0]))},
                     "silent": draw(st.booleans())}
            restart = None
        elif kind == "stop":
            fault = {"stop": pool, "workers": hit, "at": at}
        else:
            fault = {"slowdown": pool, "factor": draw(st.sampled_from([0.2, 3.0, 10.0])),
                     "at": at, "duration": draw(st.sampled_from([0.5, 5.0]))}
            restart = None
        if restart is not None:
            fault["restart_after"] = restart
        faults.append(fault)

    run: dict[str, Any] = {"messages": messages, "seed": draw(st.integers(0, 2**31)),
                           "drain_timeout": drain_timeout}
    if draw(st.integers(0, 7)) == 0:
        run["drain"] = False
    if explicit_sample_interval:
        # About 300 samples over the longest run this scenario can have.
        run["sample_interval"] = max(0.01, round((estimate + drain_timeout) / 300, 3))
    return {"name": "every-run-ends", "run": run, "brokers": brokers, "queues": queues,
            "exchanges": exchanges, "producers": producers, "workers": workers,
            "faults": faults}


@st.composite
def kafka_scenarios(draw) -> dict:
    """A topic ``t`` read by one to three consumer groups, now and then their follow-ups into a
    plain queue ``q`` with its own pool, under the faults of ``scenarios``."""
    data = draw(scenarios())
    broker: dict[str, Any] = {
        "type": "kafka",
        "commit": draw(st.sampled_from(["auto", "after_processing"])),
        "commit_interval": draw(st.sampled_from([0.2, 1.0, 5.0])),
        "session_timeout": draw(st.sampled_from([0.5, 3.0, 45.0])),
        "max_poll_records": draw(st.sampled_from([1, 5, 500])),
        "assignment": draw(st.sampled_from(["range", "cooperative-sticky"])),
        "rebalance_time": draw(st.sampled_from([0.0, 0.1, 1.0])),
    }
    if draw(st.booleans()):
        broker["api_latency"] = draw(st.sampled_from([0.0, 0.005, {"dist": "exponential",
                                                                   "mean": 0.01}]))
    if draw(st.booleans()):
        broker["publish_latency"] = draw(latencies)
    if draw(st.integers(0, 3)) == 0:
        broker["max_poll_interval"] = draw(st.sampled_from([2.0, 20.0]))
    topic = {"broker": "k", "partitions": draw(st.integers(1, 4))}
    queues = {"t": topic, "q": {"broker": "b"}}
    workers: dict[str, dict] = {}
    for i in range(draw(st.integers(1, 3))):
        pool: dict[str, Any] = {"consumes": "t", "count": draw(st.integers(1, 4)),
                                "service_time": draw(services)}
        if draw(st.integers(0, 3)) == 0:
            pool["idempotent"] = draw(st.sampled_from([True, "at_commit"]))
        if draw(st.integers(0, 3)) == 0:
            pool["autoscale"] = draw(autoscales(pool["count"]))
        if draw(st.integers(0, 3)) == 0:
            pool["then"] = {"publish": "q", "probability": draw(st.sampled_from([0.5, 1.0]))}
        workers[f"g{i}"] = pool
    workers["fixer"] = {"consumes": "q", "count": 1, "service_time": draw(services)}
    producers = data["producers"]
    for producer in producers.values():
        if "publish" in producer:
            producer["publish"] = "t"
        if draw(st.booleans()):
            producer["message"] = {"key": {"choice": ["a", "b", "c", "d", "e"]}}
    producers.pop("caller", None)
    # The generated faults, aimed at the groups (and the brokers' outages at these brokers).
    faults = []
    for fault in data["faults"]:
        if "outage" in fault:
            fault["outage"] = draw(st.sampled_from(["k", "b"]))
        else:
            kind = next(k for k in ("crash", "stop", "slowdown") if k in fault)
            fault[kind] = draw(st.sampled_from(list(workers)))
            if isinstance(fault.get("workers"), int):
                fault["workers"] = min(fault["workers"], workers[fault[kind]]["count"])
        faults.append(fault)
    return {"name": "every-kafka-run-ends", "run": data["run"],
            "brokers": {"k": broker, "b": {"type": "ideal"}}, "queues": queues,
            "exchanges": {}, "producers": producers, "workers": workers, "faults": faults}


# -- the bound -------------------------------------------------------------------------------

def _mean(spec: Any) -> float:
    if isinstance(spec, (int, float)):
        return float(spec)
    return float(distributions.make(spec).mean)


def _alone(messages: int, count: int, arrivals: dict) -> float | None:
    """A time by which this producer alone has surely sent ``messages`` (None: it never does).

    Poisson-like streams: n arrivals at total rate R take Gamma(n, R) time, mean n/R and sd
    sqrt(n)/R; (n + 10 sqrt(n) + 30) / R is beyond any tail a test will ever meet. Bursty and
    renewal streams get the same with their long-run rate, doubled, plus ten sojourns.
    """
    n = messages
    slack = n + 10 * math.sqrt(n) + 30
    process = arrivals["process"]
    if process == "constant":
        return math.ceil(n / count) * arrivals["interval"]
    if process == "poisson" and "rate" in arrivals:
        rate = arrivals["rate"]
        return slack / (rate * count) if rate > 0 else None
    if process == "poisson":
        steps = arrivals["schedule"]
        if steps[-1]["rate"] == 0:
            return None  # finite: a few arrivals, then silence
        start = steps[-2]["until"] if len(steps) > 1 else 0.0
        return start + slack / (steps[-1]["rate"] * count)
    if process == "bursty":
        lo, hi = arrivals["rates"]
        dl, dh = arrivals["mean_durations"]
        long_run = (lo * dl + hi * dh) / (dl + dh)
        return 2 * slack / (long_run * count) + 10 * (dl + dh) if long_run > 0 else None
    if process == "renewal":
        return 2 * slack * _mean(arrivals["interarrival"]) / count
    raise AssertionError(f"no bound for {process}")


def _finite_end(arrivals: dict) -> float:
    """When a finite stream has surely sent its last message."""
    if arrivals["process"] == "poisson" and "schedule" in arrivals:
        return arrivals["schedule"][-2]["until"] if len(arrivals["schedule"]) > 1 else 0.0
    return 0.0  # rate 0: nothing at all


def publish_time_bound(messages: int, producers: dict) -> float | None:
    """A time by which publishing has surely ended, or None if it cannot be bounded.

    With some endless producer, the budget runs out no later than that producer alone would
    spend it; if every producer is finite, publishing ends with the last one's last arrival.
    """
    endless = [_alone(messages, p.get("count", 1), p["arrivals"]) for p in producers.values()]
    endless = [t for t in endless if t is not None]
    if endless:
        return min(endless)
    return max(_finite_end(p["arrivals"]) for p in producers.values())


def has_endless_producer(producers: dict) -> bool:
    return any(_alone(1, p["count"], p["arrivals"]) is not None for p in producers.values())


def budget(data: dict) -> tuple[int, float]:
    """(events, simulated seconds) that no correct run of the resolved scenario can exceed.

    Simulated time: publishing ends by ``publish_time_bound`` (the budget is spent, or every
    finite producer is done), and the drain by ``drain_timeout`` after that; a second of slack
    covers the last publish latencies. A run without drain stops when publishing does.

    Events are of two kinds:

    - per message, bounded by its path: an arrival, a publish latency, per delivery the
      delivery latency, the service, the ack latency, a lease timer (a cancelled timer is
      still popped from SimPy's heap), a retry delay, a nack... about ten events per
      delivery, and a handful of deliveries per copy (error_rate <= 0.5 with retries is
      geometric, mean 2). 200 events per message and queue of the dead-letter chain it may
      travel, times (1 + attempts) when a refused publish is retried, leaves a wide margin.
    - per simulated second, from what ticks on its own: the monitor (1/sample_interval), each
      pull worker's idle receive loop (api_latency + wait_time + poll_interval per round,
      two or three events a round), redis restore checks, random crash cycles (crash,
      repair, restart and the redelivery of what the worker held), visibility timers
      bringing back copies still in processing (up to every held copy once per timeout, each
      redelivery again ~10 events), and busy workers (a few events per service time, for
      work that comes back again and again). Their sum times the time bound, doubled.

    Plus 2000 for start-up and sampling, and per scheduled fault (crash, stop, outage) the
    redelivery of every copy at most once more: 20 events per message.
    """
    run = data["run"]
    messages = run["messages"]
    t_pub = publish_time_bound(messages, data["producers"])
    assert t_pub is not None
    t_max = t_pub + 1.0 + (run["drain_timeout"] if run["drain"] else 0.0)

    # How many copies a message may become from a queue on: its dead-letter chain, and the
    # follow-ups of the pools consuming each queue on the way (the generator makes no cycle).
    onward: dict[str, list[str]] = {name: [] for name in data["queues"]}
    for name, queue in data["queues"].items():
        if queue["dead_letter"] is not None:
            onward[name].append(queue["dead_letter"])
    for pool in data["workers"].values():
        if pool["consumes"] is not None and pool["then"]:
            onward[pool["consumes"]].append(pool["then"]["publish"])

    def copies_from(name: str, seen: int = 0) -> int:
        if seen > len(data["queues"]):
            return 1
        return 1 + sum(copies_from(n, seen + 1) for n in onward[name])

    def copies_of(target: str | None) -> int:
        exchange = data["exchanges"].get(target)
        if exchange is None:
            return copies_from(target) if target is not None else 1
        reached = [b["queue"] for b in exchange["bindings"]] + [exchange["alternate"] or "idle"]
        return sum(copies_from(q) for q in reached if q in data["queues"])

    depth = max(copies_of(p["publish"]) for p in data["producers"].values())
    for pool in data["workers"].values():
        if pool["consumes"] is None and pool["then"]:
            depth = max(depth, 1 + copies_of(pool["then"]["publish"]))
    attempts = max(
        (p["retry"]["attempts"] for p in data["producers"].values() if p["on_reject"] == "retry"),
        default=0,
    )
    per_message = 200 * depth * (1 + attempts)

    per_second = 1.0 / run["sample_interval"]
    for pool in data["workers"].values():
        if pool["consumes"] is None:  # serving calls: busy workers only
            per_second += pool["count"] * pool["concurrency"] * 5.0 / max(
                _mean(pool["service_time"]), 0.01)
            continue
        if pool["batch"]:
            per_second += 2.0 / pool["batch"]["every"]
        queue = data["queues"][pool["consumes"]]
        scale = pool["autoscale"]
        workers, held = max(pool["count"], scale["max"] if scale else 0), pool["prefetch"]
        if scale:
            per_second += 1.0 / scale["interval"]
        if "partitions" in queue:
            # A consumer group: commits, poll deadlines and rebalances on top of its polls.
            per_second += workers * 4.0 / queue["commit_interval"]
            per_second += workers * 4.0 / max(queue["session_timeout"], 0.1)
        if pool["ack"] == "on_delivery" and not queue["prefetch_on_auto_ack"]:
            held = messages  # unbounded: a worker may hold everything
        if queue["delivery"] == "pull":
            period = _mean(queue["api_latency"]) + queue["wait_time"] + queue["poll_interval"]
            per_second += workers * 3.0 / period
        if queue["redelivery"] == "visibility_timeout" and queue["restore_interval"]:
            per_second += 2.0 / queue["restore_interval"]
        timeout = (queue["visibility_timeout"] if queue["redelivery"] == "visibility_timeout"
                   else queue["lock_timeout"] if queue["redelivery"] == "lease" else None)
        if timeout:
            per_second += workers * held * 10.0 / timeout
        per_second += workers * pool["concurrency"] * 5.0 / max(_mean(pool["service_time"]), 0.01)
    scheduled = 0
    for fault in data["faults"]:
        if fault["kind"] == "crash" and fault.get("mtbf") is not None:
            pool = data["workers"][fault["target"]]
            cycle = fault["mtbf"] + _mean(fault["mttr"])
            scale = pool["autoscale"]
            count = max(pool["count"], scale["max"] if scale else 0)
            per_second += count * (5 + 10 * pool["prefetch"]) / cycle
        else:
            scheduled += 1
    events = 2000 + per_message * messages + 2 * per_second * t_max
    events += scheduled * (100 + 20 * messages)
    return int(events), t_max


# -- running one scenario --------------------------------------------------------------------

def consumed_queues(data: dict) -> set[str]:
    """The consumed queues by their names in the summary: a topic read by several consumer
    groups has a log per group, ``TOPIC@GROUP``."""
    out = set()
    for name, pool in data["workers"].items():
        queue = pool["consumes"]
        if queue is None:
            continue
        groups = [p for p in data["workers"].values() if p["consumes"] == queue]
        several = "partitions" in data["queues"][queue] and len(groups) > 1
        out.add(f"{queue}@{name}" if several else queue)
    return out


def queue_spec(data: dict, name: str) -> dict:
    """A queue's resolved spec by its summary name (a group's log: its topic's)."""
    return data["queues"][name.split("@")[0]]


def drain_timed_out(summary: dict, run: dict) -> bool:
    """The engine's word (``drain_timed_out``), checked against the clock: the drain starts
    when publishing ends (``summary["duration"]`` for a budget-stopped run) and its timeout
    fires ``drain_timeout`` later."""
    timed_out = bool(summary["drain_timed_out"])
    deadline = summary["duration"] + run["drain_timeout"]
    if timed_out:
        assert math.isclose(summary["sim_end"], deadline, rel_tol=1e-9, abs_tol=1e-9), (
            f"drain_timed_out, but the run ended at {summary['sim_end']:g} s, not at "
            f"{deadline:g} s (publishing end + drain_timeout)")
    else:
        assert summary["sim_end"] < deadline + 1e-9, (
            f"the run ended at {summary['sim_end']:g} s, after its drain deadline "
            f"{deadline:g} s, yet drain_timed_out is false")
    return timed_out


def _note(text: str) -> None:
    """Hypothesis prints notes with a falsifying example; outside a test they are dropped."""
    with contextlib.suppress(InvalidArgument):
        note(text)


class _PlainDumper(yaml.SafeDumper):
    def ignore_aliases(self, data: Any) -> bool:
        return True


def as_yaml(data: dict) -> str:
    """The scenario as YAML a reader can paste into a file (no anchors)."""
    return yaml.dump(data, Dumper=_PlainDumper, sort_keys=False, default_flow_style=None)


def run_bounded(data: dict) -> sim.Result:
    scenario = sim.scenario.from_dict(data)
    resolved = scenario.data
    run = resolved["run"]
    _note("scenario:\n" + as_yaml(data))
    events, t_max = budget(resolved)
    _note(f"bound: {events} events, {t_max:g} simulated seconds")

    steps = [0]
    step = simpy.Environment.step

    def counting_step(env: simpy.Environment) -> None:
        steps[0] += 1
        if steps[0] > events:
            raise AssertionError(
                f"the run did not end within {events} events (now t={env.now:g} s, "
                f"next event at {env.peek():g} s, bound {t_max:g} s)")
        if env.peek() > t_max:
            raise AssertionError(
                f"the run did not end within {t_max:g} simulated seconds (now t={env.now:g}, "
                f"next event at {env.peek():g} s, after {steps[0]} events)")
        step(env)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(simpy.Environment, "step", counting_step)  # (a)
        result = run_checked(scenario)  # (b)
    summary = result.summary
    _note(f"ran {steps[0]} events, sim_end {summary['sim_end']:g}, totals {summary['totals']}")

    # (c) a drain that did not time out leaves nothing pending where someone consumes
    if run["drain"] and not drain_timed_out(summary, run):
        left = {q: summary["queues"][q]["totals"]["pending"] for q in consumed_queues(resolved)}
        left = {q: n for q, n in left.items() if n}
        assert not left, (
            f"drain ended at {summary['sim_end']:g} s (publishing ended at "
            f"{summary['duration']:g} s, drain_timeout {run['drain_timeout']:g} s) "
            f"with copies pending in consumed queues: {left}\n"
            + pending_report(result.messages, set(left), consumed_queues(resolved)))

    # Every call is answered or fails once; after a full drain, none is left in progress.
    for name, producer in summary["producers"].items():
        calls = producer.get("calls")
        if calls is None:
            continue
        ended = calls["answered"] + producer["errors"]
        assert ended <= producer["sent"], f"{name}: {ended} calls ended, {producer['sent']} made"
        if run["drain"] and not summary["drain_timed_out"]:
            assert ended == producer["sent"], f"{name}: {producer['sent'] - ended} calls open"
    assert summary["totals"]["unroutable"] == sum(
        e["unroutable"] for e in summary["exchanges"].values())

    # (d) no idle backlog: ready copies never wait long beside idle workers
    stuck = idle_backlogs(result, resolved)
    assert not stuck, "\n".join(stuck)

    # (e) no livelock: a copy comes back only for a reason, and each reason is finite
    most, limit = redeliveries_allowed(result, resolved)
    if limit is not None and most > limit:
        worst = result.messages.sort_values("deliveries").iloc[-1]
        raise AssertionError(
            f"a copy was delivered {most} times (allowed {limit}): livelock; "
            f"{worst['queue']} id {worst['id']} copy {worst['copy']}, "
            f"processings {worst['processings']}, state {worst['state']}, "
            f"sim_end {summary['sim_end']:g}")

    # (f) the budget is spent
    sent = sum(p["sent"] for name, p in summary["producers"].items()
               if name in resolved["producers"])  # (pools publishing follow-ups are not)
    if has_endless_producer(resolved["producers"]):
        assert sent == run["messages"], (
            f"producers sent {sent} messages, the budget is {run['messages']}")
    else:
        assert sent <= run["messages"]
    return result


def idle_backlogs(result: sim.Result, data: dict) -> list[str]:
    """Stretches where a consumed queue had ready copies, workers up, nothing in flight and
    nothing completing for longer than any processing or receive loop can explain.

    In every sample of such a stretch ``depth > 0``, ``in_flight == 0`` and
    ``workers_up > 0``, and no sample after its first counts a completion or sees a delivery
    or a processing start: copies wait, nobody holds an unacknowledged one, and no work
    begins or finishes. (Rows need not be evenly
    spaced: the monitor jumps over stretches where nothing is scheduled.) Work acknowledged
    early (on_start, on_delivery) is not in flight, so the stretch must outlast three of the
    slowest services (mean + 4 sd, times the largest slowdown) plus 5 s, and on a pull queue
    three rounds of its receive loop; stretches within a second of an outage of the queue's
    broker are not counted. Such a stretch is a stuck queue: the run could then end only by
    its drain timeout.
    """
    slowest = 0.0
    for pool in data["workers"].values():
        for spec in (pool["service_time"], *pool["service_time_by_type"].values()):
            dist = distributions.make(spec)
            slowest = max(slowest, dist.mean + 4 * math.sqrt(dist.variance))
    factor = max([f["factor"] for f in data["faults"] if f["kind"] == "slowdown"] + [1.0])
    found = []
    timeseries = result.timeseries
    for name in sorted(consumed_queues(data)):
        queue = queue_spec(data, name)
        if any(pool["consumes"] == name and pool["batch"] for pool in data["workers"].values()):
            # A batch job's copies wait for its window by design, and copies that expire at a
            # wake-up leave no trace of activity here; (c) still catches a stuck batch queue.
            continue
        gap = 5.0 + 3 * slowest * factor
        if "partitions" in queue:
            # A crashed consumer's partitions wait for its session to time out; a rebalance
            # pauses them; a member removed for a slow poll rejoins at its next poll; and an
            # autoscaled group may have retired down to no consumer at all, until its next tick.
            gap += (queue["session_timeout"] + queue["rebalance_time"] + queue["commit_interval"]
                    + queue["max_poll_interval"] + 60.0)
        if queue["delivery"] == "pull":
            gap += 3 * (_mean(queue["api_latency"]) + queue["wait_time"] + queue["poll_interval"])
        outages = [(f["at"] - 1, f["at"] + f["duration"] + 1) for f in data["faults"]
                   if f["kind"] == "outage" and f["target"] == queue["broker"]]
        # Work that starts is activity too: early-acked copies that fail are never in flight
        # and never complete, yet their worker is busy.
        here = result.messages[result.messages["queue"] == name]
        starts = np.sort(np.concatenate([
            here[column].dropna().to_numpy(float)
            for column in ("first_delivered_at", "started_at") if column in here
        ] or [np.zeros(0)]))
        start = None
        previous = 0.0
        for row in timeseries[timeseries["queue"] == name].itertuples():
            idle = (row.depth > 0 and row.in_flight == 0 and row.workers_up > 0
                    and not any(a <= row.time <= b for a, b in outages))
            began = np.searchsorted(starts, row.time, "right") > np.searchsorted(
                starts, previous, "right")
            previous = row.time
            if not idle:
                start = None
                continue
            if start is None or row.completed or began:
                start = row.time  # (completions counted in a row happened before its time)
                continue
            if row.time - start > gap:
                found.append(
                    f"idle backlog in {name} from {start:g} s to {row.time:g} s: "
                    f"{row.depth} copies ready, {row.workers_up} workers up, nothing in "
                    f"flight or completing (allowed {gap:g} s)")
                break
    return found


def redeliveries_allowed(result: sim.Result, data: dict) -> tuple[int, int | None]:
    """(most deliveries of any copy, the most the scenario explains; None: no limit).

    A copy comes back after a failed processing (error_rate <= 0.5: geometric, more than 25
    deliveries has odds below 1e-7), once per crash, stop or outage, and once per timeout
    while a slowdown or an outage keeps its work from finishing in time. Random crashes
    recur without end, so no limit is claimed under them.
    """
    most = int(result.messages["deliveries"].max()) if len(result.messages) else 0
    if any(f["kind"] == "crash" and f.get("mtbf") is not None for f in data["faults"]):
        return most, None
    if rebalance_storms_possible(data):
        return most, None
    timeouts = [q["visibility_timeout"] if q["redelivery"] == "visibility_timeout"
                else q["lock_timeout"] for q in data["queues"].values()
                if q["redelivery"] in ("visibility_timeout", "lease")]
    # A consumer group fetches a record again after each rebalance; a slow poll (past
    # max_poll_interval) brings one every interval while a slowdown lasts.
    timeouts += [q["max_poll_interval"] for q in data["queues"].values() if "partitions" in q]
    # Each fault may cause a few rebalances (crash, session expiry, restart), each a fetch.
    per_fault = 6 if any("partitions" in q for q in data["queues"].values()) else 2
    shortest = min(timeouts, default=math.inf)
    limit = 25.0
    for fault in data["faults"]:
        limit += per_fault + fault.get("duration", 0.0) / shortest
    return most, int(limit)


def rebalance_storms_possible(data: dict) -> bool:
    """Whether a poll's records can outlast ``max_poll_interval`` (slowest service, mean + 4
    sd, times the largest slowdown, times the records a poll returns): the consumer is removed
    and the records replayed, again and again while that lasts, so no limit is claimed."""
    factor = max([f["factor"] for f in data["faults"] if f["kind"] == "slowdown"] + [1.0])
    for pool in data["workers"].values():
        queue = data["queues"].get(pool["consumes"]) if pool["consumes"] else None
        if queue is None or "partitions" not in queue:
            continue
        slowest = 0.0
        for spec in (pool["service_time"], *pool["service_time_by_type"].values()):
            dist = distributions.make(spec)
            slowest = max(slowest, dist.mean + 4 * math.sqrt(dist.variance))
        records = min(queue["max_poll_records"], data["run"]["messages"] * 2)
        if slowest * factor * records >= queue["max_poll_interval"]:
            return True
    return False


def pending_report(messages: Any, queues: set[str], consumed: set[str]) -> str:
    """The pending copies of ``queues``, each with the queue it was dead-lettered from."""
    rows = messages[(messages["state"] == "pending") & messages["queue"].isin(queues)]
    lines = []
    for row in rows.head(10).itertuples():
        source = messages[(messages["id"] == row.id) & (messages["copy"] == row.copy - 1)]
        origin = ""
        if len(source):
            q = source["queue"].iloc[0]
            origin = (f", dead-lettered from {q} "
                      f"({'consumed' if q in consumed else 'not consumed'}, "
                      f"{source['state'].iloc[0]})")
        lines.append(f"  {row.queue}: id {row.id} copy {row.copy}, published "
                     f"{row.published_at:g}, accepted {row.accepted_at:g}, "
                     f"deliveries {row.deliveries}{origin}")
    return "\n".join(lines)


@SETTINGS
@given(scenarios())
def test_every_run_ends(data):
    run_bounded(data)


@settings(SETTINGS, max_examples=max(EXAMPLES // 2, 10))
@given(kafka_scenarios())
def test_every_kafka_run_ends(data):
    run_bounded(data)


@st.composite
def default_interval_scenarios(draw) -> dict:
    """As above, with ``sample_interval`` left to its default (publishing time / 500)."""
    data = draw(scenarios(explicit_sample_interval=False))
    data["run"]["drain_timeout"] = draw(st.sampled_from([0.5, 2.0]))
    return data


@settings(SETTINGS, max_examples=max(EXAMPLES // 3, 10))
@given(default_interval_scenarios())
def test_every_run_ends_with_the_default_sample_interval(data):
    # The default promises about 500 samples over the expected publishing time, so the
    # monitor costs (publishing + drain) / (publishing / 500) events; the bound counts them
    # at the interval the engine chose, which must be one a float clock can advance by.
    interval = sim.scenario.from_dict(data).data["run"]["sample_interval"]
    t_pub = publish_time_bound(data["run"]["messages"], data["producers"]) or 0.0
    assert interval >= 1e-6, (
        f"default sample_interval {interval:g} s for an expected publishing time of "
        f"about {t_pub:g} s: the monitor would tick ~{2.0 / interval:.3g} times per second")
    run_bounded(data)


# -- minimised failures ----------------------------------------------------------------------
# Scenarios the generator found (then minimised by hand), each with the symptom it showed when
# found. They run through the same checks as the generated ones.

MINIMISED = {
    # (b) q0 has no consumers; its copies expire (ttl) into q1, which has none either and
    # passes each arrival on at once (drop-head, max_length 0) to q2, which has. q0 was not
    # tracked (its dead-letter queue was not), so its copies expired only in the end-of-run
    # sweep, after the drain: "drained with 1 pieces of work in progress".
    "ttl-expiry-through-a-drop-head-queue-into-a-consumed-one": """
        name: ttl-through-drop-head
        run: {messages: 2, drain_timeout: 0.5, sample_interval: 0.1, seed: 0}
        producers:
          p: {arrivals: {process: poisson, rate: 0.5}, publish: q0}
        queues:
          q0: {ttl: 0.05, dead_letter: q1}
          q1: {max_length: 0, overflow: drop-head, dead_letter: q2}
          q2: {}
        workers:
          w: {consumes: q2, service_time: 0.01}
    """,
    # (d) per-key: a copy completed under on_start while its early ack (ack_latency) was still
    # on its way; the worker crashed before the ack landed, which closed the lease but never
    # freed the key: the key's next copy waited until the end-of-run sweep expired it.
    "per-key-completed-before-its-early-ack-then-crash-keeps-the-key-busy": """
        name: per-key-early-ack-crash
        run: {messages: 2, drain_timeout: 30, sample_interval: 0.5}
        brokers:
          b: {type: sqs-fifo, delivery: push, visibility_timeout: 60}
        producers:
          p: {arrivals: {process: constant, interval: 1}, publish: q, message: {key: k}}
        queues:
          q: {broker: b}
        workers:
          w: {consumes: q, ack: on_start, ack_latency: 0.2, service_time: 0.01}
        faults:
          - {crash: w, workers: 1, at: 0.1, restart_after: 0.2}
    """,
    # (a) the default sample_interval of a run whose every arrival is at t = 0 was ~1.6e-33 s:
    # the monitor's clock could not advance, and the run never ended.
    "one-message-constant-arrivals-default-sample-interval": """
        name: one
        run: {messages: 1, drain_timeout: 30}
        producers:
          p: {arrivals: {process: constant, interval: 1}, publish: q}
        queues: {q: {}}
        workers:
          w: {consumes: q, service_time: 0.1}
    """,
    # (e) with a visibility timeout shorter than the service and two workers, the copy went
    # from one worker to the other every 0.3 s and never completed (120 deliveries in 60 s;
    # ~171,000 with the default one-day drain_timeout).
    "sqs-visibility-timeout-shorter-than-service": """
        name: vt-livelock
        run: {messages: 1, sample_interval: 1, drain_timeout: 60}
        brokers:
          b: {type: sqs, visibility_timeout: 0.3}
        producers:
          p: {arrivals: {process: poisson, rate: 1}, publish: q}
        queues:
          q: {broker: b}
        workers:
          w: {consumes: q, count: 2, service_time: 1}
    """,
    # (c) the last copy, dead-lettered into a queue with its own workers, ended the drain
    # before its new copy was enqueued: the run stopped with it pending in dlq.
    "last-copy-dead-lettered-into-consumed-queue": """
        name: dl-last
        run: {messages: 1, drain_timeout: 60, sample_interval: 0.1}
        producers:
          p: {arrivals: {process: poisson, rate: 1}, publish: q}
        queues:
          q: {dead_letter: dlq}
          dlq: {}
        workers:
          w: {consumes: q, service_time: 0.1, error_rate: 1, retry: {requeue: false}}
          fixer: {consumes: dlq, service_time: 0.1}
    """,
    # (f) a producer without arrivals (rate 0, or a schedule that happens to yield none)
    # declared first ended publishing at t = 0, before the others started: 0 of 10 sent.
    "silent-producer-first-ends-publishing-at-once": """
        name: budget
        run: {messages: 10, drain_timeout: 60, sample_interval: 0.1}
        producers:
          silent: {arrivals: {process: poisson, rate: 0}, publish: q}
          web: {arrivals: {process: poisson, rate: 10}, publish: q}
        queues: {q: {}}
        workers:
          w: {consumes: q, service_time: 0.1}
    """,
    # (b)/(c) q0 has no consumers; its copy expires (ttl) into work, which has. Nothing held
    # the drain open for it; the end-of-run expiry sweep dead-lettered it after the drain:
    # pending in work (audit: "drained with 2 pieces of work in progress").
    "ttl-expiry-of-an-unconsumed-queue-into-a-consumed-one": """
        name: ttl-sweep
        run: {messages: 2, drain_timeout: 60, sample_interval: 0.1}
        producers:
          p0: {arrivals: {process: constant, interval: 1}, publish: q0}
          p1: {arrivals: {process: constant, interval: 1}, publish: work}
        queues:
          q0: {ttl: 0.5, dead_letter: work}
          work: {}
        workers:
          w: {consumes: work, service_time: 1}
    """,
    # (d) per-key: the ack of message 0 frees its key, but the worker already had a free
    # prefetch slot, so nothing dispatches; message 1 waits until the drain times out.
    "per-key-prefetch-2-key-freed-but-not-dispatched": """
        name: per-key-prefetch
        run: {messages: 2, drain_timeout: 30, sample_interval: 0.5}
        producers:
          p: {arrivals: {process: constant, interval: 0.1}, publish: q}
        queues:
          q: {ordering: per-key}
        workers:
          w: {consumes: q, prefetch: 2, service_time: 1}
    """,
    # (d) per-key: message 1 expires (ttl) as it is taken from the line; its key stays busy
    # and message 2 is never delivered (the drain times out, the sweep expires it).
    "per-key-ttl-expiry-at-the-head-keeps-the-key-busy": """
        name: stuck-key-ttl
        run: {messages: 3, drain_timeout: 30, sample_interval: 0.5}
        producers:
          p: {arrivals: {process: constant, interval: 0.1}, publish: q, message: {key: k}}
        queues:
          q: {ordering: per-key, ttl: 0.5}
        workers:
          w: {consumes: q, service_time: 1}
    """,
    # (d) per-key: a failed copy with retry.requeue false is lost (or dead-lettered) and its
    # key stays busy: message 1 is never delivered.
    "per-key-failed-without-requeue-keeps-the-key-busy": """
        name: stuck-key-failed
        run: {messages: 2, drain_timeout: 30, sample_interval: 0.5}
        producers:
          p: {arrivals: {process: constant, interval: 0.1}, publish: q, message: {key: k}}
        queues:
          q: {ordering: per-key}
        workers:
          w: {consumes: q, service_time: 1, error_rate: 1, retry: {requeue: false}}
    """,
    # (d) per-key: the same through max_deliveries (the failed copy is lost on its return).
    "per-key-max-deliveries-keeps-the-key-busy": """
        name: per-key-max-deliveries
        run: {messages: 2, drain_timeout: 30, sample_interval: 0.5}
        producers:
          p: {arrivals: {process: constant, interval: 0.1}, publish: q}
        queues:
          q: {ordering: per-key, max_deliveries: 1}
        workers:
          w: {consumes: q, service_time: 1, error_rate: 1}
    """,
    # (d) per-key: the same through a crash under redelivery: none (the held copy is lost).
    "per-key-crash-without-redelivery-keeps-the-key-busy": """
        name: per-key-redelivery-none
        run: {messages: 2, drain_timeout: 30, sample_interval: 0.5}
        brokers:
          b: {type: ideal, redelivery: none}
        producers:
          p: {arrivals: {process: constant, interval: 0.1}, publish: q}
        queues:
          q: {broker: b, ordering: per-key}
        workers:
          w: {consumes: q, service_time: 1}
        faults:
          - {crash: w, workers: 1, at: 0.5, restart_after: 0.1}
    """,
    # (b) a delivery still on its way (deliver_latency) when its worker stops is lost and the
    # copy redelivered, but first_delivered_at keeps the lost delivery's arrival (2.57 s):
    # "1 copies completed before their first delivery" (completed at 1.14 s).
    "first-delivered-at-of-a-delivery-that-never-arrived": """
        name: first-delivery
        run: {messages: 1, drain_timeout: 60, sample_interval: 0.1}
        brokers:
          b: {type: ideal, deliver_latency: {dist: exponential, mean: 1}}
        producers:
          p: {arrivals: {process: constant, interval: 1}, publish: q}
        queues:
          q: {}
        workers:
          w: {consumes: q, count: 2, service_time: 0.01}
        faults:
          - {stop: w, workers: 1, at: 0.1}
    """,
    # (b) the same without faults: the visibility timeout (0.5 s) returns the copy before its
    # slow delivery lands; the second delivery arrives first and is processed at 3.03 s, but
    # first_delivered_at says 3.57 s: "started processing before their first delivery".
    "first-delivered-at-after-a-timeout-shorter-than-the-delivery": """
        name: first-delivery-timeout
        run: {messages: 1, drain_timeout: 60, sample_interval: 0.1}
        brokers:
          b: {type: sqs, visibility_timeout: 0.5, deliver_latency: {dist: exponential, mean: 1}}
        producers:
          p: {arrivals: {process: constant, interval: 1}, publish: q}
        queues:
          q: {broker: b}
        workers:
          w: {consumes: q, count: 2, service_time: 0.01}
    """,
    # (checker) early-acked copies that fail are never in flight and never complete, yet the
    # worker is busy: the idle-backlog check took 11 s of such failures for a stuck queue.
    "auto-acked-failures-are-work-not-an-idle-backlog": """
        name: busy-failing
        run: {messages: 19, seed: 4, drain_timeout: 0.5, drain: false, sample_interval: 0.619}
        producers:
          p0: {arrivals: {process: poisson, rate: 0.5}, publish: q0,
               message: {priority: {choice: [0, 1, 2]}}}
          p1: {arrivals: {process: poisson, rate: 0.5}, publish: q0,
               message: {priority: {choice: [0, 1, 2]}}}
        queues:
          q0: {dead_letter: idle, priority: true}
          idle: {}
        workers:
          w0: {consumes: q0, ack: on_delivery, service_time: 2.0, error_rate: 0.5,
               retry: {requeue: false}}
    """,
}


@pytest.mark.parametrize("text", list(MINIMISED.values()), ids=list(MINIMISED))
def test_minimised_scenarios_end(text):
    data = yaml.safe_load(textwrap.dedent(text))
    if "sample_interval" not in data["run"]:
        interval = sim.scenario.from_dict(data).data["run"]["sample_interval"]
        assert interval >= 1e-6, f"default sample_interval {interval:g} s"
    run_bounded(data)
