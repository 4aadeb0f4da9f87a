"""Small inputs that used to mislead (issue 13, item 13): each gets a clear answer.

``--seed -1`` is reported as ``--seed``; ``plot`` names a folder that does not exist and a
corrupt file; a scenario name too long for a folder is refused by ``validate``; names in any
script draw without matplotlib warnings; a producer that sends nothing says so.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pytest
from conftest import run_checked, scenario_from

import sim
from sim.cli import format_summary, main
from sim.plots import latency_cdf, style, timeseries

SMALL = """\
name: small
run: {duration: 5, seed: 2}
producers:
  p: {arrivals: {process: poisson, rate: 5}, publish: q}
queues:
  q: {}
workers:
  w: {consumes: q, count: 2, service_time: {dist: exponential, mean: 0.2}}
"""


@pytest.fixture
def small(tmp_path: Path) -> Path:
    path = tmp_path / "small.yaml"
    path.write_text(SMALL)
    return path


@pytest.mark.parametrize("command", ["run", "sweep", "compare"])
def test_a_negative_seed_is_reported_as_the_seed_option(small, tmp_path, capsys, command):
    extra = {"run": [], "sweep": ["--param", "workers.w.count=1,2"],
             "compare": ["--vary", "workers.w.count=1,2"]}[command]
    out = tmp_path / "out"
    assert main([command, str(small), *extra, "--seed", "-1", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "argument --seed: must be a whole number >= 0, got -1" in err
    assert "run.seed" not in err and not out.exists()


def test_plot_of_a_missing_folder_says_it_does_not_exist(tmp_path, capsys):
    missing = tmp_path / "nowhere"
    assert main(["plot", str(missing)]) == 2
    assert capsys.readouterr().err.strip() == f"error: {missing} does not exist"


def test_plot_of_a_file_says_it_is_a_file(small, capsys):
    assert main(["plot", str(small)]) == 2
    assert capsys.readouterr().err.strip() == f"error: {small} is a file, not a results folder"


@pytest.mark.parametrize("name", ["summary.json", "scenario.yaml", "messages.parquet"])
def test_plot_names_a_corrupt_file(small, tmp_path, capsys, name):
    out = tmp_path / "out"
    assert main(["run", str(small), "--out", str(out), "--quiet", "--no-plots"]) == 0
    (folder,) = (out / "small").iterdir()
    (folder / name).write_text("{not: [valid" if name != "messages.parquet" else "PAR1?")
    assert main(["plot", str(folder)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: cannot read {folder / name}: "), err
    assert "Traceback" not in err


def test_a_corrupt_sweep_file_is_named(small, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["sweep", str(small), "--param", "workers.w.count=1,2", "--replications", "2",
                 "--out", str(out), "--quiet", "--no-plots"]) == 0
    (folder,) = (out / "small").iterdir()
    (folder / "experiment.json").write_text("{")
    assert main(["plot", str(folder)]) == 2
    assert capsys.readouterr().err.startswith(f"error: cannot read {folder / 'experiment.json'}")


def test_a_name_too_long_for_a_folder_is_refused_by_validate(tmp_path, capsys):
    path = tmp_path / "long.yaml"
    path.write_text(SMALL.replace("name: small", "name: " + "x" * 300))
    assert main(["validate", str(path)]) == 2
    assert capsys.readouterr().err.strip() == (
        f"{path}:1: name: must be at most 128 bytes long (it names the results folder, and "
        "file systems allow 255), got 300 characters (300 bytes)"
    )
    # Bytes, not characters: 43 CJK characters are 129 bytes; 42 fit.
    with pytest.raises(sim.ScenarioError, match=r"got 43 characters \(129 bytes\)"):
        scenario_from(SMALL.replace("name: small", "name: " + "注" * 43))
    assert scenario_from(SMALL.replace("name: small", "name: " + "注" * 42)).name == "注" * 42


NAMES = SMALL.replace("name: small", "name: заказы-注文-🚀").replace(" q", " 注文").replace(
    "  p:", "  веб:").replace("  w:", "  w🚀:")


def test_names_in_any_script_draw_without_warnings(tmp_path):
    result = run_checked(scenario_from(NAMES))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a missing glyph warned once per character
        for figure in (latency_cdf(result.messages, result.summary),
                       timeseries(result.timeseries, result.summary)):
            figure.savefig(tmp_path / "f.png")
            figure._repr_png_()
    assert style.fonts()[0] == "DejaVu Sans"  # Latin, Greek and Cyrillic


def test_only_installed_fallback_fonts_are_asked_for(monkeypatch):
    # A family that is not installed makes matplotlib log "findfont: ... not found".
    monkeypatch.setattr(style, "FALLBACK_FONTS", ("No Such Font", "DejaVu Serif"))
    style.fonts.cache_clear()
    try:
        assert style.fonts() == ["DejaVu Sans", "DejaVu Serif"]
    finally:
        style.fonts.cache_clear()


def test_a_producer_that_sends_nothing_says_so(tmp_path, capsys):
    text = SMALL.replace("rate: 5", "rate: 0")
    scenario = scenario_from(text)
    assert scenario.warnings == [
        "producers.p.arrivals: this producer sends nothing (rate 0): nothing is published, "
        "and the run ends at once"
    ]
    result = run_checked(scenario)
    printed = format_summary(result.summary)
    assert printed.startswith(
        "small  seed 2  published nothing (no producer sent a message: see the warnings), "
        "simulated to 0.0 s")
    assert "published for" not in printed
    figure = timeseries(result.timeseries, result.summary)
    assert "nothing was published: no producer sent a message" in figure.texts[0].get_text()
    # Beside producers that do send, the silent one is named, and the run goes on.
    both = text.replace("  p: {", "  busy: {arrivals: {process: poisson, rate: 5}, "
                        "publish: q}\n  p: {")
    assert scenario_from(both).warnings == [
        "producers.p.arrivals: this producer sends nothing (rate 0)"]
    assert json.dumps(result.summary["producers"]["p"]["sent"]) == "0"
