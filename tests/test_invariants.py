"""Conservation on every shipped scenario and on generated ones."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import run_checked
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import sim

SCENARIOS = sorted((Path(__file__).parent.parent / "scenarios").glob("*.yaml"))


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_every_shipped_scenario_conserves_copies(path):
    result = run_checked(sim.load(path))
    assert result.summary["totals"]["enqueued"] > 0


services = st.one_of(
    st.floats(0.01, 2.0).map(lambda v: v),
    st.floats(0.05, 2.0).map(lambda m: {"dist": "exponential", "mean": m}),
    st.tuples(st.floats(0.05, 1.0), st.floats(0.1, 3.0)).map(
        lambda t: {"dist": "lognormal", "mean": t[0], "cv": t[1]}),
    st.tuples(st.floats(0.0, 0.5), st.floats(0.5, 2.0)).map(
        lambda t: {"dist": "uniform", "low": t[0], "high": t[0] + t[1]}),
)


@st.composite
def scenarios(draw) -> dict:
    n_queues = draw(st.integers(1, 3))
    queues = {}
    for i in range(n_queues):
        spec: dict = {}
        if draw(st.booleans()):
            spec["max_length"] = draw(st.integers(0, 8))
            spec["overflow"] = draw(st.sampled_from(["reject-publish", "drop-head", "block"]))
            if spec["overflow"] == "drop-head" and i > 0 and draw(st.booleans()):
                spec["dead_letter"] = "q0"
        queues[f"q{i}"] = spec
    producers = {
        f"p{i}": {
            "count": draw(st.integers(1, 2)),
            "arrivals": draw(st.sampled_from([
                {"process": "poisson", "rate": draw(st.floats(0.5, 20))},
                {"process": "constant", "interval": draw(st.floats(0.05, 2))},
                {"process": "bursty", "rates": [1, 15], "mean_durations": [2, 1]},
            ])),
            "publish": f"q{draw(st.integers(0, n_queues - 1))}",
            "message": draw(st.sampled_from([{}, {"key": {"choice": ["a", "b", "c"]}}])),
        }
        for i in range(draw(st.integers(1, 3)))
    }
    workers = {}
    for i in range(n_queues):
        if draw(st.integers(0, 4)) == 0:
            continue  # a queue nobody consumes: its copies stay pending
        concurrency = draw(st.integers(1, 3))
        workers[f"w{i}"] = {
            "consumes": f"q{i}",
            "count": draw(st.integers(1, 4)),
            "concurrency": concurrency,
            "prefetch": concurrency + draw(st.integers(0, 3)),
            "ack": draw(st.sampled_from(["after_processing", "on_start", "on_delivery"])),
            "ack_latency": draw(st.sampled_from([0, 0.01, 0.2])),
            "service_time": draw(services),
        }
    run = {"duration": draw(st.floats(5, 40)), "seed": draw(st.integers(0, 2**31)),
           "drain": draw(st.booleans())}
    if draw(st.booleans()):
        run["drain_timeout"] = draw(st.floats(0.5, 30))
    return {"name": "generated", "run": run, "producers": producers, "queues": queues,
            "workers": workers}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_generated_scenarios_conserve_copies(data):
    result = run_checked(sim.scenario.from_dict(data))
    totals = result.summary["totals"]
    assert totals["published"] + totals["rejected"] == sum(
        p["sent"] for p in result.summary["producers"].values())
    assert totals["duplicate_processing"] == 0  # no faults: nothing runs twice


BROKER_TYPES = ["ideal", "rabbitmq", "sqs", "sqs-fifo", "postgres", "redis", "in-process"]


@st.composite
def faulty_scenarios(draw) -> dict:
    """Random brokers, mechanisms and faults on two queues (the second a dead-letter queue)."""
    broker = {"type": draw(st.sampled_from(BROKER_TYPES))}
    if draw(st.booleans()):
        broker["durable"] = False
    if broker["type"] in ("sqs", "sqs-fifo", "redis"):
        broker["visibility_timeout"] = draw(st.sampled_from([0.5, 2.0, 30.0]))
    if broker["type"] == "redis":
        broker["restore_interval"] = draw(st.sampled_from([1.0, 5.0]))
    if broker["type"] in ("sqs", "sqs-fifo") and draw(st.booleans()):
        broker["api_latency"] = 0  # long polls only: the loop must still advance in time
    if broker["type"] == "postgres":
        broker["claim"] = draw(st.sampled_from(["lease", "transaction"]))
        broker["lock_timeout"] = 3.0
        broker["notify"] = draw(st.booleans())
    queue: dict = {"broker": "b", "dead_letter": "dlq"}
    if draw(st.booleans()):
        queue["ttl"] = draw(st.sampled_from([0.5, 3.0]))
    if draw(st.booleans()):
        queue["max_deliveries"] = draw(st.integers(1, 4))
    if broker["type"] != "sqs-fifo" and draw(st.booleans()):
        queue["priority"] = True
    if draw(st.booleans()):
        queue["max_length"] = draw(st.integers(0, 10))
        queue["overflow"] = draw(st.sampled_from(["reject-publish", "drop-head", "block"]))
    ack = draw(st.sampled_from(["after_processing", "on_start", "on_delivery"]))
    concurrency = draw(st.integers(1, 2))
    pool = {
        "consumes": "q",
        "count": draw(st.integers(1, 3)),
        "concurrency": concurrency,
        "prefetch": concurrency + draw(st.integers(0, 3)),
        "ack": ack,
        "ack_latency": draw(st.sampled_from([0, 0.05, 0.3])),
        "service_time": draw(services),
        "error_rate": draw(st.sampled_from([0.0, 0.0, 0.2])),
        "idempotent": draw(st.booleans()),
    }
    if draw(st.booleans()):
        pool["retry"] = {"requeue": draw(st.booleans()), "delay": draw(st.sampled_from([0, 0.5]))}
    duration = draw(st.floats(5, 30))
    faults = []
    for _ in range(draw(st.integers(0, 3))):
        at = draw(st.floats(0.1, duration))
        faults.append(draw(st.sampled_from([
            {"crash": "w", "workers": 1, "at": at,
             "restart_after": draw(st.sampled_from([None, 0.5, 3.0])),
             "silent": draw(st.booleans())},
            {"crash": "w", "mtbf": draw(st.sampled_from([2.0, 10.0])),
             "mttr": {"dist": "exponential", "mean": 1.0}},
            {"stop": "w", "workers": 1, "at": at, "restart_after": 1.0},
            {"outage": "b", "at": at, "duration": draw(st.floats(0.1, 3))},
            {"slowdown": "w", "factor": draw(st.sampled_from([0.5, 3.0])), "at": at,
             "duration": 2.0},
        ])))
    for fault in faults:
        if fault.get("restart_after", 0) is None:
            del fault["restart_after"]
    return {
        "name": "generated-faults",
        "run": {"duration": duration, "seed": draw(st.integers(0, 2**31)),
                "drain_timeout": 60},
        "producers": {
            "p": {"arrivals": {"process": "poisson", "rate": draw(st.floats(1, 15))},
                  "publish": "q",
                  "message": {"key": {"choice": ["a", "b", "c"]},
                              "priority": {"choice": [0, 1, 2]}},
                  "on_reject": draw(st.sampled_from(["fail", "retry"]))},
        },
        "brokers": {"b": broker},
        "queues": {"q": queue, "dlq": {"broker": "b"}},
        "workers": {"w": pool},
        "faults": faults,
    }


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(faulty_scenarios())
def test_random_faults_conserve_every_copy(data):
    result = run_checked(sim.scenario.from_dict(data))
    m = result.messages
    if data["workers"]["w"]["ack"] == "on_delivery":
        # At-most-once: an auto-acked copy is never processed twice.
        assert int(m["processings"].to_numpy().max(initial=0)) <= 1
    completed = m["state"] == "completed"
    assert ((m.loc[completed, "processings"] + m.loc[completed, "absorbed"]) >= 1).all()
    # Leases are all accounted for: never negative, none left once everything settled.
    in_flight = result.timeseries["in_flight"].to_numpy()
    assert in_flight.min() >= 0
    if result.summary["totals"]["pending"] == 0:
        assert in_flight[-1] == 0
