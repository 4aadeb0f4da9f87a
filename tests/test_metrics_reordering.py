"""Reordering figures (RFC 4737 style) and the vectorised inversion count, against brute force."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import reordering_reference
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.metrics.reordering import _completion_order, count_inversions, reordering


def brute_inversions(values) -> int:
    values = list(values)
    return sum(
        1 for i in range(len(values)) for j in range(i + 1, len(values)) if values[i] > values[j]
    )


def brute_reordering(queue, key, seq, completed_at, n_queues):
    """The definitions of docs/scenario-reference.md written out with loops (conftest's
    reference), with ``seq`` as the publish order; figures per queue as a list."""
    n = len(queue)
    total, per_queue = reordering_reference(
        queue, key, list(seq), [0] * n, completed_at, queues=list(range(n_queues)))
    return total, [per_queue[q] for q in range(n_queues)]


def one_group(completion_seqs):
    """Figures for one queue and one key, where the copies complete in the given seq order."""
    seqs = np.asarray(completion_seqs)
    n = seqs.size
    completed_at = np.empty(n)
    completed_at[seqs] = np.arange(n, dtype=float)  # copy with seq s completes at its position
    total, _ = reordering(np.zeros(n), np.zeros(n), np.arange(n), completed_at, 1)
    return total


# --------------------------------------------------------------------------- inversions


@pytest.mark.parametrize(
    ("values", "expected"),
    [([], 0), ([5], 0), ([0, 1, 2], 0), ([1, 0, 2], 1), ([2, 1, 0], 3), ([3, 3, 1], 2)],
)
def test_count_inversions_small(values, expected):
    assert count_inversions(np.array(values)) == expected


def test_count_inversions_reversed_large():
    n = 100_000
    assert count_inversions(np.arange(n)[::-1]) == n * (n - 1) // 2
    assert count_inversions(np.arange(n)) == 0


@settings(max_examples=150, deadline=None)
@given(st.lists(st.integers(min_value=-50, max_value=50), max_size=60))
def test_count_inversions_matches_brute_force(values):
    assert count_inversions(np.array(values, dtype=np.int64)) == brute_inversions(values)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(min_value=-1e6, max_value=1e6), max_size=40))
def test_count_inversions_floats(values):
    assert count_inversions(np.array(values, dtype=float)) == brute_inversions(values)


# --------------------------------------------------------------------------- figures


def test_one_swap():
    assert one_group([1, 0, 2]) == {
        "reordered": 1,
        "reordered_ratio": pytest.approx(1 / 3),
        "inversions": 1,
        "max_displacement": 1,
    }


def test_reversed_three():
    assert one_group([2, 1, 0]) == {
        "reordered": 2,
        "reordered_ratio": pytest.approx(2 / 3),
        "inversions": 3,
        "max_displacement": 2,
    }


def test_in_order_and_late_first():
    assert one_group([0, 1, 2, 3]) == {
        "reordered": 0,
        "reordered_ratio": 0.0,
        "inversions": 0,
        "max_displacement": 0,
    }
    # Seq 0 completes last: only it is reordered (lower than every earlier one), 3 inversions,
    # and it moved 3 places back.
    figures = one_group([1, 2, 3, 0])
    assert (figures["reordered"], figures["inversions"], figures["max_displacement"]) == (1, 3, 3)
    # Seq 3 completes first: the three others are each lower than it.
    figures = one_group([3, 0, 1, 2])
    assert (figures["reordered"], figures["inversions"], figures["max_displacement"]) == (3, 3, 1)


def test_keys_are_separate_sequences():
    # Rows (creation order): key x seq 0, key y seq 0, key x seq 1, key y seq 1.
    # Completion order: y0, x0, y1, x1 -- out of row order, but each key is in order.
    queue = np.zeros(4)
    key = np.array([0, 1, 0, 1])
    seq = np.array([0, 0, 1, 1])
    completed_at = np.array([2.0, 1.0, 4.0, 3.0])
    total, per_queue = reordering(queue, key, seq, completed_at, 1)
    assert total == {
        "reordered": 0,
        "reordered_ratio": 0.0,
        "inversions": 0,
        "max_displacement": 0,
    }
    assert per_queue == [total]
    # Under one key the same completions are reordered (one sequence).
    total, _ = reordering(queue, np.zeros(4), np.arange(4), completed_at, 1)
    assert (total["reordered"], total["inversions"]) == (2, 2)
    # Without keys nobody asked for an order: nothing is ranked and no figure is given.
    total, per_queue = reordering(queue, np.full(4, -1), np.arange(4), completed_at, 1)
    assert total == per_queue[0] == dict.fromkeys(
        ("reordered", "reordered_ratio", "inversions", "max_displacement"))


def test_unkeyed_copies_are_not_ranked_beside_keyed_ones():
    # Key 0: seqs complete 1, 0 (one reordered). Unkeyed copies completing out of order
    # between them change nothing, not even the ratio's denominator.
    queue = np.zeros(5)
    key = np.array([0, -1, 0, -1, -1])
    seq = np.array([0, 0, 1, 1, 2])
    completed_at = np.array([5.0, 3.0, 1.0, 2.0, 0.5])
    total, per_queue = reordering(queue, key, seq, completed_at, 1)
    assert total == per_queue[0] == {
        "reordered": 1, "reordered_ratio": 0.5, "inversions": 1, "max_displacement": 1}


def test_queues_are_separate_and_reported_apart():
    # Queue 0: seqs complete 1, 0 (one inversion). Queue 1: in order. Queue 2: nothing.
    queue = np.array([0, 0, 1, 1])
    seq = np.array([0, 1, 0, 1])
    completed_at = np.array([5.0, 1.0, 0.5, 9.0])
    total, per_queue = reordering(queue, np.zeros(4), seq, completed_at, 3)
    assert total == {
        "reordered": 1,
        "reordered_ratio": 0.25,
        "inversions": 1,
        "max_displacement": 1,
    }
    assert per_queue[0] == {
        "reordered": 1,
        "reordered_ratio": 0.5,
        "inversions": 1,
        "max_displacement": 1,
    }
    assert per_queue[1] == {
        "reordered": 0,
        "reordered_ratio": 0.0,
        "inversions": 0,
        "max_displacement": 0,
    }
    assert per_queue[2] == {  # nothing measured: no figure
        "reordered": None,
        "reordered_ratio": None,
        "inversions": None,
        "max_displacement": None,
    }


def test_simultaneous_completions_are_not_reordered():
    # Equal completion times: neither copy completed before the other, whatever the rows.
    total, _ = reordering(np.zeros(2), np.zeros(2), np.array([0, 1]), np.array([1.0, 1.0]), 1)
    assert (total["reordered"], total["inversions"], total["max_displacement"]) == (0, 0, 0)
    total, _ = reordering(np.zeros(2), np.zeros(2), np.array([1, 0]), np.array([1.0, 1.0]), 1)
    assert (total["reordered"], total["inversions"], total["max_displacement"]) == (0, 0, 0)
    # A copy completed strictly earlier still overtakes both tied ones.
    total, _ = reordering(
        np.zeros(3), np.zeros(3), np.array([0, 1, 2]), np.array([2.0, 2.0, 1.0]), 1
    )
    assert (total["reordered"], total["inversions"], total["max_displacement"]) == (2, 2, 1)


def test_positions_are_among_measured_copies_only():
    # seqs 2, 5, 9 survive (others excluded by the caller); 9 completes first, then 2, then 5.
    seq = np.array([2, 5, 9])
    completed_at = np.array([2.0, 3.0, 1.0])
    total, _ = reordering(np.zeros(3), np.zeros(3), seq, completed_at, 1)
    # Publish positions 0, 1, 2; completion positions 1, 2, 0.
    assert total == {
        "reordered": 2,
        "reordered_ratio": pytest.approx(2 / 3),
        "inversions": 2,
        "max_displacement": 1,
    }


def test_empty():
    total, per_queue = reordering(np.zeros(0), np.zeros(0), np.zeros(0), np.zeros(0), 2)
    assert total["reordered"] is None  # nothing measured: no figure
    assert total["max_displacement"] is None
    assert len(per_queue) == 2


@st.composite
def copies(draw):
    n = draw(st.integers(min_value=0, max_value=40))
    n_queues = draw(st.integers(min_value=1, max_value=3))
    queue = draw(st.lists(st.integers(0, n_queues - 1), min_size=n, max_size=n))
    key = draw(st.lists(st.integers(-1, 2), min_size=n, max_size=n))
    # Coarse completion times so that ties happen.
    completed_at = draw(st.lists(st.integers(0, 15), min_size=n, max_size=n))
    seq_shuffle = draw(st.booleans())
    counts: dict[tuple[int, int], int] = {}
    seq = []
    for q, k in zip(queue, key, strict=True):
        seq.append(counts.get((q, k), 0))
        counts[(q, k)] = seq[-1] + 1
    if seq_shuffle:  # arbitrary (non-row-order) seq values still define a publish order
        seq = draw(st.lists(st.integers(0, 30), min_size=n, max_size=n))
    return queue, key, seq, [float(c) for c in completed_at], n_queues


@settings(max_examples=120, deadline=None)
@given(copies())
def test_matches_brute_force(data):
    queue, key, seq, completed_at, n_queues = data
    expected_total, expected_queues = brute_reordering(queue, key, seq, completed_at, n_queues)
    total, per_queue = reordering(
        np.array(queue, dtype=np.int64),
        np.array(key, dtype=np.int64),
        np.array(seq, dtype=np.int64),
        np.array(completed_at),
        n_queues,
    )
    assert total == pytest.approx(expected_total)
    assert per_queue == [pytest.approx(e) for e in expected_queues]


def test_random_permutation_many_keys_against_brute_force():
    rng = np.random.default_rng(5)
    n = 3000
    key = rng.integers(-1, 5, n)
    queue = rng.integers(0, 2, n)
    completed_at = rng.random(n)
    seq = np.zeros(n, dtype=np.int64)
    for q in range(2):
        for k in range(-1, 5):
            members = (queue == q) & (key == k)
            seq[members] = np.arange(members.sum())
    total, per_queue = reordering(queue, key, seq, completed_at, 2)
    for q in range(2):
        expected = 0
        for k in range(5):  # unkeyed copies (-1) are not ranked
            members = np.flatnonzero((queue == q) & (key == k))
            order = members[np.argsort(completed_at[members], kind="stable")]
            expected += brute_inversions(seq[order])
        assert per_queue[q]["inversions"] == expected
    assert total["inversions"] == per_queue[0]["inversions"] + per_queue[1]["inversions"]


def test_wide_values_take_the_general_sort_paths():
    # seq too wide to pack with the row index (and negative): np.lexsort is used instead.
    completed_at = np.array([3.0, 1.0, 2.0])
    for seq in ([2**61, 5, 2**40], [-3, -7, 0]):
        total, _ = reordering(np.zeros(3), np.zeros(3), np.array(seq), completed_at, 1)
        expected, _ = brute_reordering([0] * 3, [0] * 3, seq, list(completed_at), 1)
        assert total == pytest.approx(expected)
    # Codes too wide to pack with the index: a lexsort by (group, position, rank).
    rank_bits = 61  # group (1 bit) + index (2 bits) + rank: 64 bits
    code = np.array([(1 << rank_bits) | 5, 0 | 7, (1 << rank_bits) | 2, 0 | 1], dtype=np.int64)
    position = np.arange(4)
    assert list(_completion_order(code, rank_bits, position)) == [
        7,
        1,
        (1 << 61) | 5,
        (1 << 61) | 2,
    ]
    # Equal positions (simultaneous completions) are taken by rank.
    position = np.zeros(4, dtype=np.int64)
    assert list(_completion_order(code, rank_bits, position)) == [
        1,
        7,
        (1 << 61) | 2,
        (1 << 61) | 5,
    ]


def test_count_inversions_random_with_ties_against_quadratic_count():
    # Large enough that the top bits split into few segments and the low bits into many: both
    # ways of counting the pairs that cross a segment start are used.
    rng = np.random.default_rng(11)
    for values in (rng.integers(0, 300, 2500), rng.permutation(2048), rng.random(1500)):
        expected = int(np.count_nonzero(np.triu(values[:, None] > values[None, :], k=1)))
        assert count_inversions(values) == expected


def test_measured_mask_equals_passing_the_masked_rows():
    rng = np.random.default_rng(3)
    n = 4000
    queue = rng.integers(0, 3, n).astype(np.int8)
    key = rng.integers(-1, 40, n).astype(np.int16)
    seq = np.zeros(n, dtype=np.int64)
    for q in range(3):
        for k in range(-1, 40):
            members = (queue == q) & (key == k)
            seq[members] = np.arange(members.sum())
    completed_at = np.round(rng.random(n) * 50, 1)  # coarse: ties
    measured = rng.random(n) < 0.7
    masked = reordering(queue[measured], key[measured], seq[measured], completed_at[measured], 3)
    assert reordering(queue, key, seq, completed_at, 3, measured=measured) == masked
    # Narrow input dtypes give the figures of int64 inputs.
    wide = reordering(
        queue.astype(np.int64), key.astype(np.int64), seq, completed_at, 3, measured=measured
    )
    assert wide == masked
    assert masked[0]["inversions"] == sum(figures["inversions"] for figures in masked[1])
    assert masked[0]["inversions"] > 0
