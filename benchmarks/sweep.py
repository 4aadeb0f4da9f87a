"""Wall-clock benchmark: a sweep's replications in one process against two (``--jobs``).

Runs, alternately for ``--rounds`` rounds (who goes first swapped each round),
  ``mqsim sweep benchmarks/mm8.yaml --param workers.servers.count=8,9 --replications 4
  --set run.messages=N --no-plots --quiet --out TMP --jobs J``  for J = 1 and J = 2,
each a fresh subprocess timed from launch to exit (start-up, the forkserver's imports and
the results folder included). Prints the per-round times, the medians and the speedup
(median jobs-1 time / median jobs-2 time), and checks that both wrote the same table.csv.

    python benchmarks/sweep.py [--rounds 3] [--messages 300000] [--jobs 2]
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
from pathlib import Path

HERE = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent  # the project venv's bin dir, where `mqsim` is installed


def command(messages: int, jobs: int, out: Path) -> list[str]:
    return [str(BIN / "mqsim"), "sweep", str(HERE / "mm8.yaml"),
            "--param", "workers.servers.count=8,9", "--replications", "4",
            "--set", f"run.messages={messages}", "--no-plots", "--quiet",
            "--out", str(out), "--jobs", str(jobs)]


def timed(messages: int, jobs: int) -> tuple[float, float, str]:
    """Wall seconds and CPU seconds (the sweep's processes, children included) of one sweep,
    and the table.csv it wrote."""
    with tempfile.TemporaryDirectory(prefix="mqsim-sweep-bench-") as out:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        done = subprocess.run(command(messages, jobs, Path(out)), capture_output=True,
                              text=True, check=False)
        elapsed = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if done.returncode != 0:
            sys.stderr.write(done.stdout + done.stderr)
            sys.exit(1)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        [table] = Path(out).glob("*/sweep-*/table.csv")
        return elapsed, cpu, table.read_text()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--messages", type=int, default=300_000,
                        help="messages per replication (default 300,000, as mm8.yaml)")
    parser.add_argument("--jobs", type=int, default=2, help="the parallel side (default 2)")
    args = parser.parse_args()
    times: dict[int, list[float]] = {1: [], args.jobs: []}
    cpus: dict[int, list[float]] = {1: [], args.jobs: []}
    tables: dict[int, str] = {}
    for r in range(args.rounds):
        order = [1, args.jobs] if r % 2 == 0 else [args.jobs, 1]
        for jobs in order:
            elapsed, cpu, tables[jobs] = timed(args.messages, jobs)
            times[jobs].append(elapsed)
            cpus[jobs].append(cpu)
        print(f"round {r + 1}: jobs 1 {times[1][-1]:.2f} s, jobs {args.jobs} "
              f"{times[args.jobs][-1]:.2f} s (cores busy: "
              f"{cpus[args.jobs][-1] / times[args.jobs][-1]:.2f}; "
              f"load average {os.getloadavg()[0]:.2f})")
    serial, parallel = statistics.median(times[1]), statistics.median(times[args.jobs])
    print(f"median: jobs 1 {serial:.2f} s, jobs {args.jobs} {parallel:.2f} s, "
          f"speedup {serial / parallel:.2f}x (2 points x 4 replications x "
          f"{args.messages:,} messages); best round "
          f"{max(a / b for a, b in zip(times[1], times[args.jobs], strict=True)):.2f}x")
    same = tables[1] == tables[args.jobs]
    print("tables identical" if same else "TABLES DIFFER")
    if not same:
        sys.exit(1)


if __name__ == "__main__":
    main()
