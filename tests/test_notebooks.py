"""Notebooks are product: each is committed executed, runs top to bottom, shows its figures,
and what it says is still what the code computes.

The claims a notebook's prose makes are checked here, not in its teaching cells: each is run in
the notebook's kernel right after the cell that computes it, and only then is the notebook's
fresh output compared with the committed one (``make notebooks`` refreshes them).
"""

from __future__ import annotations

import copy
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = sorted((Path(__file__).parent.parent / "notebooks").glob("*.ipynb"))

# notebook -> [(a line of the cell after which the claim runs, the claim, what it says)]
CLAIMS: dict[str, list[tuple[str, str, str]]] = {
    "quickstart": [
        ("p99 = m.groupby", "p99.max() > 10 * p99.min()", "the spike is visible in the p99"),
        ("workers = sim.sweep", 'table["latency.p99"].is_monotonic_decreasing',
         "more mail workers, a lower p99"),
        ("theory_w = analytic.mmc", "abs(sim_w - theory_w) / theory_w < 0.05",
         "the simulated M/M/4 mean is within 5% of Erlang C"),
    ],
    "comparing_designs": [
        ("three = sim.compare",
         'errors["call"] > 500 and errors["queue"] == 0 and errors["batch every 1 min"] == 0',
         "the call fails through the outage, the queue and the batch do not"),
        ("three = sim.compare",
         'table.loc[["queue", "batch every 1 min"], "totals.lost"].eq(0).all()',
         "the queue and the batch lose nothing"),
        ("prefetch = sim.compare",
         'p99["difference"] - p99["difference_ci"] > 0 and p99["better"] == "prefetch 1"',
         "prefetch 50 has a worse p99, surely"),
        ("ordering = sim.compare",
         'table.at["sqs-fifo", "reordering.reordered"] == 0 < table.at["sqs", '
         '"reordering.reordered"]', "FIFO groups keep order, a standard queue does not"),
        ("workers = sim.sweep(mmc",
         '((t["latency.mean"] - t["theory.latency.mean"]).abs()'
         ' <= 3 * t["latency.mean_ci"]).all()', "every point agrees with Erlang C"),
        ("timeouts = sim.sweep", "dup.iloc[0] > dup.iloc[-1]",
         "a short visibility timeout duplicates more"),
        ("timeouts = sim.sweep", "p99.iloc[0] >= p99.iloc[-1]",
         "a short visibility timeout does not make the jobs faster"),
    ],
    "from_measurements": [
        ("service = sim.fit.service", 'service.chosen.family == "lognormal"',
         "the lognormal the durations were drawn from is found"),
        ("arrivals = sim.fit.arrivals", 'arrivals.choice == "schedule" and '
         'abs(arrivals.spec["schedule"][0]["until"] - 1200) < 120',
         "the change of rate at minute 20 is found"),
        ("def overlap", 'all(overlap(p) for p in ("p50", "p90", "p99"))',
         "the fitted scenario gives the replay's percentiles within their intervals"),
    ],
    "brokers_under_failure": [
        ("for ack in", 'acks.loc["on_start", "lost"] > 0 and '
         'acks.loc["after_processing", "lost"] == 0', "early acks lose tasks, late ones do not"),
        ("twice = []", "twice[0] > twice[-1]", "a short visibility timeout duplicates more"),
        ("fifo = sim.load", 'order.loc["sqs-fifo", "reordered"] == 0 < '
         'order.loc["sqs", "reordered"]', "FIFO groups keep order, a standard queue does not"),
        ("local = sim.load", 'crash.loc["in-process", "lost"] > 100 and '
         'crash.loc["rabbitmq", "lost"] == 0', "the in-process queue loses its backlog"),
        ("acks_cmp = sim.compare", 'lost["significant"] and lost["better"] == "acks_late"',
         "acks_late loses fewer, surely"),
        ("crashes = sim.run", 'crashes.summary["workers"] and '
         'crashes.summary["totals"]["lost"] == 0', "RabbitMQ redelivers, loses nothing"),
    ],
    "sizing_and_cost": [
        ("sizing = sim.size", "sizing.answer == erlang_answer == 10",
         "the simulated RabbitMQ pool needs the consumers Erlang C says"),
        ("sizing = sim.size", "sizing.sure and len(sizing.evaluated) <= 3",
         "a sure answer from a few of the 64 values"),
        ("fixed = {}", "fixed['short-polling'].answer == fixed['long-polling'].answer == 4",
         "both fixed pools need four workers for the sale"),
        ("cheapest = min(", "cheapest == 'autoscaled' and all(meets.values())",
         "every design meets the SLO and the autoscaled pool is the cheapest"),
        ("cheapest = min(", "table.at['short polling', 'cost.brokers.sqs.requests.empty_receive']"
         " > 100 * table.at['long polling', 'cost.brokers.sqs.requests.empty_receive']",
         "short polling makes far more empty receives than long polling"),
    ],
}


def _code_cells(notebook: nbformat.NotebookNode) -> list[nbformat.NotebookNode]:
    return [cell for cell in notebook.cells if cell.cell_type == "code"]


def _text(cell: nbformat.NotebookNode) -> list[str]:
    """What a cell printed, as text (images and HTML left out: their bytes vary by version)."""
    texts = []
    for output in cell.get("outputs", []):
        if output.get("output_type") == "stream":
            texts.append(output["text"])
        elif "data" in output and "image/png" not in output["data"]:
            texts.append(str(output["data"].get("text/plain", "")))
    return texts


def _with_claims(notebook: nbformat.NotebookNode, claims: list[tuple[str, str, str]]
                 ) -> nbformat.NotebookNode:
    """A copy of ``notebook`` with each claim as an assert cell after the cell it checks."""
    checked = copy.deepcopy(notebook)
    for marker, claim, says in reversed(claims):
        index = next((i for i, cell in enumerate(checked.cells)
                      if cell.cell_type == "code" and marker in cell.source), None)
        assert index is not None, f"no cell has {marker!r}: update the claim"
        cell = nbformat.v4.new_code_cell(f"assert {claim}, {says!r}")
        cell.metadata["claim"] = True
        checked.cells.insert(index + 1, cell)
    return checked


def test_there_are_the_three_notebooks():
    names = {p.stem for p in NOTEBOOKS}
    assert {"quickstart", "brokers_under_failure", "comparing_designs"} <= names
    assert set(CLAIMS) == names


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_committed_notebook_holds_its_outputs(path):
    """A reader on a code host sees every table and figure: the notebook was saved run."""
    cells = _code_cells(nbformat.read(path, as_version=4))
    counts = [cell.execution_count for cell in cells]
    assert counts == list(range(1, len(cells) + 1)), "run top to bottom in one kernel"
    assert all(cell.outputs for cell in cells[1:]), "a cell that shows nothing"
    outputs = [o for cell in cells for o in cell.outputs]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    assert [o for o in outputs if "image/png" in o.get("data", {})], "no figure shown"
    assert not [cell.source for cell in cells if "assert " in cell.source], (
        "checks belong in CLAIMS, not in teaching cells")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_and_still_says_what_it_committed(path):
    committed = nbformat.read(path, as_version=4)
    notebook = _with_claims(committed, CLAIMS[path.stem])
    NotebookClient(notebook, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    outputs = [o for cell in _code_cells(notebook) for o in cell.get("outputs", [])]
    errors = [f"{o['ename']}: {o['evalue']}" for o in outputs if o.get("output_type") == "error"]
    assert not errors
    # A figure that printed as text instead of an image: "<Figure size 900x600 with 2 Axes>".
    assert not [o for o in outputs if "image/png" not in o.get("data", {})
                and "<Figure size" in str(o.get("data", {}).get("text/plain", ""))]
    fresh = [cell for cell in _code_cells(notebook) if not cell.metadata.get("claim")]
    for old, new in zip(_code_cells(committed), fresh, strict=True):
        assert _text(new) == _text(old), (
            f"{path.name}: the cell starting {old.source.splitlines()[0]!r} now prints "
            "something else: run `make notebooks` and reread its prose")
        shows = ["image/png" in o.get("data", {}) for o in new.outputs]
        assert shows == ["image/png" in o.get("data", {}) for o in old.outputs]
