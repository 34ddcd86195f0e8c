"""The Connect Four bitboard, shared by the game's kernels (`games.connect4`) and the
solver's (`games.connect4_search`): layout constants and four-in-a-row detection.

Layout (Pascal Pons'): cell (column c, row r), row 0 at the bottom, is bit `c * 7 + r`.
The seventh bit of each column (`c * 7 + 6`) is a sentinel that is always 0, so shifts
never carry a line across columns. A position is a pair of bitboards: the stones of one
player and the mask of all stones.
"""

from __future__ import annotations

import numpy as np
from numba import njit

WIDTH = 7
HEIGHT = 6
CELLS = WIDTH * HEIGHT
BOTTOM_MASKS = np.array([1 << (c * (HEIGHT + 1)) for c in range(WIDTH)], dtype=np.uint64)
"""uint64 `[7]`: the bottom cell of each column."""
TOP_MASKS = np.array([1 << (HEIGHT - 1 + c * (HEIGHT + 1)) for c in range(WIDTH)],
                     dtype=np.uint64)
"""uint64 `[7]`: the top cell of each column."""
COLUMN_MASKS = np.array([((1 << HEIGHT) - 1) << (c * (HEIGHT + 1)) for c in range(WIDTH)],
                        dtype=np.uint64)
"""uint64 `[7]`: the six cells of each column."""
BOTTOM_MASK = np.uint64(sum(1 << (c * (HEIGHT + 1)) for c in range(WIDTH)))
"""uint64: the bottom cell of every column."""
BOARD_MASK = np.uint64(int(BOTTOM_MASK) * ((1 << HEIGHT) - 1))
"""uint64: all 42 cells (the mask of a full board; sentinel bits excluded)."""

_ZERO = np.uint64(0)
_S1, _S2, _S6, _S7, _S8 = (np.uint64(k) for k in (1, 2, 6, 7, 8))
_S12, _S14, _S16 = (np.uint64(k) for k in (12, 14, 16))


@njit(cache=True, nogil=True, inline="always")
def has_four(stones: np.uint64) -> bool:
    """Whether the stones (a bitboard) contain four in a row in any direction."""
    m = stones & (stones >> _S7)  # horizontal
    if (m & (m >> _S14)) != _ZERO:
        return True
    m = stones & (stones >> _S6)  # diagonal going down to the right
    if (m & (m >> _S12)) != _ZERO:
        return True
    m = stones & (stones >> _S8)  # diagonal going up to the right
    if (m & (m >> _S16)) != _ZERO:
        return True
    m = stones & (stones >> _S1)  # vertical
    return (m & (m >> _S2)) != _ZERO
