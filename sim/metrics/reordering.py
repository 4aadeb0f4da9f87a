"""Reordering of completions against publish order (§10 of the contract, after RFC 4737).

A *group* is the copies of one ordering key in one queue (copies without a key form one group
per queue). Inside a group the sequence is the publish order (`seq`) and the observed order is
the order of first completion, ties broken by row order (creation order). Only the measured
copies count (completed, published at or after `warmup`); the caller selects them.

- ``reordered``: copies whose sequence is lower than that of a copy of the same group completed
  before them (RFC 4737's reordered packet).
- ``reordered_ratio``: reordered / measured completed copies.
- ``inversions``: pairs of a group completed in the opposite order of publication (the Kendall
  tau distance between the two orders), summed over groups.
- ``max_displacement``: the largest (completion position - publish position) over copies, both
  positions being 0-based ranks inside the group among the measured copies.

Everything is vectorised over all groups at once: copies are laid out group-major and each is
encoded as ``group << bits | rank in group``, so one running maximum and one inversion count
over the whole array never mix two groups. Sorting uses ``np.sort`` on packed integer keys
(much faster than ``argsort``/``lexsort`` on millions of rows) wherever the bits fit.
"""

from __future__ import annotations

import numpy as np


def count_inversions(values: np.ndarray) -> int:
    """Number of pairs i < j with ``values[i] > values[j]`` (ties are not inversions)."""
    values = np.asarray(values)
    if values.size < 2:
        return 0
    ranks = np.unique(values, return_inverse=True)[1].reshape(-1)
    return _inversions(np.zeros(values.size, dtype=np.int64), ranks)


def _inversions(group: np.ndarray, rank: np.ndarray) -> int:
    """Inversions inside groups: ``group`` non-decreasing, ``rank`` >= 0 small (a rank).

    A pair (j < i) with rank[j] > rank[i] is told apart at the highest bit where the two ranks
    differ: there rank[j] has a 1, rank[i] a 0, and the group and all higher bits (the
    *prefix*) agree. So, bit by bit from the most significant, keep the copies grouped by
    (group, prefix) in contiguous segments, array order kept inside each, and count the
    (one, zero) pairs inside each segment. Moving to the next bit is a stable partition of the
    whole array by the current bit (zeros, then ones): an LSD radix pass on the bit-reversed
    prefix, which keeps every segment contiguous. That is log2(max rank) passes of O(n)
    sequential numpy operations, no Python loop per element.
    """
    n = rank.size
    if n < 2:
        return 0
    levels = max(1, int(rank.max()).bit_length())
    # Dense group numbers keep the codes as narrow as possible (int32 when they fit).
    new_group = np.empty(n, dtype=np.int64)
    new_group[0] = 0
    np.not_equal(group[1:], group[:-1], out=new_group[1:])
    group = np.cumsum(new_group)
    wide = (int(group[-1]) << levels) >= 2**31 or n >= 2**31
    code_type = np.int64 if wide else np.int32
    codes = (group.astype(code_type) << levels) | rank.astype(code_type)
    spare = np.empty_like(codes)
    starts = np.empty(n, dtype=bool)
    starts[0] = True
    bit = np.empty(n, dtype=bool)
    total = 0
    for bit_index in range(levels - 1, -1, -1):
        prefix = codes >> (bit_index + 1)
        np.not_equal(prefix[1:], prefix[:-1], out=starts[1:])
        seg = np.flatnonzero(starts)
        if seg.size == n:
            break  # every copy alone in its segment: no pair left to count
        np.not_equal(codes & (1 << bit_index), 0, out=bit)
        ones_pos = np.flatnonzero(bit)
        n_ones = ones_pos.size
        if n_ones in (0, n):
            continue  # the partition would not move anything
        cum = np.cumsum(bit, dtype=code_type)
        ones_at_start = (cum[seg] - bit[seg]).astype(np.int64)
        ones_in_seg = np.diff(np.append(ones_at_start, n_ones))
        zeros_in_seg = np.diff(np.append(seg, n)) - ones_in_seg
        # (one before zero) pairs over the whole array: sum over ones of the copies after it,
        # less the (one, one) pairs; then take away the pairs that cross a segment start.
        ones_then_zeros = (
            n_ones * (n - 1) - int(ones_pos.sum(dtype=np.int64)) - n_ones * (n_ones - 1) // 2
        )
        total += ones_then_zeros - int(np.dot(zeros_in_seg, ones_at_start))
        n_zeros = n - n_ones
        np.compress(~bit, codes, out=spare[:n_zeros])
        np.compress(bit, codes, out=spare[n_zeros:])
        codes, spare = spare, codes
    return total


def _bits(value: int) -> int:
    return max(1, int(value).bit_length())


def _segment_starts(sorted_group: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For a non-decreasing array: the first-of-its-value flags, and each element's start index."""
    n = sorted_group.size
    first = np.ones(n, dtype=bool)
    np.not_equal(sorted_group[1:], sorted_group[:-1], out=first[1:])
    start = np.maximum.accumulate(np.where(first, np.arange(n), 0))
    return first, start


def _publish_order(group: np.ndarray, seq: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows ordered by (group, seq, row), and the groups in that order.

    One ``np.sort`` of packed integers when the bits fit (``argsort`` and ``lexsort`` are many
    times slower on millions of rows), else ``np.lexsort``.
    """
    n = group.size
    index_bits = _bits(n - 1)
    packable = seq.dtype.kind in "iu" and int(seq.min()) >= 0
    if packable:
        seq_bits = _bits(int(seq.max()))
        if _bits(int(group.max())) + seq_bits + index_bits <= 63:
            packed = np.sort(
                (group << (seq_bits + index_bits))
                | (seq.astype(np.int64) << index_bits)
                | np.arange(n, dtype=np.int64)
            )
            return packed & ((1 << index_bits) - 1), packed >> (seq_bits + index_bits)
    order = np.lexsort((seq, group))
    return order, group[order]


def _completion_order(code_t: np.ndarray, rank_bits: int) -> np.ndarray:
    """Stable sort by group of codes (``group << rank_bits | rank``) listed in completion order."""
    n = code_t.size
    index_bits = _bits(n - 1)
    group_bits = _bits(int((code_t >> rank_bits).max()))
    if group_bits + index_bits + rank_bits <= 63:
        rank_mask = (1 << rank_bits) - 1
        packed = np.sort(
            ((code_t >> rank_bits) << (index_bits + rank_bits))
            | (np.arange(n, dtype=np.int64) << rank_bits)
            | (code_t & rank_mask)
        )
        return ((packed >> (index_bits + rank_bits)) << rank_bits) | (packed & rank_mask)
    return code_t[np.argsort(code_t >> rank_bits, kind="stable")]


def reordering(
    queue: np.ndarray,
    key: np.ndarray,
    seq: np.ndarray,
    completed_at: np.ndarray,
    n_queues: int,
) -> tuple[dict, list[dict]]:
    """The ``reordering`` figures overall and for each queue code 0..n_queues-1.

    Inputs are the measured copies in row (creation) order: ``queue`` codes (all in
    0..n_queues-1), ``key`` codes (-1: no key), ``seq`` (publish order inside the (queue, key))
    and ``completed_at``. ``reordered_ratio`` and ``max_displacement`` are None where nothing
    was measured.
    """
    queue = np.asarray(queue, dtype=np.int64)
    key = np.asarray(key, dtype=np.int64)
    seq = np.asarray(seq)
    n = queue.size
    if n == 0:
        return _figures(0, 0, 0, None), [_figures(0, 0, 0, None) for _ in range(n_queues)]
    keys_per_queue = int(key.max()) + 2
    raw_group = queue * keys_per_queue + (key + 1)

    # Publish order: group-major, then seq, ties by row. Each copy gets the code
    # (dense group << rank_bits | publish position in its group).
    publish_order, sorted_group = _publish_order(raw_group, seq)
    first, start = _segment_starts(sorted_group)
    position = np.arange(n) - start
    rank_bits = _bits(int(position.max()))
    code_row = np.empty(n, dtype=np.int64)
    code_row[publish_order] = ((np.cumsum(first) - 1) << rank_bits) | position
    group_queue = sorted_group[first] // keys_per_queue

    # Observed order: completion time (ties by row), then stably group-major.
    by_time = np.argsort(np.asarray(completed_at, dtype=np.float64), kind="stable")
    code = _completion_order(code_row[by_time], rank_bits)
    group_c = code >> rank_bits
    rank_c = code & ((1 << rank_bits) - 1)
    _, start_c = _segment_starts(group_c)
    displacement = (np.arange(n) - start_c) - rank_c
    # Earlier groups have smaller codes, so a global running maximum stays within the group.
    running_max = np.maximum.accumulate(code)
    reordered = np.zeros(n, dtype=bool)
    reordered[1:] = code[1:] < running_max[:-1]

    queue_c = group_queue[group_c]
    measured_q = np.bincount(queue_c, minlength=n_queues)
    reordered_q = np.bincount(queue_c, weights=reordered, minlength=n_queues)
    has_reordering = np.bincount(group_c, weights=reordered, minlength=group_queue.size) > 0
    # Completion order is queue-major: each queue's copies form one slice.
    bounds = np.searchsorted(queue_c, np.arange(n_queues + 1))
    per_queue = []
    for q in range(n_queues):
        lo, hi = bounds[q], bounds[q + 1]
        groups = group_c[lo:hi]
        involved = has_reordering[groups]  # a group without reordering holds no inversion
        per_queue.append(
            _figures(
                int(measured_q[q]),
                int(np.rint(reordered_q[q])),
                _inversions(groups[involved], rank_c[lo:hi][involved]),
                int(displacement[lo:hi].max()) if hi > lo else None,
            )
        )
    total = _figures(
        n,
        int(reordered.sum()),
        sum(figures["inversions"] for figures in per_queue),
        int(displacement.max()),
    )
    return total, per_queue


def _figures(measured: int, reordered: int, inversions: int, max_displacement: int | None) -> dict:
    return {
        "reordered": reordered,
        "reordered_ratio": reordered / measured if measured else None,
        "inversions": inversions,
        "max_displacement": max_displacement,
    }
