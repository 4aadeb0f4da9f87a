"""Run every notebook here top to bottom and save it with its outputs (``make notebooks``).

The notebooks are committed executed, so a reader on a code host sees every figure and table.
Their seeds are fixed, so a re-run gives the same numbers; the metadata that would change on
every run (execution timestamps, the kernel's version) is dropped, so a refresh that changes
nothing shows no diff beyond the images' bytes. ``tests/test_notebooks.py`` checks that each
committed notebook holds its outputs and that they are what the code prints today.

    .venv/bin/python notebooks/execute.py                    # all of them
    .venv/bin/python notebooks/execute.py quickstart         # one
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient

HERE = Path(__file__).resolve().parent


def execute(path: Path) -> nbformat.NotebookNode:
    """``path``'s notebook, run top to bottom in a fresh kernel, with its outputs."""
    notebook = nbformat.read(path, as_version=4)
    NotebookClient(notebook, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    return notebook


def clean(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Drop what changes at every run without changing what a reader sees."""
    notebook.metadata.pop("widgets", None)
    notebook.metadata["language_info"] = {"name": "python"}
    for cell in notebook.cells:
        cell.metadata.pop("execution", None)
    return notebook


def main(names: list[str]) -> None:
    paths = [HERE / f"{name}.ipynb" for name in names] or sorted(HERE.glob("*.ipynb"))
    for path in paths:
        print(f"running {path.name} ...", flush=True)
        nbformat.write(clean(execute(path)), path)


if __name__ == "__main__":
    main(sys.argv[1:])
