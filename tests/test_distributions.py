"""Distributions: analytic moments against samples, samplers, and user-facing errors."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from sim.random import distributions
from sim.random.distributions import make
from sim.random.spec import PARAMETERS
from sim.random.streams import stream

N = 200_000
Z = 5.0  # standard errors allowed by every statistical check

# Light enough tails that the sample variance has a finite, estimable standard error.
SPECS: list[dict[str, Any]] = [
    {"dist": "constant", "value": 0.25},
    {"dist": "exponential", "mean": 0.5},
    {"dist": "exponential", "rate": 4},
    {"dist": "uniform", "low": 1, "high": 3},
    {"dist": "normal", "mean": 1.0, "sd": 1.0},
    {"dist": "normal", "mean": 0.0, "sd": 2.0},
    {"dist": "normal", "mean": 5.0, "sd": 0.0},
    {"dist": "lognormal", "mean": 2.0, "cv": 0.5},
    {"dist": "lognormal", "mu": 0.0, "sigma": 0.5},
    {"dist": "gamma", "mean": 2.0, "cv": 0.5},
    {"dist": "gamma", "shape": 0.5, "scale": 2.0},
    {"dist": "erlang", "k": 3, "mean": 1.5},
    {"dist": "weibull", "shape": 1.5, "scale": 2.0},
    {"dist": "weibull", "shape": 0.7, "scale": 1.0},
    {"dist": "pareto", "alpha": 5.0, "min": 1.0},
    {"dist": "pareto", "alpha": 1.1, "min": 1.0, "max": 100.0},
    {"dist": "pareto", "alpha": 2.0, "min": 0.5, "max": 50.0},
    {"dist": "hyperexponential", "probs": [0.9, 0.1], "means": [0.1, 2.0]},
    {"dist": "empirical", "values": [1, 2, 3, 10]},
    {
        "dist": "mixture",
        "components": [
            {"weight": 0.25, "dist": "constant", "value": 1.0},
            {"weight": 0.75, "dist": "exponential", "mean": 2.0},
        ],
    },
]


def _id(spec: dict[str, Any]) -> str:
    return "-".join(str(v) for v in spec.values())[:40]


@pytest.mark.parametrize("spec", SPECS, ids=_id)
def test_sample_moments_match_the_analytic_ones(spec: dict[str, Any]) -> None:
    d = make(spec)
    x = d.sample(stream(1, _id(spec)), N)
    assert x.dtype == np.float64 and x.shape == (N,)
    assert np.all(x >= 0)
    se_mean = math.sqrt(d.variance / N)
    assert abs(x.mean() - d.mean) <= Z * se_mean + 1e-12
    # Standard error of the sample variance, estimated from the sample's squared deviations.
    se_var = float(np.std((x - x.mean()) ** 2)) / math.sqrt(N)
    assert abs(x.var() - d.variance) <= Z * se_var + 1e-12


def test_every_distribution_of_the_spec_table_is_built() -> None:
    assert {s["dist"] for s in SPECS} == set(PARAMETERS)


def _cdf_check(d: distributions.Distribution, points: dict[float, float], seed: int = 2) -> None:
    x = d.sample(stream(seed, repr(d)), N)
    for q, f in points.items():
        se = math.sqrt(f * (1 - f) / N)
        assert abs(np.mean(x <= q) - f) <= Z * se, (q, f)


def test_exponential_cdf() -> None:
    _cdf_check(make({"dist": "exponential", "mean": 2.0}), {q: -math.expm1(-q / 2) for q in (1, 4)})


def test_weibull_cdf() -> None:
    cdf = {q: -math.expm1(-((q / 2.0) ** 1.5)) for q in (0.5, 2, 4)}
    _cdf_check(make({"dist": "weibull", "shape": 1.5, "scale": 2.0}), cdf)


def test_pareto_cdf_and_support() -> None:
    d = make({"dist": "pareto", "alpha": 1.5, "min": 2.0})
    _cdf_check(d, {q: 1 - (2.0 / q) ** 1.5 for q in (3, 10, 100)})
    assert d.sample(stream(0, "p"), 1000).min() >= 2.0


def test_bounded_pareto_cdf_and_support() -> None:
    low, high, a = 1.0, 1000.0, 0.8
    d = make({"dist": "pareto", "alpha": a, "min": low, "max": high})
    cdf = {q: (1 - (low / q) ** a) / (1 - (low / high) ** a) for q in (2, 30, 500)}
    _cdf_check(d, cdf)
    x = d.sample(stream(0, "bp"), N)
    assert x.min() >= low and x.max() <= high


def test_heavy_tails_report_infinite_moments() -> None:
    assert make({"dist": "pareto", "alpha": 1.0, "min": 1}).mean == math.inf
    d = make({"dist": "pareto", "alpha": 1.5, "min": 1})
    assert d.mean == pytest.approx(3.0)
    assert d.variance == math.inf and d.cv2 == math.inf
    assert make({"dist": "pareto", "alpha": 3, "min": 1}).variance == pytest.approx(0.75)
    # A mixture with a heavy component that can be drawn is heavy; one with weight 0 is not.
    heavy = {"weight": 0.5, "dist": "pareto", "alpha": 1.5, "min": 1}
    light = {"weight": 0.5, "dist": "constant", "value": 1}
    assert make({"dist": "mixture", "components": [light, heavy]}).variance == math.inf
    off = {**heavy, "weight": 0}
    assert make({"dist": "mixture", "components": [{**light, "weight": 1}, off]}).variance == 0


def test_truncated_normal_reports_the_truncated_moments() -> None:
    d = make({"dist": "normal", "mean": 0.0, "sd": 1.0})  # the half-normal
    assert d.mean == pytest.approx(math.sqrt(2 / math.pi))
    assert d.variance == pytest.approx(1 - 2 / math.pi)
    far = make({"dist": "normal", "mean": 10.0, "sd": 1.0})  # truncation negligible
    assert far.mean == pytest.approx(10.0) and far.variance == pytest.approx(1.0)


def test_friendly_forms_have_the_requested_mean_and_cv() -> None:
    for name in ("lognormal", "gamma"):
        d = make({"dist": name, "mean": 0.05, "cv": 2.0})
        assert d.mean == pytest.approx(0.05) and d.cv2 == pytest.approx(4.0)
    assert make({"dist": "erlang", "k": 4, "mean": 1.0}).cv2 == pytest.approx(0.25)
    assert make({"dist": "exponential", "rate": 20}).mean == pytest.approx(0.05)


def test_constant_forms() -> None:
    d = make(0.02)
    assert d.is_constant and d.mean == 0.02 and d.variance == 0 and d.cv2 == 0
    f = d.sampler(stream(0, "c"))
    assert [f(), f()] == [0.02, 0.02]
    assert make({"dist": "empirical", "values": [3, 3]}).is_constant
    for spec in (
        {"dist": "normal", "mean": 0.5, "sd": 0},
        {"dist": "uniform", "low": 0.5, "high": 0.5},
        {"dist": "empirical", "values": [0.5]},
    ):
        g = make(spec)
        assert g.is_constant and g.sampler(stream(0, "k"))() == 0.5
    assert not make({"dist": "exponential", "mean": 1}).is_constant
    assert make(d) is d


def test_sampler_gives_python_floats_from_the_distribution() -> None:
    d = make({"dist": "gamma", "mean": 2.0, "cv": 0.5})
    f = d.sampler(stream(3, "s"), block=1000)
    x = [f() for _ in range(50_000)]
    assert all(type(v) is float for v in x[:10])
    assert abs(np.mean(x) - d.mean) <= Z * math.sqrt(d.variance / len(x))


def test_sampler_blocks_chain_into_one_sequence() -> None:
    d = make({"dist": "exponential", "mean": 1.0})
    f = d.sampler(stream(0, "blocks"), block=7)
    assert [f() for _ in range(30)] == d.sample(stream(0, "blocks"), 35)[:30].tolist()


def test_samplers_follow_their_stream() -> None:
    d = make({"dist": "lognormal", "mean": 1.0, "cv": 1.0})
    a, b, c = (d.sampler(stream(0, n)) for n in ("w.a", "w.a", "w.b"))
    xa, xb, xc = ([g() for _ in range(100)] for g in (a, b, c))
    assert xa == xb
    assert xa != xc


def test_repr_names_the_distribution() -> None:
    assert repr(make({"dist": "exponential", "mean": 0.5})) == "exponential(mean=0.5)"
    assert "empirical(n=3" in repr(make({"dist": "empirical", "values": [1, 2, 3]}))


def test_null_parameters_count_as_absent() -> None:
    assert make({"dist": "pareto", "alpha": 3, "min": 1, "max": None}).mean == pytest.approx(1.5)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"dist": "exponential", "mean": -1}, "exponential needs mean > 0, got -1"),
        ({"dist": "exponential", "rate": 0}, "exponential needs rate > 0, got 0"),
        ({"dist": "exponential", "mean": 1, "rate": 1}, "not both"),
        ({"dist": "exponential"}, "exponential needs"),
        ({"dist": "exponential", "mean": "1s"}, "needs a number for mean"),
        ({"dist": "exponential", "mean": math.inf}, "finite"),
        ({"dist": "exponential", "mean": 1, "sd": 2}, "does not take sd"),
        ({"dist": "lognormal", "mean": 1, "cv": 1, "mu": 0}, "remove mu"),
        ({"dist": "lognormal", "mean": 1}, r"needs \(mean, cv\) or \(mu, sigma\)"),
        ({"dist": "nope"}, "unknown distribution 'nope'"),
        ({"mean": 1}, "needs dist"),
        ("fast", "a distribution is a number or a mapping"),
        ({"dist": "constant", "value": -0.1}, "constant needs value >= 0"),
        ({"dist": "uniform", "low": 3, "high": 1}, "high >= low"),
        ({"dist": "uniform", "low": -1, "high": 1}, "low >= 0"),
        ({"dist": "normal", "mean": -1, "sd": 1}, "normal needs mean >= 0"),
        ({"dist": "gamma", "mean": 1, "cv": 0}, "gamma needs cv > 0"),
        ({"dist": "erlang", "k": 2.5, "mean": 1}, "integer k >= 1"),
        ({"dist": "erlang", "k": 0, "mean": 1}, "integer k >= 1"),
        ({"dist": "weibull", "shape": 0, "scale": 1}, "shape > 0"),
        ({"dist": "pareto", "alpha": 2, "min": 1, "max": 1}, "max > min"),
        ({"dist": "hyperexponential", "probs": [0.5, 0.4], "means": [1, 2]}, "summing to 1"),
        ({"dist": "hyperexponential", "probs": [0.5, 0.5], "means": [1]}, "as many probs"),
        ({"dist": "hyperexponential", "probs": [1.5, -0.5], "means": [1, 2]}, r"probs\[1\] >= 0"),
        ({"dist": "empirical", "values": []}, "non-empty list"),
        ({"dist": "empirical", "values": [1, -2]}, r"values\[1\] >= 0"),
        ({"dist": "mixture", "components": []}, "non-empty list"),
        (
            {"dist": "mixture", "components": [{"weight": 1, "dist": "exponential", "mean": -1}]},
            "mixture component 0: exponential needs mean > 0",
        ),
        ({"dist": "mixture", "components": [{"dist": "constant", "value": 1}]}, "weight"),
        (
            {"dist": "mixture", "components": [{"weight": 0.9, "dist": "constant", "value": 1},
                                               {"weight": 0.2, "dist": "constant", "value": 2}]},
            r"mixture needs weights summing to 1, got a sum of 1\.1 \(the same proportions "
            r"summing to 1: 0\.8182, 0\.1818\)",
        ),
        (
            {"dist": "mixture", "components": [{"weight": 0, "dist": "constant", "value": 1}]},
            "positive sum",
        ),
    ],
)
def test_invalid_specs_raise_clear_errors(spec: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make(spec)


def test_empirical_from_a_file_with_a_header(tmp_path: Path) -> None:
    path = tmp_path / "latencies.csv"
    path.write_text("latency\n0.1\n\n0.2\n0.6\n")
    d = make({"dist": "empirical", "file": str(path)})
    assert d.mean == pytest.approx(0.3)
    assert set(d.sample(stream(0, "e"), 1000).tolist()) == {0.1, 0.2, 0.6}


def test_empirical_from_a_file_without_a_header(tmp_path: Path) -> None:
    path = tmp_path / "values.csv"
    path.write_text("1\n2\n3\n")
    assert make({"dist": "empirical", "file": str(path)}).variance == pytest.approx(2 / 3)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("x\n1\nfast\n", "line 3: 'fast' is not a number"),
        ("1,2\n", "line 1: expected one column, got 2"),
        ("1\n-3\n", "line 2: needs a value >= 0"),
        ("header\n", "has no values"),
        ("", "has no values"),
    ],
)
def test_bad_empirical_files_name_the_line(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises(ValueError, match=message):
        make({"dist": "empirical", "file": str(path)})


def test_missing_empirical_file(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="cannot read empirical file"):
        make({"dist": "empirical", "file": str(tmp_path / "missing.csv")})


def test_sample_size_is_checked() -> None:
    d = make({"dist": "exponential", "mean": 1})
    assert d.sample(stream(0, "z"), 0).shape == (0,)
    with pytest.raises(ValueError, match="sample size"):
        d.sample(stream(0, "z"), -1)
