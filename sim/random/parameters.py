"""Checks of a distribution's parameters: each error names the distribution and the parameter
(``"exponential needs mean > 0, got -1"``), for `sim.random.distributions`."""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from sim.random.spec import ALTERNATIVES, PARAMETERS


def real(dist: str, name: str, value: Any) -> float:
    """`value` as a finite float, or a ValueError naming the distribution and parameter."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{dist} needs a number for {name}, got {value!r}")
    x = float(value)
    if not math.isfinite(x):
        raise ValueError(f"{dist} needs a finite {name}, got {value!r}")
    return x


def positive(dist: str, name: str, value: Any) -> float:
    """`value` as a finite float > 0."""
    x = real(dist, name, value)
    if x <= 0:
        raise ValueError(f"{dist} needs {name} > 0, got {value!r}")
    return x


def non_negative(dist: str, name: str, value: Any) -> float:
    """`value` as a finite float >= 0."""
    x = real(dist, name, value)
    if x < 0:
        raise ValueError(f"{dist} needs {name} >= 0, got {value!r}")
    return x


def number_list(dist: str, name: str, value: Any) -> list[float]:
    """`value` as a non-empty list of finite floats."""
    if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Sequence) or not value:
        raise ValueError(f"{dist} needs a non-empty list for {name}, got {value!r}")
    return [real(dist, f"{name}[{i}]", v) for i, v in enumerate(value)]


def probabilities(dist: str, name: str, weights: list[float], must_sum_to_one: bool) -> np.ndarray:
    """Normalised probabilities from non-negative weights (not all zero)."""
    for i, w in enumerate(weights):
        if w < 0:
            raise ValueError(f"{dist} needs {name}[{i}] >= 0, got {w!r}")
    total = math.fsum(weights)
    if total <= 0:
        raise ValueError(f"{dist} needs {name} with a positive sum, got {weights!r}")
    if must_sum_to_one and abs(total - 1.0) > 1e-6:
        scaled = ", ".join(f"{w / total:.4g}" for w in weights)
        raise ValueError(
            f"{dist} needs {name} summing to 1, got a sum of {total:g} (the same proportions "
            f"summing to 1: {scaled})"
        )
    return np.asarray(weights, dtype=np.float64) / total


def cumulative(probs: np.ndarray) -> np.ndarray:
    """Cumulative table for `np.searchsorted(cdf, u, side="right")` with u in [0, 1)."""
    cdf = np.cumsum(probs)
    cdf[-1] = 1.0  # rounding must never leave a u in [cdf[-1], 1) without an index
    return cdf


def exp_or_inf(x: float) -> float:
    """``math.exp(x)``, or inf where it overflows (a moment of a heavy tail)."""
    try:
        return math.exp(x)
    except OverflowError:
        return math.inf


def check_keys(name: str, params: Mapping[str, Any]) -> None:
    """Unknown parameters, missing ones, or two alternative forms at once are errors."""
    allowed = PARAMETERS[name]
    unknown = sorted(map(str, set(params) - set(allowed)))
    if unknown:
        raise ValueError(
            f"{name} does not take {', '.join(unknown)}; its parameters are {', '.join(allowed)}"
        )
    groups = ALTERNATIVES[name]
    forms = " or ".join("(" + ", ".join(g) + ")" for g in groups)
    complete = [g for g in groups if all(k in params for k in g)]
    if not complete:
        got = ", ".join(map(str, params)) or "nothing"
        raise ValueError(f"{name} needs {forms}, got {got}")
    grouped = {k for g in groups for k in g}
    extra = sorted((set(params) & grouped) - set(complete[0]))
    if extra:
        raise ValueError(f"{name} takes {forms}, not both; remove {', '.join(extra)}")
