"""The printed cost block of a run's summary (its ``cost`` section: `sim.metrics.cost`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sim.format import MISSING, defined, interval, money


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
