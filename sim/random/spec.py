"""The parameters each distribution takes, and what kind of value each one is.

Shared by the scenario layer (which checks keys and converts units before anything is built)
and by `sim.random.distributions` (which builds the samplers). Kinds:

- ``time``: a duration (a number of seconds or a string with a unit, e.g. ``"20ms"``)
- ``rate``: per second (a number or a string such as ``"300/m"``)
- ``number``: a plain float; ``int``: a whole number
- ``time_list`` / ``number_list``: lists of those
- ``file``: a path to a one-column CSV, relative to the scenario's folder
- ``components``: a list of ``{weight: W, dist: ..., ...}`` mappings (``mixture``)
"""

from __future__ import annotations

PARAMETERS: dict[str, dict[str, str]] = {
    "constant": {"value": "time"},
    "exponential": {"mean": "time", "rate": "rate"},
    "uniform": {"low": "time", "high": "time"},
    "normal": {"mean": "time", "sd": "time"},
    "lognormal": {"mean": "time", "cv": "number", "mu": "number", "sigma": "number"},
    "gamma": {"mean": "time", "cv": "number", "shape": "number", "scale": "time"},
    "erlang": {"k": "int", "mean": "time"},
    "weibull": {"shape": "number", "scale": "time"},
    "pareto": {"alpha": "number", "min": "time", "max": "time"},
    "hyperexponential": {"probs": "number_list", "means": "time_list"},
    "empirical": {"values": "time_list", "file": "file"},
    "mixture": {"components": "components"},
}

# Exactly one of these groups of parameters must be given (the others are optional).
ALTERNATIVES: dict[str, list[tuple[str, ...]]] = {
    "constant": [("value",)],
    "exponential": [("mean",), ("rate",)],
    "uniform": [("low", "high")],
    "normal": [("mean", "sd")],
    "lognormal": [("mean", "cv"), ("mu", "sigma")],
    "gamma": [("mean", "cv"), ("shape", "scale")],
    "erlang": [("k", "mean")],
    "weibull": [("shape", "scale")],
    "pareto": [("alpha", "min")],
    "hyperexponential": [("probs", "means")],
    "empirical": [("values",), ("file",)],
    "mixture": [("components",)],
}
