"""Typed, frozen specs: what a component reads of the resolved scenario, by attribute.

The resolved scenario is a dict (it is what ``scenario.yaml`` is written from); a component
that read it by string key would fail only at run time on a renamed key, where no checker
sees it. A spec names every field its component reads, is made once at the model's boundary
(`QueueSpec.of`: a missing key fails there, naming it) and cannot change during the run.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any


class SpecError(KeyError):
    """The resolved scenario lacks a field a component reads (a bug between the layers)."""


@dataclass(frozen=True, slots=True)
class QueueSpec:
    """A queue's mechanisms (`sim.model.queue.Queue`); latencies are given as samplers."""

    max_length: int | None
    overflow: str  # reject-publish, drop-head, block
    ttl: float | None
    max_deliveries: int | None
    priority: bool
    ordering: str  # fifo, per-key
    delivery: str  # push, pull
    prefetch_on_auto_ack: bool
    batch_size: int
    wait_time: float
    poll_interval: float
    notify: bool
    redelivery: str  # none, on_disconnect, transaction, visibility_timeout, lease
    heartbeat: float
    visibility_timeout: float | None
    restore_interval: float | None
    lock_timeout: float | None
    requeue: str  # original, head, tail

    @classmethod
    def of(cls, resolved: Mapping[str, Any], path: str = "queue") -> QueueSpec:
        """The spec of one resolved queue (``path``: its name in the scenario, for errors)."""
        missing = [f.name for f in fields(cls) if f.name not in resolved]
        if missing:
            raise SpecError(f"{path}: the resolved scenario has no {', '.join(missing)}")
        return cls(**{f.name: resolved[f.name] for f in fields(cls)})
