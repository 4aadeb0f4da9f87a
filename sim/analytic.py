"""Closed-form queueing results, used to check the simulator and to draw theory beside it.

Rates are per second and times are seconds. Every function validates its inputs and raises
``ValueError`` when the formula needs a stable system (utilisation below one) and does not get
one, so a test or a notebook never compares against a meaningless negative number.

Sources (cited per function): L. Kleinrock, *Queueing Systems Vol. 1* (1975) and *Vol. 2*
(1976); D. Gross, J. Shortle, J. Thompson, C. Harris, *Fundamentals of Queueing Theory*, 4th ed.
(2008); M. Harchol-Balter, *Performance Modeling and Design of Computer Systems* (2013).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np

__all__ = [
    "QueueMetrics",
    "erlang_b",
    "erlang_c",
    "littles_law",
    "md1",
    "mg1",
    "mm1",
    "mm1k",
    "mmc",
    "mmcc",
    "priority_mg1_nonpreemptive",
]

# A survival function P(X > t) for t >= 0, accepting a float or a numpy array.
Survival = Callable[[float | np.ndarray], float | np.ndarray]


@dataclass(frozen=True)
class QueueMetrics:
    """Steady-state figures of one queueing model.

    ``rho`` is the utilisation of one server, ``L``/``Lq`` the mean number in the system/queue,
    ``W``/``Wq`` the mean sojourn/waiting time of an admitted customer, ``throughput`` the rate
    of admitted (hence completed) customers, ``p_wait`` the probability that an admitted
    customer waits at all and ``p_block`` the probability that an arrival is turned away.
    Quantiles are available where the model's distribution is known in closed form.
    """

    model: str
    lam: float
    rho: float
    L: float
    Lq: float
    W: float
    Wq: float
    throughput: float
    servers: int = 1
    p_wait: float = math.nan
    p_block: float = 0.0
    _wait_sf: Survival | None = field(default=None, repr=False, compare=False)
    _latency_sf: Survival | None = field(default=None, repr=False, compare=False)

    def wait_quantile(self, p: float) -> float:
        """The p-quantile of the waiting time (0 inside the atom at zero)."""
        return _quantile(self._need(self._wait_sf, "wait"), p, self.Wq)

    def latency_quantile(self, p: float) -> float:
        """The p-quantile of the sojourn time (waiting plus service)."""
        return _quantile(self._need(self._latency_sf, "latency"), p, self.W)

    def wait_cdf(self, t: float | np.ndarray) -> float | np.ndarray:
        """P(Wq <= t), for drawing theory beside an empirical CDF."""
        return _cdf(self._need(self._wait_sf, "wait"), t)

    def latency_cdf(self, t: float | np.ndarray) -> float | np.ndarray:
        """P(W <= t), for drawing theory beside an empirical CDF."""
        return _cdf(self._need(self._latency_sf, "latency"), t)

    def _need(self, sf: Survival | None, what: str) -> Survival:
        if sf is None:
            raise ValueError(f"the {what} distribution of {self.model} has no closed form here")
        return sf


# --------------------------------------------------------------------------- M/M/1, M/M/c


def mm1(lam: float, mu: float) -> QueueMetrics:
    """M/M/1 FIFO.

    rho = lam/mu, L = rho/(1-rho), Lq = rho^2/(1-rho), W = 1/(mu-lam), Wq = rho/(mu-lam).
    The sojourn time is exponential with rate mu-lam; the wait is 0 with probability 1-rho and
    otherwise exponential(mu-lam): P(Wq > t) = rho exp(-(mu-lam) t).
    Source: Kleinrock Vol. 1, §3.2 and eq. (5.120); Gross et al. §2.2.
    """
    _check_rates(lam, mu)
    return replace(mmc(lam, mu, 1), model="M/M/1")


def erlang_b(c: int, a: float) -> float:
    """Erlang B: blocking probability of M/G/c/c with offered load a = lam * E[S] erlangs.

    B(0, a) = 1, B(k, a) = a B(k-1, a) / (k + a B(k-1, a)) — the standard recursion, which
    never forms a^c or c! and so stays accurate for thousands of servers.
    Source: Gross et al. §2.6 (eq. 2.47); Kleinrock Vol. 1 eq. (3.46).
    """
    _check_servers(c)
    if not a >= 0 or math.isinf(a):
        raise ValueError(f"offered load must be finite and >= 0, got {a}")
    b = 1.0
    for k in range(1, c + 1):
        b = a * b / (k + a * b)
    return b


def erlang_c(c: int, a: float) -> float:
    """Erlang C: probability that an arrival waits in M/M/c with offered load a = lam/mu < c.

    C(c, a) = c B / (c - a (1 - B)) with B = erlang_b(c, a).
    Source: Gross et al. §2.3 (eq. 2.32); Kleinrock Vol. 1 eq. (3.40).
    """
    b = erlang_b(c, a)
    if a >= c:
        raise ValueError(f"M/M/c needs a = lam/mu < c for stability, got a={a}, c={c}")
    return c * b / (c - a * (1.0 - b))


def mmc(lam: float, mu: float, c: int) -> QueueMetrics:
    """M/M/c FIFO, with C = erlang_c(c, lam/mu).

    Wq = C / (c mu - lam), W = Wq + 1/mu, Lq = lam Wq, L = lam W.
    P(Wq > t) = C exp(-(c mu - lam) t). The sojourn is the wait plus an independent
    exponential(mu) service, so with theta = c mu - lam:
    P(W > t) = (1-C) e^(-mu t) + C (theta e^(-mu t) - mu e^(-theta t)) / (theta - mu)
    (and C e^(-mu t)(1 + mu t) in place of the last term when theta = mu).
    Source: Gross et al. §2.3 (eqs. 2.33-2.36); Kleinrock Vol. 1 §3.5.
    """
    _check_rates(lam, mu)
    _check_servers(c)
    a = lam / mu
    if a >= c:
        raise ValueError(f"M/M/c is unstable: lam/(c mu) = {a / c:.6g} >= 1")
    p_wait = erlang_c(c, a) if lam > 0 else 0.0
    theta = c * mu - lam
    wq = p_wait / theta
    w = wq + 1.0 / mu

    def wait_sf(t: float | np.ndarray) -> float | np.ndarray:
        return p_wait * np.exp(-theta * t)

    def latency_sf(t: float | np.ndarray) -> float | np.ndarray:
        service = np.exp(-mu * t)
        if math.isclose(theta, mu, rel_tol=1e-9):
            waited = service * (1.0 + mu * t)
        else:
            waited = (theta * service - mu * np.exp(-theta * t)) / (theta - mu)
        return (1.0 - p_wait) * service + p_wait * waited

    return QueueMetrics(
        model=f"M/M/{c}", lam=lam, rho=a / c, L=lam * w, Lq=lam * wq, W=w, Wq=wq,
        throughput=lam, servers=c, p_wait=p_wait, _wait_sf=wait_sf, _latency_sf=latency_sf,
    )


# --------------------------------------------------------------------------- M/G/1


def mg1(lam: float, mean: float, cv2: float) -> QueueMetrics:
    """M/G/1 FIFO by Pollaczek–Khinchine, service with mean E[S] and squared CV cv2.

    E[S^2] = E[S]^2 (1 + cv2), rho = lam E[S], Wq = lam E[S^2] / (2 (1 - rho)),
    W = Wq + E[S], Lq = lam Wq, L = lam W. Only the means are distribution-free, so no
    quantiles are offered.
    Source: Kleinrock Vol. 1 eq. (5.76); Gross et al. §5.1.1 (eq. 5.8).
    """
    if not lam >= 0 or math.isinf(lam):
        raise ValueError(f"arrival rate must be finite and >= 0, got {lam}")
    if not mean > 0 or math.isinf(mean):
        raise ValueError(f"mean service time must be finite and > 0, got {mean}")
    if not cv2 >= 0 or math.isinf(cv2):
        raise ValueError(f"squared coefficient of variation must be finite and >= 0, got {cv2}")
    rho = lam * mean
    if rho >= 1:
        raise ValueError(f"M/G/1 is unstable: rho = {rho:.6g} >= 1")
    wq = lam * mean * mean * (1.0 + cv2) / (2.0 * (1.0 - rho))
    w = wq + mean
    return QueueMetrics(
        model="M/G/1", lam=lam, rho=rho, L=lam * w, Lq=lam * wq, W=w, Wq=wq,
        throughput=lam, p_wait=rho,  # PASTA: an arrival finds the server busy w.p. rho
    )


def md1(lam: float, d: float) -> QueueMetrics:
    """M/D/1: M/G/1 with constant service d (cv2 = 0), so Wq = rho d / (2 (1 - rho)).

    Source: Kleinrock Vol. 1 eq. (5.76) with C_b^2 = 0; Gross et al. §5.1.1.
    """
    return replace(mg1(lam, d, 0.0), model="M/D/1")


# --------------------------------------------------------------------------- finite systems


def mm1k(lam: float, mu: float, K: int) -> QueueMetrics:
    """M/M/1/K: one server and room for K customers in total (the one in service included).

    pi_n = rho^n (1 - rho) / (1 - rho^(K+1)) for n = 0..K (1/(K+1) when rho = 1);
    p_block = pi_K, throughput = lam (1 - pi_K), L = sum n pi_n, Lq = L - (1 - pi_0).
    Stable for every rho. An admitted arrival finds n customers with probability
    q_n = pi_n / (1 - pi_K), n < K (PASTA), so its wait is Erlang(n, mu) and its sojourn
    Erlang(n+1, mu): W = sum q_n (n+1)/mu, Wq = sum q_n n/mu (equal to L/throughput and
    Lq/throughput by Little's law, and defined even when lam = 0).
    Source: Gross et al. §2.5 (eqs. 2.40-2.44); Kleinrock Vol. 1 §3.6.
    """
    _check_rates(lam, mu)
    if not isinstance(K, (int, np.integer)) or K < 1:
        raise ValueError(f"capacity K must be an integer >= 1, got {K!r}")
    n = np.arange(K + 1, dtype=float)
    if lam == 0:
        pi = np.zeros(K + 1)
        pi[0] = 1.0
    else:
        # Work in logs and rescale by the largest term, so rho^K cannot overflow.
        log_w = n * math.log(lam / mu)
        weights = np.exp(log_w - log_w.max())
        pi = weights / weights.sum()
    p_block = float(pi[K])
    q = pi[:K] / (1.0 - p_block)
    throughput = lam * (1.0 - p_block)
    w = float(np.dot(q, n[:K] + 1.0)) / mu
    wq = float(np.dot(q, n[:K])) / mu
    busy = 1.0 - float(pi[0])
    L = float(np.dot(pi, n))
    p_wait = float(1.0 - q[0])

    def wait_sf(t: float | np.ndarray) -> float | np.ndarray:
        return _erlang_mixture_sf(q, mu, t, shift=0)

    def latency_sf(t: float | np.ndarray) -> float | np.ndarray:
        return _erlang_mixture_sf(q, mu, t, shift=1)

    return QueueMetrics(
        model=f"M/M/1/{K}", lam=lam, rho=busy, L=L, Lq=L - busy, W=w, Wq=wq,
        throughput=throughput, p_wait=p_wait, p_block=p_block,
        _wait_sf=wait_sf, _latency_sf=latency_sf,
    )


def mmcc(lam: float, mean_service: float, c: int) -> QueueMetrics:
    """M/G/c/c (Erlang loss): c servers, no waiting room; an arrival finding all busy is lost.

    p_block = erlang_b(c, lam E[S]) — insensitive to the service distribution beyond its
    mean — throughput = lam (1 - p_block), L = throughput E[S], W = E[S], no waiting.
    Source: Gross et al. §2.6 and §6.2 (insensitivity); Kleinrock Vol. 1 §3.7.
    """
    if not mean_service > 0 or math.isinf(mean_service):
        raise ValueError(f"mean service time must be finite and > 0, got {mean_service}")
    _check_rates(lam, 1.0 / mean_service)
    b = erlang_b(c, lam * mean_service)
    throughput = lam * (1.0 - b)
    return QueueMetrics(
        model=f"M/G/{c}/{c}", lam=lam, rho=throughput * mean_service / c,
        L=throughput * mean_service, Lq=0.0, W=mean_service, Wq=0.0, throughput=throughput,
        servers=c, p_wait=0.0, p_block=b, _wait_sf=lambda t: np.zeros_like(np.asarray(t, float)),
    )


# --------------------------------------------------------------------------- priorities


def priority_mg1_nonpreemptive(
    lams: list[float], means: list[float], second_moments: list[float]
) -> list[float]:
    """Mean wait per class in a non-preemptive priority M/G/1 (class 0 is served first).

    Cobham's formula: with W0 = sum_i lam_i E[S_i^2] / 2 (the mean residual work found in
    service) and sigma_k = sum_{i<=k} lam_i E[S_i], Wq_k = W0 / ((1 - sigma_{k-1})(1 - sigma_k)).
    With one class it is Pollaczek–Khinchine.
    Source: A. Cobham, "Priority assignment in waiting line problems", Oper. Res. 2 (1954);
    Kleinrock Vol. 2 eq. (3.30); Harchol-Balter §31.2.
    """
    if not (len(lams) == len(means) == len(second_moments)) or not lams:
        raise ValueError("lams, means and second_moments must be non-empty and equally long")
    for lam, m, s2 in zip(lams, means, second_moments, strict=True):
        if not lam >= 0 or not m > 0 or not s2 >= m * m * (1 - 1e-12):
            raise ValueError(
                f"each class needs lam >= 0, mean > 0 and E[S^2] >= mean^2; got {lam}, {m}, {s2}"
            )
    rho_total = sum(lam * m for lam, m in zip(lams, means, strict=True))
    if rho_total >= 1:
        raise ValueError(f"priority M/G/1 is unstable: total rho = {rho_total:.6g} >= 1")
    w0 = sum(lam * s2 for lam, s2 in zip(lams, second_moments, strict=True)) / 2.0
    waits: list[float] = []
    sigma_before = 0.0
    for lam, m in zip(lams, means, strict=True):
        sigma = sigma_before + lam * m
        waits.append(w0 / ((1.0 - sigma_before) * (1.0 - sigma)))
        sigma_before = sigma
    return waits


def littles_law(
    *, L: float | None = None, lam: float | None = None, W: float | None = None
) -> float:
    """Solve L = lam W for the one quantity left out (Little, Oper. Res. 9, 1961)."""
    missing = [name for name, v in (("L", L), ("lam", lam), ("W", W)) if v is None]
    if len(missing) != 1:
        raise ValueError("give exactly two of L, lam and W")
    if lam is not None and W is not None:  # L left out
        return lam * W
    if L is not None and W is not None:  # lam left out
        if W == 0:
            raise ValueError("cannot solve for lam with W = 0")
        return L / W
    assert L is not None and lam is not None  # W left out: exactly two are given
    if lam == 0:
        raise ValueError("cannot solve for W with lam = 0")
    return L / lam


# --------------------------------------------------------------------------- helpers


def _check_rates(lam: float, mu: float) -> None:
    if not lam >= 0 or math.isinf(lam):
        raise ValueError(f"arrival rate must be finite and >= 0, got {lam}")
    if not mu > 0 or math.isinf(mu):
        raise ValueError(f"service rate must be finite and > 0, got {mu}")


def _check_servers(c: int) -> None:
    if not isinstance(c, (int, np.integer)) or isinstance(c, bool) or c < 1:
        raise ValueError(f"number of servers must be an integer >= 1, got {c!r}")


def _erlang_mixture_sf(
    q: np.ndarray, mu: float, t: float | np.ndarray, shift: int
) -> float | np.ndarray:
    """sum_n q_n P(Erlang(n + shift, mu) > t), Erlang(0) being the point mass at 0.

    P(Erlang(k, mu) > t) = P(Poisson(mu t) < k); the Poisson terms are built in logs so that
    neither e^(-mu t) nor (mu t)^i under- or overflows for large K.
    """
    x = mu * np.atleast_1d(np.asarray(t, dtype=float)).ravel()
    k_max = len(q) - 1 + shift
    i = np.arange(k_max, dtype=float)[:, None]
    lgam = np.array([math.lgamma(v + 1.0) for v in range(k_max)])[:, None]
    out = np.empty_like(x)
    step = max(1, 2_000_000 // max(k_max, 1))  # bound the (k_max x step) work matrix
    for lo in range(0, x.size, step):
        xs = x[lo : lo + step][None, :]
        log_x = np.log(np.where(xs > 0, xs, 1.0))
        pmf = np.exp(-xs + i * log_x - lgam)  # P(Poisson(x) = i), rows i = 0..k_max-1
        pmf = np.where(xs > 0, pmf, (i == 0).astype(float))
        # tail[k] = P(Poisson(x) < k) = P(Erlang(k, mu) > t), with tail[0] = 0.
        tail = np.vstack([np.zeros((1, xs.shape[1])), np.cumsum(pmf, axis=0)])
        out[lo : lo + step] = q @ tail[shift : shift + len(q)]
    return out.reshape(np.shape(t)) if np.ndim(t) else out[0]


def _cdf(sf: Survival, t: float | np.ndarray) -> float | np.ndarray:
    arr = np.asarray(t, dtype=float)
    res = np.where(arr < 0, 0.0, 1.0 - sf(np.maximum(arr, 0.0)))
    return float(res) if res.ndim == 0 else res


def _quantile(sf: Survival, p: float, scale: float) -> float:
    """inf{t >= 0 : P(X <= t) >= p}, by bracketing then bisection on the survival function."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"quantile level must be in [0, 1], got {p}")
    if p == 1.0:
        return math.inf
    target = 1.0 - p
    if float(sf(0.0)) <= target:  # inside the atom at zero
        return 0.0
    lo, hi = 0.0, max(scale, 1e-12)
    while float(sf(hi)) > target:
        lo, hi = hi, hi * 2.0
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if float(sf(mid)) > target:
            lo = mid
        else:
            hi = mid
        if hi - lo <= 1e-14 * hi:
            break
    return hi
