"""Component names: one namespace across producers, queues, exchanges, workers and brokers,
so a reference such as ``publish: orders`` is never ambiguous; and the checkers of references.
"""

from __future__ import annotations

from typing import Any

from sim.scenario.checks import Checker, Ctx, show, suggest
from sim.scenario.errors import Path, format_path
from sim.scenario.overrides import NAMED_SECTIONS

_FORBIDDEN = ".[]"  # `.` separates --set paths; brackets index lists there


class Names:
    """Which section each name belongs to."""

    def __init__(self) -> None:
        self.section_of: dict[str, str] = {}
        self.bad: set[tuple[str, Any]] = set()  # (section, name) of names that are not usable

    def add(self, name: str, section: str) -> None:
        self.section_of[name] = section

    def in_sections(self, *sections: str) -> list[str]:
        return [n for n, s in self.section_of.items() if s in sections]


def collect(ctx: Ctx, top: dict[Any, Any]) -> Names:
    """Register every component name, reporting bad names and names used twice."""
    names = Names()
    first_path: dict[str, Path] = {}
    for section in top:  # in file order, so the later duplicate is the one reported
        if section not in NAMED_SECTIONS or not isinstance(top[section], dict):
            continue
        for name in top[section]:
            path = (section, name)
            if not isinstance(name, str) or not name:
                hint = " (YAML reads yes/no/on/off as true/false: quote it)"
                hint = hint if isinstance(name, bool) else ""
                ctx.error(path, f"a name must be a non-empty string, got {show(name)}{hint}")
                continue
            if any(c in name for c in _FORBIDDEN):
                ctx.error(path, "a name may not contain '.', '[' or ']' (--set paths use them)")
                continue
            if name in first_path:
                ctx.error(
                    path,
                    f"name {name!r} is already used by {format_path(first_path[name])} (names are "
                    "shared by producers, queues, exchanges, workers and brokers)",
                )
                continue
            first_path[name] = path
            names.add(name, section)
    return names


def _a(what: str) -> str:
    """``what`` with its article: "a queue", "an exchange"."""
    return ("an " if what[0] in "aeiou" else "a ") + what


def reference(names: Names, *sections: str) -> Checker:
    """Checker: the name of a component in one of ``sections``."""
    wanted = " or ".join(NAMED_SECTIONS[s] for s in sections)

    def check(ctx: Ctx, value: Any, path: Path) -> Any:
        if not isinstance(value, str):
            return ctx.error(path, f"must be the name of {_a(wanted)}, got {show(value)}")
        owner = names.section_of.get(value)
        if owner in sections:
            return value
        if owner is not None:
            return ctx.error(path, f"{value!r} is {_a(NAMED_SECTIONS[owner])}, not {_a(wanted)}")
        known = names.in_sections(*sections)
        listed = f" (known: {', '.join(known)})" if known else f" (there is no {wanted})"
        return ctx.error(path, f"no {wanted} named {value!r}{suggest(value, known)}{listed}")

    return check
