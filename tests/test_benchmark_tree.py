"""benchmarks/instructions.py measures the tree it names, not the folder it is run from."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parent.parent


def script() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "instructions_benchmark", ROOT / "benchmarks" / "instructions.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def package(folder: Path, text: str = "") -> Path:
    (folder / "sim").mkdir(parents=True)
    (folder / "sim" / "__init__.py").write_text(text)
    return folder


def test_the_child_imports_the_named_tree_wherever_it_is_run_from(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bench = script()
    # Standing in a checkout whose sim would shadow PYTHONPATH (python -c puts the working
    # folder first on sys.path), with PYTHONPATH naming yet another one.
    here = package(tmp_path / "here", "raise ImportError('the folder stood in')")
    elsewhere = package(tmp_path / "elsewhere", "raise ImportError('PYTHONPATH')")
    monkeypatch.chdir(here)
    monkeypatch.setenv("PYTHONPATH", str(elsewhere))
    assert bench.imported_sim(ROOT) == ROOT / "sim" / "__init__.py"
    other = package(tmp_path / "other")
    assert bench.imported_sim(other) == other / "sim" / "__init__.py"
    assert bench.child_env(other)["PYTHONPATH"].split(os.pathsep) == [
        str(other), str(elsewhere)]
    assert bench.child_env(other)["OPENBLAS_NUM_THREADS"] == "1"
    assert bench.HERE.parent == ROOT  # --tree's default: the script's own checkout


def test_a_tree_whose_sim_does_not_import_stops_the_measurement(tmp_path: Path) -> None:
    broken = package(tmp_path / "broken", "raise ImportError('half-merged')")
    with pytest.raises(SystemExit, match="cannot import sim there"):
        script().imported_sim(broken)
