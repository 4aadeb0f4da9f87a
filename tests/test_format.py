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


# -- amounts of money ---------------------------------------------------------------------------

from sim.format import (  # noqa: E402
    MISSING,
    currency_of,
    interval,
    money,
    money_decimals,
    money_interval,
    with_currency,
)


@pytest.mark.parametrize(("value", "text"), [
    (None, MISSING), (float("nan"), MISSING), (0, "0"), (0.0, "0"), (0.00108, "0.00108"),
    (0.0000056, "0.00000560"), (0.0860, "0.0860"), (4.561, "4.56"), (1234.5, "1,234.50"),
])
def test_an_amount_has_three_significant_figures_and_cents_at_least(value, text):
    assert money(value) == text


@pytest.mark.parametrize(("value", "half", "text"), [
    # The size report's complaint: six decimals. The half-width shows its first digit only.
    (0.104802, 0.000029, "0.10480 ± 0.00003"),
    (0.086025, 0.000059, "0.08603 ± 0.00006"),
    (0.322, 0.012, "0.322 ± 0.012"),
    (296.8, 57.96, "297 ± 58"),  # no cents under a half-width of 58: they are noise
    (0.5, 0.3, "0.50 ± 0.30"),
    # A fixed pool's cost summed over replications differs by float rounding only: exact.
    (0.083333333333333329, 4.2e-17, "0.0833"),
    (0.0860, 0.0, "0.0860"), (0.0860, None, "0.0860"), (None, 0.1, MISSING),
    (1.0, 1e-8, "1.00000 ± <0.00001"),  # spread under the sixth figure: said, not printed
])
def test_an_amount_with_its_interval(value, half, text):
    assert money_interval(value, half) == text


def test_interval_of_an_amount_and_of_a_float_rounding_spread():
    assert interval(0.104802, 0.000029, "money") == "0.10480 ± 0.00003"
    assert interval(-0.0091, 0.0001, "money", signed=True) == "-0.00910 ± 0.00010"
    assert interval(0.0091, 0.0001, "money", signed=True) == "+0.00910 ± 0.00010"
    assert interval(1.0, 1e-20) == MISSING  # the value alone: nothing varies
    assert interval(12.0, 0.5) == "12.00 ± 0.50"


def test_amounts_printed_together_share_their_decimals():
    # Equal amounts read equal, whether or not one of them has a half-width.
    equal = [(0.434, 0.0), (0.434, 0.00002)]
    d = money_decimals(equal)
    assert money_interval(0.434, 0.0, d) == "0.43400"
    assert money_interval(0.434, 0.00002, d) == "0.43400 ± 0.00002"
    # Amounts that differ in the fourth figure are told apart (three would read 0.516 twice).
    d = money_decimals([(0.5162, None), (0.5158, None)])
    assert (money(0.5162, d), money(0.5158, d)) == ("0.5162", "0.5158")
    # ...but not by digits beyond their intervals' precision.
    d = money_decimals([(0.5162, 0.1), (0.5158, 0.1)])
    assert (money_interval(0.5162, 0.1, d), money_interval(0.5158, 0.1, d)) == (
        "0.52 ± 0.10", "0.52 ± 0.10")
    # A small amount beside large ones does not read 0.
    d = money_decimals([(12.0, None), (0.004, None)])
    assert money(0.004, d) == "0.004"
    assert money_decimals([]) == 2 and money_decimals([(None, None), (0, 0)]) == 2


def test_the_currency_is_named_once_in_a_header():
    assert with_currency("cost.total", "USD") == "cost.total (USD)"
    assert with_currency("cost.total", None) == "cost.total"
    assert currency_of({"costs": {"currency": "EUR"}}) == "EUR"
    assert currency_of({"name": "no costs"}) is None and currency_of(None) is None
