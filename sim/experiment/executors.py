"""Where units run: in this process, in local worker processes, or on a Dask cluster.

Every executor has one interface: ``run(units, progress)`` returns the outcomes in the order
of the units, whatever order they finished in, so an experiment's tables never depend on
where (or how fast) a replication ran. ``parallelism`` is how many units it runs at once (the
stop rule adds replications in batches of that size). Executors are context managers: a pool
of processes or a cluster connection is kept across the batches of one experiment.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections.abc import Sequence
from concurrent.futures import FIRST_EXCEPTION, ProcessPoolExecutor, wait
from types import TracebackType
from typing import Any

from sim.experiment.units import Outcome, Unit, execute
from sim.progress import NotedProgress

CONNECT_TIMEOUT = 10.0  # seconds to reach a Dask scheduler before --cluster gives up


class ExecutorError(Exception):
    """An executor cannot be set up (no Dask installed, a cluster that does not answer)."""


class Executor:
    """Runs units; subclasses say where."""

    parallelism: int = 1

    def run(self, units: Sequence[Unit], progress: NotedProgress | None = None) -> list[Outcome]:
        raise NotImplementedError

    def close(self) -> None:
        """Release the workers (nothing to do for the serial executor)."""

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.close()

    def describe(self) -> str:
        return type(self).__name__.lower()


class Serial(Executor):
    """One unit after the other in this process (``--jobs 1``, the default)."""

    def run(self, units: Sequence[Unit], progress: NotedProgress | None = None) -> list[Outcome]:
        outcomes = []
        total = len(units)
        for i, unit in enumerate(units):
            part = None
            if progress is not None:
                def part(fraction: float, i: int = i) -> None:
                    progress((i + fraction) / total, f"{i}/{total} runs")
            outcomes.append(execute(unit, part))
            if progress is not None:
                progress((i + 1) / total, f"{i + 1}/{total} runs")
        return outcomes

    def describe(self) -> str:
        return "serial"


def _context() -> multiprocessing.context.BaseContext:
    """How worker processes start.

    ``fork`` where there is one and this process runs a single thread: a worker starts at
    once with everything imported. With other threads running (a notebook kernel, a Dask
    client), forking could copy a lock held by one of them, so ``forkserver`` then: its
    server imports mqsim once and forks each worker from itself. ``spawn`` elsewhere (a fresh
    interpreter per worker). With forkserver and spawn, the calling script must be
    importable (the usual ``if __name__ == "__main__":`` guard).
    """
    methods = multiprocessing.get_all_start_methods()
    if "fork" in methods and threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    if "forkserver" in methods:
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["sim.experiment.units"])
        return context
    return multiprocessing.get_context("spawn")


class Processes(Executor):
    """``jobs`` local worker processes (``--jobs N``)."""

    def __init__(self, jobs: int) -> None:
        if jobs < 1:
            raise ExecutorError(f"--jobs must be at least 1, got {jobs}")
        self.parallelism = jobs
        self._pool: ProcessPoolExecutor | None = None

    def _workers(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(max_workers=self.parallelism, mp_context=_context())
        return self._pool

    def run(self, units: Sequence[Unit], progress: NotedProgress | None = None) -> list[Outcome]:
        pool = self._workers()
        futures = [pool.submit(execute, unit) for unit in units]
        outcomes: list[Outcome | None] = [None] * len(units)
        index = {future: i for i, future in enumerate(futures)}
        pending = set(futures)
        done_count = 0
        try:
            while pending:
                done, pending = wait(pending, return_when=FIRST_EXCEPTION)
                for future in done:
                    outcomes[index[future]] = future.result()  # raises the worker's error
                    done_count += 1
                if progress is not None:
                    progress(done_count / len(units), f"{done_count}/{len(units)} runs")
        except BaseException:
            for future in pending:
                future.cancel()
            raise
        return [o for o in outcomes if o is not None]

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def describe(self) -> str:
        return f"{self.parallelism} processes"


class Dask(Executor):
    """A Dask distributed scheduler (``--cluster ADDRESS``), or a ``distributed.Client``.

    The workers need mqsim installed (``pip install 'mqsim[cluster]'`` on each) and, for
    scenarios with a trace or an empirical file, that file at the same absolute path.
    """

    def __init__(self, cluster: Any, timeout: float | None = None) -> None:
        try:
            from distributed import Client
        except ImportError:  # pragma: no cover - the test environment has it
            raise ExecutorError(
                "--cluster needs Dask distributed: pip install 'mqsim[cluster]'"
            ) from None
        if isinstance(cluster, Client):
            self.client, self._own = cluster, False
        else:
            try:
                self.client = Client(cluster, timeout=timeout or CONNECT_TIMEOUT,
                                     set_as_default=False)
            except (OSError, TimeoutError, ValueError) as error:
                raise ExecutorError(
                    f"--cluster {cluster}: cannot reach a Dask scheduler there ({error})"
                ) from None
            self._own = True
        self.parallelism = max(1, sum(self.client.nthreads().values()))

    def run(self, units: Sequence[Unit], progress: NotedProgress | None = None) -> list[Outcome]:
        from distributed import as_completed

        futures = self.client.map(execute, list(units), pure=False)
        index = {future.key: i for i, future in enumerate(futures)}
        outcomes: list[Outcome | None] = [None] * len(units)
        done_count = 0
        try:
            with self.client.as_current():  # as_completed looks for the current client
                finishing = as_completed(futures)
            for future in finishing:
                outcomes[index[future.key]] = future.result()
                done_count += 1
                if progress is not None:
                    progress(done_count / len(units), f"{done_count}/{len(units)} runs")
        except BaseException:
            self.client.cancel(futures)
            raise
        return [o for o in outcomes if o is not None]

    def close(self) -> None:
        if self._own:
            self.client.close()

    def describe(self) -> str:
        scheduler = self.client.scheduler
        assert scheduler is not None  # None only before a client connects; this one has
        return f"Dask at {scheduler.address}"


def make(jobs: int | None = None, cluster: Any = None) -> Executor:
    """The executor for ``--jobs`` / ``--cluster`` (serial when neither asks for more)."""
    if cluster is not None:
        return Dask(cluster)
    if jobs is not None and jobs != 1:
        return Processes(jobs if jobs > 0 else (os.cpu_count() or 1))
    return Serial()
