"""Durations and rates as users write them (docs/scenario-reference.md)."""

from __future__ import annotations

import math

import pytest

from sim.scenario.units import parse_duration, parse_rate


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        (2, 2.0),
        (1.5, 1.5),
        (0, 0.0),
        ("3", 3.0),
        ("250us", 250e-6),
        ("250µs", 250e-6),
        ("20ms", 0.02),
        ("1.5s", 1.5),
        ("5m", 300.0),
        ("2min", 120.0),
        ("2h", 7200.0),
        ("1d", 86400.0),
        ("100ns", 1e-7),
        (" 20 ms ", 0.02),
        ("1e3ms", 1.0),
        (".5s", 0.5),
    ],
)
def test_durations(text: object, seconds: float) -> None:
    assert math.isclose(parse_duration(text), seconds, rel_tol=1e-12)


@pytest.mark.parametrize(
    ("text", "per_second"),
    [
        (100, 100.0),
        (2.5, 2.5),
        ("7", 7.0),
        ("5/s", 5.0),
        ("300/m", 5.0),
        ("2/ms", 2000.0),
        ("36/h", 0.01),
        ("1/d", 1 / 86400),
        ("10 / min", 10 / 60),
    ],
)
def test_rates(text: object, per_second: float) -> None:
    assert math.isclose(parse_rate(text), per_second, rel_tol=1e-12)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("5 parsecs", "unknown unit 'parsecs'"),
        ("5sec5", "unknown unit"),
        ("fast", "expected a number and a unit"),
        ("ms", "expected a number and a unit"),
        (True, "expected seconds"),
        ([1], "expected seconds"),
        (float("inf"), "not a finite number"),
        ("1e999s", "not a finite number"),
    ],
)
def test_bad_durations_say_why(text: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_duration(text)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("5/parsec", "unknown unit 'parsec'"),
        ("5 per second", "expected a number per unit"),
        ("/s", "expected a number per unit"),
        (None, "expected a number per second"),
    ],
)
def test_bad_rates_say_why(text: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_rate(text)
