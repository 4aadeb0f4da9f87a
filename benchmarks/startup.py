"""Start-up benchmark: what a command costs as a whole process, against what it must import.

Two measurements, each in alternated pairs (who goes first swapped each round), fresh
subprocesses timed from launch to exit, the median of ``--rounds`` printed as a ratio:

- **validate**: ``mqsim validate benchmarks/mm8.yaml --set run.messages=10`` (a ten-message
  scenario) against ``python -c "import numpy, yaml, simpy"`` (what validating needs at least);
- **run**: ``mqsim run benchmarks/mm8.yaml --no-plots --quiet --out TMP`` with ``--messages``
  (300,000 by default; results written) against ``benchmarks/plain_simpy.py`` with as many.

mqsim runs as ``python -m sim.cli`` with this interpreter, from a neutral working folder (``-m``
would put the current folder first on the path), so ``PYTHONPATH=TREE`` measures that checkout
with the same venv; without it, the installed one.

    python benchmarks/startup.py [--rounds 5] [--messages 300000] [--only validate|run]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCENARIO = HERE / "mm8.yaml"
MQSIM = [sys.executable, "-m", "sim.cli"]
NEUTRAL = tempfile.gettempdir()  # the children's working folder: no `sim` package in it
# PYTHONPATH's entries made absolute, as they are meant from here, not from NEUTRAL.
ENV = {**os.environ, "PYTHONPATH": os.pathsep.join(
    str(Path(p).resolve()) for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p)}


Timing = tuple[float, float]  # (wall seconds, CPU seconds: user + system) of one subprocess


def _children_cpu() -> float:
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def timed(command: list[str]) -> Timing:
    """Wall and CPU seconds of one subprocess; exits with its output if it fails."""
    cpu = _children_cpu()
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False, cwd=NEUTRAL,
                          env=ENV)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        sys.stderr.write(f"failed ({done.returncode}): {' '.join(command)}\n")
        sys.stderr.write(done.stdout + done.stderr)
        sys.exit(1)
    return elapsed, _children_cpu() - cpu


def validate() -> Timing:
    return timed([*MQSIM, "validate", str(SCENARIO), "--set", "run.messages=10"])


def imports() -> Timing:
    return timed([sys.executable, "-c", "import numpy, yaml, simpy"])


def run(messages: int) -> Timing:
    with tempfile.TemporaryDirectory(prefix="mqsim-startup-") as out:
        return timed([*MQSIM, "run", str(SCENARIO), "--no-plots", "--quiet", "--out", out,
                      "--set", f"run.messages={messages}"])


def plain(messages: int) -> Timing:
    return timed([sys.executable, str(HERE / "plain_simpy.py"), "--messages", str(messages)])


def pairs(label: str, names: tuple[str, str], sides: tuple[Callable[[], Timing], ...],
          rounds: int) -> None:
    """Run the two sides alternately for ``rounds`` rounds; print each and the ratios.

    The wall-time ratio is the measure; the CPU-time ratio beside it is steadier on a
    shared machine (a process waiting for a core spends wall time but no CPU time).
    """
    times: tuple[list[Timing], list[Timing]] = ([], [])
    sides[0](), sides[1]()  # untimed: warm the file-system cache for both
    for r in range(rounds):
        # Swap who goes first each round so a slow phase of the machine favours neither side.
        order = (0, 1) if r % 2 == 0 else (1, 0)
        for i in order:
            times[i].append(sides[i]())
        (wa, ca), (wb, cb) = times[0][-1], times[1][-1]
        print(f"  {label} round {r + 1}: {names[0]} {wa:7.3f} s (cpu {ca:7.3f})   "
              f"{names[1]} {wb:7.3f} s (cpu {cb:7.3f})")
    for k, what in ((0, "wall"), (1, "cpu")):
        a = statistics.median(x[k] for x in times[0])
        b = statistics.median(x[k] for x in times[1])
        ratios = [x[k] / y[k] for x, y in zip(*times, strict=True)]
        print(f"{label} {what}: median {names[0]} {a:.3f} s, {names[1]} {b:.3f} s; "
              f"ratio {a / b:.2f} (of medians), {statistics.median(ratios):.2f} "
              "(median of per-round ratios)")


def tree() -> str:
    """Where the children import ``sim`` from."""
    probe = "import sim, pathlib; print(pathlib.Path(sim.__file__).parent.parent)"
    return subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          check=True, cwd=NEUTRAL, env=ENV).stdout.strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--messages", type=int, default=300_000)
    parser.add_argument("--only", choices=("validate", "run"))
    args = parser.parse_args()
    print(f"mqsim from {tree()}")
    if args.only in (None, "validate"):
        pairs("validate", ("mqsim validate", "import numpy, yaml, simpy"),
              (validate, imports), args.rounds)
    if args.only in (None, "run"):
        n = args.messages
        pairs(f"run {n:,}", ("mqsim run", "plain SimPy"),
              (lambda: run(n), lambda: plain(n)), args.rounds)


if __name__ == "__main__":
    main()
