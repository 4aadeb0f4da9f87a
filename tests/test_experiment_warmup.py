"""``run.warmup: auto``: MSER-5 on the latency series, the truncation reported."""

from __future__ import annotations

import numpy as np
import pytest

import sim
from sim.experiment.warmup import mser
from sim.scenario import ScenarioError


def test_mser_cuts_a_transient_of_known_length():
    # 100 batches of 5 at 10 (the transient), then 400 batches at 1 +- small noise:
    # truncating exactly the transient minimises the standard error of what is left.
    rng = np.random.default_rng(1)
    values = np.concatenate([np.full(500, 10.0), 1.0 + rng.normal(0, 0.1, 2000)])
    d, k, settled = mser(values)
    assert (d, k, settled) == (100, 500, True)


def test_mser_keeps_a_stationary_series_whole_or_nearly():
    rng = np.random.default_rng(2)
    d, k, settled = mser(rng.normal(5, 1, 5000))
    assert settled and d < k // 10


def test_mser_flags_a_series_that_never_settles():
    d, k, settled = mser(np.arange(1000, dtype=float))  # keeps growing: overload
    assert not settled and d == k // 2


def test_mser_with_too_few_values_cuts_nothing():
    assert mser(np.array([5.0, 1.0, 1.0])) == (0, 0, True)


SPIKE = """
name: start-overloaded
run: {duration: 600, warmup: auto, seed: 1}
producers:
  p:
    arrivals:
      process: poisson
      schedule: [{until: 60, rate: 15}, {rate: 4}]
    publish: q
queues: {q: {}}
workers: {w: {consumes: q, count: 1, service_time: {dist: exponential, mean: 0.1}}}
"""


def test_auto_warmup_leaves_out_an_overloaded_start():
    scenario = sim.loads(SPIKE)
    assert scenario.data["run"]["warmup"] == "auto"  # resolved as it was written
    result = sim.run(scenario)
    auto = result.summary["warmup_auto"]
    assert auto["method"] == "MSER-5" and auto["settled"]
    # The backlog built in the first minute (15/s against 10/s) drains by ~ 60 + 300/6 s.
    assert 60 < result.summary["warmup"] == auto["seconds"] < 200
    kept = result.messages["published_at"] >= auto["seconds"]
    assert auto["messages"] == int((~kept).sum())
    # The latency after the cut is the steady M/M/1's (0.1 / (1 - 0.4) = 0.167 s), not the
    # backlog's; five standard errors (from the run's own spread) of slack.
    latency = (result.messages["completed_at"] - result.messages["published_at"])[kept]
    se = latency.std() / np.sqrt(len(latency)) * 5 * 3  # x3 for autocorrelation
    assert result.summary["latency"]["mean"] == pytest.approx(1 / 6, abs=se)
    fixed = sim.run(scenario.with_overrides({"run.warmup": 0}))
    assert fixed.summary["latency"]["mean"] > 2 * result.summary["latency"]["mean"]


def test_auto_warmup_in_replications_is_reported_per_replication():
    # Each replication chooses its own cut (a figure like any other in the table).
    scenario = sim.loads(SPIKE)
    reps = sim.replicate(scenario, n=3)
    assert (reps["warmup_auto.seconds"] > 60).all()
    assert reps["warmup_auto.seconds"].nunique() == 3
    summary = sim.run(scenario, replications=3).summary
    assert summary["warmup_auto"]["seconds"]["mean"] == pytest.approx(
        reps["warmup_auto.seconds"].mean())


def test_an_unsettled_run_warns():
    overloaded = sim.loads(SPIKE, overrides={
        "producers.p.arrivals": {"process": "poisson", "rate": 15}, "run.duration": 100})
    summary = sim.run(overloaded).summary
    assert summary["warmup_auto"]["settled"] is False
    assert any("warmup: auto (MSER-5) found no steady state" in w for w in summary["warnings"])


@pytest.mark.parametrize("value", ["Auto", "automatic", "-1s"])
def test_warmup_other_words_are_refused(value):
    with pytest.raises(ScenarioError, match=r"run\.warmup"):
        sim.loads(SPIKE.replace("warmup: auto", f"warmup: {value}"))
