"""Named random streams and replication seeds: reproducible, independent, stable."""

from __future__ import annotations

import numpy as np
import pytest

from sim.random.streams import name_key, replication_seed, stream


def test_same_seed_and_name_give_the_same_numbers() -> None:
    a = stream(7, "workers.pool.service").random(1000)
    b = stream(7, "workers.pool.service").random(1000)
    assert np.array_equal(a, b)


def test_different_names_give_different_numbers() -> None:
    a = stream(7, "producers.web[0].arrivals").random(1000)
    b = stream(7, "producers.web[1].arrivals").random(1000)
    assert not np.any(a == b)


def test_different_seeds_give_different_numbers() -> None:
    assert not np.any(stream(1, "x").random(1000) == stream(2, "x").random(1000))


def test_streams_are_uncorrelated() -> None:
    n = 100_000
    a = stream(0, "a").random(n)
    b = stream(0, "b").random(n)
    # Correlation of independent uniforms has standard error 1/sqrt(n).
    assert abs(np.corrcoef(a, b)[0, 1]) < 5 / np.sqrt(n)


def test_stream_values_are_pinned() -> None:
    """The derivation is a stable function of (seed, name): never Python's salted hash()."""
    assert name_key("a") == name_key("a")
    assert len(name_key("a")) == 8
    # Raw PCG64 output: numpy guarantees it for a given SeedSequence across versions.
    first = stream(0, "a").bit_generator.random_raw(3).tolist()
    assert first == PINNED_FIRST_DRAWS


PINNED_FIRST_DRAWS = [8464501670417071928, 5411126799776755109, 13456301530301513472]


def test_a_large_seed_is_accepted() -> None:
    assert stream(2**70, "x").random() != stream(2**70 + 1, "x").random()


@pytest.mark.parametrize("seed", [-1, 1.5, "3", True, None])
def test_invalid_seeds_are_rejected(seed: object) -> None:
    with pytest.raises(ValueError, match="seed must be a non-negative integer"):
        stream(seed, "x")  # type: ignore[arg-type]


def test_replication_zero_is_the_seed_itself() -> None:
    assert replication_seed(0, 0) == 0
    assert replication_seed(12345, 0) == 12345


def test_replication_seeds_are_deterministic_and_distinct() -> None:
    seeds = [replication_seed(3, i) for i in range(200)]
    assert seeds == [replication_seed(3, i) for i in range(200)]
    assert len(set(seeds)) == 200
    assert all(0 <= s < 2**53 for s in seeds)
    # Another base seed gives another family of seeds.
    assert not set(seeds[1:]) & {replication_seed(4, i) for i in range(1, 200)}


def test_replications_draw_different_numbers() -> None:
    a = stream(replication_seed(0, 1), "x").random(100)
    b = stream(replication_seed(0, 2), "x").random(100)
    assert not np.any(a == b)


@pytest.mark.parametrize("index", [-1, 1.0, True])
def test_invalid_replication_index_is_rejected(index: object) -> None:
    with pytest.raises(ValueError, match="replication index"):
        replication_seed(0, index)  # type: ignore[arg-type]
