"""Durations printed for people."""

import pytest

from sim.format import show_duration


@pytest.mark.parametrize(("seconds", "text"), [
    (0, "0 s"), (None, "-"), (float("nan"), "-"), (0.00085, "850 µs"), (0.0009999999, "1.00 ms"),
    (0.0123, "12.3 ms"), (0.211, "211 ms"), (4.561, "4.56 s"), (40.3, "40.3 s"),
    (192, "3.20 min"), (-0.5, "-500 ms"),
])
def test_duration(seconds, text):
    assert show_duration(seconds) == text
