"""The searched range of a sizing: ``PATH=LO..HI`` parsed and checked against the scenario
(`sim.experiment.size`), its candidate values whole numbers or every ``step``."""

from __future__ import annotations

import difflib
import math
from dataclasses import dataclass
from typing import Any

from sim.scenario import Scenario, ScenarioError
from sim.scenario.errors import Problem
from sim.scenario.overrides import split_path
from sim.scenario.units import parse_duration


class SizeError(ScenarioError):
    """A ``--param`` range or setting ``size`` cannot search (exit code 2)."""

    def __init__(self, message: str) -> None:
        super().__init__([Problem("", None, message)])


# --------------------------------------------------------------------------- the parameter


@dataclass(frozen=True)
class Param:
    """The setting searched and its candidate values, in increasing order."""

    path: str
    low: float
    high: float
    step: float
    values: list[Any]
    text: str

    def as_dict(self) -> dict[str, Any]:
        return {"path": self.path, "low": self.low, "high": self.high, "step": self.step,
                "values": len(self.values), "text": self.text}


def parse_param(text: str, step: Any = None) -> tuple[str, Any, Any, Any]:
    """``"workers.api.count=1..64"`` -> ``(path, low, high, step)`` as written."""
    key, sep, span = str(text).partition("=")
    low, dots, high = span.partition("..")
    if not sep or not key.strip() or not dots or not low.strip() or not high.strip():
        raise SizeError(f"--param {text}: expected KEY=LO..HI, e.g. workers.api.count=1..64 "
                        "(durations and fractions with --step, e.g. "
                        "queues.q.visibility_timeout=5s..60s --step 5s)")
    return key.strip(), low.strip(), high.strip(), step


def _number(raw: Any, what: str) -> tuple[float, bool]:
    """(value, whole) of a bound or step: a number, or a duration with a unit (seconds)."""
    if isinstance(raw, bool):
        raise SizeError(f"{what}: {raw!r} is not a number")
    if isinstance(raw, (int, float)):
        return float(raw), isinstance(raw, int) or float(raw).is_integer()
    text = str(raw).strip()
    try:
        return float(int(text)), True
    except ValueError:
        pass
    try:
        value = float(text.rstrip("%")) / (100.0 if text.endswith("%") else 1.0)
        return value, False
    except ValueError:
        pass
    try:
        return parse_duration(text), False
    except ValueError:
        raise SizeError(f"{what}: {text!r} is not a number or a duration such as 30s"
                        ) from None


def make_param(scenario: Scenario, path: str, low: Any, high: Any, step: Any = None) -> Param:
    """The candidate values of ``path`` over ``low..high``; SizeError when the setting does
    not exist, is not a number, or the range is reversed or holds one value."""
    current = _setting(scenario.data, path)
    if isinstance(current, bool) or not (current is None or isinstance(current, (int, float))):
        raise SizeError(f"--param {path}: the scenario's value is {current!r}, not a number; "
                        "size searches a numeric setting (a count, a duration, a fraction)")
    text = f"{path}={low}..{high}"
    lo, lo_whole = _number(low, f"--param {text}")
    hi, hi_whole = _number(high, f"--param {text}")
    if step is None:
        if not (lo_whole and hi_whole):
            raise SizeError(f"--param {text}: a range of durations or fractions needs "
                            "--step, e.g. --step 0.05 or --step 100ms")
        size, whole = 1.0, True
    else:
        size, step_whole = _number(step, f"--step {step}")
        if not size > 0:
            raise SizeError(f"--step {step}: must be above 0")
        whole = lo_whole and hi_whole and step_whole and isinstance(current, int)
    if hi < lo:
        raise SizeError(f"--param {text}: the range is reversed (write the low value first)")
    count = math.floor((hi - lo) / size + 1e-9) + 1
    if count < 2:
        raise SizeError(f"--param {text}: the range holds one value; size needs at least two "
                        "to search (widen the range or use a smaller --step)")
    values: list[Any] = [round(lo + i * size) if whole else round(lo + i * size, 12)
                         for i in range(count)]
    return Param(path, lo, hi, size, values, text + ("" if step is None else f" step {step}"))


def _setting(data: dict[str, Any], path: str) -> Any:
    """The resolved scenario's value at ``path``; SizeError with a did-you-mean if none."""
    parts = split_path(path)
    if parts is None:
        raise SizeError(f"--param {path}: not a valid path (dotted keys, e.g. "
                        "workers.api.count)")
    current: Any = data
    walked: list[str] = []
    for part in parts:
        inside = (part in current if isinstance(current, dict) else
                  isinstance(current, list) and isinstance(part, int) and part < len(current))
        if inside:
            current = current[part]
        else:
            keys = [str(k) for k in current] if isinstance(current, dict) else []
            close = difflib.get_close_matches(str(part), keys, n=1)
            where = ".".join([*walked, str(part)])
            hint = f"; did you mean {'.'.join([*walked, close[0]])!r}?" if close else ""
            raise SizeError(f"--param {path}: the scenario has no setting {where}{hint}")
        walked.append(str(part))
    return current


# --------------------------------------------------------------------------- points
