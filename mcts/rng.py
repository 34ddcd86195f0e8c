"""Counter-based random numbers for the search kernels: splitmix64 on a scalar uint64 state.

Every random draw of the search (root Dirichlet noise, Gumbel noise, the sampled move) comes
from a stream that depends only on the tree's seed and a purpose tag, never on the other
trees of the batch, so a tree searched alone or among others draws the same numbers.
Seeding NumPy does not seed Numba; these kernels take their state explicitly::

    state = tree_stream(seed, NOISE_STREAM)
    state, u = uniform(state)

`games.prng` holds the same generator for the game kernels: `games` and `mcts` import
nothing from each other, so each keeps its copy (`tests/test_shared_generator.py` checks
they agree).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_S11 = np.uint64(11)
_S27 = np.uint64(27)
_S30 = np.uint64(30)
_S31 = np.uint64(31)
_INV_2_53 = 1.0 / 9007199254740992.0

NOISE_STREAM = 1
"""Purpose tag of the stream that draws a tree's root noise (Dirichlet, Gumbel)."""
ACTION_STREAM = 2
"""Purpose tag of the stream that samples a tree's move from its visit counts."""


@njit(cache=True, nogil=True, inline="always")
def mix(z: np.uint64) -> np.uint64:
    """The splitmix64 finaliser, a bijective scramble of 64 bits."""
    z = (z ^ (z >> _S30)) * _MIX1
    z = (z ^ (z >> _S27)) * _MIX2
    return z ^ (z >> _S31)


@njit(cache=True, nogil=True, inline="always")
def tree_stream(seed: np.uint64, purpose: int) -> np.uint64:
    """The starting state of the stream `purpose` of the tree seeded with `seed`."""
    return mix(seed ^ mix(np.uint64(purpose) * _GOLDEN + _GOLDEN))


@njit(cache=True, nogil=True, inline="always")
def uniform(state: np.uint64) -> tuple[np.uint64, float]:
    """Advance the stream; return (new state, a float64 uniform in the open interval (0, 1))."""
    state = state + _GOLDEN
    bits = mix(state) >> _S11
    return state, (float(bits) + 0.5) * _INV_2_53


@njit(cache=True, nogil=True)
def standard_normal(state: np.uint64) -> tuple[np.uint64, float]:
    """One N(0, 1) draw (Box-Muller, the cosine branch)."""
    state, u1 = uniform(state)
    state, u2 = uniform(state)
    return state, math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)


@njit(cache=True, nogil=True)
def gamma(state: np.uint64, alpha: float) -> tuple[np.uint64, float]:
    """One Gamma(alpha, 1) draw, alpha > 0 (Marsaglia and Tsang 2000, boosted for alpha < 1)."""
    boost = 1.0
    if alpha < 1.0:
        state, u = uniform(state)
        boost = u ** (1.0 / alpha)
        alpha += 1.0
    d = alpha - 1.0 / 3.0
    c = 1.0 / math.sqrt(9.0 * d)
    while True:
        state, x = standard_normal(state)
        v = 1.0 + c * x
        if v <= 0.0:
            continue
        v = v * v * v
        state, u = uniform(state)
        if math.log(u) < 0.5 * x * x + d - d * v + d * math.log(v):
            return state, d * v * boost


@njit(cache=True, nogil=True, inline="always")
def skip(state: np.uint64, count: int) -> np.uint64:
    """The stream advanced past `count` `uniform` (or `gumbel`) draws, without making them."""
    return state + np.uint64(count) * _GOLDEN


@njit(cache=True, nogil=True)
def gumbel(state: np.uint64) -> tuple[np.uint64, float]:
    """One standard Gumbel(0, 1) draw, -log(-log(u))."""
    state, u = uniform(state)
    return state, -math.log(-math.log(u))


def seeds_from(rng: np.random.Generator, batch_size: int) -> np.ndarray:
    """uint64 `[B]` tree seeds drawn from `rng` (seed b is the b-th draw)."""
    return rng.integers(0, 2**63 - 1, size=batch_size, dtype=np.int64).astype(np.uint64)
