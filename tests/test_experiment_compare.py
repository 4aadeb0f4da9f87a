"""Comparisons: the same traffic in every design, paired differences, verdicts, folders."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import sim
from sim.cli import format_comparison, main
from sim.experiment.compare import Comparison, compare

ROOT = Path(__file__).resolve().parents[1]
HOL = ROOT / "scenarios" / "rabbitmq_prefetch_hol.yaml"


@pytest.fixture(scope="module")
def hol() -> Comparison:
    scenario = sim.load(HOL)  # the shipped scenario as it is
    return compare({"prefetch 1": scenario.with_overrides({"workers.consumers.prefetch": 1}),
                    "prefetch 50": scenario}, replications=5)


def test_prefetch_50_has_the_worse_p99_with_its_ci(hol):
    diff = hol.differences.set_index("figure").loc["latency.p99"]
    assert diff["design"] == "prefetch 50"
    assert diff["difference"] - diff["difference_ci"] > 0  # the whole interval is worse
    assert diff["significant"] and diff["better"] == "prefetch 1"


def test_designs_see_the_same_traffic(hol):
    reps = hol.replications
    for column in ("seed", "totals.published"):
        wide = reps.pivot(index="replication", columns="design", values=column)
        assert (wide["prefetch 1"] == wide["prefetch 50"]).all(), column


def test_paired_difference_is_the_mean_and_t_interval_of_per_replication_differences(hol):
    reps = hol.replications
    wide = reps.pivot(index="replication", columns="design", values="latency.mean")
    d = (wide["prefetch 50"] - wide["prefetch 1"]).to_numpy()
    half = 2.776445105 * d.std(ddof=1) / np.sqrt(len(d))  # t(0.975, 4)
    row = hol.differences.set_index("figure").loc["latency.mean"]
    assert row["difference"] == pytest.approx(d.mean())
    assert row["difference_ci"] == pytest.approx(half)


def test_identical_designs_differ_by_nothing():
    scenario = sim.load(HOL, overrides={"run.duration": "1m"})
    same = compare([scenario, scenario], replications=3)
    assert same.names == ["rabbitmq-prefetch-hol", "rabbitmq-prefetch-hol (2)"]
    assert (same.differences["difference"].fillna(0) == 0).all()
    assert not same.differences["significant"].any()
    assert (same.differences["better"] == "").all()


def test_compare_needs_two_designs():
    with pytest.raises(ValueError):
        compare([sim.load(HOL)], replications=2)


def test_plots_render(hol):
    for figure in (hol.plot_latency_cdf(), hol.plot_figures(), hol.plot_depth()):
        assert figure._repr_png_().startswith(b"\x89PNG")
        assert figure.legends or any(ax.get_legend() for ax in figure.axes)


def test_cli_compare_vary_prints_verdict_and_writes_folder(tmp_path, capsys):
    assert main(["compare", str(HOL), "--vary", "workers.consumers.prefetch=1,50",
                 "--set", "run.duration=2m", "--replications", "3", "--out",
                 str(tmp_path)]) == 0
    out = capsys.readouterr().out
    [line] = [x for x in out.splitlines() if x.startswith("latency.p99 ")]
    assert "prefetch=1 better" in line
    [folder] = tmp_path.glob("compare/*prefetch_1-vs-prefetch_50")
    for name in ("table.csv", "table.parquet", "differences.csv", "replications.csv",
                 "experiment.json", "plots/latency_cdf.png", "plots/figures.png",
                 "plots/depth.png", "designs/00-prefetch_1/messages.parquet",
                 "designs/01-prefetch_50/timeseries.parquet"):
        assert (folder / name).is_file(), name
    table = pd.read_csv(folder / "table.csv")
    assert list(table["design"]) == ["prefetch=1", "prefetch=50"]
    for png in (folder / "plots").glob("*.png"):
        png.unlink()
    assert main(["plot", str(folder)]) == 0
    assert len(list((folder / "plots").glob("*.png"))) == 3
    loaded = Comparison.load(folder)
    pd.testing.assert_frame_equal(loaded.table, table, check_dtype=False)


def test_cli_compare_two_files(tmp_path, capsys):
    a = tmp_path / "a.yaml"
    a.write_text(HOL.read_text().replace("duration: 10m", "duration: 1m"))
    b = tmp_path / "b.yaml"
    b.write_text(a.read_text().replace("prefetch: 50", "prefetch: 1"))
    assert main(["compare", str(a), str(b), "--replications", "2", "--out", str(tmp_path),
                 "--no-plots"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("a vs b: 2 replications each")  # same scenario name: file stems


@pytest.mark.parametrize(("args", "expected"), [
    (["--vary", "workers.consumers.prefetch=0,1"], "--vary workers.consumers.prefetch=0:"),
    ([], "compare needs at least two designs"),
    (["--vary", "prefetch"], "--vary prefetch: expected KEY=v1,v2"),
])
def test_cli_compare_bad_input_exits_2(tmp_path, capsys, args, expected):
    assert main(["compare", str(HOL), *args, "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert expected in err and "Traceback" not in err
    assert not (tmp_path / "out").exists()



def test_a_figure_no_design_measures_is_left_out_of_the_table():
    # No message has a key: reordering is null in every replication of both designs. The
    # means stay null (not an error, not 0) and the printed comparison leaves the row out.
    scenario = sim.load(HOL, overrides={"run.duration": "1m"})
    both = compare({"prefetch 1": scenario.with_overrides({"workers.consumers.prefetch": 1}),
                    "prefetch 50": scenario}, replications=2)
    assert both.summaries[0]["reordering"]["reordered"] is None
    assert both.table["reordering.reordered"].isna().all()
    out = format_comparison(both.table, both.differences, both.names)
    assert "reordering" not in out and "latency.p99" in out
