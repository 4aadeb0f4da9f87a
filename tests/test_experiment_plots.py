"""Plots in notebooks: figures render as PNG without pyplot, and nothing picks a backend."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import sim
from sim.experiment.sweep import sweep

ROOT = Path(__file__).resolve().parents[1]


def test_importing_and_plotting_picks_no_backend():
    # In a fresh interpreter: import everything that plots, draw, and check that pyplot was
    # never imported (it is what resolves a backend) and no backend was forced.
    code = (
        "import matplotlib, sys\n"
        "before = matplotlib.rcParams._get('backend')\n"
        "import sim, sim.plots, sim.plots.sweep, sim.plots.compare, sim.experiment.sweep\n"
        "s = sim.loads('''\nname: x\nrun: {duration: 20, seed: 1}\n"
        "producers: {p: {arrivals: {process: poisson, rate: 2}, publish: q}}\n"
        "queues: {q: {}}\nworkers: {w: {consumes: q, service_time: 0.1}}\n''')\n"
        "r = sim.run(s)\n"
        "png = r.plot_latency_cdf()._repr_png_()\n"
        "assert png.startswith(b'\\x89PNG'), png[:8]\n"
        "assert 'matplotlib.pyplot' not in sys.modules\n"
        "assert matplotlib.rcParams._get('backend') == before\n"
        "print('ok')\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=ROOT, timeout=120)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr


def test_no_module_forces_a_backend():
    sources = [p for p in (ROOT / "sim").rglob("*.py")]
    assert sources
    for path in sources:
        text = path.read_text()
        assert "matplotlib.use(" not in text and "import matplotlib.pyplot" not in text, path


TINY = """\
name: tiny
run: {duration: 30, seed: 1}
producers: {p: {arrivals: {process: poisson, rate: 2}, publish: q}}
queues: {q: {}}
workers: {w: {consumes: q, service_time: {dist: exponential, mean: 0.2}}}
"""


def test_result_and_sweep_figures_render_as_png():
    scenario = sim.loads(TINY)
    result = sim.run(scenario)
    for figure in (result.plot_latency_cdf(), result.plot_timeseries(),
                   sweep(scenario, {"producers.p.arrivals.rate": [1, 2]}, 2).plot()):
        assert figure._repr_png_()[:4] == b"\x89PNG"
        titled = [ax.get_title(loc="left") for ax in figure.axes] + [
            figure._suptitle.get_text() if figure._suptitle else ""]
        assert any(titled)
        assert all(ax.get_legend() is not None for ax in figure.axes if ax.get_visible())
        assert all(ax.get_ylabel() for ax in figure.axes if ax.get_visible())


def test_a_cost_axis_names_the_results_currency():
    """The sweep plot's cost axis says EUR (the scenario's ``costs.currency``, which the
    results carry), not "the scenario's currency"; so do the comparison's bars of a cost."""
    from sim.plots.compare import figure_bars

    scenario = sim.loads(TINY + "costs: {currency: EUR, workers: {w: {per_hour: 0.1}}}\n")
    swept = sweep(scenario, {"workers.w.count": [1, 2]}, 2)
    labels = [ax.get_ylabel() for ax in swept.plot().axes if ax.get_title(loc="left") ==
              "Cost in all"]
    assert labels == ["Cost per run (EUR)"]
    table = swept.table.assign(design=["one", "two"])
    bars = figure_bars(table, ["one", "two"], figures=[("cost.total", "Cost")],
                       currency="EUR")
    assert bars.axes[0].get_ylabel() == "Cost per run (EUR)"
