"""Memory and scaling benchmark: peak RSS and wall time per message of in-process runs.

Each size runs in a fresh subprocess (peak RSS only ever grows, so sizes must not share one):
``sim.load(mm8.yaml, overrides={"run.messages": N})``, ``sim.run``, then ``result.messages``
so the per-copy table is materialised too. Reported per size:
  - peak RSS (``resource.getrusage(RUSAGE_SELF).ru_maxrss``),
  - bytes per message = (peak - peak of a 1,000-message run) / N, the marginal cost of a
    message once the interpreter, libraries and model are loaded,
  - wall time per message (load + run + table); flat across sizes means linear scaling.

With ``--save`` each run also writes its results folder (summary, Parquet tables, no plots)
to a temporary folder, as ``mqsim run --no-plots`` does; ``--set KEY=VALUE`` overrides the
scenario (e.g. ``--set brokers.default.redelivery=visibility_timeout --set
brokers.default.visibility_timeout=3600`` for hour-long leases on the same traffic).

    python benchmarks/memory.py [--sizes 100000 300000 1000000] [--baseline 1000] [--save]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def peak_rss_bytes() -> int:
    """This process's peak resident set size; ru_maxrss is KiB on Linux, bytes on macOS."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(peak if sys.platform == "darwin" else peak * 1024)


def child(scenario: Path, n: int, save: bool, sets: list[str]) -> None:
    """Run one size in this process and print one JSON line with its figures."""
    import tempfile

    import yaml

    import sim  # imported here so the parent stays light

    overrides = {"run.messages": n}
    for item in sets:
        key, _, value = item.partition("=")
        overrides[key] = yaml.safe_load(value)
    start = time.perf_counter()
    result = sim.run(sim.load(str(scenario), overrides=overrides))
    rows = len(result.messages)
    if save:
        with tempfile.TemporaryDirectory() as folder:
            result.save(folder, plots=False)
    wall = time.perf_counter() - start
    print(json.dumps({"n": n, "rows": rows, "wall": wall, "peak": peak_rss_bytes()}))


def measure(scenario: Path, n: int, save: bool = False, sets: list[str] | None = None) -> dict:
    """Run ``child`` for n messages in a fresh interpreter and parse its report."""
    command = [sys.executable, __file__, "--child", str(n), "--scenario", str(scenario)]
    command += ["--save"] if save else []
    for item in sets or []:
        command += ["--set", item]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.stderr.write(f"failed ({done.returncode}) at {n:,} messages\n")
        sys.stderr.write(done.stdout + done.stderr)
        sys.exit(1)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 300_000, 1_000_000])
    parser.add_argument("--baseline", type=int, default=1000)
    parser.add_argument("--scenario", type=Path, default=HERE / "mm8.yaml")
    parser.add_argument("--save", action="store_true", help="also write the results folder")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        child(args.scenario, args.child, args.save, args.set)
        return

    base = measure(args.scenario, args.baseline, args.save, args.set)
    mib = 1024 * 1024
    print(f"baseline: {args.baseline:,} messages, peak RSS {base['peak'] / mib:.0f} MiB")
    print(f"{'messages':>12} {'rows':>12} {'peak RSS':>10} {'bytes/msg':>10} "
          f"{'wall':>8} {'µs/msg':>8}")
    for n in args.sizes:
        r = measure(args.scenario, n, args.save, args.set)
        per_message = (r["peak"] - base["peak"]) / n
        print(f"{n:>12,} {r['rows']:>12,} {r['peak'] / mib:>7.0f} MiB {per_message:>10.0f} "
              f"{r['wall']:>7.2f}s {r['wall'] / n * 1e6:>8.2f}")


if __name__ == "__main__":
    main()
