"""``--set`` overrides: dotted paths into the user's scenario, applied before validation.

``queues.orders.max_length=100`` sets one value; names may contain dashes (the dot is the only
separator) and list items are reached with ``faults.0.at`` or ``faults[0].at``. String values are
read as YAML (``"100"`` becomes 100, ``"2s"`` stays a string for the unit parser). Missing
mappings on the way are created, so a key absent from the file can be set, but a path never
creates a producer, queue, broker, exchange or worker pool by passing through it: that is almost
always a typo in the name, and silently adding a component would hide it. To add one, set it
whole (``queues.extra={max_length: 5}``).

Validation then checks the result like the rest of the file, so an unknown key reached by an
override is reported there, as ``--set PATH: ...``.
"""

from __future__ import annotations

import copy
import difflib
import re
from collections.abc import Mapping
from typing import Any

import yaml

from sim.scenario.errors import OVERRIDE_SOURCE, Path, Problem

# Sections whose keys are component names chosen by the user.
NAMED_SECTIONS: dict[str, str] = {
    "producers": "producer",
    "brokers": "broker",
    "queues": "queue",
    "exchanges": "exchange",
    "workers": "worker pool",
}

_INDEX = re.compile(r"^(.*?)\[(\d+)\]$")


def parse_value(value: Any) -> Any:
    """A command-line string read as YAML (``"100"`` -> 100); anything else as given."""
    if not isinstance(value, str):
        return copy.deepcopy(value)
    try:
        return yaml.safe_load(value)
    except yaml.YAMLError:
        return value  # not YAML on its own (e.g. "a: b: c"): keep the text


def split_path(text: str) -> list[str | int] | None:
    """``"faults[0].at"`` -> ``["faults", 0, "at"]``; None if a part is empty."""
    parts: list[str | int] = []
    for piece in text.split("."):
        indices: list[int] = []
        while (m := _INDEX.match(piece)) is not None:
            piece, index = m.group(1), int(m.group(2))
            indices.insert(0, index)
        if not piece and not (indices and parts):
            return None
        if piece:
            parts.append(piece)
        parts.extend(indices)
    return parts or None


def _problem(text: str, message: str) -> Problem:
    return Problem(text, None, message, OVERRIDE_SOURCE)


def _apply_one(data: dict[Any, Any], text: str, value: Any) -> Path | Problem:
    """Set one override in place; the resolved path, or a problem."""
    parts = split_path(text)
    if parts is None:
        return _problem(text, "not a valid path (expected dotted keys, e.g. run.seed)")
    current: Any = data
    path: list[Any] = []
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        if isinstance(current, dict):
            key: Any = part
            if isinstance(part, str) and part not in current and part.isdigit():
                key = int(part) if int(part) in current else part
            if last:
                current[key] = value
                return (*path, key)
            child = current.get(key)
            if not isinstance(child, dict | list):
                if len(path) == 1 and path[0] in NAMED_SECTIONS and key not in current:
                    return _problem(text, _no_such_name(path[0], str(key), current))
                if child is not None:
                    shown = ".".join(str(p) for p in (*path, key))
                    return _problem(text, f"{shown} is {child!r}, not a mapping")
                current[key] = child = {}
            current, path = child, [*path, key]
        elif isinstance(current, list):
            index = int(part) if isinstance(part, int) or part.isdigit() else None
            if index is None or index >= len(current):
                shown = ".".join(str(p) for p in path)
                return _problem(
                    text, f"{shown} is a list of {len(current)} items; {part} is not an index"
                )
            if last:
                current[index] = value
                return (*path, index)
            current, path = current[index], [*path, index]
        else:  # pragma: no cover - scalars are caught before descending
            return _problem(text, "cannot descend into a plain value")
    raise AssertionError("unreachable")


def _no_such_name(section: str, name: str, existing: Mapping[Any, Any]) -> str:
    what = NAMED_SECTIONS[section]
    names = [str(n) for n in existing]
    close = difflib.get_close_matches(name, names, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    known = f" (known: {', '.join(names)})" if names else ""
    return (
        f"no {what} named {name!r}{hint}{known}; to add one, set it whole: "
        f"--set {section}.{name}={{...}}"
    )


def apply_overrides(
    raw: dict[Any, Any], overrides: Mapping[str, Any] | None
) -> tuple[dict[Any, Any], set[Path], list[Problem]]:
    """A copy of ``raw`` with the overrides set: (data, paths set by overrides, problems)."""
    data = copy.deepcopy(raw)
    touched: set[Path] = set()
    problems: list[Problem] = []
    for text, value in (overrides or {}).items():
        if not isinstance(text, str):
            problems.append(_problem(repr(text), "an override path must be a string"))
            continue
        result = _apply_one(data, text.strip(), parse_value(value))
        if isinstance(result, Problem):
            problems.append(result)
        else:
            touched.add(result)
    return data, touched, problems
