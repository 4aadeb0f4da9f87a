"""Parameter grids and design variants: ``KEY=v1,v2,...`` from the command line, checked.

Each value is read as YAML, as ``--set`` reads it (``4`` is a number, ``2s`` a duration
string, ``{dist: exponential, mean: 1}`` a mapping); commas inside brackets, braces or quotes
do not split. Every point of a grid is validated before anything runs, and a problem names
the ``--param`` (or ``--vary``) it came from.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from typing import Any

from sim.format import yaml_value
from sim.scenario import Scenario, ScenarioError
from sim.scenario.errors import Problem
from sim.scenario.overrides import parse_value


def split_values(text: str) -> list[str]:
    """``"1,2,{a: 1, b: 2}"`` -> ``["1", "2", "{a: 1, b: 2}"]``."""
    parts: list[str] = []
    current: list[str] = []
    depth, quote = 0, ""
    for char in text:
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char in "[{(":
            depth += 1
        elif char in "]})":
            depth -= 1
        elif char == "," and depth == 0:
            parts.append("".join(current).strip())
            current = []
            continue
        current.append(char)
    parts.append("".join(current).strip())
    return parts


def parse(option: str, text: str) -> tuple[str, list[Any]]:
    """``(key, values)`` of ``KEY=v1,v2,...``; ScenarioError naming ``option`` when malformed."""
    key, sep, values = text.partition("=")
    key = key.strip()
    raw = split_values(values) if sep else []
    if not sep or not key or not values.strip() or any(v == "" for v in raw):
        raise ScenarioError([Problem("", None, f"{option} {text}: expected KEY=v1,v2,..., "
                                     "e.g. workers.order-service.count=1,2,4")])
    parsed = [parse_value(v) for v in raw]
    if len({repr(v) for v in parsed}) != len(parsed):
        raise ScenarioError([Problem("", None, f"{option} {text}: a value is repeated")])
    return key, parsed


def points(grid: Mapping[str, Sequence[Any]]) -> list[dict[str, Any]]:
    """Every combination of the grid's values, the first key varying slowest."""
    keys = list(grid)
    for key in keys:
        if isinstance(grid[key], (str, bytes)) or not isinstance(grid[key], Sequence):
            raise ValueError(f"the values of {key!r} must be a list, got {grid[key]!r}")
        if not grid[key]:
            raise ValueError(f"{key!r} has no values")
    return [dict(zip(keys, combo, strict=True))
            for combo in itertools.product(*(grid[k] for k in keys))]


def apply(scenario: Scenario, point: Mapping[str, Any], option: str = "--param") -> Scenario:
    """``scenario`` with the point's values set, validated; problems name ``option``."""
    try:
        return scenario.with_overrides(dict(point))
    except ScenarioError as error:
        shown = " ".join(f"{k}={v}" for k, v in point.items())
        problems = [
            Problem("", None, f"{option} {shown}: {p.path + ': ' if p.path else ''}{p.message}")
            for p in error.problems
        ]
        raise ScenarioError(problems) from None


def describe(point: Mapping[str, Any]) -> str:
    """``count=4 prefetch=1``: each key's last part and its value."""
    return " ".join(f"{str(k).split('.')[-1]}={_show(v)}" for k, v in point.items())


def _show(value: Any) -> str:
    return yaml_value(value)  # as the user wrote it: true, not True
