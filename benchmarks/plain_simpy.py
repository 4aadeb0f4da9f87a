"""The M/M/8 benchmark model as a plain SimPy script: the baseline mqsim is measured against.

Poisson arrivals (rate 7.2/s) put message ids into a shared ``simpy.Store``; 8 server
processes, one generator each, take a message, hold it for an exponential service time (mean
1 s) and record its completion. Like mqsim, it keeps a record per message (publish and
completion times in Python lists) and draws each random number when needed from a seeded numpy
generator — what a typical hand-written simulation looks like.

    python benchmarks/plain_simpy.py --messages 300000
"""

from __future__ import annotations

import argparse
import math
import time
from collections.abc import Generator

import numpy as np
import simpy

ARRIVAL_RATE = 7.2
MEAN_SERVICE = 1.0
SERVERS = 8


def source(
    env: simpy.Environment, store: simpy.Store, rng: np.random.Generator, n: int,
    published: list[float],
) -> Generator:
    """Publish n messages with exponential inter-arrival times."""
    for i in range(n):
        yield env.timeout(rng.exponential(1.0 / ARRIVAL_RATE))
        published.append(env.now)
        store.put(i)  # unbounded store: the put succeeds at once, no need to wait on it


def server(
    env: simpy.Environment, store: simpy.Store, rng: np.random.Generator,
    completed: list[float],
) -> Generator:
    """Take messages one at a time, in FIFO order, and serve each for an exponential time."""
    while True:
        i = yield store.get()
        yield env.timeout(rng.exponential(MEAN_SERVICE))
        completed[i] = env.now


def run(n: int, seed: int) -> tuple[list[float], list[float], float]:
    """Simulate n messages; returns publish times, completion times and the end time."""
    rng = np.random.default_rng(seed)
    env = simpy.Environment()
    store = simpy.Store(env)
    published: list[float] = []
    completed: list[float] = [math.nan] * n
    env.process(source(env, store, rng, n, published))
    for _ in range(SERVERS):
        env.process(server(env, store, rng, completed))
    env.run()  # ends when the last message is served and every server waits on an empty store
    return published, completed, env.now


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=300_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    start = time.perf_counter()
    published, completed, end = run(args.messages, args.seed)
    elapsed = time.perf_counter() - start

    latency = np.asarray(completed) - np.asarray(published)
    print(f"messages        {args.messages:,}")
    print(f"simulated time  {end:,.1f} s")
    print(f"elapsed         {elapsed:.2f} s ({args.messages / elapsed:,.0f} messages/s)")
    print(f"mean latency    {np.nanmean(latency):.4f} s")
    try:  # theory beside the estimate, when run from the project
        from sim.analytic import mmc

        print(f"theory (M/M/8)  {mmc(ARRIVAL_RATE, 1.0 / MEAN_SERVICE, SERVERS).W:.4f} s")
    except ImportError:
        pass


if __name__ == "__main__":
    main()
