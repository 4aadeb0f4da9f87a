"""The printed cost block of a run's summary (its ``cost`` section: `sim.metrics.cost`).

Each amount is followed by the currency and printed as `sim.format.money` prints one: three
significant figures (to the cent at least), and with replications ``mean ± half-width`` to
the half-width's first digit; a part that does not vary (a fixed pool's worker-hours) reads
as the amount alone, not as float rounding's ``± 0.000000000000000042``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sim.format import MISSING, defined, interval, money_interval


def cost_lines(summary: Mapping[str, Any]) -> list[str]:
    """The printed summary's cost block, after a blank line (nothing without a ``cost``
    section): the total, then each pool and each broker with its requests by kind. A
    replicated summary shows the means with their intervals."""
    cost = summary.get("cost")
    if not isinstance(cost, Mapping):
        return []
    currency = cost.get("currency") or ""

    def amount(value: Any) -> str:
        shown = _amount(value)
        return shown if shown == MISSING or not currency else f"{shown} {currency}"

    lines = ["", f"cost       {amount(cost.get('total'))} in all, "
             f"{amount(cost.get('per_million_messages'))} per million completed"]
    for name, pool in (cost.get("workers") or {}).items():
        lines.append(f"  pool {name}: {_amount(pool.get('worker_hours'))} worker-hours, "
                     f"{amount(pool.get('cost'))}")
    for name, broker in (cost.get("brokers") or {}).items():
        counts = broker.get("requests") or {}
        shown = "  ".join(f"{kind} {_count(n)}" for kind, n in counts.items()
                          if _mean(n) or kind == "publish")
        lines.append(f"  broker {name}: {amount(broker.get('cost'))}")
        lines.append(f"    requests {shown}")
    return lines


def _mean(value: Any) -> Any:
    """A plain figure, or the mean of a replicated one (``{mean, ci95}``)."""
    return value.get("mean") if isinstance(value, Mapping) else value


def _amount(value: Any) -> str:
    """An amount (or worker-hours, read alike), with its interval when replicated."""
    if isinstance(value, Mapping):
        return money_interval(value.get("mean"), value.get("ci95"))
    return money_interval(value, None)


def _count(value: Any) -> str:
    if isinstance(value, Mapping):
        shown = interval(value.get("mean"), value.get("ci95"))
        mean = value.get("mean")
        return shown if shown != MISSING else (f"{mean:,.0f}" if defined(mean) else MISSING)
    return f"{value:,}" if isinstance(value, int) else MISSING
