"""The shape of sim/ as code: its import graph has no cycle, no module is too long to read,
and the type checker is clean.

The import graph is read with `ast`, not by importing: an edge is an import a module makes
when it is loaded (at module level, in a class body, under ``if TYPE_CHECKING:`` or in a
``try``), since each of those is a dependency a reader must follow; an import inside a
function is a deliberate lazy dependency and is not an edge. ``from sim.x import y`` is an
edge to ``sim.x.y`` when that is a module, else to ``sim.x``. A package's ``__init__`` running
first is not counted as an edge: it is how Python loads a package, not a design choice.

``python tests/test_architecture.py`` prints the cycles (or "no cycles"), the longest modules
and the counts.
"""

from __future__ import annotations

import ast
import importlib.util
import subprocess
import sys
from collections.abc import Iterable, Iterator
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SIM = ROOT / "sim"
MAX_LINES = 500
MODEL = "sim.model"  # restructured on the `model` branch (issue 14, part A)
CLI = "sim.cli"  # split on the `cli` branch (issue 14, part B)

Graph = dict[str, set[str]]


def module_name(path: Path, root: Path = ROOT) -> str:
    """``sim/metrics/summary.py`` -> ``sim.metrics.summary``; a package's ``__init__`` is
    the package."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


@cache
def modules(root: Path = ROOT) -> dict[str, Path]:
    """Every module of ``root``/sim, by dotted name."""
    return {module_name(p, root): p for p in sorted((root / "sim").rglob("*.py"))}


def _load_time_imports(body: Iterable[ast.AST]) -> Iterator[ast.Import | ast.ImportFrom]:
    """The imports a module runs when it is loaded: all but those inside a function."""
    for node in body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue  # a lazy import: not an edge
        elif isinstance(node, (ast.stmt, ast.ExceptHandler, ast.match_case)):
            # if/else (TYPE_CHECKING), try/except, with, class bodies, match cases
            yield from _load_time_imports(ast.iter_child_nodes(node))


def _targets(
    module: str, node: ast.Import | ast.ImportFrom, known: dict[str, Path]
) -> Iterator[str]:
    """The sim modules an import statement loads (other libraries are left out)."""
    if isinstance(node, ast.Import):
        yield from (alias.name for alias in node.names if alias.name in known)
        return
    if node.level:  # relative: from the module's own package, up level - 1 more
        parts = module.split(".")
        package = parts if known[module].name == "__init__.py" else parts[:-1]
        base = ".".join(package[: len(package) - (node.level - 1)])
        source = f"{base}.{node.module}" if node.module else base
    else:
        source = node.module or ""
    if source not in known:
        return
    for alias in node.names:
        sub = f"{source}.{alias.name}"
        yield sub if sub in known else source


@cache
def import_graph(root: Path = ROOT) -> Graph:
    """``{module: the sim modules it imports when loaded}`` over ``root``/sim."""
    known = modules(root)
    graph: Graph = {}
    for name, path in known.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        graph[name] = {
            target
            for node in _load_time_imports(tree.body)
            for target in _targets(name, node, known)
            if target != name
        }
    return graph


def package_of(module: str) -> str:
    """The unit a module belongs to: its subpackage of sim (``sim.metrics``), or itself for a
    module directly in sim (``sim.engine``)."""
    parts = module.split(".")
    return ".".join(parts[:2])


def package_graph(graph: Graph) -> Graph:
    """The module graph collapsed onto sim's subpackages and top-level modules."""
    out: Graph = {}
    for source, targets in graph.items():
        mine = package_of(source)
        out.setdefault(mine, set()).update(
            package_of(t) for t in targets if package_of(t) != mine
        )
    return out


def subgraph(graph: Graph, keep: Iterable[str]) -> Graph:
    kept = set(keep)
    return {m: {t for t in graph[m] if t in kept} for m in graph if m in kept}


def cycles(graph: Graph) -> list[list[str]]:
    """The graph's strongly connected components with more than one node (each one or more
    cycles), each sorted, largest first (Tarjan's algorithm, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[list[str]] = []
    counter = 0
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return sorted(found, key=lambda c: (-len(c), c))


def line_counts() -> dict[str, int]:
    return {
        name: len(path.read_text(encoding="utf-8").splitlines())
        for name, path in modules().items()
    }


def _in(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


# --------------------------------------------------------------------------- the graph itself


def test_graph_reads_every_kind_of_edge(tmp_path: Path) -> None:
    """The reader counts module-level, class-body, TYPE_CHECKING and try imports, resolves
    ``from package import module`` and relative imports, and skips function-level ones."""
    pkg = tmp_path / "sim"
    (pkg / "p").mkdir(parents=True)
    files = {
        "__init__.py": "",
        "a.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from sim.b import X\n",
        "b.py": "import sim.c\nclass K:\n    from sim import d\n",
        "c.py": "try:\n    from .p import e\nexcept ImportError:\n    pass\n",
        "d.py": "def f():\n    import sim.a\n",
        "p/__init__.py": "from . import e\n",
        "p/e.py": "from ..a import something\nimport numpy\n",
    }
    for name, text in files.items():
        (pkg / name).write_text(text)
    graph = import_graph(tmp_path)
    assert graph == {
        "sim": set(),
        "sim.a": {"sim.b"},
        "sim.b": {"sim.c", "sim.d"},
        "sim.c": {"sim.p.e"},
        "sim.d": set(),  # its import of sim.a is inside a function
        "sim.p": {"sim.p.e"},
        "sim.p.e": {"sim.a"},
    }
    assert cycles(graph) == [["sim.a", "sim.b", "sim.c", "sim.p.e"]]
    assert package_graph(graph)["sim.p"] == {"sim.a"}


def test_cycles_finds_each_component_and_nothing_in_a_tree() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": set()}) == []
    assert cycles({"a": {"b"}, "b": {"a"}, "c": {"d"}, "d": {"e"}, "e": {"c"}, "f": {"a"}}) == [
        ["c", "d", "e"], ["a", "b"]
    ]


# --------------------------------------------------------------------------- sim's graph


def test_no_import_cycle_between_the_packages_of_sim() -> None:
    """sim's subpackages and top-level modules form a DAG (sim/model counted as one node)."""
    found = cycles(package_graph(import_graph()))
    assert found == [], f"import cycles between packages: {found}"


# sim's packages from the bottom up (docs/architecture.md): each may import only those below
# it, so data flows one way. Simulation (SimPy) lives in the model and the engine alone.
LAYERS = [
    "sim.progress", "sim.figures", "sim.records", "sim.format", "sim.presets", "sim.analytic",
    "sim.random", "sim.scenario", "sim.model", "sim.engine", "sim.metrics", "sim.results",
    "sim.plots", "sim.experiment", "sim.fit", "sim.api", "sim", "sim.report", "sim.commands",
    "sim.cli",
    "sim.gallery",
]
SIMPY_ONLY_IN = ("sim.model", "sim.engine")


def test_each_package_imports_only_the_layers_below_it() -> None:
    graph = package_graph(import_graph())
    unplaced, gone = sorted(set(graph) - set(LAYERS)), sorted(set(LAYERS) - set(graph))
    assert not unplaced, f"put {unplaced} in LAYERS, above what they import"
    assert not gone, f"LAYERS names packages that are gone: {gone}"
    rank = {name: i for i, name in enumerate(LAYERS)}
    upward = {f"{source} -> {target}" for source, targets in graph.items() for target in targets
              if rank[target] >= rank[source]}
    assert upward == set(), f"imports of a layer from one below it: {sorted(upward)}"


def test_only_the_model_and_the_engine_load_simpy() -> None:
    loading = set()
    for name, path in modules().items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in _load_time_imports(tree.body):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if not node.level else [])
            if any(n == "simpy" or n.startswith("simpy.") for n in names):
                loading.add(package_of(name))
    assert loading and loading <= set(SIMPY_ONLY_IN), f"simpy loaded by {sorted(loading)}"


def test_no_import_cycle_among_modules_outside_sim_model() -> None:
    graph = import_graph()
    outside = [m for m in graph if not _in(m, MODEL)]
    found = cycles(subgraph(graph, outside))
    assert found == [], f"import cycles: {found}"


def test_no_import_cycle_inside_sim_model() -> None:
    graph = import_graph()
    found = cycles(subgraph(graph, [m for m in graph if _in(m, MODEL)]))
    assert found == [], f"import cycles in sim/model: {found}"


# --------------------------------------------------------------------------- module length


def test_no_module_outside_sim_model_and_cli_over_500_lines() -> None:
    long = {m: n for m, n in line_counts().items()
            if n > MAX_LINES and not _in(m, MODEL) and m != CLI}
    assert long == {}, f"modules over {MAX_LINES} lines: {long}"


def test_cli_under_500_lines() -> None:
    n = line_counts()[CLI]
    assert n <= MAX_LINES, f"sim/cli.py has {n} lines"


def test_no_module_of_sim_model_over_500_lines() -> None:
    long = {m: n for m, n in line_counts().items() if n > MAX_LINES and _in(m, MODEL)}
    assert long == {}, f"sim/model modules over {MAX_LINES} lines: {long}"


# --------------------------------------------------------------------------- one meaning per name


def test_no_module_named_like_a_package_of_sim() -> None:
    """``sim/scenario/model.py`` beside ``sim/model/`` made "model" mean two things."""
    packages = {p.name for p in SIM.iterdir() if (p / "__init__.py").exists()}
    clashes = [m for m in modules() if m.count(".") >= 2 and m.rsplit(".", 1)[1] in packages]
    assert clashes == [], f"modules named like a package of sim: {clashes}"


# Public names defined at the top of more than one module outside sim/model, each reviewed: a
# name here means the same thing in each module (or one member of a family per module).
SHARED_NAMES = {
    "make": "each sim.random module's factory from a spec; executors' make builds an executor",
    "Constant": "the constant member of each family: distribution, arrival process, value",
    "BLOCK": "draws per numpy block, in arrivals and values alike",
    "DEFAULT_RETRY": "the default of the section's retry: a producer's, a worker pool's",
    "FORMS": "the forms a section's entry takes: a fault's, a field generator's",
    "KIND": "the kind of experiment a results folder holds: sweep, compare",
    "THEORY": "the sweep table's theory column prefix (plots reads what experiment writes)",
    "UNSTABLE": "the sweep table's unstable column (plots reads what experiment writes)",
    "save_plots": "an experiment's plots into its results folder: a sweep's, a comparison's",
    "seeds": "replication seeds: from a base seed (experiment), from a Scenario (api)",
    "load": "load from a file: a scenario (sim.scenario), custom routing code (custom_code)",
    "describe": "a one-line account: of latencies (metrics), of a grid of values (experiment)",
    "arrivals": "sim.fit.arrivals() fits an arrivals section; arrival_specs builds one from it",
}


def _top_level_names(tree: ast.Module) -> Iterator[str]:
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            yield node.name
        elif isinstance(node, ast.Assign):
            yield from (t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            yield node.target.id


def test_a_public_name_defined_twice_outside_sim_model_is_a_reviewed_one() -> None:
    where: dict[str, list[str]] = {}
    for name, path in modules().items():
        if _in(name, MODEL):
            continue
        for defined in _top_level_names(ast.parse(path.read_text(encoding="utf-8"))):
            if not defined.startswith("_"):
                where.setdefault(defined, []).append(name)
    twice = {name: places for name, places in where.items() if len(places) > 1}
    unreviewed = {name: places for name, places in twice.items() if name not in SHARED_NAMES}
    assert unreviewed == {}, f"public names defined in several modules: {unreviewed}"
    stale = sorted(set(SHARED_NAMES) - set(twice))
    assert stale == [], f"SHARED_NAMES lists names no longer shared: {stale}"


def test_each_progress_signature_has_one_name() -> None:
    """``Progress`` is one run's progress(fraction) and is defined once (in sim.progress);
    ``NotedProgress`` is many runs' progress(fraction, note), defined once too."""
    defined: dict[str, list[str]] = {"Progress": [], "NotedProgress": []}
    for name, path in modules().items():
        if _in(name, MODEL):
            continue
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.Assign):
                for target in node.targets:
                    if isinstance(target, ast.Name) and target.id in defined:
                        defined[target.id].append(name)
    assert defined == {"Progress": ["sim.progress"], "NotedProgress": ["sim.progress"]}


# --------------------------------------------------------------------------- the type checker


@cache
def mypy_errors() -> tuple[str, ...]:
    """mypy's error lines over sim/ with the project's configuration (pyproject.toml)."""
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--config-file", str(ROOT / "pyproject.toml"),
         "--no-pretty", "--show-error-codes"],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )
    if done.returncode not in (0, 1):  # 2: mypy itself failed (a crash, a bad config)
        raise AssertionError(f"mypy failed:\n{done.stdout}\n{done.stderr}")
    return tuple(line for line in done.stdout.splitlines() if ": error:" in line)


def _errors_in(errors: Iterable[str], keep: bool, *packages: str) -> list[str]:
    def module(line: str) -> str:
        return module_name(ROOT / line.split(":", 1)[0])

    return [e for e in errors if any(_in(module(e), p) for p in packages) == keep]


needs_mypy = pytest.mark.skipif(importlib.util.find_spec("mypy") is None,
                                reason="mypy is not installed (pip install -e '.[test]')")


@needs_mypy
def test_mypy_clean_outside_sim_model_and_cli() -> None:
    errors = _errors_in(mypy_errors(), False, MODEL, CLI)
    assert errors == [], "mypy errors:\n" + "\n".join(errors)


@needs_mypy
def test_mypy_clean_in_sim_model_and_cli() -> None:
    errors = _errors_in(mypy_errors(), True, MODEL, CLI)
    assert errors == [], "mypy errors:\n" + "\n".join(errors)


# --------------------------------------------------------------------------- python tests/...


def main() -> None:
    graph = import_graph()
    packages = package_graph(graph)
    found = cycles(graph)
    print(f"{len(graph)} modules, {sum(map(len, graph.values()))} import edges; "
          f"{len(packages)} packages, {sum(map(len, packages.values()))} edges between them")
    print("module cycles:" if found else "no cycles among modules")
    for component in found:
        print(f"  {len(component)} modules: {', '.join(component)}")
    between = cycles(packages)
    print("package cycles:" if between else "no cycles between packages")
    for component in between:
        print(f"  {', '.join(component)}")
    counts = sorted(line_counts().items(), key=lambda item: -item[1])
    print(f"longest modules (limit {MAX_LINES} lines):")
    for name, n in counts[:8]:
        print(f"  {n:5d}  {name}{'  (over)' if n > MAX_LINES else ''}")


if __name__ == "__main__":
    main()
