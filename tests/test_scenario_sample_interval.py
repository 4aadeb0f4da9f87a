"""The default sample_interval and the publishing-time estimate behind it, for every arrival
process: always finite, never absurdly fine, about 500 samples over the estimated run."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import yaml
from conftest import run_checked, write_trace

import sim.scenario as scenario
from sim import cli
from sim.scenario import ScenarioError
from sim.scenario.defaults import (
    FALLBACK_SAMPLE_INTERVAL,
    MIN_DEFAULT_SAMPLE_INTERVAL,
    default_sample_interval,
    smallest_sample_interval,
)
from sim.scenario.estimates import Estimates


def text(arrivals: str, run: str = "messages: 1", service: str = "10ms", extra: str = "") -> str:
    return f"""
name: t
run: {{{run}}}
producers:
  p: {{arrivals: {arrivals}, publish: q}}
queues: {{q: {{}}}}
workers: {{w: {{consumes: q, service_time: {service}{extra}}}}}
"""


def interval(source: str, base_dir: Path | str = ".") -> float:
    return scenario.loads(source, base_dir=base_dir).data["run"]["sample_interval"]


def test_one_constant_message_gets_a_sane_interval_and_the_run_ends() -> None:
    source = text("{process: constant, interval: 1s}")
    sc = scenario.loads(source)
    # The only message is sent at t = 0 and takes 10 ms: 10 ms / 500 is below the 1 ms floor.
    assert sc.data["run"]["sample_interval"] == MIN_DEFAULT_SAMPLE_INTERVAL
    result = run_checked(sc)
    assert result.summary["totals"]["completed"] == 1
    assert len(result.timeseries) <= 20


@pytest.mark.parametrize(
    ("arrivals", "run", "expected"),
    [
        # nothing ever arrives: publishing ends at once, the run takes no time
        ("{process: poisson, rate: 0}", "messages: 10", FALLBACK_SAMPLE_INTERVAL),
        ("{process: bursty, rates: [0, 0], mean_durations: [1s, 1s]}", "messages: 5", 1.0),
        (
            "{process: poisson, schedule: [{until: 1s, rate: 0}, {rate: 0}]}",
            "messages: 5",
            FALLBACK_SAMPLE_INTERVAL,
        ),
        # the schedule runs dry at 2 s, long before the budget: publishing ends there
        ("{process: poisson, schedule: [{until: 2s, rate: 5}, {rate: 0}]}", "messages: 1000",
         2 / 500),
        # one message at 0 whatever the interval (the old estimate divided ~0 by 500)
        ("{process: constant, interval: 1000s}", "messages: 1", MIN_DEFAULT_SAMPLE_INTERVAL),
        ("{process: constant, rate: 1/h}", "messages: 1", MIN_DEFAULT_SAMPLE_INTERVAL),
        # three sends at 0, 1 h, 2 h
        ("{process: constant, interval: 1h}", "messages: 3", 7200 / 500),
        # arrivals that never stop and are never expected (infinite mean gaps): unknown
        ("{process: renewal, interarrival: {dist: pareto, alpha: 0.9, min: 1s}}", "messages: 10",
         FALLBACK_SAMPLE_INTERVAL),
        # a budget met at 10 s by 100/s (the 1000th send at 9.99 s), 10 ms a message
        ("{process: constant, rate: 100}", "messages: 1000", 10 / 500),
        # duration and budget: the budget comes first
        ("{process: constant, rate: 100}", "duration: 1h, messages: 1000", 10 / 500),
        ("{process: constant, rate: 100}", "duration: 5s, messages: 1000", 5 / 500),
    ],
)  # fmt: skip
def test_default_for_every_arrival_process(arrivals: str, run: str, expected: float) -> None:
    got = interval(text(arrivals, run))
    assert math.isfinite(got) and got >= MIN_DEFAULT_SAMPLE_INTERVAL
    assert got == pytest.approx(expected, rel=1e-6)


def test_a_trace_whose_times_are_all_zero(tmp_path: Path) -> None:
    path = write_trace(tmp_path / "burst.csv", [0.0] * 100)
    source = text(f"{{process: trace, file: {path}}}", "duration: 10m")
    # Published at t = 0, the burst keeps the single worker busy for 100 x 10 ms = 1 s.
    assert interval(source) == pytest.approx(1.0 / 500)
    sc = scenario.loads(source)
    assert Estimates(sc.data).publishing == 0.0
    assert run_checked(sc).summary["totals"]["completed"] == 100
    # Ten of them (the budget): 100 ms of work, so the 1 ms floor.
    budget = text(f"{{process: trace, file: {path}}}", "messages: 10")
    assert interval(budget) == MIN_DEFAULT_SAMPLE_INTERVAL


def test_a_trace_ends_publishing_before_the_duration(tmp_path: Path) -> None:
    path = write_trace(tmp_path / "t.csv", [0.0, 1.0, 2.0])
    sc = scenario.loads(text(f"{{process: trace, file: {path}}}", "duration: 1000"))
    assert Estimates(sc.data).publishing == 2.0
    assert sc.data["run"]["sample_interval"] == pytest.approx(2.0 / 500)


def test_duration_runs_keep_duration_over_500() -> None:
    assert interval(text("{process: poisson, rate: 10}", "duration: 10m")) == pytest.approx(1.2)
    # a short run never samples more often than every millisecond
    short = interval(text("{process: poisson, rate: 10}", "duration: 100ms", "1ms"))
    assert short == MIN_DEFAULT_SAMPLE_INTERVAL


def test_an_overloaded_run_is_sampled_over_its_drain_too() -> None:
    # A budget met at 10 s by 100/s, but the pool needs 1000 s for the 1000 messages.
    slow = text("{process: constant, rate: 100}", "messages: 1000", "1s")
    assert interval(slow) == pytest.approx(1000 / 500)
    # 10/s for 100 s into a pool completing 1/s: 1000 copies need about 1000 s.
    got = interval(text("{process: constant, rate: 10}", "duration: 100", "1s"))
    assert got == pytest.approx(1000 / 500)
    # ... but never past the drain timeout, and not at all without a drain
    timed = text("{process: constant, rate: 10}", "duration: 100, drain_timeout: 100", "1s")
    assert interval(timed) == pytest.approx(200 / 500)
    no_drain = text("{process: constant, rate: 10}", "duration: 100, drain: false", "1s")
    assert interval(no_drain) == pytest.approx(100 / 500)


def test_the_default_caps_the_samples_at_about_500() -> None:
    for length in (1e-12, 1e-3, 0.3, 1.0, 600.0, 3.6e6):
        step = default_sample_interval(length)
        assert step >= MIN_DEFAULT_SAMPLE_INTERVAL and length / step <= 500 * (1 + 1e-12)
    for unknown in (None, 0.0, math.inf):
        assert default_sample_interval(unknown) == FALLBACK_SAMPLE_INTERVAL


@pytest.mark.parametrize(
    ("run", "value", "message"),
    [
        ("duration: 100ms", "1ns",
         "run.sample_interval: must be at least 1.00 µs (finer intervals only multiply the "
         "samples), got '1ns'"),
        ("duration: 10m", "1ns",
         "run.sample_interval: must be at least 600 µs (at most 1,000,000 samples over the run, "
         "expected to last about 10.0 min), got '1ns'"),
        ("duration: 10h", "1ms",
         "run.sample_interval: must be at least 36.0 ms (at most 1,000,000 samples over the run, "
         "expected to last about 600 min), got '1ms'"),
        ("duration: 10m", "0", "run.sample_interval: must be a duration > 0, got 0"),
    ],
)  # fmt: skip
def test_an_explicit_interval_below_the_minimum_is_an_error(
    run: str, value: str, message: str
) -> None:
    source = text("{process: poisson, rate: 10}", f"{run}, sample_interval: {value}")
    with pytest.raises(ScenarioError) as info:
        scenario.loads(source)
    assert [str(p) for p in info.value.problems] == [f"<string>:3: {message}"]


def test_explicit_intervals_within_bounds_are_kept() -> None:
    fine = text("{process: poisson, rate: 10}", "duration: 10m, sample_interval: 1ms")
    assert interval(fine) == 0.001  # 600,000 samples: allowed
    assert smallest_sample_interval(None) == 1e-6
    assert smallest_sample_interval(3600.0) == pytest.approx(3.6e-3)


def test_a_too_fine_interval_exits_2_from_the_cli(tmp_path: Path, capsys) -> None:
    path = tmp_path / "fine.yaml"
    path.write_text(text("{process: poisson, rate: 10}", "duration: 10m, sample_interval: 1ns"))
    assert cli.main(["validate", str(path)]) == 2
    assert f"{path}:3: run.sample_interval: must be at least 600 µs" in capsys.readouterr().err
    assert cli.main(["validate", str(path), "--set", "run.sample_interval=10ms"]) == 0


def test_the_resolved_default_loads_again_as_it_is() -> None:
    for source in (
        text("{process: constant, interval: 1s}"),
        text("{process: poisson, rate: 0}", "messages: 10"),
        text("{process: poisson, rate: 10}", "duration: 10h"),
    ):
        sc = scenario.loads(source)
        again = scenario.loads(yaml.safe_dump(sc.data))
        assert again.data == sc.data


@pytest.mark.parametrize(
    "arrivals",
    [
        "{process: poisson, rate: 0}",
        "{process: poisson, rate: 1/h}",
        "{process: poisson, schedule: [{until: 1s, rate: 3}, {rate: 0}]}",
        "{process: constant, interval: 1ms}",
        "{process: renewal, interarrival: {dist: exponential, mean: 1s}}",
        "{process: bursty, rates: [0, 100], mean_durations: [1m, 1s]}",
    ],
)
@pytest.mark.parametrize("messages", [1, 2, 1000])
def test_the_publishing_estimate_is_finite(arrivals: str, messages: int) -> None:
    sc = scenario.loads(text(arrivals, f"messages: {messages}"))
    publishing = Estimates(sc.data).publishing
    assert publishing is not None and math.isfinite(publishing) and publishing >= 0
    step = sc.data["run"]["sample_interval"]
    assert math.isfinite(step) and step >= MIN_DEFAULT_SAMPLE_INTERVAL
