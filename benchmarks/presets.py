"""Throughput of the engine on real broker presets with faults (messages simulated per second).

Runs shipped scenarios through the Python API, several rounds each, and reports the median
wall time of the simulation alone (`sim.engine.simulate`) and of the whole run (records,
summary), as messages per second. The default is `scenarios/rabbitmq_crashes.yaml`: the
RabbitMQ preset, prefetch 10, manual acks with an ack latency, and random consumer crashes.

    python benchmarks/presets.py [--rounds 5] [--messages 300000] [SCENARIO ...]
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import sim
from sim.engine import simulate

ROOT = Path(__file__).resolve().parent.parent


def measure(path: Path, rounds: int, messages: int | None) -> None:
    overrides = {"run.messages": messages, "run.duration": None} if messages else None
    scenario = sim.load(path, overrides=overrides)
    sim_times, total_times = [], []
    copies = 0
    for _ in range(rounds):
        start = time.perf_counter()
        data = simulate(scenario.data)
        sim_times.append(time.perf_counter() - start)
        copies = len(data.records)
        start = time.perf_counter()
        result = sim.run(scenario)
        total_times.append(time.perf_counter() - start)
    totals = result.summary["totals"]
    sim_median, total_median = statistics.median(sim_times), statistics.median(total_times)
    crashes = sum(pool["crashes"] for pool in result.summary["workers"].values())
    print(f"{path.name}: {copies:,} copies, {crashes:,} worker crashes")
    print(f"  simulation only   median {sim_median:6.2f} s   {copies / sim_median:9,.0f} msg/s")
    print(f"  run with summary  median {total_median:6.2f} s   {copies / total_median:9,.0f} msg/s")
    print(f"  redelivered {totals['duplicate_deliveries']:,}, processed twice "
          f"{totals['duplicate_processing']:,}, lost {totals['lost']:,}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenarios", nargs="*", type=Path,
                        default=[ROOT / "scenarios" / "rabbitmq_crashes.yaml"])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--messages", type=int, default=300_000,
                        help="stop after this many messages (0: the scenario's own duration)")
    args = parser.parse_args()
    for path in args.scenarios:
        measure(path, args.rounds, args.messages or None)


if __name__ == "__main__":
    main()
