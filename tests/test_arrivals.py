"""Arrival processes: counts against their expectations, exact replays, and errors."""

from __future__ import annotations

import itertools
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from sim.random import arrivals
from sim.random.streams import stream

Z = 5.0


def _times_until(spec: dict[str, Any], horizon: float, name: str = "a") -> np.ndarray:
    it = arrivals.make(spec, stream(0, name)).times()
    return np.fromiter(itertools.takewhile(lambda t: t < horizon, it), dtype=float)


def _count_ok(count: int, expected: float, variance: float) -> bool:
    return abs(count - expected) <= Z * math.sqrt(variance)


def test_poisson_count_and_order() -> None:
    rate, horizon = 200.0, 100.0
    t = _times_until({"process": "poisson", "rate": rate}, horizon)
    assert t.size > 4096  # spans several blocks
    assert np.all(np.diff(t) >= 0) and t[0] > 0
    assert _count_ok(t.size, rate * horizon, rate * horizon)
    gaps = np.diff(t)  # exponential gaps: mean 1/rate, cv 1
    assert abs(gaps.mean() - 1 / rate) <= Z * (1 / rate) / math.sqrt(gaps.size)
    p = arrivals.make({"process": "poisson", "rate": rate}, stream(0, "x"))
    assert p.expected_count(0, horizon) == pytest.approx(rate * horizon)
    assert p.mean_rate(3, 7) == pytest.approx(rate) and p.rows is None


def test_next_on_times_gives_python_floats() -> None:
    it = arrivals.make({"process": "poisson", "rate": 5}, stream(0, "f")).times()
    assert type(next(it)) is float


def test_poisson_rate_zero_never_arrives() -> None:
    p = arrivals.make({"process": "poisson", "rate": 0}, stream(0, "zero"))
    assert list(p.times()) == []


def test_poisson_schedule_counts_per_step() -> None:
    steps = [{"until": 10, "rate": 50}, {"until": 20, "rate": 0}, {"until": 25, "rate": 400}]
    spec = {"process": "poisson", "schedule": [*steps, {"rate": 100}]}
    t = _times_until(spec, 60.0, "sched")
    assert np.all(np.diff(t) >= 0)
    p = arrivals.make(spec, stream(0, "sched"))
    for lo, hi, rate in [(0, 10, 50), (10, 20, 0), (20, 25, 400), (25, 60, 100)]:
        count = int(np.count_nonzero((t >= lo) & (t < hi)))
        assert p.expected_count(lo, hi) == pytest.approx(rate * (hi - lo))
        assert _count_ok(count, rate * (hi - lo), rate * (hi - lo)), (lo, hi, count)
    assert p.mean_rate(0, 20) == pytest.approx(25.0)
    assert p.long_run_rate == 100


def test_poisson_schedule_ending_at_rate_zero_is_finite() -> None:
    spec = {"process": "poisson", "schedule": [{"until": 5, "rate": 1000}, {"rate": 0}]}
    t = list(arrivals.make(spec, stream(0, "end")).times())
    assert all(x < 5 for x in t)
    assert _count_ok(len(t), 5000, 5000)


def test_constant_arrivals_are_exact() -> None:
    t = _times_until({"process": "constant", "interval": 0.25}, 10.0)
    assert t.size == 40 and t[0] == 0.0
    assert np.allclose(np.diff(t), 0.25)
    by_rate = _times_until({"process": "constant", "rate": 3}, 10.0)
    assert by_rate.size == 30 and by_rate[3] == 1.0
    p = arrivals.make({"process": "constant", "interval": 0.25}, stream(0, "c"))
    assert p.expected_count(0, 10) == 40 and p.expected_count(1, 2) == 4


def test_constant_arrivals_do_not_drift() -> None:
    it = arrivals.make({"process": "constant", "interval": 0.1}, stream(0, "d")).times()
    t = list(itertools.islice(it, 1_000_001))
    assert t[1_000_000] == pytest.approx(100_000.0, abs=1e-9)


def test_renewal_counts_and_first_gap() -> None:
    spec = {"process": "renewal", "interarrival": {"dist": "uniform", "low": 0.01, "high": 0.03}}
    horizon = 200.0
    t = _times_until(spec, horizon, "ren")
    assert 0.01 <= t[0] <= 0.03  # the first arrival comes after one gap
    assert np.diff(t).min() >= 0.01
    mean, var = 0.02, 0.02**2 / 12
    # Renewal count variance ~ horizon * var / mean^3.
    assert _count_ok(t.size, horizon / mean, horizon * var / mean**3 + 1)
    assert arrivals.make(spec, stream(0, "r")).long_run_rate == pytest.approx(50)


def test_bursty_long_run_rate() -> None:
    lo, hi, dl, dh = 5.0, 100.0, 2.0, 0.5
    spec = {"process": "bursty", "rates": [lo, hi], "mean_durations": [dl, dh]}
    p = arrivals.make(spec, stream(0, "b"))
    assert p.long_run_rate == pytest.approx((lo * dl + hi * dh) / (dl + dh))
    horizon = 2000.0
    t = _times_until(spec, horizon, "bursty")
    assert np.all(np.diff(t) >= 0)
    # Asymptotic count variance of a two-state MMPP.
    a, b = 1 / dl, 1 / dh
    pl, ph = b / (a + b), a / (a + b)
    var_rate = p.long_run_rate + 2 * (hi - lo) ** 2 * pl * ph / (a + b)
    assert _count_ok(t.size, p.expected_count(0, horizon), var_rate * horizon)


def test_bursty_starts_in_the_low_state() -> None:
    spec = {"process": "bursty", "rates": [0.0, 1000.0], "mean_durations": [1.0, 1.0]}
    p = arrivals.make(spec, stream(0, "s"))
    # Expected count in [0, w) is 1000 * E[time high]: small for short windows.
    assert p.expected_count(0, 0.1) == pytest.approx(1000 * 0.5 * (0.1 - (1 - math.exp(-0.2)) / 2))
    runs = 400
    counts = [_times_until(spec, 0.5, f"run{i}").size for i in range(runs)]
    expected = p.expected_count(0, 0.5)
    assert abs(np.mean(counts) - expected) <= Z * np.std(counts) / math.sqrt(runs)


def _trace(tmp_path: Path, text: str) -> dict[str, Any]:
    path = tmp_path / "trace.csv"
    path.write_text(text)
    return {"process": "trace", "file": str(path)}


def test_trace_is_replayed_exactly(tmp_path: Path) -> None:
    text = (
        "time,key,type,priority,service_time\n"
        "0,u1,email,1,0.5\n"
        "0.25,u2,sms,,\n"
        "\n"
        "0.25,u1,email,3,0.125\n"
        "7.5,,sms,0,1\n"
    )
    p = arrivals.make(_trace(tmp_path, text), stream(0, "t"))
    assert list(p.times()) == [0.0, 0.25, 0.25, 7.5]
    assert p.rows == {
        "key": ["u1", "u2", "u1", None],
        "type": ["email", "sms", "email", "sms"],
        "priority": [1, None, 3, 0],
        "service_time": [0.5, None, 0.125, 1.0],
    }
    assert p.expected_count(0, 0.25) == 1 and p.expected_count(0, 8) == 4
    assert list(p.times()) == [0.0, 0.25, 0.25, 7.5]  # a trace can be replayed again


def test_trace_with_only_times(tmp_path: Path) -> None:
    p = arrivals.make(_trace(tmp_path, "time\n1\n2\n"), stream(0, "t"))
    assert list(p.times()) == [1.0, 2.0] and p.rows == {}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("time\n1\n3\n2\n", "line 4: time 2 is before the previous row's 3"),
        ("time\n-1\n", "line 2: time must be >= 0"),
        ("time\nsoon\n", "line 2: time 'soon' is not a number"),
        ("key\nu1\n", "must name a time column"),
        ("time,colour\n1,red\n", "must name a time column"),
        ("time,time\n1,1\n", "each once"),
        ("time,key\n1\n", "line 2: expected 2 cells, got 1"),
        ("time,priority\n1,high\n", "line 2: priority must be an integer"),
        ("time,service_time\n1,-2\n", "line 2: service_time must be >= 0"),
        ("time\n", "has no rows"),
        ("", "is empty"),
    ],
)
def test_bad_traces_name_the_problem(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        arrivals.make(_trace(tmp_path, text), stream(0, "t"))


def test_missing_trace_file(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="cannot read trace file"):
        arrivals.make({"process": "trace", "file": str(tmp_path / "no.csv")}, stream(0, "t"))


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"process": "poisson", "rate": -1}, "poisson rate must be >= 0, got -1"),
        ({"process": "poisson"}, "poisson arrivals take rate or schedule"),
        ({"process": "poisson", "rate": 1, "schedule": []}, "take rate or schedule"),
        ({"process": "poisson", "schedule": []}, "at least one step"),
        ({"process": "poisson", "schedule": [{"until": 5, "rate": 1}]}, "last schedule step"),
        ({"process": "poisson", "schedule": [{"rate": 1}, {"rate": 2}]}, "step 0 needs until"),
        (
            {
                "process": "poisson",
                "schedule": [{"until": 5, "rate": 1}, {"until": 5, "rate": 2}, {"rate": 1}],
            },
            "step 1 until must be greater than 5",
        ),
        ({"process": "poisson", "schedule": [{"until": 1}, {"rate": 1}]}, "step 0 needs a rate"),
        ({"process": "poisson", "schedule": [{"rate": 1, "at": 2}]}, "does not take at"),
        ({"process": "constant", "interval": 0}, "constant interval must be > 0"),
        ({"process": "renewal", "interarrival": {"dist": "constant", "value": 0}}, "mean > 0"),
        (
            {"process": "renewal", "interarrival": {"dist": "exponential", "mean": -2}},
            "renewal interarrival: exponential needs mean > 0",
        ),
        ({"process": "bursty", "rates": [1], "mean_durations": [1, 1]}, "two numbers"),
        ({"process": "bursty", "rates": [1, 2], "mean_durations": [0, 1]}, r"\[0\] must be > 0"),
        ({"process": "burst", "rate": 1}, "unknown arrival process 'burst'"),
        (["poisson"], "a mapping with process"),
    ],
)
def test_invalid_arrivals_raise_clear_errors(spec: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        arrivals.make(spec, stream(0, "bad"))


def test_windows_are_checked() -> None:
    p = arrivals.make({"process": "poisson", "rate": 1}, stream(0, "w"))
    with pytest.raises(ValueError, match="empty"):
        p.mean_rate(2, 2)
    with pytest.raises(ValueError, match="before its start"):
        p.expected_count(3, 1)
