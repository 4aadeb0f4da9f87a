"""Load YAML into plain Python values while remembering the line of every path.

PyYAML's constructors forget where values came from, so we compose the node tree ourselves and
walk it, recording ``path -> line`` (1-based) for each mapping entry and list item. Mapping
entries take the line of their key, which is where a user looks for ``max_length:``. Duplicate
keys, which PyYAML would silently collapse to the last one, are reported as problems.
"""

from __future__ import annotations

from typing import Any

import yaml

from sim.scenario.errors import Path, Problem, format_path

Lines = dict[Path, int]


class _Walker:
    """Builds values from a composed node tree and records lines by path."""

    def __init__(self, loader: yaml.SafeLoader, source: str | None) -> None:
        self.loader = loader
        self.source = source
        self.lines: Lines = {}
        self.problems: list[Problem] = []
        self._active: set[int] = set()  # nodes being built, to stop on recursive aliases

    def problem(self, path: Path, node: yaml.Node, message: str) -> None:
        self.problems.append(
            Problem(format_path(path), node.start_mark.line + 1, message, self.source)
        )

    def build(self, node: yaml.Node, path: Path) -> Any:
        if id(node) in self._active:
            self.problem(path, node, "a recursive alias (an anchor used inside itself)")
            return None
        if isinstance(node, yaml.MappingNode):
            self._active.add(id(node))
            try:
                return self._mapping(node, path)
            finally:
                self._active.discard(id(node))
        if isinstance(node, yaml.SequenceNode):
            self._active.add(id(node))
            try:
                items = []
                for i, item in enumerate(node.value):
                    self.lines[(*path, i)] = item.start_mark.line + 1
                    items.append(self.build(item, (*path, i)))
                return items
            finally:
                self._active.discard(id(node))
        return self.loader.construct_object(node, deep=True)

    def _mapping(self, node: yaml.MappingNode, path: Path) -> dict[Any, Any]:
        self.loader.flatten_mapping(node)  # resolves `<<: *anchor` merge keys
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                self.problem(path, key_node, "a mapping key must be a plain value")
                continue
            key = self.loader.construct_object(key_node, deep=True)
            if key in result:
                self.problem((*path, key), key_node, f"duplicate key {key!r}")
                continue
            self.lines[(*path, key)] = key_node.start_mark.line + 1
            result[key] = self.build(value_node, (*path, key))
        return result


def load_yaml(text: str, source: str | None) -> tuple[Any, Lines, list[Problem]]:
    """Parse one YAML document: (value, lines by path, problems). A syntax error is a problem
    with its line; the value is then None."""
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, {(): 1}, []
        walker = _Walker(loader, source)
        walker.lines[()] = node.start_mark.line + 1
        value = walker.build(node, ())
        return value, walker.lines, walker.problems
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        context = exc.context
        if context and exc.context_mark is not None and exc.context_mark.line + 1 != line:
            context += f" started on line {exc.context_mark.line + 1}"
        what = ": ".join(p for p in (context, exc.problem) if p)
        return None, {}, [Problem("", line, f"YAML syntax error: {what}", source)]
    except yaml.YAMLError as exc:
        return None, {}, [Problem("", None, f"YAML error: {exc}", source)]
    finally:
        loader.dispose()
