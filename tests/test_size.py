"""``mqsim size`` and ``sim.size``: exact semantics on small scenarios, the folder it writes,
the same answer wherever replications run, and one clear error (exit 2) per bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import sim
from sim.cli import main
from sim.experiment.size import SizeError, make_param, size

FAST = """\
name: fast
run: {duration: 300, warmup: 20, seed: 4}
producers: {orders: {arrivals: {process: poisson, rate: 30}, publish: jobs}}
queues: {jobs: {}}
workers: {pool: {consumes: jobs, count: 2, service_time: {dist: exponential, mean: 0.1}}}
"""


@pytest.fixture
def fast(tmp_path: Path) -> Path:
    path = tmp_path / "fast.yaml"
    path.write_text(FAST)
    return path


def folders(root: Path) -> list[Path]:
    return sorted(p for p in root.glob("*/size-*") if p.is_dir())


# --------------------------------------------------------------------------- the range


def test_whole_numbers_step_one_and_durations_with_a_step():
    scenario = sim.loads(FAST)
    assert make_param(scenario, "workers.pool.count", "1", "5").values == [1, 2, 3, 4, 5]
    assert make_param(scenario, "workers.pool.count", "2", "10", "4").values == [2, 6, 10]
    mean = make_param(scenario, "workers.pool.service_time.mean", "50ms", "0.1", "25ms")
    assert mean.values == [0.05, 0.075, 0.1]
    fraction = make_param(scenario, "workers.pool.error_rate", "0", "0.3", "0.1")
    assert fraction.values == [0.0, 0.1, 0.2, 0.3]


@pytest.mark.parametrize(("path", "low", "high", "step", "says"), [
    ("workers.pool.count", "4", "4", None, "the range holds one value"),
    ("workers.pool.count", "8", "2", None, "the range is reversed"),
    ("workers.pol.count", "1", "8", None, "no setting workers.pol; did you mean 'workers.pool'"),
    ("workers.pool.cuont", "1", "8", None, "did you mean 'workers.pool.count'"),
    ("workers.pool.ack", "1", "3", None, "not a number"),
    ("workers.pool.service_time", "1", "3", None, "not a number"),
    ("workers.pool.service_time.mean", "50ms", "0.1", None, "needs --step"),
    ("workers.pool.count", "1", "lots", None, "'lots' is not a number"),
    ("workers.pool.count", "1", "8", "0", "must be above 0"),
])
def test_bad_ranges_are_one_clear_error(path, low, high, step, says):
    with pytest.raises(SizeError) as error:
        make_param(sim.loads(FAST), path, low, high, step)
    assert says in str(error.value) and "\n" not in str(error.value)


@pytest.mark.parametrize(("args", "says"), [
    (["--param", "workers.pool.count=4..4", "--slo", "latency.p99<=1s"], "one value"),
    (["--param", "workers.pool.count=8..2", "--slo", "latency.p99<=1s"], "reversed"),
    (["--param", "workers.pol.count=1..8", "--slo", "latency.p99<=1s"], "did you mean"),
    (["--param", "workers.pool.ack=1..3", "--slo", "latency.p99<=1s"], "not a number"),
    (["--param", "workers.pool.count", "--slo", "latency.p99<=1s"], "expected KEY=LO..HI"),
    (["--param", "workers.pool.count=1..8", "--slo", "latency.p99~1s"], "expected FIGURE"),
    (["--param", "workers.pool.count=2..8", "--slo", "latncy.p99<=1s"],
     "did you mean 'latency.p99'"),
    (["--param", "workers.pool.count=2..8", "--slo", "latency.p99<=1s",
      "--minimize", "workers.pool.worker_secs"], "did you mean 'workers.pool.worker_seconds'"),
])
def test_cli_errors_exit_2_with_one_line(fast, tmp_path, capsys, args, says):
    out = tmp_path / "out"
    assert main(["size", str(fast), *args, "--out", str(out), "--no-plots"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and says in err[0] and "Traceback" not in err[0]
    assert not folders(out)  # nothing written


# --------------------------------------------------------------------------- the search


def test_cli_answer_folder_and_report(fast, tmp_path, capsys):
    """30/s at a mean of 0.1 s: Erlang C gives a p99 of 0.60 s with 4 workers and 0.48 s
    with 5, so a 0.55 s target needs 5; the folder holds size.json with its four keys."""
    out = tmp_path / "out"
    code = main(["size", str(fast), "--param", "workers.pool.count=1..32",
                 "--slo", "latency.p99<=0.55s", "--slo", "lost==0", "--out", str(out)])
    assert code == 0
    [folder] = folders(out)
    data = json.loads((folder / "size.json").read_text())
    assert {"param", "slo", "answer", "evaluated"} <= set(data)
    assert data["param"]["path"] == "workers.pool.count" and data["param"]["values"] == 32
    assert [s["figure"] for s in data["slo"]] == ["latency.p99", "totals.lost"]
    theory = {t["value"]: t["latency.p99"] for t in data["theory"]}
    answer = data["answer"]
    assert answer == 5 and theory[answer] <= 0.55 < theory[answer - 1]  # as Erlang C says
    simulated = {e["value"]: e for e in data["evaluated"]}
    assert simulated[answer]["meets"] and not simulated[answer - 1]["meets"]
    assert len(simulated) < 32 and (folder / "plots" / "size.png").is_file()
    assert (folder / "table.csv").is_file() and (folder / "manifest.json").is_file()
    printed = capsys.readouterr().out
    assert f"answer: count = {answer}" in printed
    assert f"{answer} (answer)" in printed and f"{answer - 1} (next, fails)" in printed
    assert "±" in printed and str(folder) in printed


def test_no_value_meets_exit_1_names_the_slo_and_its_best(fast, tmp_path, capsys):
    """Exponential service of mean 0.1 s: the p99 never goes under 0.46 s (its own p99)."""
    out = tmp_path / "out"
    code = main(["size", str(fast), "--param", "workers.pool.count=1..16",
                 "--slo", "latency.p99<=0.3s", "--out", str(out), "--no-plots"])
    assert code == 1
    [folder] = folders(out)
    data = json.loads((folder / "size.json").read_text())
    assert data["answer"] is None
    [reach] = data["out_of_reach"]
    assert reach["slo"] == "latency.p99<=0.3s" and reach["best"] > 0.4
    printed = capsys.readouterr().out
    assert "answer: none" in printed and "out of reach: latency.p99 ≤ 300 ms" in printed


def test_runs_never_overwrite(fast, tmp_path):
    out = tmp_path / "out"
    for _ in range(2):
        main(["size", str(fast), "--param", "workers.pool.count=4..6", "--slo",
              "latency.p99<=0.55s", "--out", str(out), "--no-plots", "--quiet",
              "--replications", "2", "--max-replications", "2"])
    assert len(folders(out)) == 2 and not list(out.glob("*/.tmp-*"))


def test_same_answer_and_figures_on_two_processes():
    scenario = sim.loads(FAST)
    serial = size(scenario, "workers.pool.count=1..32", ["latency.p99<=0.55s"])
    parallel = size(scenario, "workers.pool.count=1..32", ["latency.p99<=0.55s"], jobs=2)
    assert serial.answer == parallel.answer
    assert [p.as_dict() for p in serial.evaluated] == [p.as_dict() for p in parallel.evaluated]


def test_same_answer_and_figures_on_a_dask_cluster():
    """Batches of the cluster's parallelism (2) add replications past the first five; the
    count kept is decided in index order, so the points are the serial ones exactly."""
    distributed = pytest.importorskip("distributed")
    from sim.experiment import executors

    scenario = sim.loads(FAST)
    serial = size(scenario, "workers.pool.count=1..32", ["latency.p99<=0.55s"])
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
                                  dashboard_address=":0") as cluster, \
            distributed.Client(cluster) as client, executors.Dask(client) as where:
        remote = size(scenario, "workers.pool.count=1..32", ["latency.p99<=0.55s"],
                      executor=where)
    assert [p.as_dict() for p in serial.evaluated] == [p.as_dict() for p in remote.evaluated]


def test_common_random_numbers_every_value_sees_the_same_traffic():
    """Replication i of every value runs with the same seed: the same arrivals everywhere."""
    result = size(sim.loads(FAST), "workers.pool.count=1..32",
                  ["latency.p99<=0.55s", "totals.published>=0"], max_replications=5)
    assert len(result.evaluated) >= 2
    assert len({p.figures["totals.published"] for p in result.evaluated}) == 1


def test_largest_rate_under_a_p99_bound():
    """--largest: the largest arrival rate (every 4/s) that 4 workers of mean 0.1 s take
    with p99 <= 0.62 s. Erlang C: 0.55 s at 28/s, 0.69 s at 32/s, so 28."""
    from sim import analytic

    scenario = sim.loads(FAST.replace("count: 2", "count: 4"))
    result = size(scenario, "producers.orders.arrivals.rate=4..36", ["latency.p99<=0.62s"],
                  step=4, largest=True)
    theory = {r: analytic.mmc(r, 10.0, 4).latency_quantile(0.99) for r in range(4, 37, 4)}
    assert theory[28] <= 0.62 - 0.05 and theory[32] >= 0.62 + 0.05
    assert result.direction == "largest" and result.answer == 28
    assert result.point(28).meets and not result.point(32).meets
    assert len(result.evaluated) <= 4


def test_minimize_any_figure_by_its_dotted_name():
    """Worker time grows with the count, so the value meeting the SLO with the least
    worker time is the smallest one meeting it; one more value is simulated to see it."""
    scenario = sim.loads(FAST)
    plain = size(scenario, "workers.pool.count=1..32", ["latency.p99<=0.55s"])
    cheap = size(scenario, "workers.pool.count=1..32", ["latency.p99<=0.55s"],
                 minimize="workers.pool.worker_seconds")
    assert cheap.answer == cheap.smallest_meeting == plain.answer
    assert cheap.point(plain.answer + 1) is not None
    figure = "workers.pool.worker_seconds"
    assert (cheap.point(plain.answer).figures[figure][0]
            < cheap.point(plain.answer + 1).figures[figure][0])
    assert json.loads(json.dumps(cheap.as_dict(), default=str))["minimize"] == figure


def test_a_figure_worse_along_the_range_is_answered_from_its_start_not_by_a_grid():
    """The smallest rate whose wait p99 is under 50 ms is the first one: the figure gets
    worse along the range, not better. With no closed form (lognormal service) there is no
    guess: the best end (37/s) fails, the other end meets; the figure is monotone the other
    way, so the answer is the first value, from two simulated (before: a grid of all 8)."""
    scenario = sim.loads(FAST.replace("count: 2", "count: 4").replace(
        "dist: exponential, mean: 0.1", "dist: lognormal, mean: 0.1, cv: 1"))
    result = size(scenario, "producers.orders.arrivals.rate=2..37", ["wait.p99<=50ms"],
                  step=5)
    assert result.guess is None and result.search == "bisection"
    assert "wait.p99 gets worse as producers.orders.arrivals.rate grows" in result.notes[0]
    assert [p.value for p in result.evaluated] == [37, 2]
    assert result.answer == 2


def test_straddling_point_gets_more_replications_up_to_the_budget():
    """A target at the answer's own p99 straddles: replications are added up to the budget
    (here 8), and the answer then says it is not sure."""
    scenario = sim.loads(FAST)
    first = size(scenario, "workers.pool.count=3..6", ["latency.p99<=0.55s"],
                 replications=3, max_replications=8)
    p99 = first.point(first.answer).figures["latency.p99"][0]
    tight = size(scenario, "workers.pool.count=3..6", [f"latency.p99<={p99}"],
                 replications=3, max_replications=8)
    counts = {p.value: p.replications for p in tight.evaluated}
    assert max(counts.values()) == 8
    assert not tight.sure


def test_plot_redraws_a_saved_sizing_as_it_was_drawn(fast, tmp_path, capsys):
    """``mqsim plot`` reads size.json back (points, SLOs, answer, the Erlang C curve) and
    draws the same plots/size.png; a size folder it cannot read is named, with exit 2."""
    import matplotlib.image

    out = tmp_path / "out"
    assert main(["size", str(fast), "--param", "workers.pool.count=1..32", "--quiet",
                 "--slo", "latency.p99<=0.55s", "--slo", "lost==0", "--out", str(out)]) == 0
    [folder] = folders(out)
    png = folder / "plots" / "size.png"
    drawn = matplotlib.image.imread(png)
    png.unlink()
    assert main(["plot", str(folder)]) == 0
    assert capsys.readouterr().out.strip() == str(png)
    assert (matplotlib.image.imread(png) == drawn).all()

    from sim.experiment.size_result import Sizing

    loaded = Sizing.load(folder)
    assert loaded.answer == 5 and loaded.param.values == list(range(1, 33))
    assert loaded.theory[4]["latency.p99"] <= 0.55 < loaded.theory[3]["latency.p99"]

    (folder / "size.json").write_text('{"kind": "size", "param": {}}')
    assert main(["plot", str(folder)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "size.json is not a size result" in err[0], err
    (folder / "size.json").write_text("{not json")
    assert main(["plot", str(folder)]) == 2
    assert "size.json" in capsys.readouterr().err


# ----------------------------------------------------------------- SLOs against the search

COSTED = FAST + "costs: {workers: {pool: {per_hour: 3.6}}}\n"  # 0.001 per worker-second


def test_an_slo_that_gets_worse_along_the_range_is_met_at_its_start_in_two_values():
    """Cost grows with the workers: ``cost.total <= X`` holds from the first value up to
    some value, not from one on. That is monotone, only the other way: the answer is the
    first value (2 simulated: the best end fails, the first meets), not a grid of all."""
    result = size(sim.loads(COSTED), "workers.pool.count=4..12", ["cost.total<=1.5"])
    assert result.answer == 4 and result.search == "bisection" and result.sure
    assert [p.value for p in result.evaluated] == [12, 4]
    assert result.point(4).figures["cost.total"][0] == pytest.approx(4 * 300 * 0.001, rel=0.01)
    [note] = result.notes
    assert "cost.total gets worse as workers.pool.count grows" in note
    from sim.report.sizing import format_sizing

    assert "meeting cost.total ≤ 1.50 USD" in format_sizing(result).splitlines()[0]


def test_slos_either_way_the_answer_is_the_first_value_meeting_those_along_it():
    """p99 improves with the workers, cost worsens: the answer is the smallest count whose
    p99 meets the bound (found by bisection, as alone), when its cost is within budget too;
    with a budget it exceeds, no value can meet both (the cost only grows from there)."""
    alone = size(sim.loads(COSTED), "workers.pool.count=1..12", ["latency.p99<=0.55s"])
    both = size(sim.loads(COSTED), "workers.pool.count=1..12",
                ["latency.p99<=0.55s", "cost.total<=2.0"])
    assert alone.answer is not None and both.answer == alone.answer
    assert both.search == "bisection"
    tight = alone.answer * 300 * 0.001 - 0.15  # under the answer's cost, over the one before
    none = size(sim.loads(COSTED), "workers.pool.count=1..12",
                ["latency.p99<=0.55s", f"cost.total<={tight}"])
    assert none.answer is None and none.search == "bisection"
    assert any(f"{alone.answer} is the first value meeting the other SLOs" in n
               for n in none.notes)


def test_a_figure_better_then_worse_along_the_range_falls_back_to_a_grid():
    """The search alone, on made-up points: a figure that falls and then rises again. The two
    ends both fail and look monotone the other way; before saying no value meets, the
    search looks between them, finds the dip, and simulates every value (a grid): the
    answer is the first value that meets."""
    from sim.experiment import size as size_module
    from sim.experiment.size_result import Point

    figure = {1: 3.0, 2: 2.0, 3: 1.0, 4: 2.0, 5: 3.0, 6: 4.0}  # meets <= 1.5 at 3
    evaluated: list[int] = []

    class Made(size_module._Search):
        def evaluate(self, pos: int) -> Point:
            if pos not in self.done:
                value = self.value(pos)
                evaluated.append(value)
                rule = self.rules[0]
                met = rule.holds(figure[value])
                self.done[pos] = Point(value, 5, {rule.figure: (figure[value], 0.1)},
                                       {rule.text: "meets" if met else "fails"}, met, True)
                self.sequence.append(self.done[pos])
            return self.done[pos]

    scenario = sim.loads(FAST)
    spec = make_param(scenario, "workers.pool.count", "1", "6")
    search = Made(spec, [scenario] * 6, [sim.experiment.slo.parse_slo("latency.p99<=1.5")],
                  False, None, 5, 20, None, None, None)  # type: ignore[arg-type]
    search.resolved = True
    search.known_failing = lambda: -1  # type: ignore[method-assign]
    search.first_guess = lambda floor: (None, [{}] * 6)  # type: ignore[method-assign]
    result = search.run()
    assert result.search == "grid" and "not monotone" in result.notes[-1]
    assert evaluated[:3] == [6, 1, 3] and sorted(evaluated) == [1, 2, 3, 4, 5, 6]
    assert result.answer == 3
