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

from sim.format import MISSING, defined, interval, money

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


def cost_lines(summary: Mapping[str, Any]) -> list[str]:
    """The printed summary's cost block, after a blank line (nothing without a ``cost``
    section): the total, then each pool and each broker with its requests by kind. A
    replicated summary shows the means with their intervals."""
    cost = summary.get("cost")
    if not isinstance(cost, Mapping):
        return []
    currency = cost.get("currency") or ""
    lines = ["", f"cost       {_amount(cost.get('total'))} {currency} in all, "
             f"{_amount(cost.get('per_million_messages'))} {currency} per million completed"]
    for name, pool in (cost.get("workers") or {}).items():
        lines.append(f"  pool {name}: {_amount(pool.get('worker_hours'))} worker-hours, "
                     f"{_amount(pool.get('cost'))} {currency}")
    for name, broker in (cost.get("brokers") or {}).items():
        counts = broker.get("requests") or {}
        shown = "  ".join(f"{kind} {_count(n)}" for kind, n in counts.items()
                          if _mean(n) or kind == "publish")
        lines.append(f"  broker {name}: {_amount(broker.get('cost'))} {currency}")
        lines.append(f"    requests {shown}")
    return lines


def _mean(value: Any) -> Any:
    """A plain figure, or the mean of a replicated one (``{mean, ci95}``)."""
    return value.get("mean") if isinstance(value, Mapping) else value


def _amount(value: Any) -> str:
    if isinstance(value, Mapping):
        shown = interval(value.get("mean"), value.get("ci95"))
        return shown if shown != MISSING else money(value.get("mean"))
    return money(value)


def _count(value: Any) -> str:
    if isinstance(value, Mapping):
        shown = interval(value.get("mean"), value.get("ci95"))
        mean = value.get("mean")
        return shown if shown != MISSING else (f"{mean:,.0f}" if defined(mean) else MISSING)
    return f"{value:,}" if isinstance(value, int) else MISSING
