"""The interval machinery: t quantiles at any level, half-widths, and coverage on M/M/1."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

import sim
from sim import analytic
from sim.experiment.replications import Precision, Replications, half_widths
from sim.metrics import t_quantile, t_quantile_975


@pytest.mark.parametrize(
    ("p", "df", "expected"),  # reference values of Student's t quantiles (printed tables)
    [(0.95, 10, 1.812461123), (0.995, 5, 4.032142984), (0.75, 1, 1.0),
     (0.9995, 2, 31.599054577), (0.9, 30, 1.310415025), (0.6, 4, 0.270722295)],
)
def test_t_quantile_known_values(p, df, expected):
    assert t_quantile(p, df) == pytest.approx(expected, abs=1e-8)


def test_t_quantile_agrees_with_the_975_table_and_is_symmetric():
    for df in (1, 2, 3, 7, 19, 30):
        assert t_quantile(0.975, df) == pytest.approx(t_quantile_975(df), abs=1e-8)
    assert t_quantile(0.025, 4) == -t_quantile(0.975, 4)
    assert t_quantile(0.5, 9) == 0.0
    with pytest.raises(ValueError):
        t_quantile(1.0, 3)
    with pytest.raises(ValueError):
        t_quantile(0.9, 0)


def test_half_widths_at_any_level():
    frame = pd.DataFrame({"a": [1.0, 2.0, 3.0, 6.0], "b": [2.0, 2.0, 2.0, 2.0],
                          "c": [1.0, math.nan, math.nan, math.nan]})
    stats = half_widths(frame, 0.9)
    sd = np.std([1, 2, 3, 6], ddof=1)
    assert stats.at["a", "mean"] == 3.0
    assert stats.at["a", "ci90"] == pytest.approx(t_quantile(0.95, 3) * sd / 2)
    assert stats.at["b", "ci90"] == 0.0  # no spread, no rounding noise
    assert math.isnan(stats.at["c", "ci90"]) and stats.at["c", "n"] == 1
    reps = Replications(frame.assign(replication=range(4), seed=range(4)))
    assert list(reps.ci(0.99).columns) == ["mean", "ci99", "n"]
    assert "seed" not in reps.ci().index and "replication" not in reps.ci().index


def test_precision_rule():
    rule = Precision("latency.p99", 0.1)
    assert rule.met([10.0, 10.1, 9.9, 10.0])
    assert not rule.met([1.0, 10.0])
    assert not rule.met([5.0])  # one value has no interval
    assert rule.met([0.0, 0.0])  # no spread at all
    with pytest.raises(ValueError):
        Precision("x", 0.0)


MM1 = """
name: mm1
run: {duration: 800, warmup: 10, seed: 0, sample_interval: 100}
producers: {p: {arrivals: {process: poisson, rate: 0.25}, publish: q}}
queues: {q: {}}
workers: {w: {consumes: q, count: 1, service_time: {dist: exponential, mean: 1}}}
"""


def test_intervals_cover_the_analytic_mean_at_their_level():
    # 100 small M/M/1 experiments (rho = 0.25, ~200 messages a run, 4 replications each):
    # the fraction of intervals that contain the analytic mean latency estimates the
    # coverage, with a binomial standard error of sqrt(p (1 - p) / 100). Three of them are
    # allowed. A z interval in place of t(3) would cover ~86% and fail the 95% check; a 95%
    # interval given for 80% would cover ~95% and fail the 80% check.
    experiments, truth = 100, analytic.mm1(0.25, 1.0).W
    base = sim.loads(MM1)
    hits = {0.95: 0, 0.80: 0}
    for e in range(experiments):
        reps = sim.replicate(base, n=4, seed=10_000 + e)
        for level in hits:
            row = reps.ci(level).loc["latency.mean"]
            hits[level] += abs(row["mean"] - truth) <= row.iloc[1]
    for level, count in hits.items():
        coverage = count / experiments
        tolerance = 3 * math.sqrt(level * (1 - level) / experiments)
        assert abs(coverage - level) <= tolerance, (level, coverage)
