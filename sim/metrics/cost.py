"""What a run cost: worker-hours and broker requests at the scenario's prices (``cost``).

``summary.json`` gains, when the scenario has a ``costs`` section::

    cost: {currency, total, per_million_messages,
           workers: {POOL: {worker_hours, cost}},
           brokers: {NAME: {requests: {KIND: N}, hours, cost}}}

- a pool's ``worker_hours`` is its ``worker_seconds`` / 3600 (every worker up, idle or busy,
  over the whole run, drain included: what a fleet is paid for), its cost that times
  ``per_hour``;
- a broker's cost is its requests (every kind) / 10^6 x ``per_million_requests`` plus
  ``hours`` (the whole simulated run, ``sim_end`` / 3600) x ``per_hour``;
- ``total`` is the sum of those parts (``math.fsum``: correctly rounded, in any order);
- ``per_million_messages`` is ``total`` per million completed copies (``totals.completed``:
  a fan-out's copies count each), None when nothing completed.

A scenario without ``costs`` gets no ``cost`` key at all.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

PER_MILLION = 1e6


def cost_section(costs: Mapping[str, Any], requests: Mapping[str, Mapping[str, int]],
                 workers: Mapping[str, Mapping[str, Any]], completed: int | None,
                 sim_end: float) -> dict[str, Any]:
    """The ``cost`` figure of one run (see the module docstring).

    ``costs`` is the resolved section, ``requests`` each broker's counts by kind (the
    engine's), ``workers`` the summary's pools (their ``worker_seconds``)."""
    parts: list[float] = []
    pools: dict[str, Any] = {}
    for name, prices in costs["workers"].items():
        seconds = (workers.get(name) or {}).get("worker_seconds") or 0.0
        hours = seconds / 3600.0
        cost = hours * prices["per_hour"]
        pools[name] = {"worker_hours": hours, "cost": cost}
        parts.append(cost)
    hours = sim_end / 3600.0
    brokers: dict[str, Any] = {}
    for name, prices in costs["brokers"].items():
        counts = {kind: int(n) for kind, n in (requests.get(name) or {}).items()}
        cost = (sum(counts.values()) / PER_MILLION * prices["per_million_requests"]
                + hours * prices["per_hour"])
        brokers[name] = {"requests": counts, "hours": hours, "cost": cost}
        parts.append(cost)
    total = math.fsum(parts)
    return {
        "currency": costs["currency"],
        "total": total,
        "per_million_messages": total / completed * PER_MILLION if completed else None,
        "workers": pools,
        "brokers": brokers,
    }
