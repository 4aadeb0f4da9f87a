"""``costs`` (optional): what a design costs, priced per worker-hour and per broker request.

Users write prices for the pools and brokers they want priced; the resolved section lists
every pool and every broker, each with its prices, so the resolved scenario shows what was
priced at what. A price left out is a labelled default: the broker type's list price where
mqsim knows one (`LIST_PRICES`: SQS standard and FIFO requests), else 0; a defaulted entry
carries a ``source`` saying which price was taken and where it comes from. A scenario without
``costs:`` has no ``costs`` section and its summary no ``cost``.

Resolved form (accepted as input too, so a resolved scenario loads again as it is)::

    costs:
      currency: USD
      workers: {POOL: {per_hour: 0.1, source: ...}}
      brokers: {NAME: {per_million_requests: 0.4, per_hour: 0.0, source: ...}}
"""

from __future__ import annotations

from typing import Any

from sim.scenario.checks import INVALID, Ctx, number, show, text
from sim.scenario.errors import Path
from sim.scenario.names import Names, reference

CURRENCY = "USD"  # the list prices' currency, and the default label
POOL_PRICE_KEYS = ("per_hour", "source")
BROKER_PRICE_KEYS = ("per_million_requests", "per_hour", "source")
_price = number(0.0)

_SQS_PRICING = "aws.amazon.com/sqs/pricing"
_SQS_TIER = "us-east-1, first 100 billion requests a month, free tier not applied"
# Broker types with a list price, by key: (price in USD, where it comes from). Checked on
# 2026-12-02 against the AWS pricing page as reported by cloudburn.io (2026-03) and
# factualminds.com (2026-06); docs/presets.md ("Prices") lists them with what a request is.
LIST_PRICES: dict[str, dict[str, tuple[float, str]]] = {
    "sqs": {
        "per_million_requests": (0.40, f"AWS SQS standard list price ({_SQS_TIER}; "
                                       f"{_SQS_PRICING}, checked 2026-12-02)"),
        "per_hour": (0.0, "SQS has no hourly charge"),
    },
    "sqs-fifo": {
        "per_million_requests": (0.50, f"AWS SQS FIFO list price ({_SQS_TIER}; "
                                       f"{_SQS_PRICING}, checked 2026-12-02)"),
        "per_hour": (0.0, "SQS has no hourly charge"),
    },
}
NO_PRICE = "no price given: 0"


def resolve_costs(ctx: Ctx, top: dict[Any, Any], names: Names, brokers: dict[str, Any],
                  workers: dict[str, Any]) -> Any:
    """The resolved ``costs`` section (see the module docstring), or INVALID."""
    path: Path = ("costs",)
    given = ctx.mapping(top.get("costs"), path, ("currency", "workers", "brokers"))
    if given is INVALID:
        return INVALID
    before = len(ctx.problems)
    currency = ctx.field(given, path, "currency", text, CURRENCY)
    pools = _named(ctx, given, "workers", names, POOL_PRICE_KEYS)
    priced = _named(ctx, given, "brokers", names, BROKER_PRICE_KEYS)
    out_workers: dict[str, Any] = {}
    for pool in workers:
        entry = pools.get(pool, {})
        where = ("costs", "workers", pool)
        per_hour = ctx.field(entry, where, "per_hour", _price, None)
        resolved: dict[str, Any] = {"per_hour": 0.0 if per_hour is None else per_hour}
        source = ctx.field(entry, where, "source", text, None)
        if source is not None or per_hour is None:
            resolved["source"] = source or NO_PRICE
        out_workers[pool] = resolved
    out_brokers: dict[str, Any] = {}
    for broker, spec in brokers.items():
        entry = priced.get(broker, {})
        out_brokers[broker] = _broker(ctx, entry, ("costs", "brokers", broker), spec["type"],
                                      currency)
    if len(ctx.problems) > before:
        return INVALID
    return {"currency": currency, "workers": out_workers, "brokers": out_brokers}


def _named(ctx: Ctx, given: dict[Any, Any], section: str, names: Names,
           allowed: tuple[str, ...]) -> dict[str, dict[Any, Any]]:
    """``costs.SECTION``: a mapping of component names (checked, with a did-you-mean) to their
    prices."""
    path: Path = ("costs", section)
    value = ctx.mapping(given.get(section), path, None, "a mapping of name: prices")
    if value is INVALID:
        return {}
    check = reference(names, section)
    out: dict[str, dict[Any, Any]] = {}
    for name, prices in value.items():
        where = (*path, name)
        if check(ctx, name, where) is INVALID:
            continue
        entry = ctx.mapping(prices, where, allowed)
        if entry is not INVALID:
            out[name] = entry
    return out


def _broker(ctx: Ctx, entry: dict[Any, Any], path: Path, kind: str, currency: Any) -> Any:
    """One broker's prices: as given, else its type's list price (labelled), else 0."""
    resolved: dict[str, Any] = {}
    defaulted: list[str] = []
    for key in ("per_million_requests", "per_hour"):
        value = ctx.field(entry, path, key, _price, None)
        if value is not None:
            resolved[key] = value
            continue
        listed = LIST_PRICES.get(kind, {}).get(key)
        if listed is None:
            resolved[key] = 0.0
            defaulted.append(f"{key}: {NO_PRICE}")
            continue
        if currency != CURRENCY and listed[0] != 0:
            ctx.error((*path, key), f"missing: the {kind} list price is in {CURRENCY}, not "
                                    f"{show(currency)}; give this broker's price in {currency}")
            continue
        resolved[key] = listed[0]
        defaulted.append(f"{key}: {listed[1]}")
    source = ctx.field(entry, path, "source", text, None)
    if source is not None or defaulted:
        resolved["source"] = source if source is not None else "; ".join(defaulted)
    return resolved
