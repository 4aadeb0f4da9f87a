"""`Scenario`: a validated scenario with every default resolved, and how it was made."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from sim.scenario.checks import Ctx
from sim.scenario.errors import OVERRIDE_SOURCE, Problem, ScenarioError
from sim.scenario.errors import Path as YamlPath
from sim.scenario.overrides import apply_overrides
from sim.scenario.validate import resolve
from sim.scenario.warnings import compute as compute_warnings
from sim.scenario.yaml_lines import Lines

if TYPE_CHECKING:
    from sim.scenario.specs import ModelSpec


@dataclass(frozen=True, eq=False)
class Scenario:
    """A valid scenario.

    ``data`` is the resolved plain dict (docs/architecture.md, "The resolved scenario"), ``raw``
    the user's dict after overrides, ``source`` the file it came from (None for a dict),
    ``base_dir`` the folder relative paths are resolved against, ``overrides`` those applied,
    ``warnings`` what is valid but suspicious (`sim.scenario.warnings`: one line each, starting
    with the YAML path it is about), computed from ``data``; ``spec`` is ``data`` typed for
    the model.
    """

    data: dict[str, Any]
    raw: dict[str, Any]
    source: str | None
    base_dir: Path
    overrides: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    _original: Any = field(default=None, repr=False)  # the file's data, before overrides
    _lines: Lines = field(default_factory=dict, repr=False)

    @cached_property
    def spec(self) -> ModelSpec:
        """The typed spec the model is built from (`sim.scenario.specs`), made once."""
        # Imported here: defining its dataclasses costs more than the rest of validate's
        # scenario layer, and only a run needs them.
        from sim.scenario.specs import model_spec

        return model_spec(self.data)

    @property
    def name(self) -> str:
        return self.data["name"]

    @property
    def seed(self) -> int:
        return self.data["run"]["seed"]

    @property
    def replications(self) -> int:
        return self.data["run"]["replications"]

    @property
    def duration(self) -> float | None:
        return self.data["run"]["duration"]

    @property
    def messages(self) -> int | None:
        return self.data["run"]["messages"]

    def to_yaml(self) -> str:
        """The resolved scenario as YAML, in the order of the format (results' scenario.yaml)."""
        return yaml.safe_dump(self.data, sort_keys=False, allow_unicode=True)

    def problem(self, path: tuple[Any, ...], message: str) -> ScenarioError:
        """An error about this scenario found while running it (a custom router's answer),
        located like a validation problem: its YAML path and line."""
        ctx = Ctx(self._lines, set(), self.source, self.base_dir)
        ctx.error(path, message)
        return ScenarioError(ctx.problems)

    def with_overrides(self, overrides: dict[str, Any]) -> Scenario:
        """A new scenario with more overrides on top of this one's, validated again."""
        merged = {**self.overrides, **overrides}
        return build(self._original, self._lines, self.source, self.base_dir, merged)


def build(
    original: Any,
    lines: Lines,
    source: str | None,
    base_dir: Path,
    overrides: dict[str, Any] | None,
    problems: list[Problem] | None = None,
) -> Scenario:
    """Apply overrides, validate and resolve; ScenarioError with every problem found."""
    found = list(problems or [])
    raw, touched = original, set[YamlPath]()
    if isinstance(original, dict):
        raw, touched, override_problems = apply_overrides(original, overrides)
        found = override_problems + found
    ctx = Ctx(lines, touched, source, base_dir)
    data = resolve(raw, ctx)
    found += ctx.problems
    if found or data is None:
        unique = list(dict.fromkeys(found))  # the same problem found twice is reported once
        # Overrides first (they have no line), then the file's problems in line order.
        unique.sort(key=lambda p: (p.source != OVERRIDE_SOURCE, p.line or 0))
        raise ScenarioError(unique or [Problem("", None, "invalid scenario", source)])
    return Scenario(
        data=data,
        raw=raw,
        source=source,
        base_dir=base_dir,
        overrides=dict(overrides or {}),
        warnings=compute_warnings(data, ctx.arrivals),
        _original=copy.deepcopy(original),
        _lines=lines,
    )
