"""Value generators for message fields: frequencies, exactness, and errors."""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

import numpy as np
import pytest

from sim.random import values
from sim.random.streams import stream

N = 100_000
Z = 5.0


def _draw(spec: Any, n: int = N, name: str = "v") -> list[Any]:
    g = values.make(spec, stream(0, name))
    return [g.next() for _ in range(n)]


def _share_ok(count: int, p: float, n: int = N) -> bool:
    return abs(count / n - p) <= Z * math.sqrt(p * (1 - p) / n)


@pytest.mark.parametrize("literal", ["eu", 3, 1.5, True])
def test_literals_are_constant(literal: Any) -> None:
    g = values.make(literal, stream(0, "c"))
    assert g.is_constant
    out = [g.next() for _ in range(3)]
    assert out == [literal] * 3 and type(out[0]) is type(literal)


def test_uniform_choice_frequencies() -> None:
    counts = Counter(_draw({"choice": ["a", "b", "c"]}))
    assert set(counts) == {"a", "b", "c"}
    assert all(_share_ok(counts[v], 1 / 3) for v in "abc")


def test_weighted_choice_frequencies_are_normalised() -> None:
    spec = {"choice": {"email": 7, "sms": 3, "push": 0}}
    g = values.make(spec, stream(0, "w"))
    counts = Counter(g.next() for _ in range(N))
    assert _share_ok(counts["email"], 0.7) and _share_ok(counts["sms"], 0.3)
    assert counts["push"] == 0  # weight 0: never drawn
    assert g.support == ["email", "sms"]
    assert g.probs is not None and np.allclose(g.probs, [0.7, 0.3])


def test_choice_keeps_value_types() -> None:
    out = {(type(v), v) for v in _draw({"choice": [1, 2, True, "x"]}, 1000)}
    assert out == {(int, 1), (int, 2), (bool, True), (str, "x")}  # True stays a bool
    assert not values.make({"choice": [1, True]}, stream(0, "t")).is_constant
    assert set(_draw({"choice": {5: 1.0, 9: 1.0}}, 1000)) == {5, 9}


@pytest.mark.parametrize(("n", "s"), [(1000, 1.1), (50, 0.8), (10, 0.0)])
def test_zipf_rank_one_share_matches_theory(n: int, s: float) -> None:
    out = _draw({"zipf": {"n": n, "s": s}}, name=f"z{n}")
    assert min(out) >= 1 and max(out) <= n and all(type(k) is int for k in out[:10])
    harmonic = math.fsum(k**-s for k in range(1, n + 1))
    counts = Counter(out)
    assert _share_ok(counts[1], 1 / harmonic)
    assert _share_ok(counts[2], 2**-s / harmonic)


def test_zipf_prefix_makes_strings() -> None:
    g = values.make({"zipf": {"n": 100, "s": 1.2}, "prefix": "user-"}, stream(0, "zp"))
    out = Counter(g.next() for _ in range(N))
    harmonic = math.fsum(k**-1.2 for k in range(1, 101))
    assert _share_ok(out["user-1"], 1 / harmonic)
    assert set(out) <= {f"user-{k}" for k in range(1, 101)}
    assert g.support is not None and len(g.support) == 100


def test_zipf_with_many_ranks_formats_on_the_fly() -> None:
    n, s = 300_000, 1.1
    out = Counter(_draw({"zipf": {"n": n, "s": s}, "prefix": "k"}, name="big"))
    harmonic = math.fsum(np.arange(1, n + 1, dtype=float) ** -s)
    assert _share_ok(out["k1"], 1 / harmonic)
    assert all(k.startswith("k") and 1 <= int(k[1:]) <= n for k in out)


def test_sequence_counts_per_generator() -> None:
    spec = {"sequence": "order-"}
    a = values.make(spec, stream(0, "s"))
    b = values.make(spec, stream(0, "s"))
    first = [a.next() for _ in range(5000)]
    assert first == [f"order-{i}" for i in range(1, 5001)]
    assert b.next() == "order-1"


def test_uniform_int_bounds_are_inclusive() -> None:
    out = _draw({"uniform_int": [3, 7]})
    counts = Counter(out)
    assert set(counts) == {3, 4, 5, 6, 7}
    assert all(type(k) is int for k in out[:10])
    assert all(_share_ok(counts[k], 0.2) for k in counts)
    assert values.make({"uniform_int": [4, 4]}, stream(0, "u")).is_constant


def test_make_fields_builds_one_stream_per_field() -> None:
    spec = {
        "key": {"zipf": {"n": 1000, "s": 1.1}, "prefix": "user-"},
        "type": {"choice": {"email": 0.7, "sms": 0.3}},
        "priority": {"uniform_int": [0, 9]},
        "headers": {"region": {"choice": ["eu", "us"]}, "tier": "gold"},
    }
    a = values.make_fields(spec, 0, "web")
    b = values.make_fields(spec, 0, "web")
    other = values.make_fields(spec, 0, "mobile")
    keys = [a["key"].next() for _ in range(200)]
    assert keys == [b["key"].next() for _ in range(200)]
    assert keys != [other["key"].next() for _ in range(200)]
    # The stream is the one the architecture names.
    direct = values.make(spec["key"], stream(0, "producers.web.message.key"))
    assert [direct.next() for _ in range(200)] == keys
    headers = [a["headers"].next() for _ in range(1000)]
    assert all(set(h) == {"region", "tier"} and h["tier"] == "gold" for h in headers)
    assert {h["region"] for h in headers} == {"eu", "us"}
    assert headers[0] is not headers[1]  # a fresh dict per message
    assert not a["headers"].is_constant


def test_make_fields_names_the_field_in_errors() -> None:
    with pytest.raises(ValueError, match=r"^priority: uniform_int needs lo <= hi"):
        values.make_fields({"priority": {"uniform_int": [5, 1]}}, 0, "p")
    with pytest.raises(ValueError, match=r"^headers\.tier: "):
        values.make_fields({"headers": {"tier": {"choice": []}}}, 0, "p")


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"choice": []}, "at least one value"),
        ({"choice": {}}, "at least one value"),
        ({"choice": {"a": -1, "b": 2}}, "choice weight of 'a' must be >= 0"),
        ({"choice": {"a": 0, "b": 0}}, "must not all be zero"),
        ({"choice": "abc"}, "a list or a mapping"),
        ({"choice": [[1, 2]]}, "string, number or boolean"),
        ({"zipf": {"n": 0, "s": 1}}, "1 <= n"),
        ({"zipf": {"n": 10, "s": -1}}, "s >= 0"),
        ({"zipf": {"n": 10}}, "zipf needs"),
        ({"zipf": {"n": 10, "s": 1}, "prefix": 3}, "prefix must be a string"),
        ({"sequence": 5}, "string prefix"),
        ({"uniform_int": [1.5, 3]}, "must be an integer"),
        ({"uniform_int": [1]}, r"needs \[lo, hi\]"),
        ({"choice": ["a"], "prefix": "x"}, "choice does not take prefix"),
        ({"choice": ["a"], "sequence": "x"}, "exactly one of"),
        ({"oops": 1}, "exactly one of"),
        ([1, 2], "a literal or a generator mapping"),
    ],
)
def test_invalid_generators_raise_clear_errors(spec: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        values.make(spec, stream(0, "bad"))
