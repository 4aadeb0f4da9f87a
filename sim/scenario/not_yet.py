"""Parts of the format that are specified but not implemented yet: the one table to shrink.

Each is accepted by the schema (so it is not reported as an unknown key), its value is checked
like any other, and then it is refused with a message naming the YAML path, e.g.
``queues.orders.partitions: partitioning (partitions:) is not supported yet``. When the model
learns a feature, delete its line here (and give the key its resolved default in the section
module).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sim.scenario.checks import INVALID, Checker, Ctx, boolean
from sim.scenario.errors import Path

# Every broker type of the format (docs/presets.md), and the ones the model implements.
BROKER_TYPES = ("ideal", "rabbitmq", "sqs", "sqs-fifo", "kafka", "postgres", "redis", "in-process")
SUPPORTED_BROKER_TYPES = BROKER_TYPES


@dataclass(frozen=True)
class NotYet:
    """``what`` is refused when ``when(resolved value)`` holds (with ``if_absent``, also when
    the key is absent); ``hint`` says what to do instead."""

    what: str
    when: Callable[[Any], bool] = lambda value: value is not None
    if_absent: bool = False
    hint: str = ""


NOT_YET: dict[str, dict[str, NotYet]] = {
    "top": {},
    "producers": {},
    # Message fields (producers.NAME.message.FIELD): checked, then refused while the model
    # does not use them (they would change nothing).
    "message": {
        "size": NotYet("a message size (size:)", hint="the model does not use it yet: remove it"),
    },
    "brokers": {},
    "queues": {
        # Broker-level keys set per queue: a queue shares its broker's latencies and capacity.
        "publish_latency": NotYet("a per-queue publish_latency", hint="set it on the broker"),
        "deliver_latency": NotYet("a per-queue deliver_latency", hint="set it on the broker"),
        "capacity": NotYet("a per-queue capacity", hint="set it on the broker"),
        "durable": NotYet("a per-queue durable", hint="set it on the broker"),
    },
    "workers": {},
}

# Broker keys for later issues (Celery's reject_on_worker_lost), on a broker or per queue,
# with the check of their values.
LATER_BROKER_KEYS: dict[str, Checker] = {
    "reject_on_worker_lost": boolean,
}
for _section in ("brokers", "queues"):
    for _key in LATER_BROKER_KEYS:
        NOT_YET[_section][_key] = NotYet(f"the broker setting {_key!r}")


def refuse(
    ctx: Ctx, section: str, given: Mapping[Any, Any], resolved: Mapping[str, Any], path: Path
) -> None:
    """Report each not-yet-supported feature used in one component of ``section``."""
    for key, rule in NOT_YET[section].items():
        if key not in given and not rule.if_absent:
            continue
        value = resolved.get(key, given.get(key))
        if value is INVALID:
            continue  # its own problem is already reported
        if rule.when(value):
            hint = f" ({rule.hint})" if rule.hint else ""
            ctx.error((*path, key), f"{rule.what} is not supported yet{hint}")
