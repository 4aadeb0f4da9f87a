"""``run.warmup: auto``: choose the warm-up by MSER-5 on the run's latency series.

MSER (White 1997; MSER-5 in White, Cobb & Spratt 2000) truncates the start of an output
series where doing so minimises the squared standard error of the mean of what is left:
the latencies of the completed copies in publish order are averaged in batches of five,
``Y_1..Y_k``, and the truncation ``d`` (in batches) minimises
``sum_{i>d} (Y_i - mean(Y_{d+1..k}))^2 / (k - d)^2`` over ``d <= k / 2`` (the search stops
at half the run: near its end the statistic is small by chance). A minimum on that bound
means the run never settled, and the summary says so. The warm-up is the publish time of
the first copy kept.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

BATCH = 5
METHOD = "MSER-5"


@dataclass(frozen=True)
class Truncation:
    """The chosen warm-up: ``seconds`` (a publish time), ``messages`` left out, and whether
    the series settled within its first half (``settled``)."""

    seconds: float
    messages: int
    batches: int
    settled: bool

    def as_summary(self) -> dict[str, object]:
        """The ``warmup_auto`` entry of a summary."""
        return {"method": METHOD, "seconds": self.seconds, "messages": self.messages,
                "batches": self.batches, "settled": self.settled}


def mser(values: np.ndarray, batch: int = BATCH) -> tuple[int, int, bool]:
    """``(d, k, settled)``: the MSER truncation ``d`` in batches of ``batch`` values, the
    number of batches ``k``, and whether the minimum lay inside the search (not on its
    bound, half the batches)."""
    values = np.asarray(values, dtype=float)
    k = values.size // batch
    if k < 4:
        return 0, k, True  # too few batches to tell anything: keep everything
    y = values[: k * batch].reshape(k, batch).mean(axis=1)
    # Suffix sums give the statistic for every d in one pass.
    s1 = np.cumsum(y[::-1])[::-1]
    s2 = np.cumsum((y * y)[::-1])[::-1]
    kept = np.arange(k, 0, -1, dtype=float)  # k - d for d = 0..k-1
    statistic = (s2 - s1 * s1 / kept) / (kept * kept)
    half = k // 2
    best = int(np.argmin(statistic[: half + 1]))
    return best, k, best < half


def choose(messages: pd.DataFrame) -> Truncation:
    """The MSER-5 warm-up of a run from its messages table (completed copies)."""
    published = messages["published_at"].to_numpy(np.float64)
    completed = messages["completed_at"].to_numpy(np.float64)
    done = ~np.isnan(completed)
    published, latency = published[done], completed[done] - published[done]
    order = np.argsort(published, kind="stable")
    published, latency = published[order], latency[order]
    d, k, settled = mser(latency)
    seconds = float(published[d * BATCH]) if d > 0 else 0.0
    # Copies published at exactly the chosen instant are kept (the warm-up excludes before it).
    left_out = int(np.searchsorted(published, seconds, side="left")) if d > 0 else 0
    return Truncation(seconds=seconds, messages=left_out, batches=k, settled=settled)


def warning(truncation: Truncation) -> str | None:
    """The summary warning for a series that did not settle, else None."""
    if truncation.settled:
        return None
    return (
        f"run.warmup: auto ({METHOD}) found no steady state in the first half of the run; "
        f"it kept {truncation.seconds:g} s as the warm-up, but the run is probably too short "
        "(or the load above capacity) for a steady-state figure"
    )
