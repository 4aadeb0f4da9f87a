"""Wall-clock benchmark: mqsim against the same M/M/8 model written as plain SimPy.

Runs, alternately and for a number of rounds,
  (a) ``mqsim run benchmarks/mm8.yaml --no-plots --quiet --out TMP --set run.messages=N``
  (b) ``python benchmarks/plain_simpy.py --messages N``
each as a fresh subprocess timed from start to exit, so both pay for interpreter start-up and
imports, and mqsim also for writing its results folder (summary, parquet tables). Prints the
per-round times, both medians, messages per second and the median wall-time ratio
(mqsim / plain; below 1 means mqsim is faster).

    python benchmarks/engine.py [--rounds 5] [--messages 300000]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent  # the project venv's bin dir, where `mqsim` is installed


def mqsim_command(scenario: Path, messages: int, out: Path) -> list[str]:
    mqsim = BIN / "mqsim"
    return [
        str(mqsim), "run", str(scenario), "--no-plots", "--quiet", "--out", str(out),
        "--set", f"run.messages={messages}",
    ]


def plain_command(messages: int) -> list[str]:
    return [sys.executable, str(HERE / "plain_simpy.py"), "--messages", str(messages)]


def timed(command: list[str]) -> float:
    """Wall seconds of one subprocess; exits with its output if it fails."""
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        sys.stderr.write(f"failed ({done.returncode}): {' '.join(command)}\n")
        sys.stderr.write(done.stdout + done.stderr)
        sys.exit(1)
    return elapsed


def run_mqsim(scenario: Path, messages: int) -> float:
    with tempfile.TemporaryDirectory(prefix="mqsim-bench-") as out:
        return timed(mqsim_command(scenario, messages, Path(out)))


def run_plain(messages: int) -> float:
    return timed(plain_command(messages))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--messages", type=int, default=300_000)
    parser.add_argument("--scenario", type=Path, default=HERE / "mm8.yaml")
    parser.add_argument(
        "--no-warmup", action="store_true",
        help="skip the untimed 1,000-message run of each that warms the file-system cache",
    )
    args = parser.parse_args()
    if not (BIN / "mqsim").exists():
        sys.exit(f"mqsim not found in {BIN}; run with the project venv's python (make bench)")

    n = args.messages
    print(f"M/M/8, {n:,} messages, {args.rounds} rounds (alternating, order swapped each round)")
    if not args.no_warmup:
        run_mqsim(args.scenario, 1000)
        run_plain(1000)

    mq_times: list[float] = []
    plain_times: list[float] = []
    sides = (
        (mq_times, lambda: run_mqsim(args.scenario, n)),
        (plain_times, lambda: run_plain(n)),
    )
    for r in range(args.rounds):
        # Swap who goes first each round so a slow phase of the machine favours neither side.
        for times, run in sides if r % 2 == 0 else sides[::-1]:
            times.append(run())
        print(f"  round {r + 1}: mqsim {mq_times[-1]:7.2f} s   "
              f"plain SimPy {plain_times[-1]:7.2f} s")

    mq, plain = statistics.median(mq_times), statistics.median(plain_times)
    ratios = [a / b for a, b in zip(mq_times, plain_times, strict=True)]
    print()
    print(f"median wall time   mqsim {mq:7.2f} s   plain SimPy {plain:7.2f} s")
    print(f"messages/s         mqsim {n / mq:9,.0f}   plain SimPy {n / plain:9,.0f}")
    print(f"ratio mqsim/plain  {mq / plain:.2f} (of medians), "
          f"{statistics.median(ratios):.2f} (median of per-round ratios)")


if __name__ == "__main__":
    main()
