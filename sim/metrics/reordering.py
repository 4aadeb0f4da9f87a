"""Reordering of completions against publish order (after RFC 4737).

A *group* is the copies of one ordering key in one queue. Ordering is per key: a copy without a
key belongs to no sequence (nobody asked for its order), so it is never ranked, and a queue (or
a run) where no measured copy has a key has no reordering figures (all None, not 0: a count of
0 would claim the order was kept). Inside a group the sequence is the publish order: by
``published_at``, ties broken by the producer sequence (the message ``id``: ids are given in
send order across producers), never the order in which the broker accepted the copies (the row
order of the records, which differs from publish order under a random publish latency, a broker
capacity or a publish retry). The observed order is the order of first completion
(``completed_at``); copies that completed at the same instant are taken in publish order
(neither completed before the other). Only completed copies count, and of those only the
measured ones (published at or after ``warmup``; the caller selects them).

- ``reordered``: copies whose sequence is lower than that of a copy of the same group completed
  before them (RFC 4737's reordered packet).
- ``reordered_ratio``: reordered / measured completed copies that have a key.
- ``inversions``: pairs of a group completed in the opposite order of publication (the Kendall
  tau distance between the two orders), summed over groups.
- ``max_displacement``: the largest (completion position - publish position) over copies, both
  positions being 0-based ranks inside the group among the measured copies.

Everything is vectorised over all groups at once: copies are laid out group-major and each is
encoded as ``group << bits | rank in group``, so one running maximum and one inversion count
over the whole array never mix two groups. Sorting uses ``np.sort`` on packed integer keys
(much faster than ``argsort``/``lexsort`` on millions of rows) wherever the bits fit. When
the caller gives ``published_at`` and ``message_id`` rather than ``seq``, one more sort ranks
the copies by publish time: a ``np.lexsort`` on (published_at, id), fast because the records
come nearly in publish order.

Memory: every array of one entry per copy is as narrow as the data allow (int32 codes and
positions when they fit), sorts are done in place and each temporary is released as soon as it
is used, so at most a few such arrays are alive at once (about 25 bytes per measured copy; the
publish-time ranking briefly needs about 36).
"""

from __future__ import annotations

from typing import Any

import numpy as np

# Rows per block where a mask is turned into an index list (np.compress).
_BLOCK = 1 << 16


def count_inversions(values: np.ndarray) -> int:
    """Number of pairs i < j with ``values[i] > values[j]`` (ties are not inversions)."""
    values = np.asarray(values)
    if values.size < 2:
        return 0
    ranks = np.unique(values, return_inverse=True)[1].reshape(-1)
    return _inversions(np.zeros(values.size, dtype=np.int64), ranks)


def _inversions(group: np.ndarray, rank: np.ndarray) -> int:
    """Inversions inside groups: ``group`` non-decreasing, ``rank`` >= 0 small (a rank)."""
    n = rank.size
    if n < 2:
        return 0
    levels = _bits(int(rank.max()))
    starts = _first_flags(group)
    # Dense group numbers keep the codes as narrow as possible (int32 when they fit).
    n_groups = int(np.count_nonzero(starts))
    wide = ((n_groups - 1) << levels) >= 2**31 or n >= 2**31
    codes: np.ndarray = np.cumsum(starts, dtype=np.int64 if wide else np.int32)
    del starts
    codes -= 1
    codes <<= levels
    np.bitwise_or(codes, rank, out=codes, casting="unsafe")  # rank < 2**levels: fits
    return _packed_inversions(codes, levels)


def _packed_inversions(codes: np.ndarray, levels: int) -> int:
    """Inversions inside groups, from ``codes = group << shift | rank`` with groups
    non-decreasing, ``rank < 2**levels`` and ``shift >= levels``. ``codes`` is overwritten.

    A pair (j < i) with rank[j] > rank[i] is told apart at the highest bit where the two ranks
    differ: there rank[j] has a 1, rank[i] a 0, and the group and all higher bits (the
    *prefix*) agree. So, bit by bit from the most significant, keep the copies grouped by
    (group, prefix) in contiguous segments, array order kept inside each, and count the
    (one, zero) pairs inside each segment. Moving to the next bit is a stable partition of the
    whole array by the current bit (zeros, then ones): an LSD radix pass on the bit-reversed
    prefix, which keeps every segment contiguous. That is log2(max rank) passes of O(n)
    sequential numpy operations, no Python loop per element, and every work array is the
    size of ``codes`` or a bool per copy (no array per segment).
    """
    n = codes.size
    if n < 2:
        return 0
    spare = np.empty_like(codes)  # the partition's target, and scratch before it
    starts = np.empty(n, dtype=bool)
    starts[0] = True
    bit = np.empty(n, dtype=bool)
    zero = np.empty(n, dtype=bool)
    before = np.empty(n, dtype=_index_type(n + 1))
    total = 0
    for bit_index in range(levels - 1, -1, -1):
        prefix = np.right_shift(codes, bit_index + 1, out=spare)
        np.not_equal(prefix[1:], prefix[:-1], out=starts[1:])
        n_segments = int(np.count_nonzero(starts))
        if n_segments == n:
            break  # every copy alone in its segment: no pair left to count
        np.not_equal(np.bitwise_and(codes, 1 << bit_index, out=spare), 0, out=bit)
        n_ones = int(np.count_nonzero(bit))
        if n_ones in (0, n):
            continue  # the partition would not move anything
        np.logical_not(bit, out=zero)
        # (one before zero) pairs over the whole array: each zero pairs with the ones before
        # it. ``before`` counts the ones up to and including each copy; the ones' own counts
        # add up to 1 + 2 + ... + n_ones.
        before[:] = bit
        np.cumsum(before, out=before)
        pairs = int(before.sum(dtype=np.int64)) - n_ones * (n_ones + 1) // 2
        total += pairs - _crossing_pairs(before, bit, zero, starts, n_segments, n_ones)
        _partition(codes, zero, spare, n - n_ones)
        codes, spare = spare, codes
    return total


def _crossing_pairs(
    before: np.ndarray,
    bit: np.ndarray,
    zero: np.ndarray,
    starts: np.ndarray,
    n_segments: int,
    n_ones: int,
) -> int:
    """(one, zero) pairs whose one lies in an earlier segment than the zero: for each zero,
    the ones before the start of its segment. ``before`` (ones up to each copy, inclusive) is
    overwritten.
    """
    n = before.size
    if n_segments <= n // 8:
        # Few segments: per-segment arrays are small (at most a byte per copy in all).
        seg = np.flatnonzero(starts)
        ones_at_start = before[seg].astype(np.int64)
        ones_at_start -= bit[seg]
        ones_in_seg = np.diff(np.append(ones_at_start, n_ones))
        zeros_in_seg = np.diff(np.append(seg, n)) - ones_in_seg
        return int(np.dot(zeros_in_seg, ones_at_start))
    # Many short segments: carry each segment start's count over the segment in place
    # (``before`` is non-decreasing, so a running maximum of its values at the starts does).
    before -= bit
    before *= starts
    np.maximum.accumulate(before, out=before)
    before *= zero
    return int(before.sum(dtype=np.int64))


def _partition(codes: np.ndarray, zero: np.ndarray, out: np.ndarray, n_zeros: int) -> None:
    """Stable partition of ``codes`` into ``out``: the ``zero`` copies first, then the others.

    ``np.compress`` is several times faster than boolean indexing on a mask that is about half
    True at random, but it builds the mask's index list; block by block that list stays small.
    """
    low, high = 0, n_zeros
    for start in range(0, codes.size, _BLOCK):
        stop = start + _BLOCK
        mask = zero[start:stop]
        block = codes[start:stop]
        count = int(np.count_nonzero(mask))
        np.compress(mask, block, out=out[low : low + count])
        low += count
        rest = block.size - count
        np.compress(~mask, block, out=out[high : high + rest])
        high += rest


def _bits(value: int) -> int:
    return max(1, int(value).bit_length())


def _index_type(n: int) -> type[np.signedinteger[Any]]:
    """The narrowest integer type for positions 0..n-1."""
    return np.int32 if n <= 2**31 else np.int64


def _first_flags(sorted_values: np.ndarray) -> np.ndarray:
    """For a non-decreasing array: True where a run of equal values starts."""
    first = np.empty(sorted_values.size, dtype=bool)
    first[:1] = True
    np.not_equal(sorted_values[1:], sorted_values[:-1], out=first[1:])
    return first


def _segment_positions(first: np.ndarray) -> np.ndarray:
    """Each element's 0-based position inside its run (runs start where ``first`` is True)."""
    position = np.arange(first.size, dtype=_index_type(first.size))
    start = np.where(first, position, 0)
    np.maximum.accumulate(start, out=start)
    position -= start
    return position


def _publish_order(group: np.ndarray, seq: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows ordered by (group, seq, row), and the groups in that order.

    ``group`` (int64) is overwritten. One in-place ``sort`` of packed integers when the bits
    fit (``argsort`` and ``lexsort`` are many times slower on millions of rows, and need more
    memory), else ``np.lexsort``.
    """
    n = group.size
    index_bits = _bits(n - 1)
    if seq.dtype.kind in "iu" and int(seq.min()) >= 0:
        seq_bits = _bits(int(seq.max()))
        if _bits(int(group.max())) + seq_bits + index_bits <= 63:
            packed = group
            packed <<= seq_bits
            np.bitwise_or(packed, seq, out=packed, dtype=np.int64, casting="unsafe")
            packed <<= index_bits
            np.bitwise_or(packed, np.arange(n, dtype=_index_type(n)), out=packed)
            packed.sort()
            sorted_group = packed >> (seq_bits + index_bits)
            packed &= (1 << index_bits) - 1
            return packed, sorted_group
    order = np.lexsort((seq, group))
    return order, group[order]


def _publish_rank(published_at: np.ndarray, message_id: np.ndarray | None) -> np.ndarray:
    """Each row's 0-based rank in the publish order (published_at, message_id, row).

    One ``np.lexsort``: its merge sort is fast on the records, which come nearly in publish
    order already.
    """
    n = published_at.size
    published_at = np.asarray(published_at, dtype=np.float64)
    if message_id is None:
        by_publish = np.argsort(published_at, kind="stable")
    else:
        by_publish = np.lexsort((np.asarray(message_id), published_at))
    rank = np.empty(n, dtype=_index_type(n))
    rank[by_publish] = np.arange(n, dtype=rank.dtype)
    return rank


def _completion_order(code_t: np.ndarray, rank_bits: int, position: np.ndarray) -> np.ndarray:
    """Codes (``group << rank_bits | rank``) listed in completion order, sorted by group, then
    by ``position`` (each copy's completion position, equal for copies completed at the same
    instant), then by rank: simultaneous completions are taken in publish order.

    The result has the dtype of ``code_t``.
    """
    n = code_t.size
    index_bits = _bits(n - 1)
    group_bits = _bits(int(code_t.max()) >> rank_bits)
    rank_mask = (1 << rank_bits) - 1
    if group_bits + index_bits + rank_bits <= 63:
        packed = code_t.astype(np.int64)  # (group << index_bits | position) << rank_bits | rank
        packed >>= rank_bits
        packed <<= index_bits
        np.bitwise_or(packed, position, out=packed)
        packed <<= rank_bits
        np.bitwise_or(packed, code_t & rank_mask, out=packed)
        packed.sort()
        code = np.empty(n, dtype=code_t.dtype)
        np.bitwise_and(packed, rank_mask, out=code)
        packed >>= index_bits + rank_bits
        packed <<= rank_bits
        np.bitwise_or(code, packed, out=code)
        return code
    return code_t[np.lexsort((code_t & rank_mask, position, code_t >> rank_bits))]


def _tie_positions(sorted_times: np.ndarray) -> np.ndarray:
    """For non-decreasing times: each one's position, copies of equal times sharing the first
    one's (a dense rank, which orders the same way)."""
    position = np.cumsum(_first_flags(sorted_times), dtype=_index_type(sorted_times.size))
    position -= 1
    return position


def _signed(values: np.ndarray) -> np.ndarray:
    """Signed integers for the group arithmetic (the array itself when it already is)."""
    return values if values.dtype.kind == "i" else values.astype(np.int64)


def reordering(
    queue: np.ndarray,
    key: np.ndarray,
    seq: np.ndarray | None,
    completed_at: np.ndarray,
    n_queues: int,
    measured: np.ndarray | None = None,
    *,
    published_at: np.ndarray | None = None,
    message_id: np.ndarray | None = None,
) -> tuple[dict, list[dict]]:
    """The ``reordering`` figures overall and for each queue code 0..n_queues-1.

    Inputs are the copies in any row order (the records' is broker acceptance order): ``queue``
    codes (all in 0..n_queues-1), ``key`` codes (-1: no key, never measured) and
    ``completed_at`` (NaN: not completed, never measured). The publish order inside a (queue,
    key) is given either by ``published_at`` with ties broken by ``message_id`` (then by row),
    ranked here -- the definition of the module docstring -- or, when ``published_at`` is None,
    by ``seq`` (any integers or floats; ties by row): the messages table's ``seq`` column, which
    :mod:`sim.records` numbers in that same publish order (never in row order, which is
    acceptance order). ``measured``, when given, is a boolean mask of the rows to measure (the
    same as passing ``queue[measured]`` etc., without the caller holding those copies);
    otherwise every completed row with a key is measured. Every figure is None where nothing was
    measured (no completed copy with a key).
    """
    if published_at is None and seq is None:
        raise ValueError("reordering needs published_at (with message_id) or seq")
    times_all = np.asarray(completed_at, dtype=np.float64)
    rows = ~np.isnan(times_all)
    rows &= np.asarray(key) >= 0  # unkeyed copies are in no sequence
    if measured is not None:
        rows &= np.asarray(measured, dtype=bool)
    select = None if rows.all() else rows
    del rows

    def pick(values: np.ndarray) -> np.ndarray:
        values = np.asarray(values)
        return values if select is None else values[select]

    group = pick(queue).astype(np.int64)
    n = group.size
    if n == 0:
        return _figures(0, 0, 0, None), [_figures(0, 0, 0, None) for _ in range(n_queues)]
    key_m = _signed(pick(key))
    keys_per_queue = int(key_m.max()) + 1  # every measured key code is >= 0
    group *= keys_per_queue
    group += key_m
    del key_m

    # Publish order: group-major, then (published_at, message_id) or seq, ties by row. Each
    # copy gets the code (dense group << rank_bits | publish position in its group).
    if published_at is not None:
        seq_m = _publish_rank(pick(published_at), None if message_id is None else pick(message_id))
    else:
        assert seq is not None  # one of published_at and seq is given (checked above)
        seq_m = pick(seq)
    order, sorted_group = _publish_order(group, seq_m)
    del group, seq_m
    first = _first_flags(sorted_group)
    group_queue = sorted_group[first] // keys_per_queue  # the queue of each dense group
    del sorted_group
    position = _segment_positions(first)
    rank_bits = _bits(int(position.max()))
    code_type = np.int32 if _bits(group_queue.size - 1) + rank_bits <= 31 else np.int64
    code_sorted: np.ndarray = np.cumsum(first, dtype=code_type)
    del first
    code_sorted -= 1
    code_sorted <<= rank_bits
    np.bitwise_or(code_sorted, position, out=code_sorted, casting="unsafe")
    del position
    code_row = np.empty(n, dtype=code_type)
    code_row[order] = code_sorted
    del order, code_sorted

    # Observed order: completion time, then stably group-major. Copies completed at the same
    # instant share a position and are taken in publish order (neither completed first).
    times = pick(times_all)
    del times_all
    by_time = np.argsort(times, kind="stable")
    code_t = code_row[by_time]
    del code_row
    tie_position = _tie_positions(times[by_time])
    del times, by_time
    code = _completion_order(code_t, rank_bits, tie_position)
    del code_t, tie_position
    rank_mask = (1 << rank_bits) - 1

    first = _first_flags(code >> rank_bits)
    group_start = np.flatnonzero(first)  # dense group g starts at group_start[g]
    group_size = np.diff(np.append(group_start, n))
    # Dense groups are numbered queue-major, so each queue's copies form one slice.
    group_bound = np.searchsorted(group_queue, np.arange(n_queues + 1))
    row_bound = np.append(group_start, n)[group_bound]
    # Earlier groups have smaller codes, so a global running maximum stays within the group.
    running_max = np.maximum.accumulate(code)
    reordered = np.zeros(n, dtype=bool)
    np.less(code[1:], running_max[:-1], out=reordered[1:])
    del running_max
    has_reordering = np.logical_or.reduceat(reordered, group_start)
    displacement = _segment_positions(first)  # completion position in the group ...
    del first
    displacement -= code & rank_mask  # ... less the publish position
    measured_q, reordered_q, displaced_q = [], [], []
    for q in range(n_queues):
        lo, hi = int(row_bound[q]), int(row_bound[q + 1])
        measured_q.append(hi - lo)
        reordered_q.append(int(np.count_nonzero(reordered[lo:hi])))
        displaced_q.append(int(displacement[lo:hi].max()) if hi > lo else None)
    total_reordered = int(np.count_nonzero(reordered))
    max_displacement = int(displacement.max())
    del reordered, displacement

    # Inversions per queue, over the groups holding a reordered copy (a group without one is
    # in order: it holds no inversion).
    inversions_q = []
    for q in range(n_queues):
        lo, hi = int(row_bound[q]), int(row_bound[q + 1])
        glo, ghi = group_bound[q], group_bound[q + 1]
        involved = np.repeat(has_reordering[glo:ghi], group_size[glo:ghi])
        codes = code[lo:hi][involved]
        del involved
        levels = _bits(int(np.bitwise_and(codes, rank_mask).max())) if codes.size > 1 else 1
        inversions_q.append(_packed_inversions(codes, levels))
        del codes

    per_queue = [
        _figures(measured_q[q], reordered_q[q], inversions_q[q], displaced_q[q])
        for q in range(n_queues)
    ]
    total = _figures(n, total_reordered, sum(inversions_q), max_displacement)
    return total, per_queue


def _figures(measured: int, reordered: int, inversions: int, max_displacement: int | None) -> dict:
    """The four figures of ``measured`` ranked copies; all None when there were none."""
    if not measured:
        return dict.fromkeys(("reordered", "reordered_ratio", "inversions", "max_displacement"))
    return {
        "reordered": reordered,
        "reordered_ratio": reordered / measured,
        "inversions": inversions,
        "max_displacement": max_displacement,
    }
