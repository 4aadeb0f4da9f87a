"""The command line: runs, results folders, and clear errors with exit code 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sim.cli import main

SMALL = """\
name: small
run: {duration: 20, seed: 2}
producers:
  p: {arrivals: {process: poisson, rate: 5}, publish: q}
queues:
  q: {}
workers:
  w: {consumes: q, count: 2, service_time: {dist: exponential, mean: 0.2}}
"""


@pytest.fixture
def scenario(tmp_path: Path) -> Path:
    path = tmp_path / "small.yaml"
    path.write_text(SMALL)
    return path


def run_folders(root: Path) -> list[Path]:
    return sorted(p for p in root.glob("*/*") if p.is_dir())


def test_run_writes_a_complete_results_folder(scenario, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["run", str(scenario), "--out", str(out)]) == 0
    [folder] = run_folders(out)
    for name in ("scenario.yaml", "summary.json", "messages.parquet", "timeseries.parquet",
                 "manifest.json", "plots/latency_cdf.png", "plots/timeseries.png"):
        assert (folder / name).is_file(), name
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["scenario"] == "small" and summary["seed"] == 2
    printed = capsys.readouterr().out
    assert "latency" in printed and str(folder) in printed


def test_runs_never_overwrite_each_other(scenario, tmp_path):
    out = tmp_path / "out"
    for _ in range(3):
        assert main(["run", str(scenario), "--out", str(out), "--no-plots", "--quiet"]) == 0
    assert len(run_folders(out)) == 3
    assert not list(out.glob("*/.tmp-*"))


def test_seed_set_and_replications(scenario, tmp_path, capsys):
    out = tmp_path / "out"
    args = ["run", str(scenario), "--out", str(out), "--no-plots", "--seed", "9",
            "--set", "workers.w.count=3", "--replications", "3"]
    assert main(args) == 0
    [folder] = run_folders(out)
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["replications"] == 3
    assert set(summary["latency"]["mean"]) == {"mean", "ci95"}
    assert len(list((folder / "replications").iterdir())) == 3
    resolved = (folder / "scenario.yaml").read_text()
    assert "count: 3" in resolved and "seed: 9" in resolved
    assert "±" in capsys.readouterr().out


def test_quiet_prints_nothing(scenario, tmp_path, capsys):
    assert main(["run", str(scenario), "--out", str(tmp_path), "--quiet", "--no-plots"]) == 0
    assert capsys.readouterr().out == ""


def test_validate_prints_the_resolved_scenario(scenario, capsys):
    assert main(["validate", str(scenario)]) == 0
    out = capsys.readouterr().out
    assert "drain_timeout: 200" in out and "prefetch: 1" in out


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (SMALL.replace("count: 2", "count: 2, cuont: 3"), "workers.w.cuont"),
        (SMALL.replace("count: 2", "count: -2"), "workers.w.count"),
        (SMALL.replace("publish: q", "publish: nowhere"), "producers.p.publish"),
        (SMALL.replace("queues:\n  q: {}", "queues:\n  q: {broker: rabbit}"), "queues.q.broker"),
        (SMALL.replace("rate: 5}", "rate: 5"), "line"),
        (SMALL.replace("mean: 0.2", "mean: 2 parsecs"), "workers.w.service_time"),
    ],
)
def test_bad_input_exits_2_with_a_clear_line(tmp_path, capsys, text, expected):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    out = tmp_path / "out"
    assert main(["run", str(path), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert expected in err and "Traceback" not in err
    assert not out.exists() or not run_folders(out)


def test_missing_file_exits_2(tmp_path, capsys):
    assert main(["run", str(tmp_path / "nope.yaml")]) == 2
    assert "nope.yaml" in capsys.readouterr().err


def test_bad_set_exits_2(scenario, capsys):
    assert main(["validate", str(scenario), "--set", "queues.q.max_lenght=3"]) == 2
    assert "max_lenght" in capsys.readouterr().err
    assert main(["validate", str(scenario), "--set", "novalue"]) == 2


def test_plot_redraws_a_saved_run(scenario, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["run", str(scenario), "--out", str(out), "--no-plots", "--quiet"]) == 0
    [folder] = run_folders(out)
    assert main(["plot", str(folder)]) == 0
    assert (folder / "plots" / "latency_cdf.png").is_file()


def test_an_interrupted_save_leaves_no_folder(scenario, tmp_path, monkeypatch):
    import sim
    from sim import results

    def broken(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(results.pd.DataFrame, "to_parquet", broken)
    result = sim.run(sim.load(scenario))
    with pytest.raises(KeyboardInterrupt):
        result.save(tmp_path / "out")
    assert not [p for p in (tmp_path / "out").rglob("*") if p.is_dir() and p.name != "small"]


def test_progress_bar_waits_then_draws_and_clears():
    import io
    import time

    from sim.cli import ProgressBar

    stream = io.StringIO()
    bar = ProgressBar(stream, delay=0.05)
    bar(0.1)
    assert stream.getvalue() == ""  # a quick run shows nothing
    time.sleep(0.06)
    bar(0.5)
    assert "50.0%" in stream.getvalue() and "#" * 15 in stream.getvalue()
    bar.close()
    assert stream.getvalue().endswith("\r")
