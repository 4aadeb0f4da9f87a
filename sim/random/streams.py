"""Named, independent random streams derived from the run seed.

Every random component (a producer's arrivals, a pool's service times, ...) draws from its own
`numpy.random.Generator`, keyed by the run seed and the component's name. The name enters the
`SeedSequence` as a spawn key made from a BLAKE2b digest (stable across processes and Python
versions, unlike `hash()`), so adding, removing or renaming one component never changes the
numbers another component sees.
"""

from __future__ import annotations

import hashlib
import numbers

import numpy as np

__all__ = ["name_key", "replication_seed", "stream"]

# Spawn-key prefixes keep the two uses of SeedSequence (named streams, replication seeds) apart:
# no component name can produce the key of a replication seed or vice versa.
_STREAM_TAG = 0x5354524D  # "STRM"
_REPLICATION_TAG = 0x5245504C  # "REPL"


def _check_seed(seed: object) -> int:
    """Return `seed` as a Python int, or raise ValueError if it is not a non-negative integer."""
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    if seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed}")
    return int(seed)


def name_key(name: str) -> tuple[int, ...]:
    """The stable 32-bit words (eight of them) that identify `name` in a spawn key."""
    if not isinstance(name, str):
        raise ValueError(f"stream name must be a string, got {name!r}")
    digest = hashlib.blake2b(name.encode("utf-8"), digest_size=32).digest()
    return tuple(int(w) for w in np.frombuffer(digest, dtype="<u4"))


def stream(seed: int, name: str) -> np.random.Generator:
    """The random generator of component `name` in the run with seed `seed`.

    The same (seed, name) always gives the same sequence; different names give independent
    sequences (PCG64 seeded through SeedSequence with the name's digest as spawn key).
    """
    sequence = np.random.SeedSequence(
        entropy=_check_seed(seed), spawn_key=(_STREAM_TAG, *name_key(name))
    )
    return np.random.Generator(np.random.PCG64(sequence))


def replication_seed(seed: int, index: int) -> int:
    """The run seed of replication `index` (0, 1, ...) of an experiment with seed `seed`.

    Replication 0 is the seed itself, so a single run with seed s and the first replication of
    an experiment with seed s are the same run. Later replications get 53-bit seeds hashed from
    (seed, index) through SeedSequence, independent of each other and of the base seed.
    """
    seed = _check_seed(seed)
    if isinstance(index, bool) or not isinstance(index, numbers.Integral) or index < 0:
        raise ValueError(f"replication index must be a non-negative integer, got {index!r}")
    if index == 0:
        return seed
    sequence = np.random.SeedSequence(entropy=seed, spawn_key=(_REPLICATION_TAG, int(index)))
    high, low = (int(w) for w in sequence.generate_state(2, dtype=np.uint32))
    # 53 bits: exact in an int64 column and in any JSON reader (even one using doubles).
    return ((high << 32) | low) & ((1 << 53) - 1)
