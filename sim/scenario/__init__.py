"""Scenario files: load, validate (every problem, with YAML path and line), resolve defaults.

`load(path, overrides)` is what the CLI and `sim.load` call; `loads` and `from_dict` serve tests
and notebooks. The result is a `Scenario` whose ``data`` is the resolved plain dict the model
is built from; anything invalid raises `ScenarioError` listing every problem found.

Choices made here (docs/scenario-reference.md states them): with both ``run.duration`` and
``run.messages``, publishing stops at whichever comes first; the implicit broker is named
``default`` unless a component already has that name (then ``default-broker``); an override never
creates a component by passing through its name (a typo), only by setting it whole
(``queues.extra={...}``); problems in values that came from overrides are reported as
``--set PATH: ...`` (no line), including for ``overrides=`` given in Python. Features specified
but not implemented yet are refused by the table in `sim.scenario.not_yet`. `Scenario.warnings`
lists what is valid but suspicious (`sim.scenario.warnings`).
"""

from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Any

from sim.scenario.errors import Problem, ScenarioError
from sim.scenario.resolved import Scenario, build
from sim.scenario.units import parse_duration, parse_rate
from sim.scenario.yaml_lines import load_yaml

__all__ = [
    "Problem",
    "Scenario",
    "ScenarioError",
    "from_dict",
    "load",
    "loads",
    "parse_duration",
    "parse_rate",
]


def _read(path: Path, source: str) -> str:
    """The file's text, or ScenarioError saying why it cannot be read."""
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        message = "file not found"
    except IsADirectoryError:
        message = "is a folder, not a scenario file"
    except PermissionError:
        message = "cannot read the file: permission denied"
    except UnicodeDecodeError as exc:
        message = f"not UTF-8 text ({exc.reason} at byte {exc.start})"
    except OSError as exc:
        message = f"cannot read the file: {exc.strerror or exc}"
    raise ScenarioError([Problem("", None, message, source)])


def load(path: str | os.PathLike[str], overrides: dict[str, Any] | None = None) -> Scenario:
    """Read, override, validate and resolve a scenario file."""
    source = os.fspath(path)
    text = _read(Path(path), source)
    return loads(text, Path(path).resolve().parent, overrides, source)


def loads(
    text: str,
    base_dir: str | os.PathLike[str] = ".",
    overrides: dict[str, Any] | None = None,
    source: str = "<string>",
) -> Scenario:
    """A scenario from YAML text; relative file paths are resolved against ``base_dir``."""
    data, lines, problems = load_yaml(text, source)
    if data is None and problems:
        raise ScenarioError(problems)  # a syntax error: nothing to validate
    return build(data, lines, source, Path(base_dir).resolve(), overrides, problems)


def from_dict(
    data: dict[str, Any],
    base_dir: str | os.PathLike[str] = ".",
    overrides: dict[str, Any] | None = None,
) -> Scenario:
    """A scenario from an already-parsed dict (no line numbers)."""
    return build(copy.deepcopy(data), {}, None, Path(base_dir).resolve(), overrides)
