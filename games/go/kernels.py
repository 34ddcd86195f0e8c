"""Go's rules as Numba kernels of one configuration, for a search that runs inside Numba.

The kernels in `rules` and `playout` take the configuration as arguments (board points,
superko window, history, neighbour tables, Zobrist keys), so that one compiled kernel
serves every board size. A fused search calls its step, legal-mask, to-play, terminal and
rollout kernels with the states alone (see `games.base.SearchKernels`), so
`configured_kernels` binds a configuration into five small jitted closures:

    >>> from games.go import Go
    >>> go = Go(size=5)
    >>> kernels = go.search_kernels()
    >>> kernels.legal_mask(go.batch_initial(2)).shape
    (2, 26)

The configuration's scalars and tables become constants of the compiled code. Each
configuration compiles its own five closures once (a few seconds in all); Numba's disk
cache keeps them, keyed by the values they close over, and `configured_kernels` keeps one set
per configuration and process, so that every `Go` of that configuration hands the search
the same functions (and the search compiles its loop over them once).
"""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

import numpy as np
from numba import njit

from games.base import SearchKernels
from games.go import layout, playout, rules
from games.go.layout import TO_PLAY, ZOBRIST, neighbour_tables


def _source_stamp() -> int:
    """A hash of the source of the kernels the closures call."""
    digest = hashlib.sha256()
    for module in (layout, rules, playout):
        digest.update(Path(module.__file__).read_bytes())
    return int.from_bytes(digest.digest()[:7], "little")


_SOURCE_STAMP = _source_stamp()
"""Part of every closure's `config`. Numba's disk cache keys a closure by its code and the
values it closes over, blind to the functions it calls; with this stamp among those values,
a change to the rules compiles the closures anew instead of loading stale ones."""

_SEED_BITS = np.uint64(2**63 - 1)
"""`Go.batch_random_rollout` seeds the playouts with the low 63 bits of its uint64 seed."""


@cache
def configured_kernels(size: int, komi: float, max_moves: int, window: int,
                       history: int) -> SearchKernels:
    """The kernels of Go on a `size` x `size` board with these rules (see `games.go.Go`).

    Returns:
        `SearchKernels` over uint8 `[K, state_size]` states: each agrees with the `Go`
        method of the same rules (`batch_step`, `batch_legal_mask`, `batch_to_play`,
        `batch_terminal`, `batch_random_rollout` given the same uint64 seed).
    """
    n = size * size
    nbr, diag = neighbour_tables(size)
    zob = np.ascontiguousarray(ZOBRIST[:n])
    config = (n, window, history, max_moves, float(komi), _SOURCE_STAMP)

    @njit(cache=True, nogil=True)
    def step(states, actions):
        n, window, history, _, _, _ = config
        return rules.batch_step(states, actions, n, window, history, nbr, zob)

    @njit(cache=True, nogil=True)
    def legal_mask(states):
        n, window, _, max_moves, _, _ = config
        return rules.batch_legal(states, n, window, max_moves, nbr, zob)

    @njit(cache=True, nogil=True)
    def to_play(states):
        out = np.empty(states.shape[0], np.int8)
        for b in range(states.shape[0]):
            out[b] = states[b, TO_PLAY]
        return out

    @njit(cache=True, nogil=True)
    def terminal(states):
        n, window, _, max_moves, komi, _ = config
        return rules.batch_terminal(states, n, window, max_moves, nbr, komi)

    @njit(cache=True, nogil=True)
    def rollout(states, seed):
        n, window, _, max_moves, komi, _ = config
        return playout.batch_rollout(states, np.int64(seed & _SEED_BITS), n, window,
                                     max_moves, nbr, diag, komi)

    return SearchKernels(step, legal_mask, to_play, terminal, rollout)
