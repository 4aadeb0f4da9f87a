"""Commands load only what they use: ``import sim``, ``mqsim validate`` and ``mqsim --version``
import no pandas, pyarrow, matplotlib, dask or scipy; ``mqsim run --no-plots`` no matplotlib.

Each check runs in a fresh interpreter (this one has imported everything already) and prints
the heavy modules found in ``sys.modules`` afterwards.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("pandas", "pyarrow", "matplotlib", "dask", "distributed", "scipy")

SCENARIO = """\
name: ten
run: {messages: 10, seed: 1}
producers:
  clients: {arrivals: {process: poisson, rate: 5}, publish: jobs}
queues:
  jobs: {}
workers:
  w: {consumes: jobs, count: 2, service_time: {dist: exponential, mean: 0.1}}
"""


def loaded_after(code: str) -> tuple[list[str], subprocess.CompletedProcess[str]]:
    """The heavy top-level modules in ``sys.modules`` after ``code`` runs in a fresh Python."""
    probe = (f"import sys\ntry:\n{_indent(code)}\nexcept SystemExit:\n    pass\n"
             f"print('HEAVY=' + __import__('json').dumps(sorted({{m.split('.')[0] for m in "
             f"sys.modules}} & set({list(HEAVY)!r}))))")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          env=env, cwd=ROOT, check=False, timeout=300)
    lines = [line for line in done.stdout.splitlines() if line.startswith("HEAVY=")]
    assert lines, done.stdout + done.stderr
    return json.loads(lines[-1].removeprefix("HEAVY=")), done


def _indent(code: str) -> str:
    return "\n".join("    " + line for line in code.splitlines())


@pytest.fixture
def ten(tmp_path: Path) -> Path:
    path = tmp_path / "ten.yaml"
    path.write_text(SCENARIO)
    return path


def test_the_probe_sees_a_heavy_import():
    # The check itself can fail: importing pandas shows up.
    heavy, _ = loaded_after("import pandas")
    assert "pandas" in heavy


def test_import_sim_loads_nothing_heavy():
    heavy, _ = loaded_after("import sim\nsim.load\nsim.loads\nsim.ScenarioError\nsim.flatten")
    assert heavy == []


def test_the_api_still_loads_what_it_needs():
    # Lazy, not missing: sim.run and sim.Result bring the experiment layer and pandas.
    heavy, _ = loaded_after("import sim\nsim.run\nsim.Result\nsim.Replications")
    assert "pandas" in heavy
    assert "matplotlib" not in heavy


def test_validate_loads_nothing_heavy(ten: Path):
    heavy, done = loaded_after(
        f"from sim.cli import main\nprint('CODE', main(['validate', {str(ten)!r}]))")
    assert "CODE 0" in done.stdout and "name: ten" in done.stdout
    assert heavy == []


def test_validate_builds_no_model_and_defines_no_model_specs(ten: Path):
    # Validating needs the scenario layer only: the model, SimPy and the typed specs (whose
    # dataclasses alone cost more to define than the rest of the scenario layer) wait for a run.
    code = (f"import sys\nfrom sim.cli import main\nmain(['validate', {str(ten)!r}])\n"
            "print('LOADED', sorted(m for m in sys.modules if m.startswith(('sim.', 'simpy'))))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, cwd=ROOT, timeout=300)
    [line] = [x for x in done.stdout.splitlines() if x.startswith("LOADED")]
    loaded = line.removeprefix("LOADED ")
    assert "sim.scenario.resolved" in loaded, done.stderr
    assert "sim.scenario.specs" not in loaded
    assert "sim.model" not in loaded and "simpy" not in loaded


def test_an_invalid_scenario_loads_nothing_heavy(tmp_path: Path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(SCENARIO.replace("count: 2", "count: -2"))
    heavy, done = loaded_after(
        f"from sim.cli import main\nprint('CODE', main(['validate', {str(bad)!r}]))")
    assert "CODE 2" in done.stdout and "workers.w.count" in done.stderr
    assert heavy == []


def test_version_loads_nothing_heavy():
    heavy, done = loaded_after("from sim.cli import main\nmain(['--version'])")
    assert done.stdout.startswith("mqsim ")
    assert heavy == []


def test_run_without_plots_loads_no_matplotlib(ten: Path, tmp_path: Path):
    out = tmp_path / "out"
    heavy, done = loaded_after(
        f"from sim.cli import main\n"
        f"print('CODE', main(['run', {str(ten)!r}, '--no-plots', '--out', {str(out)!r}]))")
    assert "CODE 0" in done.stdout, done.stderr
    assert (next((out / "ten").iterdir()) / "messages.parquet").is_file()
    assert "matplotlib" not in heavy
    assert "pandas" in heavy  # it did write its tables


def test_run_with_plots_loads_matplotlib(ten: Path, tmp_path: Path):
    # The counterpart: the check above would see matplotlib if a run loaded it.
    heavy, done = loaded_after(
        f"from sim.cli import main\n"
        f"print('CODE', main(['run', {str(ten)!r}, '--out', {str(tmp_path / 'o')!r}]))")
    assert "CODE 0" in done.stdout, done.stderr
    assert "matplotlib" in heavy


def test_a_submodule_is_reached_from_import_sim_alone():
    # The exports are lazy, yet `import sim; sim.analytic.mmc(...)` works as it did when
    # sim/__init__ imported everything; an unknown name is still an AttributeError.
    code = ("import sim; assert callable(sim.analytic.mmc); assert callable(sim.api.run)\n"
            "try:\n    sim.no_such_thing\nexcept AttributeError:\n    pass\n"
            "else:\n    raise SystemExit('no error')")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, cwd=ROOT, timeout=300)
    assert done.returncode == 0, done.stderr
