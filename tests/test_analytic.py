"""Closed forms against textbook numbers, brute-force solves and each other."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sim import analytic as an


def _integral_of_sf(sf_cdf, upper: float, n: int = 200_001) -> float:
    """E[X] = integral of P(X > t) dt, by the trapezoid rule on [0, upper]."""
    t = np.linspace(0.0, upper, n)
    y = 1.0 - sf_cdf(t)
    return float(np.sum((y[1:] + y[:-1]) * np.diff(t)) / 2.0)


# --------------------------------------------------------------------------- M/M/1


def test_mm1_textbook_numbers() -> None:
    m = an.mm1(0.5, 1.0)
    assert m.rho == pytest.approx(0.5)
    assert pytest.approx(2.0) == m.W
    assert m.Wq == pytest.approx(1.0)
    assert m.Lq == pytest.approx(0.5)
    assert pytest.approx(1.0) == m.L
    assert m.p_wait == pytest.approx(0.5)
    assert m.model == "M/M/1"


@pytest.mark.parametrize("p", [0.1, 0.5, 0.9, 0.99, 0.999])
def test_mm1_latency_quantile_is_exponential(p: float) -> None:
    lam, mu = 0.8, 1.0
    assert an.mm1(lam, mu).latency_quantile(p) == pytest.approx(
        -math.log(1 - p) / (mu - lam), rel=1e-9
    )


def test_mm1_wait_quantile_has_atom_at_zero() -> None:
    m = an.mm1(0.5, 1.0)
    assert m.wait_quantile(0.3) == 0.0
    assert m.wait_quantile(0.5) == 0.0  # exactly the atom's mass 1 - rho
    # P(Wq > t) = rho e^{-(mu-lam) t} = 1 - p  =>  t = ln(rho / (1-p)) / (mu - lam)
    assert m.wait_quantile(0.9) == pytest.approx(math.log(0.5 / 0.1) / 0.5, rel=1e-9)
    assert m.wait_cdf(0.0) == pytest.approx(0.5)
    assert m.latency_quantile(1.0) == math.inf


def test_quantile_level_out_of_range() -> None:
    with pytest.raises(ValueError):
        an.mm1(0.5, 1.0).latency_quantile(1.5)
    with pytest.raises(ValueError):
        an.mm1(0.5, 1.0).wait_quantile(-0.1)


# --------------------------------------------------------------------------- Erlang B and C


def test_erlang_b_textbook_value() -> None:
    # B(5, 3) = (3^5/5!) / sum_{k<=5} 3^k/k! = 2.025 / 18.4
    assert an.erlang_b(5, 3.0) == pytest.approx(2.025 / 18.4, rel=1e-12)
    assert an.erlang_b(5, 3.0) == pytest.approx(0.1101, abs=5e-5)


def test_erlang_b_large_systems_match_log_space_formula() -> None:
    for c, a in [(100, 80.0), (1000, 900.0), (2000, 2500.0)]:
        logs = [k * math.log(a) - math.lgamma(k + 1) for k in range(c + 1)]
        top = max(logs)
        expected = math.exp(logs[-1] - top) / sum(math.exp(v - top) for v in logs)
        assert an.erlang_b(c, a) == pytest.approx(expected, rel=1e-9)


def test_erlang_c_textbook_value() -> None:
    assert an.erlang_c(2, 1.0) == pytest.approx(1.0 / 3.0, rel=1e-12)
    assert an.erlang_c(1, 0.7) == pytest.approx(0.7, rel=1e-12)  # M/M/1: P(wait) = rho


def test_mmc_textbook_numbers() -> None:
    m = an.mmc(1.0, 1.0, 2)  # a = 1, C = 1/3, Wq = C / (2 - 1)
    assert m.Wq == pytest.approx(1.0 / 3.0)
    assert pytest.approx(4.0 / 3.0) == m.W
    assert m.Lq == pytest.approx(1.0 / 3.0)
    assert m.rho == pytest.approx(0.5)
    # P(Wq > t) = C e^{-(c mu - lam) t}
    assert 1.0 - m.wait_cdf(2.0) == pytest.approx(math.exp(-2.0) / 3.0, rel=1e-12)


def test_mmc_with_one_server_is_mm1() -> None:
    one, ref = an.mmc(0.7, 1.3, 1), an.mm1(0.7, 1.3)
    for name in ("rho", "L", "Lq", "W", "Wq", "p_wait", "throughput"):
        assert getattr(one, name) == pytest.approx(getattr(ref, name), rel=1e-12), name
    for p in (0.5, 0.9, 0.99):
        assert one.latency_quantile(p) == pytest.approx(ref.latency_quantile(p), rel=1e-9)
        assert one.wait_quantile(p) == pytest.approx(ref.wait_quantile(p), rel=1e-9)


@pytest.mark.parametrize(("lam", "mu", "c"), [(7.2, 1.0, 8), (1.0, 1.0, 2), (3.0, 2.0, 3)])
def test_mmc_distributions_integrate_to_means(lam: float, mu: float, c: int) -> None:
    # (1.0, 1.0, 2) has theta = c mu - lam = mu: the special branch of the sojourn law.
    m = an.mmc(lam, mu, c)
    assert _integral_of_sf(m.latency_cdf, 60.0 / mu) == pytest.approx(m.W, rel=1e-6)
    assert _integral_of_sf(m.wait_cdf, 60.0 / mu) == pytest.approx(m.Wq, rel=1e-6)


def test_mmc_sojourn_law_is_continuous_at_theta_equal_mu() -> None:
    t = np.array([0.1, 1.0, 3.0])
    at = an.mmc(1.0, 1.0, 2).latency_cdf(t)
    near = an.mmc(1.0 + 1e-7, 1.0, 2).latency_cdf(t)
    np.testing.assert_allclose(at, near, rtol=1e-5)


# --------------------------------------------------------------------------- M/G/1, M/D/1


def test_md1_wait_formula() -> None:
    lam, d = 0.6, 1.0
    rho, mu = lam * d, 1.0 / d
    m = an.md1(lam, d)
    assert m.Wq == pytest.approx(rho / (2 * mu * (1 - rho)))
    assert pytest.approx(m.Wq + d) == m.W
    assert m.Lq == pytest.approx(lam * m.Wq)
    assert m.model == "M/D/1"
    # Half the M/M/1 wait at the same load.
    assert m.Wq == pytest.approx(an.mm1(lam, mu).Wq / 2)


def test_mg1_with_cv2_one_has_mm1_means() -> None:
    g, ref = an.mg1(0.75, 1.0, 1.0), an.mm1(0.75, 1.0)
    for name in ("L", "Lq", "W", "Wq"):
        assert getattr(g, name) == pytest.approx(getattr(ref, name), rel=1e-12)
    with pytest.raises(ValueError, match="no closed form"):
        g.latency_quantile(0.5)


# --------------------------------------------------------------------------- M/M/1/K


def _birth_death(lam: float, mu: float, K: int) -> np.ndarray:
    """Stationary law of the M/M/1/K chain, solving pi Q = 0, sum pi = 1 by least squares."""
    q = np.zeros((K + 1, K + 1))
    for n in range(K):
        q[n, n + 1] = lam
        q[n + 1, n] = mu
    np.fill_diagonal(q, -q.sum(axis=1))
    a = np.vstack([q.T, np.ones(K + 1)])
    b = np.zeros(K + 2)
    b[-1] = 1.0
    return np.linalg.lstsq(a, b, rcond=None)[0]


@pytest.mark.parametrize("K", [1, 2, 5, 10, 30])
@pytest.mark.parametrize("lam", [0.3, 1.0, 2.5])
def test_mm1k_matches_brute_force(K: int, lam: float) -> None:
    mu = 1.0
    pi = _birth_death(lam, mu, K)
    m = an.mm1k(lam, mu, K)
    n = np.arange(K + 1)
    L = float(pi @ n)
    thr = lam * (1 - pi[K])
    assert m.p_block == pytest.approx(pi[K], rel=1e-8)
    assert m.throughput == pytest.approx(thr, rel=1e-8)
    assert pytest.approx(L, rel=1e-8) == m.L
    assert m.Lq == pytest.approx(L - (1 - pi[0]), rel=1e-8, abs=1e-12)
    assert pytest.approx(L / thr, rel=1e-8) == m.W  # Little's law on admitted customers
    assert m.rho == pytest.approx(thr / mu, rel=1e-8)  # flow balance: busy = throughput / mu


def test_mm1k_edge_cases() -> None:
    assert an.mm1k(1.0, 1.0, 4).p_block == pytest.approx(1 / 5)  # rho = 1: uniform
    big = an.mm1k(10.0, 1.0, 2000)  # rho^K would overflow without the log-space weights
    assert big.throughput == pytest.approx(1.0, rel=1e-9)
    assert big.p_block == pytest.approx(0.9, rel=1e-9)
    one = an.mm1k(0.5, 2.0, 1)  # no waiting room: no wait, exponential service
    assert one.wait_quantile(0.99) == 0.0
    assert one.latency_quantile(0.5) == pytest.approx(math.log(2) / 2.0, rel=1e-9)
    idle = an.mm1k(0.0, 2.0, 3)
    assert pytest.approx(0.5) == idle.W and idle.L == 0.0 and idle.throughput == 0.0


def test_mm1k_with_large_k_tends_to_mm1() -> None:
    k, ref = an.mm1k(0.5, 1.0, 200), an.mm1(0.5, 1.0)
    assert pytest.approx(ref.W, rel=1e-9) == k.W
    for p in (0.5, 0.9, 0.99):
        assert k.latency_quantile(p) == pytest.approx(ref.latency_quantile(p), rel=1e-7)
        assert k.wait_quantile(p) == pytest.approx(ref.wait_quantile(p), rel=1e-7, abs=1e-12)


def test_mm1k_distributions_integrate_to_means() -> None:
    m = an.mm1k(1.5, 1.0, 8)
    assert _integral_of_sf(m.latency_cdf, 80.0) == pytest.approx(m.W, rel=1e-6)
    assert _integral_of_sf(m.wait_cdf, 80.0) == pytest.approx(m.Wq, rel=1e-6)


# --------------------------------------------------------------------------- loss, priority


def test_mmcc_blocking_is_erlang_b() -> None:
    m = an.mmcc(6.0, 0.5, 5)  # a = 3 erlangs
    assert m.p_block == pytest.approx(an.erlang_b(5, 3.0))
    assert m.throughput == pytest.approx(6.0 * (1 - m.p_block))
    assert pytest.approx(m.throughput * 0.5) == m.L
    assert m.Wq == 0.0 and m.W == 0.5
    assert m.wait_quantile(0.99) == 0.0


def test_cobham_one_class_is_pollaczek_khinchine() -> None:
    lam, mean, cv2 = 0.7, 1.0, 2.0
    es2 = mean**2 * (1 + cv2)
    (wq,) = an.priority_mg1_nonpreemptive([lam], [mean], [es2])
    assert wq == pytest.approx(an.mg1(lam, mean, cv2).Wq, rel=1e-12)


def test_cobham_two_classes() -> None:
    lams, means = [0.3, 0.4], [1.0, 1.0]
    es2 = [2.0, 2.0]  # exponential service
    w_hi, w_lo = an.priority_mg1_nonpreemptive(lams, means, es2)
    w0 = (0.3 * 2 + 0.4 * 2) / 2
    assert w_hi == pytest.approx(w0 / (1 - 0.3))
    assert w_lo == pytest.approx(w0 / ((1 - 0.3) * (1 - 0.7)))
    # Kleinrock's conservation law: sum rho_k Wq_k equals rho times the FIFO wait.
    fifo = an.mg1(0.7, 1.0, 1.0).Wq
    assert 0.3 * w_hi + 0.4 * w_lo == pytest.approx(0.7 * fifo, rel=1e-12)


def test_littles_law() -> None:
    assert an.littles_law(lam=2.0, W=3.0) == 6.0
    assert an.littles_law(L=6.0, W=3.0) == 2.0
    assert an.littles_law(L=6.0, lam=2.0) == 3.0
    with pytest.raises(ValueError):
        an.littles_law(L=1.0)


# --------------------------------------------------------------------------- invalid inputs


@pytest.mark.parametrize(
    "call",
    [
        lambda: an.mm1(1.0, 1.0),
        lambda: an.mm1(2.0, 1.0),
        lambda: an.mm1(0.5, 0.0),
        lambda: an.mm1(-1.0, 1.0),
        lambda: an.mmc(8.0, 1.0, 8),
        lambda: an.mmc(1.0, 1.0, 0),
        lambda: an.mmc(1.0, 1.0, 2.5),
        lambda: an.erlang_c(2, 2.0),
        lambda: an.erlang_b(0, 1.0),
        lambda: an.erlang_b(3, -1.0),
        lambda: an.mg1(1.0, 1.0, 0.0),
        lambda: an.mg1(0.5, 1.0, -1.0),
        lambda: an.md1(2.0, 0.5),
        lambda: an.mm1k(1.0, 1.0, 0),
        lambda: an.mmcc(1.0, 0.0, 2),
        lambda: an.priority_mg1_nonpreemptive([0.5, 0.5], [1.0, 1.0], [2.0, 2.0]),
        lambda: an.priority_mg1_nonpreemptive([0.5], [1.0, 1.0], [2.0, 2.0]),
    ],
)
def test_invalid_or_unstable_inputs_raise(call) -> None:
    with pytest.raises(ValueError):
        call()
