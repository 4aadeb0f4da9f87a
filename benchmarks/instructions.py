"""Instructions per message: the steady yardstick of the hot path.

Counts, with ``valgrind --tool=callgrind``, the instructions an in-process run of
``benchmarks/mm8.yaml`` (``sim.engine.simulate``) executes at two sizes; the difference divided
by the difference in messages is the cost of one message, start-up left out. Wall times on a
shared machine wander by 20 %; this count moves by well under 1 % between runs.

The measured child runs in the tree it measures (``--tree``, by default the one this script
is in): its working folder and the head of its ``PYTHONPATH`` are that tree, so neither the
folder you stand in (``python -c`` puts it first on ``sys.path``) nor the venv's editable
install picks the code. Before counting, it says which ``sim`` it imported, and stops if that
is not the tree's.

    .venv/bin/python benchmarks/instructions.py                      # 2,000 and 22,000 messages
    .venv/bin/python benchmarks/instructions.py --tree ../other-tree  # another checkout
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCENARIO = HERE / "mm8.yaml"  # this script's workload, whichever tree runs it

RUN = """
import sys
import sim
from sim.engine import simulate
scenario = sim.load(sys.argv[1], overrides={"run.messages": int(sys.argv[2])})
simulate(scenario.data)
"""
WHICH = "import sim; print(sim.__file__)"


def child_env(tree: Path) -> dict[str, str]:
    """The measured child's environment: ``tree`` first on its ``PYTHONPATH``, one BLAS
    thread (idle BLAS threads add noise)."""
    path = [str(tree), *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
    return dict(os.environ, PYTHONPATH=os.pathsep.join(path), OPENBLAS_NUM_THREADS="1")


def imported_sim(tree: Path) -> Path:
    """The ``sim`` package the child imports, run as it will be measured (folder and
    environment); SystemExit when it is not ``tree``'s."""
    done = subprocess.run([sys.executable, "-c", WHICH], cwd=tree, env=child_env(tree),
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"--tree {tree}: cannot import sim there:\n{done.stderr.strip()}")
    found = Path(done.stdout.strip()).resolve()
    if not found.is_relative_to(tree):
        raise SystemExit(f"--tree {tree}: the child imports sim from {found}, not from the tree")
    return found


def instructions(messages: int, tree: Path = HERE.parent) -> int:
    """Instructions executed by one in-process run of ``messages`` messages of ``tree``."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "callgrind.out"
        done = subprocess.run(
            ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}",
             sys.executable, "-c", RUN, str(SCENARIO), str(messages)],
            cwd=tree, env=child_env(tree), capture_output=True, text=True, check=True)
    found = re.search(r"Collected\s*:\s*(\d+)", done.stderr)
    if found is None:
        raise SystemExit(f"no instruction count in valgrind's output:\n{done.stderr}")
    return int(found.group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=2_000)
    parser.add_argument("--large", type=int, default=22_000)
    parser.add_argument("--tree", type=Path, default=HERE.parent,
                        help="the checkout to measure (default: this script's own)")
    args = parser.parse_args()
    tree = args.tree.resolve()
    if not (tree / "sim").is_dir():
        raise SystemExit(f"--tree {args.tree}: no sim/ package there")
    print(f"measuring {imported_sim(tree).parent} with {SCENARIO}")
    small, large = instructions(args.small, tree), instructions(args.large, tree)
    per_message = (large - small) / (args.large - args.small)
    print(f"{args.small:,} messages: {small:,} instructions")
    print(f"{args.large:,} messages: {large:,} instructions")
    print(f"instructions per message: {per_message:,.0f}")


if __name__ == "__main__":
    main()
