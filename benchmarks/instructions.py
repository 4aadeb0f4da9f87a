"""Instructions per message: the steady yardstick of the hot path.

Counts, with ``valgrind --tool=callgrind``, the instructions an in-process run of
``benchmarks/mm8.yaml`` (``sim.engine.simulate``) executes at two sizes; the difference divided
by the difference in messages is the cost of one message, start-up left out. Wall times on a
shared machine wander by 20 %; this count moves by well under 1 % between runs.

    .venv/bin/python benchmarks/instructions.py                 # 2,000 and 22,000 messages
    PYTHONPATH=../other-tree .venv/bin/python benchmarks/instructions.py   # another tree
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

RUN = """
import sys
import sim
from sim.engine import simulate
scenario = sim.load(sys.argv[1], overrides={"run.messages": int(sys.argv[2])})
simulate(scenario.data)
"""


def instructions(messages: int) -> int:
    """Instructions executed by one in-process run of ``messages`` messages."""
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1")  # idle BLAS threads add noise
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "callgrind.out"
        done = subprocess.run(
            ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}",
             sys.executable, "-c", RUN, str(HERE / "mm8.yaml"), str(messages)],
            env=env, capture_output=True, text=True, check=True)
    found = re.search(r"Collected\s*:\s*(\d+)", done.stderr)
    if found is None:
        raise SystemExit(f"no instruction count in valgrind's output:\n{done.stderr}")
    return int(found.group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=2_000)
    parser.add_argument("--large", type=int, default=22_000)
    args = parser.parse_args()
    small, large = instructions(args.small), instructions(args.large)
    per_message = (large - small) / (args.large - args.small)
    print(f"{args.small:,} messages: {small:,} instructions")
    print(f"{args.large:,} messages: {large:,} instructions")
    print(f"instructions per message: {per_message:,.0f}")


if __name__ == "__main__":
    main()
