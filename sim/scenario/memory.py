"""How much memory a run needs, against how much the machine has.

A run keeps a row of records per message copy until it ends, about `BYTES_PER_MESSAGE` bytes
each with the results written (benchmarks/README.md); the expected messages come from
`sim.scenario.estimates`. `sim.scenario.warnings` warns about a huge run; `check` refuses one
that would need more memory than the machine has (a run that fills memory swaps or is killed
after minutes, with nothing written), unless forced. The figures are rough, as every estimate.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sim.format import show_duration
from sim.scenario.errors import Problem, ScenarioError
from sim.scenario.estimates import Estimates

BYTES_PER_MESSAGE = 200


@dataclass(frozen=True)
class Need:
    """A run's expected messages and the memory they take."""

    path: tuple[str, str]  # what sets the length: run.messages or run.duration
    messages: float
    rate: float | None  # expected messages per second while publishing (None: unknown)
    publishing: float | None  # seconds

    @property
    def bytes(self) -> float:
        return self.messages * BYTES_PER_MESSAGE

    def describe(self) -> str:
        """'about 60,000,000 messages expected (1,000,000/s for 1.00 min); at about 200 bytes
        a message the run needs about 12.0 GB of memory'."""
        how = ""
        if self.rate is not None and self.publishing:
            rate = f"{self.rate:,.0f}/s" if self.rate >= 100 else f"{self.rate:.3g}/s"
            how = f" ({rate} for {show_duration(self.publishing)})"
        return (
            f"about {count_text(self.messages)} messages expected{how}; at about "
            f"{BYTES_PER_MESSAGE} bytes a message the run needs about {gigabytes(self.bytes)} "
            "of memory"
        )


def need(data: Mapping[str, Any], estimates: Estimates | None = None) -> Need:
    """The expected messages of a resolved scenario (its message budget when publishing cannot
    be estimated)."""
    estimates = estimates or Estimates(data)
    run = data["run"]
    expected = estimates.messages()
    if expected is None:
        expected = run["messages"] or 0
    budget = run["messages"]
    by_budget = budget is not None and expected >= budget * (1 - 1e-9)
    publishing = estimates.publishing
    rate = expected / publishing if publishing else None
    path = ("run", "messages") if by_budget else ("run", "duration")
    return Need(path, float(expected), rate, publishing)


def machine_memory() -> int | None:
    """The machine's physical memory in bytes, or None where the system does not say."""
    try:
        pages, size = os.sysconf("SC_PHYS_PAGES"), os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):  # no sysconf (Windows) or no such name
        return None
    return pages * size if pages > 0 and size > 0 else None


def gigabytes(n: float) -> str:
    """Bytes for reading, in GB (10**9) from 1 GB: 2.0 MB, 12.0 GB, 6,000 GB."""
    if n < 1e9:
        return f"{n / 1e6:,.1f} MB"
    return f"{n / 1e9:,.1f} GB" if n < 1e12 else f"{n / 1e9:,.0f} GB"


def check(scenario: Any, force: bool = False) -> None:
    """ScenarioError (at run.duration or run.messages, with its line) when the run would need
    more memory than the machine has, unless ``force``."""
    if force:
        return
    machine = machine_memory()
    if machine is None:
        return
    needed = need(scenario.data)
    if needed.bytes <= machine:
        return
    message = (
        f"{needed.describe()}, more than this machine's {gigabytes(machine)}: shorten the run "
        "or lower the rates (--force, or force=True in Python, runs it anyway)"
    )
    problem = getattr(scenario, "problem", None)
    if problem is not None:
        raise problem(needed.path, message)
    raise ScenarioError([Problem(".".join(needed.path), None, message)])


def count_text(x: float) -> str:
    """A count of messages, rounded for reading: 27,000 or 3."""
    if not math.isfinite(x):
        return "unboundedly many"
    if x >= 1000:
        digits = math.floor(math.log10(x)) - 1  # two significant figures
        return f"{round(x, -digits):,.0f}"
    return f"{x:,.0f}" if x >= 1 else "less than 1"
