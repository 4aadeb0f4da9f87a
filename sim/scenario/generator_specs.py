"""Message fields: each a value generator, checked here and built once by
`sim.random.values` to catch bad values (weights, bounds) at the right path.

Fields: ``key`` (ordering key), ``type`` (selects service_time_by_type, default routing key),
``priority`` (an integer), ``size`` (bytes), ``headers`` (a mapping of generators). A null field
is the same as an absent one. ``size`` is checked, then refused by
`sim.scenario.not_yet` until the model uses it; ``headers`` are read by headers exchanges and
custom routers.
"""

from __future__ import annotations

from typing import Any

from sim.scenario.checks import INVALID, Ctx, show, suggest
from sim.scenario.errors import Path
from sim.scenario.not_yet import refuse
from sim.scenario.random_checks import checked_make

MESSAGE_FIELDS = ("key", "type", "priority", "size", "headers")
FORMS = ("choice", "zipf", "sequence", "uniform_int")
EXAMPLES = (
    "a literal, {choice: [...]}, {zipf: {n, s}, prefix}, {sequence: str} or {uniform_int: [lo, hi]}"
)

# Fields whose values must be numbers: which values they accept, and what to call them.
NUMERIC_FIELDS = {
    "priority": (lambda v: isinstance(v, int) and not isinstance(v, bool), "a whole number"),
    "size": (
        lambda v: isinstance(v, int | float) and not isinstance(v, bool) and v >= 0,
        "a number of bytes >= 0",
    ),
}


def _literal(value: Any) -> bool:
    return isinstance(value, str | int | float | bool)


def _possible_values(spec: Any) -> list[Any] | None:
    """The literal values a generator can produce, when cheap to list (else None)."""
    if _literal(spec):
        return [spec]
    if "choice" in spec:
        return list(spec["choice"])
    if "uniform_int" in spec:
        return list(spec["uniform_int"])
    return None


def generator(ctx: Ctx, value: Any, path: Path, field: str | None = None) -> Any:
    """Checker for one field's generator (``field`` adds the field's own value rules)."""
    if isinstance(value, list):
        return ctx.error(
            path, f"a list is not a value; to pick one of several, write {{choice: {show(value)}}}"
        )
    if isinstance(value, dict):
        forms = [k for k in FORMS if k in value]
        if len(forms) != 1:
            keys = ", ".join(str(k) for k in value) or "none"
            hint = next((suggest(k, FORMS) for k in value if suggest(k, FORMS)), "")
            return ctx.error(
                path,
                f"a value generator needs exactly one of {', '.join(FORMS)}, got keys: "
                f"{keys}{hint} (write {EXAMPLES})",
            )
        form = forms[0]
        ctx.mapping(value, path, [form, "prefix"] if form == "zipf" else [form])
        if form == "zipf":
            params = ctx.mapping(value["zipf"], (*path, "zipf"), ["n", "s"], "{n: N, s: S}")
            if params is INVALID:
                return INVALID
        if field in NUMERIC_FIELDS and form in ("zipf", "sequence"):
            return ctx.error(path, f"{field} is a number: use a literal, choice or uniform_int")
    elif not _literal(value):
        return ctx.error(path, f"must be {EXAMPLES}, got {show(value)}")
    if field in NUMERIC_FIELDS:
        ok, what = NUMERIC_FIELDS[field]
        for v in _possible_values(value) or []:
            if not ok(v):
                return ctx.error(path, f"{field} values must be {what}, got {show(v)}")
    if checked_make(ctx, path, "values", value) is INVALID:
        return INVALID
    return _plain(value)


def _plain(value: Any) -> Any:
    """A copy with weights as floats (plain types only, for the resolved YAML)."""
    if isinstance(value, dict):
        out = dict(value)
        if isinstance(out.get("choice"), dict):
            out["choice"] = {k: float(w) for k, w in out["choice"].items()}
        if isinstance(out.get("zipf"), dict):
            out["zipf"] = {"n": int(out["zipf"]["n"]), "s": float(out["zipf"]["s"])}
        return out
    return value


def message(ctx: Ctx, value: Any, path: Path) -> Any:
    """Checker for a producer's ``message``: {FIELD: GENERATOR}, null fields dropped."""
    m = ctx.mapping(value, path, MESSAGE_FIELDS)
    if m is INVALID:
        return INVALID
    out: dict[str, Any] = {}
    for field in MESSAGE_FIELDS:
        if m.get(field) is None:
            continue
        if field == "headers":
            headers = ctx.mapping(m[field], (*path, field), None, "a mapping of name: generator")
            if headers is INVALID:
                out[field] = INVALID
                continue
            out[field] = {
                str(name): generator(ctx, spec, (*path, field, name))
                for name, spec in headers.items()
            }
            if any(v is INVALID for v in out[field].values()):
                out[field] = INVALID
        else:
            out[field] = generator(ctx, m[field], (*path, field), field)
    refuse(ctx, "message", m, out, path)
    return INVALID if any(v is INVALID for v in out.values()) else out
