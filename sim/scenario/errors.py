"""Problems found in a scenario, and the one exception that carries all of them.

Validation collects every problem it can find before raising, so a user fixes a scenario in one
pass instead of one error at a time. Each problem names the YAML path and, where known, the line.
"""

from __future__ import annotations

from dataclasses import dataclass

# A path into the scenario: mapping keys (usually str) and list indices (int).
Path = tuple[object, ...]

# The source of a value that came from an override (`--set` on the command line, or
# `overrides=` in Python) rather than from the file: such values have no line.
OVERRIDE_SOURCE = "--set"


def format_path(path: Path) -> str:
    """Render a path as users write it: ``queues.orders.max_length``, ``faults[0].at``."""
    out = ""
    for part in path:
        if isinstance(part, int) and not isinstance(part, bool):
            out += f"[{part}]"
        else:
            if isinstance(part, bool) or part is None:  # as YAML spells them
                part = "null" if part is None else "true" if part else "false"
            out += ("." if out else "") + str(part)
    return out


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a scenario: where it is and what is wrong."""

    path: str
    line: int | None
    message: str
    source: str | None = None

    def __str__(self) -> str:
        where = ""
        if self.source:
            where = self.source + (f":{self.line}" if self.line is not None else "")
        elif self.line is not None:
            where = f"line {self.line}"
        if where and self.path and self.source == OVERRIDE_SOURCE:
            # `--set queues.orders.max_length: ...` reads like the command the user typed.
            return f"{where} {self.path}: {self.message}"
        parts = [p for p in (where, self.path) if p]
        return ": ".join([*parts, self.message])


class ScenarioError(ValueError):
    """A scenario is invalid; ``problems`` lists every problem found, ``str()`` one per line."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))
