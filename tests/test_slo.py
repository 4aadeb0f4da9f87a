"""Service levels: exact parsing, judging on intervals, and the errors a user meets."""

from __future__ import annotations

import math

import pytest

from sim.experiment import slo
from sim.experiment.slo import FAILS, MEETS, UNSURE, SLOError

NAMES = ["latency.p99", "latency.mean", "totals.lost", "totals.duplicate_processing",
         "workers.api.utilization", "throughput"]


@pytest.mark.parametrize(("text", "figure", "op", "threshold"), [
    ("latency.p99<=1s", "latency.p99", "<=", 1.0),
    ("latency.p99 <= 250ms", "latency.p99", "<=", 0.25),
    ("latency.mean<0.5", "latency.mean", "<", 0.5),
    ("throughput>=100", "throughput", ">=", 100.0),
    ("workers.api.utilization<=80%", "workers.api.utilization", "<=", 0.8),
    ("lost==0", "lost", "==", 0.0),
    ("latency.p99>2m", "latency.p99", ">", 120.0),
])
def test_parse(text, figure, op, threshold):
    rule = slo.parse_slo(text)
    assert (rule.figure, rule.op) == (figure, op)
    assert rule.threshold == pytest.approx(threshold, rel=1e-12)
    assert rule.text == text.strip()


@pytest.mark.parametrize("text", ["latency.p99", "latency.p99=<1s", "latency.p99<=",
                                  "<=1s", "latency.p99<=fast", "lost==many",
                                  "latency.p99<=1 parsec"])
def test_malformed_slo_is_one_clear_error(text):
    with pytest.raises(SLOError) as error:
        slo.parse_slo(text)
    message = str(error.value)
    assert message.startswith(f"--slo {text}") and "\n" not in message


def test_shorthand_resolves_to_totals():
    assert slo.resolve_slo(slo.parse_slo("lost==0"), NAMES).figure == "totals.lost"
    assert slo.resolve_slo(slo.parse_slo("duplicate_processing==0"), NAMES).figure == (
        "totals.duplicate_processing")


def test_unknown_figure_says_did_you_mean():
    with pytest.raises(SLOError, match=r"no figure named 'latncy.p99'.*did you mean "
                                       r"'latency.p99'\?"):
        slo.resolve_slo(slo.parse_slo("latncy.p99<=1s"), NAMES)
    with pytest.raises(SLOError, match="no figure named 'zzz'"):
        slo.resolve_slo(slo.parse_slo("zzz<=1"), NAMES)


def test_a_count_with_a_duration_threshold_is_refused_once_known():
    with pytest.raises(SLOError, match="not a number"):
        slo.resolve_slo(slo.parse_slo("lost<=1s"), NAMES)


@pytest.mark.parametrize(("text", "mean", "half", "verdict"), [
    ("latency.p99<=1s", 0.90, 0.05, MEETS),     # upper end 0.95 under 1
    ("latency.p99<=1s", 0.90, 0.10, MEETS),     # upper end exactly 1: <= holds
    ("latency.p99<1s", 0.90, 0.10, UNSURE),     # upper end 1 is not < 1
    ("latency.p99<=1s", 0.95, 0.10, UNSURE),    # straddles
    ("latency.p99<=1s", 1.20, 0.10, FAILS),     # lower end 1.1 above 1
    ("latency.p99<=1s", 0.90, math.nan, UNSURE),  # one replication: never sure
    ("throughput>=100", 105.0, 4.0, MEETS),
    ("throughput>=100", 101.0, 4.0, UNSURE),
    ("throughput>=100", 90.0, 4.0, FAILS),
    ("lost==0", 0.0, 0.0, MEETS),               # every replication lost nothing
    ("lost==0", 0.2, 0.55, FAILS),              # one replication lost one: surely not 0
    ("lost==0", 0.0, math.nan, UNSURE),         # one replication
    ("latency.p99<=1s", math.nan, math.nan, FAILS),  # nothing completed: cannot meet
])
def test_judge(text, mean, half, verdict):
    assert slo.judge(slo.parse_slo(text), mean, half) == verdict


def test_lean_and_better_follow_the_operator():
    upper, lower = slo.parse_slo("latency.p99<=1s"), slo.parse_slo("throughput>=100")
    assert slo.lean(upper, 0.99) and not slo.lean(upper, 1.01)
    assert slo.better(upper, 0.5, 0.7) and not slo.better(upper, 0.7, 0.5)
    assert slo.better(lower, 120, 110) and not slo.better(lower, math.nan, 110)
    assert str(upper) == "latency.p99 ≤ 1.00 s"
