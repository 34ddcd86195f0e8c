"""Counter-based random numbers for the game kernels: splitmix64 on a scalar uint64 state.

Numba kernels draw their random numbers here instead of from `np.random`, so that a kernel's
result depends only on the seed it is given (seeding NumPy does not seed Numba), and a
playout's stream depends only on `(seed, index)`, never on batch order or thread count.

    >>> state = stream(np.uint64(7), 0)
    >>> state, r = next_u64(state)
    >>> 0 <= below(r, 6) < 6
    True

The state is threaded through explicitly (`state, r = next_u64(state)`): a scalar in a
register, which keeps the playout loops free of memory traffic.

`mcts.rng` holds the same generator for the search: `games` and `mcts` import nothing from
each other, so each keeps its copy (`tests/test_shared_generator.py` checks they agree).
"""

from __future__ import annotations

import numpy as np
from numba import njit

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_S27 = np.uint64(27)
_S30 = np.uint64(30)
_S31 = np.uint64(31)
_S32 = np.uint64(32)


@njit(cache=True, nogil=True, inline="always")
def mix(z: np.uint64) -> np.uint64:
    """The splitmix64 finaliser: a bijective scramble of a uint64."""
    z = (z ^ (z >> _S30)) * _MIX1
    z = (z ^ (z >> _S27)) * _MIX2
    return z ^ (z >> _S31)


@njit(cache=True, nogil=True, inline="always")
def next_u64(state: np.uint64) -> tuple[np.uint64, np.uint64]:
    """Advance the generator: returns (new state, 64 random bits)."""
    state = state + _GOLDEN
    return state, mix(state)


@njit(cache=True, nogil=True, inline="always")
def below(bits: np.uint64, n: int) -> int:
    """An integer in `[0, n)` from 64 random bits (multiply-shift on the high 32 bits)."""
    return int(((bits >> _S32) * np.uint64(n)) >> _S32)


@njit(cache=True, nogil=True, inline="always")
def stream(seed: np.uint64, index: int) -> np.uint64:
    """The starting state of stream `index` under `seed` (independent streams per game)."""
    return mix(seed ^ mix(np.uint64(index) * _GOLDEN + _GOLDEN))


def seed_to_u64(seed: int) -> np.uint64:
    """Any Python int (negative or large) as a uint64 seed."""
    return np.uint64(int(seed) & 0xFFFF_FFFF_FFFF_FFFF)
