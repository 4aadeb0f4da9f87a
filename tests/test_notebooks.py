"""Notebooks are product: each runs top to bottom and shows its figures."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = sorted((Path(__file__).parent.parent / "notebooks").glob("*.ipynb"))


def test_there_are_the_three_notebooks():
    names = {p.stem for p in NOTEBOOKS}
    assert {"quickstart", "brokers_under_failure", "comparing_designs"} <= names


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_top_to_bottom_and_shows_its_figures(path):
    notebook = nbformat.read(path, as_version=4)
    NotebookClient(notebook, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    outputs = [o for cell in notebook.cells if cell.cell_type == "code"
               for o in cell.get("outputs", [])]
    errors = [o for o in outputs if o.get("output_type") == "error"]
    assert not errors
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert images, "no figure shown"
    # A figure that printed as text instead of an image: "<Figure size 900x600 with 2 Axes>".
    unrendered = [o for o in outputs if "image/png" not in o.get("data", {})
                  and "<Figure size" in str(o.get("data", {}).get("text/plain", ""))]
    assert not unrendered
