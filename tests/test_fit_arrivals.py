"""Arrival fits: a steady rate, steps found where they are, bursty told from Poisson, dates,
unsorted input, and a printed process that a scenario loads and runs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yaml

import sim.fit
from sim.fit.arrivals import pelt
from sim.fit.values import FitError
from sim.random.arrivals import make
from tests.conftest import run_checked, scenario_from


def arrivals_of(spec: dict, until: float, seed: int) -> np.ndarray:
    """The arrival times of the scenario format's own process ``spec`` in [0, until)."""
    times = []
    for t in make(spec, np.random.default_rng(seed)).times():
        if t >= until:
            break
        times.append(t)
    return np.asarray(times)


TWO_STEPS = {"process": "poisson", "schedule": [{"until": 1800, "rate": 10}, {"rate": 20}]}
BURSTY = {"process": "bursty", "rates": [5, 20], "mean_durations": [60, 20]}


@pytest.mark.parametrize("seed", range(5))
def test_a_steady_poisson_stream_is_one_rate(seed):
    times = arrivals_of({"process": "poisson", "rate": 10}, 2000, seed)
    fit = sim.fit.arrivals(times)
    assert fit.choice == "poisson" and set(fit.spec) == {"process", "rate"}
    # 20,000 arrivals: the rate's sd is 0.7%; 3% is over four of them
    assert fit.spec["rate"] == pytest.approx(10, rel=0.03)
    assert fit.tests["dispersion"]["p"] > 0.01


@pytest.mark.parametrize("seed", range(3))
def test_a_two_step_rate_is_recovered_with_its_change(seed):
    fit = sim.fit.arrivals(arrivals_of(TWO_STEPS, 3600, seed))
    assert fit.choice == "schedule"
    first, second = fit.spec["schedule"]
    assert first["until"] == pytest.approx(1800, abs=120)  # within two minutes
    assert first["rate"] == pytest.approx(10, rel=0.10)
    assert second["rate"] == pytest.approx(20, rel=0.10) and "until" not in second


def test_a_one_minute_spike_is_three_steps():
    spike = {"process": "poisson",
             "schedule": [{"until": 180, "rate": 30}, {"until": 240, "rate": 90}, {"rate": 30}]}
    fit = sim.fit.arrivals(arrivals_of(spike, 600, 1))
    assert fit.choice == "schedule"
    steps = fit.spec["schedule"]
    assert [s.get("until") for s in steps][:2] == [pytest.approx(180, abs=5),
                                                   pytest.approx(240, abs=5)]
    assert [s["rate"] for s in steps] == [pytest.approx(r, rel=0.1) for r in (30, 90, 30)]


@pytest.mark.parametrize("seed", range(3))
def test_bursty_arrivals_are_told_from_poisson(seed):
    fit = sim.fit.arrivals(arrivals_of(BURSTY, 3600, seed))
    assert fit.choice == "bursty", fit.why
    assert fit.tests["dispersion"]["p"] < 0.01
    low, high = fit.spec["rates"]
    assert low == pytest.approx(5, rel=0.15) and high == pytest.approx(20, rel=0.15)
    dl, dh = fit.spec["mean_durations"]
    # 45 cycles in an hour: each mean duration is known to about 15%
    assert dl == pytest.approx(60, rel=0.4) and dh == pytest.approx(20, rel=0.4)
    # ... and a Poisson stream of the same mean rate is not bursty
    mean_rate = (5 * 60 + 20 * 20) / 80
    steady = sim.fit.arrivals(arrivals_of({"process": "poisson", "rate": mean_rate}, 3600, seed))
    assert steady.choice == "poisson"


def test_pelt_finds_exact_changes_in_clean_counts():
    counts = np.array([10] * 50 + [30] * 50 + [10] * 50)
    assert pelt(counts, penalty=2 * np.log(counts.size)) == [50, 100]
    assert pelt(np.full(100, 7), penalty=2 * np.log(100)) == []


def test_iso_dates_unsorted_are_sorted_with_a_note_and_start_at_zero():
    times = arrivals_of(TWO_STEPS, 3600, 4)
    stamps = pd.Timestamp("2026-11-30T09:00:00Z") + pd.to_timedelta(times, unit="s")
    shuffled = pd.Series(stamps.strftime("%Y-%m-%dT%H:%M:%S.%fZ")).sample(frac=1, random_state=1)
    fit = sim.fit.arrivals(shuffled)
    assert any("not in order" in note for note in fit.notes)
    assert any("time 0 is the first timestamp (2026-11-30T09:00" in n for n in fit.notes)
    assert fit.choice == "schedule"
    assert fit.spec["schedule"][0]["until"] == pytest.approx(1800, abs=120)


def test_seconds_from_a_late_start_are_shifted_to_the_first():
    times = arrivals_of({"process": "poisson", "rate": 10}, 600, 1) + 1.7e9  # epoch seconds
    fit = sim.fit.arrivals(times)
    assert fit.origin == pytest.approx(times[0])
    assert fit.span == pytest.approx(times[-1] - times[0])


@pytest.mark.parametrize("spec", [TWO_STEPS, BURSTY, {"process": "poisson", "rate": 10}])
def test_the_printed_process_pasted_into_a_scenario_validates_and_runs(spec):
    fit = sim.fit.arrivals(arrivals_of(spec, 3600, 5))
    text = yaml.safe_dump({"arrivals": fit.yaml_spec()}, default_flow_style=None, sort_keys=False)
    producer = "\n".join("    " + line for line in text.splitlines())
    scenario = scenario_from(f"""
name: fitted-arrivals
run: {{duration: 60, seed: 1}}
producers:
  p:
{producer}
    publish: q
queues:
  q: {{}}
workers:
  w: {{consumes: q, count: 4, service_time: 10ms}}
""")
    result = run_checked(scenario)
    assert result.summary["totals"]["completed"] > 200


@pytest.mark.parametrize(("times", "says"), [
    ([1.0] * 3, "at least 10 timestamps, got 3"),
    ([5.0] * 20, "the same instant"),
    (["2026-01-01T00:00:00"] * 5 + ["soon"] * 6, "seconds or ISO dates, got 'soon'"),
])
def test_bad_timestamps_are_refused(times, says):
    with pytest.raises(FitError, match=says):
        sim.fit.arrivals(times)
