"""The validation context and the small checkers every section is built from.

A checker takes ``(ctx, value, path)`` and returns the resolved value, or ``INVALID`` after
recording a problem; it never raises, so validation goes on and reports every problem at once.
A checker is named after the value it accepts (``whole``, ``number``, ``duration``, ``rate``,
``text``), so a section reads as its schema: ``duration(0.0)`` is "a duration of 0 or more".
Printing a value for people is `sim.format`'s (``show_number``, ``show_duration``).
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Callable, Collection, Iterable, Mapping
from pathlib import Path as FsPath
from typing import Any

import yaml

from sim.scenario.errors import OVERRIDE_SOURCE, Path, Problem, format_path
from sim.scenario.units import parse_duration, parse_rate


class _Invalid:
    """Marker for a value that failed its check (None is a legitimate value: YAML null)."""

    _instance: _Invalid | None = None

    def __new__(cls) -> _Invalid:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "INVALID"

    def __bool__(self) -> bool:
        return False


INVALID: Any = _Invalid()
REQUIRED: Any = object()  # default marker: the key must be given

Checker = Callable[["Ctx", Any, Path], Any]


def show(value: Any) -> str:
    """A value as the user wrote it in YAML, shortened: 'abc', true, null, 3, [a, b]."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | dict):
        try:
            text = yaml.safe_dump(value, default_flow_style=True, width=10_000).strip()
            text = text.removesuffix("...").strip()
        except yaml.YAMLError:
            text = str(value)
    else:
        text = repr(value) if isinstance(value, str) else str(value)
    return text if len(text) <= 60 else text[:57] + "..."


def suggest(word: object, choices: Iterable[object]) -> str:
    """``"; did you mean 'x'?"`` for the closest choice (or one it abbreviates), or ``""``."""
    options = [str(c) for c in choices]
    close = difflib.get_close_matches(str(word), options, n=1, cutoff=0.6)
    if not close and len(str(word)) >= 3:
        close = [o for o in options if o.startswith(str(word))][:1]
    return f"; did you mean {close[0]!r}?" if close else ""


class Ctx:
    """Where problems go, and how a path is traced back to a line or to an override."""

    def __init__(
        self,
        lines: Mapping[Path, int] | None = None,
        overridden: Collection[Path] = (),
        source: str | None = None,
        base_dir: FsPath | None = None,
    ) -> None:
        self.lines = dict(lines or {})
        self.overridden = set(overridden)
        self.source = source
        self.base_dir = base_dir or FsPath.cwd()
        self.problems: list[Problem] = []
        # Arrival processes built while checking, by `arrival_key` of their resolved spec: the
        # estimates of the run defaults and the warnings reuse them (a trace is read once).
        self.arrivals: dict[str, Any] = {}

    def error(self, path: Path, message: str) -> Any:
        """Record a problem at ``path``; returns INVALID, so ``return ctx.error(...)`` works."""
        if self.from_override(path):
            self.problems.append(Problem(format_path(path), None, message, OVERRIDE_SOURCE))
            return INVALID
        line = None
        for n in range(len(path), -1, -1):  # a missing key: the line of its parent
            if path[:n] in self.lines:
                line = self.lines[path[:n]]
                break
        self.problems.append(Problem(format_path(path), line, message, self.source))
        return INVALID

    def from_override(self, path: Path) -> bool:
        """Whether ``path`` was set by an override, or created on the way to one."""
        if any(path[:n] in self.overridden for n in range(len(path) + 1)):
            return True
        created = bool(self.lines) and path not in self.lines
        return created and any(p[: len(path)] == path for p in self.overridden)

    def mapping(
        self,
        value: Any,
        path: Path,
        allowed: Iterable[str] | None,
        what: str = "a mapping",
        shown: str | None = None,
    ) -> dict[Any, Any] | Any:
        """``value`` as a dict whose keys are all in ``allowed`` (unknown keys are problems;
        None allows any key; ``shown`` replaces the list of allowed keys in messages). Null is
        an empty mapping."""
        if value is None:
            value = {}  # `run:` with nothing under it is an empty mapping
        if not isinstance(value, dict):
            return self.error(path, f"must be {what}, got {show(value)}")
        if allowed is None:
            return value
        allowed = list(allowed)
        for key in value:
            if key not in allowed:
                self.error(
                    (*path, key),
                    f"unknown key {show(key)}{suggest(key, allowed)} "
                    f"(allowed: {shown or ', '.join(allowed)})",
                )
        return value

    def field(
        self, m: Mapping[Any, Any], path: Path, key: str, check: Checker, default: Any = REQUIRED
    ) -> Any:
        """Check ``m[key]``; absent or null keys take ``default`` (or are required)."""
        value = m.get(key)
        if value is None and key in m and default is None:
            return None
        if key not in m:
            if default is REQUIRED:
                return self.error(path, f"missing required key {key!r}")
            return default
        return check(self, value, (*path, key))


# --- checkers -------------------------------------------------------------------------------


def _bound_text(minimum: float | None, exclusive: bool, maximum: float | None) -> str:
    parts = []
    if minimum is not None:
        parts.append(f"{'>' if exclusive else '>='} {minimum:g}")
    if maximum is not None:
        parts.append(f"<= {maximum:g}")
    return " and ".join(parts)


def _must(
    kind: str, minimum: float | None, exclusive: bool, maximum: float | None, value: Any
) -> str:
    bound = _bound_text(minimum, exclusive, maximum)
    return f"must be {kind}{' ' + bound if bound else ''}, got {show(value)}"


def _in_bounds(x: float, minimum: float | None, exclusive: bool, maximum: float | None) -> bool:
    if minimum is not None and (x <= minimum if exclusive else x < minimum):
        return False
    return maximum is None or x <= maximum


def whole(minimum: int | None = None, maximum: int | None = None) -> Checker:
    """A whole number (3 or 3.0, never true/false) within bounds."""

    def check(ctx: Ctx, value: Any, path: Path) -> Any:
        ok = not isinstance(value, bool) and (
            isinstance(value, int) or (isinstance(value, float) and value.is_integer())
        )
        if not ok or not _in_bounds(value, minimum, False, maximum):
            return ctx.error(path, _must("a whole number", minimum, False, maximum, value))
        return int(value)

    return check


def number(
    minimum: float | None = None, maximum: float | None = None, exclusive: bool = False
) -> Checker:
    """A finite number within bounds, as float."""

    def check(ctx: Ctx, value: Any, path: Path) -> Any:
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        if not ok or not math.isfinite(value) or not _in_bounds(value, minimum, exclusive, maximum):
            return ctx.error(path, _must("a number", minimum, exclusive, maximum, value))
        return float(value)

    return check


def _unit_checker(parse: Callable[[Any], float], what: str, example: str) -> Callable[..., Checker]:
    def factory(minimum: float = 0.0, exclusive: bool = False) -> Checker:
        def check(ctx: Ctx, value: Any, path: Path) -> Any:
            if not isinstance(value, str | int | float) or isinstance(value, bool):
                return ctx.error(path, f"must be a {what} ({example}), got {show(value)}")
            try:
                x = parse(value)
            except ValueError as exc:
                return ctx.error(path, str(exc))
            if not _in_bounds(x, minimum, exclusive, None):
                return ctx.error(path, _must(f"a {what}", minimum, exclusive, None, value))
            return x

        return check

    factory.__doc__ = f"A {what} ({example}) as float, at least ``minimum``."
    return factory


duration = _unit_checker(parse_duration, "duration", "seconds, or a string such as '20ms'")
rate = _unit_checker(parse_rate, "rate", "per second, or a string such as '300/m'")


def boolean(ctx: Ctx, value: Any, path: Path) -> Any:
    """true or false."""
    if not isinstance(value, bool):
        return ctx.error(path, f"must be true or false, got {show(value)}")
    return value


def text(ctx: Ctx, value: Any, path: Path) -> Any:
    """A non-empty string."""
    if not isinstance(value, str) or not value:
        return ctx.error(path, f"must be a non-empty string, got {show(value)}")
    return value


def one_of(*choices: str) -> Checker:
    """One of a fixed set of words, with a suggestion for a near miss."""

    def check(ctx: Ctx, value: Any, path: Path) -> Any:
        if value not in choices or isinstance(value, bool):
            return ctx.error(
                path,
                f"must be one of {', '.join(choices)}, got {show(value)}{suggest(value, choices)}",
            )
        return value

    return check


def nullable(check: Checker) -> Checker:
    """``check``, or null."""

    def wrapped(ctx: Ctx, value: Any, path: Path) -> Any:
        return None if value is None else check(ctx, value, path)

    return wrapped


def list_of(item: Checker, length: int | None = None, min_length: int = 1) -> Checker:
    """A list of items each passing ``item`` (of a fixed length if given)."""

    def check(ctx: Ctx, value: Any, path: Path) -> Any:
        if not isinstance(value, list):
            return ctx.error(path, f"must be a list, got {show(value)}")
        if length is not None and len(value) != length:
            return ctx.error(path, f"must be a list of {length} items, got {len(value)}")
        if len(value) < min_length:
            return ctx.error(path, f"must be a list of at least {min_length} item(s)")
        items = [item(ctx, v, (*path, i)) for i, v in enumerate(value)]
        return INVALID if any(v is INVALID for v in items) else items

    return check


def existing_file(ctx: Ctx, value: Any, path: Path) -> Any:
    """A file path, relative to the scenario's folder, that exists; resolved to absolute."""
    if not isinstance(value, str) or not value:
        return ctx.error(path, f"must be a file path, got {show(value)}")
    full = (ctx.base_dir / FsPath(value).expanduser()).resolve()
    if not full.is_file():
        return ctx.error(path, f"file not found: {full}")
    return str(full)
