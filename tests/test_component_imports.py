"""The model's modules form no import cycle, counting imports made only for type checking.

The contracts (`sim.model.contracts`) are what lets a module name another's interface
without importing it: a cycle here means a room reaches into another's implementation.
"""

from __future__ import annotations

import ast
from pathlib import Path

MODEL = Path(__file__).resolve().parent.parent / "sim" / "model"


def imports_of(path: Path) -> set[str]:
    """The sim.model modules a file imports, under TYPE_CHECKING or not."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith(
                "sim.model"):
            if node.module == "sim.model":
                found |= {f"sim.model.{alias.name}" for alias in node.names}
            else:
                found.add(node.module)
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("sim.model.")}
    return found - {f"sim.model.{path.stem}"}


def graph() -> dict[str, set[str]]:
    return {f"sim.model.{p.stem}": imports_of(p) for p in sorted(MODEL.glob("*.py"))}


def reachable(edges: dict[str, set[str]], start: str) -> set[str]:
    seen: set[str] = set()
    todo = list(edges.get(start, ()))
    while todo:
        node = todo.pop()
        if node not in seen:
            seen.add(node)
            todo.extend(edges.get(node, ()))
    return seen


def test_the_checker_sees_a_cycle():
    edges = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert [n for n in sorted(edges) if n in reachable(edges, n)] == ["a", "b", "c"]


def test_no_module_of_the_model_reaches_itself_through_its_imports():
    edges = graph()
    assert len(edges) > 20  # every module was read
    assert "sim.model.contracts" in edges["sim.model.queue"]  # type-only imports are counted
    cyclic = [name for name in edges if name in reachable(edges, name)]
    assert cyclic == []


def test_no_module_of_the_model_is_over_500_lines():
    lengths = {p.name: len(p.read_text().splitlines()) for p in MODEL.glob("*.py")}
    assert {name: n for name, n in lengths.items() if n > 500} == {}
