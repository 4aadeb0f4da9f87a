"""Service-time fits: the right family from samples of each, its moments, the choice's rules,
and a printed spec that a scenario loads and runs."""

from __future__ import annotations

import math

import numpy as np
import pytest

import sim.fit
from sim.fit.service import LARGE, check_values
from sim.fit.values import FitError, yaml_duration, yaml_number
from sim.random.distributions import make
from tests.conftest import run_checked, scenario_from

N = 5000
# The truths: every family with a shape it can be told apart by (a gamma's cv of 0.6 is a
# shape of 2.78, not an integer: an erlang's k is recognised as such).
TRUTHS = {
    "exponential": {"dist": "exponential", "mean": 0.1},
    "gamma": {"dist": "gamma", "mean": 0.1, "cv": 0.6},
    "erlang": {"dist": "erlang", "k": 3, "mean": 0.1},
    "lognormal": {"dist": "lognormal", "mean": 0.12, "cv": 0.8},
    "weibull": {"dist": "weibull", "shape": 1.5, "scale": 0.1},
    "pareto": {"dist": "pareto", "alpha": 3.0, "min": 0.05},
    "hyperexponential": {"dist": "hyperexponential", "probs": [0.7, 0.3], "means": [0.05, 0.3]},
}


def sample(spec: dict, seed: int, n: int = N) -> np.ndarray:
    return make(spec).sample(np.random.default_rng(seed), n)


@pytest.mark.parametrize("family", TRUTHS)
def test_each_family_is_recognised_with_its_mean_and_cv(family):
    truth = make(TRUTHS[family])
    fit = sim.fit.service(sample(TRUTHS[family], seed=1))
    assert fit.fits and fit.chosen is not None
    assert fit.chosen.family == family, [(c.family, c.aic) for c in fit.candidates]
    fitted = make(fit.spec)  # the spec as printed (rounded to 4 digits) is what is judged
    assert fitted.mean == pytest.approx(truth.mean, rel=0.03)
    assert math.sqrt(fitted.cv2) == pytest.approx(math.sqrt(truth.cv2), rel=0.10)


def test_the_printed_spec_uses_the_formats_friendly_parameters():
    fit = sim.fit.service(sample(TRUTHS["lognormal"], seed=1))
    spec = fit.yaml_spec()
    assert set(spec) == {"dist", "mean", "cv"} and spec["dist"] == "lognormal"
    assert isinstance(spec["mean"], str) and spec["mean"].endswith("ms")
    fit = sim.fit.service(sample(TRUTHS["erlang"], seed=1))
    assert fit.yaml_spec()["k"] == 3


@pytest.mark.parametrize("family", TRUTHS)
def test_the_printed_spec_pasted_into_a_scenario_validates_and_runs(family, tmp_path):
    fit = sim.fit.service(sample(TRUTHS[family], seed=2, n=2000))
    spec = fit.yaml_spec()
    inline = "{" + ", ".join(f"{k}: {v}" for k, v in spec.items()) + "}"
    scenario = scenario_from(f"""
        name: fitted
        run: {{duration: 20, seed: 1}}
        producers:
          p: {{arrivals: {{process: poisson, rate: 5}}, publish: q}}
        queues:
          q: {{}}
        workers:
          w: {{consumes: q, count: 4, service_time: {inline}}}
        """)
    result = run_checked(scenario)
    assert result.summary["totals"]["completed"] > 50


def test_a_simpler_nested_family_is_kept_unless_the_likelihood_ratio_rejects_it():
    fit = sim.fit.service(sample(TRUTHS["exponential"], seed=1))
    by = {c.family: c for c in fit.candidates}
    # gamma always fits a little better (one more parameter), the choice is still exponential
    assert by["gamma"].loglik >= by["exponential"].loglik
    assert fit.chosen is by["exponential"]


def test_erlang_is_chosen_over_gamma_by_the_likelihood_ratio_not_by_aic():
    fit = sim.fit.service(sample(TRUTHS["erlang"], seed=1))
    by = {c.family: c for c in fit.candidates}
    assert by["gamma"].aic < by["erlang"].aic  # a free shape always fits a little better
    assert fit.chosen is by["erlang"] and "likelihood ratio does not reject" in fit.why


def test_candidates_are_ranked_kept_first_then_by_aic():
    fit = sim.fit.service(sample(TRUTHS["lognormal"], seed=3))
    keys = [(c.rejected, c.aic) for c in fit.candidates]
    assert keys == sorted(keys)
    assert {c.family for c in fit.candidates} >= {"exponential", "gamma", "erlang", "lognormal",
                                                  "weibull", "pareto"}
    for c in fit.candidates:
        assert c.aic == pytest.approx(2 * c.k - 2 * c.loglik)
        assert 0 <= c.ks <= 1 and 0 <= c.ks_p <= 1


def test_a_large_sample_no_family_fits_is_resampled_as_empirical():
    # Two narrow modes (10 ms and 100 ms): no single family of the format has that shape.
    rng = np.random.default_rng(4)
    x = np.concatenate([rng.normal(0.010, 0.001, 2500), rng.normal(0.100, 0.005, 2500)])
    fit = sim.fit.service(x)
    assert not fit.fits and fit.chosen is None
    assert all(c.rejected for c in fit.candidates)
    assert fit.spec["dist"] == "empirical" and len(fit.spec["values"]) == x.size
    assert make(fit.spec).mean == pytest.approx(x.mean())


def test_a_small_sample_every_family_fails_keeps_the_best_and_says_why():
    rng = np.random.default_rng(4)
    n = 200
    assert n < LARGE
    x = np.concatenate([rng.normal(0.010, 0.0005, n // 2), rng.normal(0.100, 0.002, n // 2)])
    fit = sim.fit.service(x)
    assert all(c.rejected for c in fit.candidates)
    assert fit.fits and fit.chosen is fit.candidates[0]  # too few values to replay instead
    assert "200 values are few" in fit.why


@pytest.mark.parametrize(("values", "says"), [
    ([0.1, 0.0, 0.2, -1.0, -2.0] + [0.1] * 10, "2 zero... "),
    ([0.5], "at least 10 values, got 1"),
    ([0.1] * 5 + [math.nan] * 6, "not finite"),
])
def test_bad_values_are_refused_with_what_is_wrong(values, says):
    with pytest.raises(FitError) as error:
        check_values(values, "durations.csv, column 'd'")
    text = str(error.value)
    assert "durations.csv" in text
    if says.startswith("2 zero"):
        assert "1 zero and 2 negative of 15" in text
    else:
        assert says in text


def test_numbers_and_durations_are_written_as_the_format_reads_them():
    assert yaml_number(0.123456) == 0.1235
    assert yaml_number(3.0) == 3
    assert yaml_duration(0.12) == "120ms"
    assert yaml_duration(0.00085) == "850us"
    assert yaml_duration(1.5) == "1.5s"
    assert yaml_duration(1791.3) == "1791s"
    assert yaml_duration(0) == 0
