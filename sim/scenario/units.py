"""Durations and rates as users write them: numbers are seconds / per second, strings carry
a unit (``"250us"``, ``"1.5s"``, ``"5m"``, ``"300/m"``, ``"2/ms"``). Everything becomes float
seconds or float messages per second, so no later layer ever sees a unit.
"""

from __future__ import annotations

import math
import re

# Seconds per unit. `m` is minutes (`5m` is five minutes); `ms` is milliseconds.
DURATION_UNITS: dict[str, float] = {
    "ns": 1e-9,
    "us": 1e-6,
    "µs": 1e-6,
    "ms": 1e-3,
    "s": 1.0,
    "sec": 1.0,
    "m": 60.0,
    "min": 60.0,
    "h": 3600.0,
    "d": 86400.0,
}
UNIT_NAMES = "ns, us, ms, s, m for minutes, h or d"

_NUMBER = r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?"
_DURATION_RE = re.compile(rf"^\s*({_NUMBER})\s*([^\d\s.+-][^\s]*)?\s*$")
_RATE_RE = re.compile(rf"^\s*({_NUMBER})\s*(?:/\s*([^\s]+))?\s*$")


def _finite(x: float, what: str, text: object) -> float:
    if not math.isfinite(x):
        raise ValueError(f"bad {what} {text!r}: not a finite number")
    return x


def _plain_number(value: object) -> float | None:
    """A YAML number (int or float, never a bool) as float, else None."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def parse_duration(value: object) -> float:
    """Seconds from a number (seconds) or a string with a unit; ValueError saying why not."""
    number = _plain_number(value)
    if number is not None:
        return _finite(number, "duration", value)
    if not isinstance(value, str):
        raise ValueError(f"bad duration {value!r}: expected seconds or a string such as '20ms'")
    match = _DURATION_RE.match(value)
    if not match:
        raise ValueError(f"bad duration {value!r}: expected a number and a unit, e.g. '20ms'")
    amount, unit = match.group(1), match.group(2) or "s"
    if unit not in DURATION_UNITS:
        raise ValueError(f"bad duration {value!r}: unknown unit {unit!r} (use {UNIT_NAMES})")
    return _finite(float(amount) * DURATION_UNITS[unit], "duration", value)


def parse_rate(value: object) -> float:
    """Messages per second from a number or a string such as ``"300/m"``; ValueError if not."""
    number = _plain_number(value)
    if number is not None:
        return _finite(number, "rate", value)
    if not isinstance(value, str):
        raise ValueError(f"bad rate {value!r}: expected a number per second or e.g. '300/m'")
    match = _RATE_RE.match(value)
    if not match:
        raise ValueError(f"bad rate {value!r}: expected a number per unit, e.g. '300/m', '2/ms'")
    amount, unit = match.group(1), match.group(2) or "s"
    if unit not in DURATION_UNITS:
        raise ValueError(f"bad rate {value!r}: unknown unit {unit!r} (use {UNIT_NAMES})")
    return _finite(float(amount) / DURATION_UNITS[unit], "rate", value)
