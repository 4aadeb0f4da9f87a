"""The project's docs, code and comments stand alone: they cite its own documents, never a file
outside the repository (the specification it grew from is not shipped with it)."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
FORBIDDEN = ("§", "../shared", "shared/spec", "scenario-format.md", "the contract")
# Section signs are fine where a textbook is cited (queueing theory's sources).
TEXTBOOKS = ("Kleinrock", "Gross et al", "Harchol-Balter")
FILES = sorted(
    path
    for pattern in ("sim/**/*.py", "tests/**/*.py", "benchmarks/**/*", "docs/**/*.md",
                    "notebooks/*.ipynb", "scenarios/*.yaml", "README.md", "results/README.md",
                    "Makefile", "pyproject.toml", ".ci/*")
    for path in ROOT.glob(pattern)
    if path.is_file() and path.name != Path(__file__).name and path.suffix != ".pyc"
)


def test_the_files_are_found():
    assert len(FILES) > 50


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_citation_of_a_file_outside_the_repository(path: Path) -> None:
    text = path.read_text(encoding="utf-8", errors="replace")
    found = [
        f"{path.relative_to(ROOT)}:{n}: {line.strip()}"
        for n, line in enumerate(text.splitlines(), 1)
        if any(word in line for word in FORBIDDEN) and not any(t in line for t in TEXTBOOKS)
    ]
    assert not found, "\n".join(found)
