"""Ask `sim.random` whether a resolved spec can actually be built.

The scenario layer checks shapes, keys and units; the random layer knows the constraints
between values (``low <= high``, probabilities summing to one, a trace file's columns). Building
the object once with a fixed generator finds those problems at validation time, at the right
YAML path, instead of in the middle of a run.
"""

from __future__ import annotations

import importlib
from typing import Any

import numpy as np

from sim.scenario.checks import Ctx
from sim.scenario.errors import Path


def checked_make(ctx: Ctx, path: Path, module: str, spec: Any, with_rng: bool = True) -> Any:
    """``sim.random.<module>.make(spec[, rng])``; INVALID (with a problem) on a ValueError."""
    make = importlib.import_module(f"sim.random.{module}").make
    try:
        if with_rng:
            return make(spec, np.random.default_rng(0))
        return make(spec)
    except (ValueError, TypeError) as exc:  # both mean "these values make no sense"
        return ctx.error(path, str(exc))
