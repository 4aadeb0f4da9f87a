"""A run expected to need more memory than the machine has is refused before it starts (exit
2, with the estimate and the machine's memory), unless ``--force`` or ``force=True``."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import scenario_from

import sim
import sim.engine
from sim.cli import main
from sim.scenario import memory

HUGE = """\
name: huge
run: {duration: 10m}
producers:
  p: {arrivals: {process: poisson, rate: 1e9}, publish: q}
queues:
  q: {}
workers:
  w: {consumes: q, service_time: 1ns}
"""
# 1,000/s for 10 s: 10,000 messages, about 2.0 MB.
SMALL = HUGE.replace("duration: 10m", "duration: 10").replace("rate: 1e9", "rate: 1000")


def _no_simulation(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("simulated although the run does not fit in memory")

    monkeypatch.setattr(sim.engine, "simulate", refuse)


def _small_machine(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(memory, "machine_memory", lambda: 1_000_000)  # 1.0 MB


@pytest.mark.parametrize("command", ["run", "sweep", "compare"])
def test_a_run_bigger_than_the_machine_is_refused_with_exit_2(tmp_path: Path, capsys,
                                                              monkeypatch, command) -> None:
    # No machine has 120,000 GB: this is refused on the real machine's memory.
    _no_simulation(monkeypatch)
    path = tmp_path / "huge.yaml"
    path.write_text(HUGE)
    extra = {"run": [], "sweep": ["--param", "workers.w.count=1,2"],
             "compare": ["--vary", "workers.w.count=1,2"]}[command]
    out = tmp_path / "out"
    assert main([command, str(path), *extra, "--out", str(out), "--no-plots"]) == 2
    err = capsys.readouterr().err
    machine = memory.gigabytes(memory.machine_memory() or 0)
    assert (
        f"{path}:2: run.duration: about 600,000,000,000 messages expected (1,000,000,000/s for "
        f"10.0 min); at about 200 bytes a message the run needs about 120,000 GB of memory, "
        f"more than this machine's {machine}: shorten the run or lower the rates (--force, or "
        "force=True in Python, runs it anyway)"
    ) in err
    assert "Traceback" not in err
    assert not out.exists() or not any(out.rglob("summary.json"))


def test_force_runs_it_anyway(tmp_path: Path, capsys, monkeypatch) -> None:
    _small_machine(monkeypatch)
    path = tmp_path / "small.yaml"
    path.write_text(SMALL)
    out = tmp_path / "out"
    assert main(["run", str(path), "--out", str(out), "--no-plots", "--quiet"]) == 2
    assert "needs about 2.0 MB of memory, more than this machine's 1.0 MB" in (
        capsys.readouterr().err)
    assert main(["run", str(path), "--out", str(out), "--no-plots", "--quiet", "--force"]) == 0
    assert len(list(out.rglob("summary.json"))) == 1


def test_the_api_refuses_unless_forced(monkeypatch) -> None:
    _small_machine(monkeypatch)
    scenario = scenario_from(SMALL)
    for call in (lambda **kw: sim.run(scenario, **kw),
                 lambda **kw: sim.replicate(scenario, 2, **kw),
                 lambda **kw: sim.sweep(scenario, {"workers.w.count": [1, 2]}, 2, **kw),
                 lambda **kw: sim.compare([scenario, scenario], 2, **kw)):
        with pytest.raises(sim.ScenarioError, match=r"<string>:2: run\.duration: about 10,000 "
                           r"messages expected .* more than this machine's 1\.0 MB"):
            call()
    assert sim.run(scenario, force=True).summary["totals"]["published"] > 9000


def test_a_run_that_fits_is_not_refused_and_an_unknown_machine_never_refuses(
        monkeypatch) -> None:
    scenario = scenario_from(SMALL)
    memory.check(scenario)  # 2 MB on a real machine
    monkeypatch.setattr(memory, "machine_memory", lambda: None)
    memory.check(scenario_from(HUGE))
    # The budget sets the length when it binds: the error names run.messages.
    _small_machine(monkeypatch)
    budget = scenario_from(SMALL.replace("duration: 10", "duration: 10, messages: 6000"))
    with pytest.raises(sim.ScenarioError, match=r"run\.messages: about 6,000 messages"):
        memory.check(budget)
