"""The documentation's commands work as written.

Every shell command of README.md and docs/*.md — each line of a ```sh block, and each inline
code span that starts with ``mqsim``, ``.venv/bin/mqsim`` or ``make`` — is run here, in a
scratch folder laid out like the project's (``scenarios/`` linked, the README's ``orders.yaml``
saved), so the results they write land there and nothing is written into the repository.
``mqsim`` and ``.venv/bin/mqsim`` are ``sim.cli.main`` of the tree under test, called in this
process (the interpreter's start-up and imports would otherwise dominate the time) with the
command's arguments exactly as written: no ``--out`` or ``--set run.duration=...`` is added
(the scratch folder takes the results, and every documented scenario runs in seconds). The
exceptions are listed in ``SKIPPED`` and ``FILLED_IN`` with their reasons. The README's Python
example is run too.
"""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest
import yaml

from sim.cli import main

ROOT = Path(__file__).resolve().parents[1]
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]

# Commands that are not run, and why.
SKIPPED = {
    "make run": "creates .venv and installs the project; what it runs, "
                "`.venv/bin/mqsim run scenarios/traffic_spike.yaml`, is run here",
    "make test": "creates .venv and runs the whole suite, this test included",
    "make notebooks": "rewrites the committed notebooks; tests/test_notebooks.py runs each "
                      "and checks it shows what the committed one does",
    "mqsim validate FILE": "FILE is a placeholder; `mqsim validate orders.yaml` and the "
                           "shipped scenarios' runs are run here",
}
# Placeholders filled in before running: <run-id> is the newest run folder of that scenario.
FILLED_IN = {"<run-id>": "the newest run folder under the path's parent"}

FENCE = re.compile(r"^[ \t]*```([\w-]*)[ \t]*\n(.*?)^[ \t]*```", re.M | re.S)
SPAN = re.compile(r"`([^`]+)`")
COMMAND = re.compile(r"((\.venv/bin/)?mqsim|make)\s+\S")  # a program with arguments


def _blocks(text: str, language: str) -> list[str]:
    return [body for lang, body in FENCE.findall(text) if lang == language]


def documented_commands() -> dict[str, list[str]]:
    """Each command (whitespace normalised, comments dropped) -> the documents showing it."""
    found: dict[str, list[str]] = {}

    def add(command: str, where: Path) -> None:
        command = " ".join(shlex.split(command, comments=True))
        if command:
            found.setdefault(command, [])
            if where.name not in found[command]:
                found[command].append(where.name)

    for path in DOCUMENTS:
        text = path.read_text(encoding="utf-8")
        for language in ("sh", "bash", "shell", "console"):
            for body in _blocks(text, language):
                for line in body.splitlines():
                    add(line, path)
        prose = FENCE.sub("", text)
        for span in SPAN.findall(prose):
            span = " ".join(span.split())  # a span may wrap across lines
            if COMMAND.match(span):
                add(span, path)
    return found


COMMANDS = documented_commands()


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder laid out like the project: scenarios/, and the README's orders.yaml."""
    folder = tmp_path_factory.mktemp("docs")
    (folder / "scenarios").symlink_to(ROOT / "scenarios", target_is_directory=True)
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    [orders] = [b for b in _blocks(readme, "yaml") if b.startswith("name: orders")]
    (folder / "orders.yaml").write_text(orders)
    return folder


class Mqsim:
    """``mqsim ARGS`` run in ``cwd``: ``(exit code, stdout, stderr)``."""

    def __init__(self, cwd: Path, capsys: pytest.CaptureFixture[str],
                 monkeypatch: pytest.MonkeyPatch) -> None:
        self.cwd, self.capsys = cwd, capsys
        monkeypatch.chdir(cwd)
        monkeypatch.delenv("MQSIM_DEBUG", raising=False)

    def __call__(self, argv: list[str]) -> tuple[int, str, str]:
        self.capsys.readouterr()
        code = main(argv)
        out, err = self.capsys.readouterr()
        return code, out, err

    def fill_in(self, argv: list[str]) -> list[str]:
        filled = []
        for arg in argv:
            if "<run-id>" in arg:
                parent = (self.cwd / arg).parent
                runs = sorted(parent.glob("*-seed*"), key=lambda p: p.stat().st_mtime)
                if not runs:  # run alone (pytest -k): make the run the placeholder stands for
                    assert self(["run", f"{parent.name}.yaml", "--no-plots", "--quiet"])[0] == 0
                    runs = sorted(parent.glob("*-seed*"))
                arg = str(runs[-1].relative_to(self.cwd))
            filled.append(arg)
        return filled


def test_the_documents_have_commands() -> None:
    # The extraction itself works: the README's and the tutorial's commands are all found.
    assert sum("README.md" in docs for docs in COMMANDS.values()) >= 7
    assert sum("tutorial.md" in docs for docs in COMMANDS.values()) >= 5
    assert ".venv/bin/mqsim run orders.yaml --replications 10" in COMMANDS
    # Every skip and placeholder is still shown somewhere (no stale reasons).
    assert set(SKIPPED) <= set(COMMANDS)
    assert all(any(p in command for command in COMMANDS) for p in FILLED_IN)


@pytest.mark.parametrize("command", list(COMMANDS),
                         ids=[f"{c} [{', '.join(d)}]" for c, d in COMMANDS.items()])
def test_documented_command_works(command: str, workdir: Path, capsys, monkeypatch) -> None:
    if command in SKIPPED:
        pytest.skip(SKIPPED[command])
    program, *argv = shlex.split(command)
    assert program in ("mqsim", ".venv/bin/mqsim"), f"not an mqsim command: {command}"
    mqsim = Mqsim(workdir, capsys, monkeypatch)
    code, out, err = mqsim(mqsim.fill_in(argv))
    assert code == 0, f"{command}\n{err}"
    assert "Traceback" not in err and "error" not in err
    if argv[0] == "validate":
        assert yaml.safe_load(out)["run"]["seed"] is not None
    elif argv[0] == "run":
        results = Path(workdir, out.rsplit("results: ", 1)[1].split()[0])
        summary = json.loads((results / "summary.json").read_text())
        assert summary["totals"]["completed"]
        assert (results / "plots" / "latency_cdf.png").is_file()
        assert (results / "plots" / "timeseries.png").is_file()
        if "--replications" in argv:
            assert summary["replications"] == int(argv[argv.index("--replications") + 1])
            assert isinstance(summary["warmup"], float)
    elif argv[0] == "plot":
        assert out.count(".png") == 2


def test_readme_python_example(workdir: Path, monkeypatch) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    [example] = [b for b in _blocks(readme, "python") if "import sim" in b]
    monkeypatch.chdir(workdir)
    exec(compile(example, "README.md", "exec"), {})
