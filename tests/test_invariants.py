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
    result = run_checked(sim.Scenario.from_dict(data) if hasattr(sim.Scenario, "from_dict")
                         else sim.scenario.from_dict(data))
    totals = result.summary["totals"]
    assert totals["published"] + totals["rejected"] == sum(
        p["sent"] for p in result.summary["producers"].values())
    assert totals["duplicate_processing"] == 0  # no faults: nothing runs twice
