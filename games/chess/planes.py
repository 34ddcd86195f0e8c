"""The network input for chess: `14 * T + 7` planes of 8 x 8, AlphaZero's layout.

Everything is drawn from the point of view of the side to move: for Black the board is
flipped vertically, and "own" means the side to move's pieces in every history position.
`planes[c, r, f]` is rank `r` (0 = the side to move's back rank) and file `f` (0 = a-file),
the same square numbering as the action encoding (`square = 8 * r + f`).

For each of the T history positions, newest first (t = 0 is the current position; T is the
`history` argument, 8 as in AlphaZero), 14 planes at `14 * t + k`:

=======  ============================================================================
k        plane
=======  ============================================================================
0 - 5    own pawns, knights, bishops, rooks, queens, king (1 where the piece stands)
6 - 11   the opponent's pawns, knights, bishops, rooks, queens, king
12       1 everywhere if that position had occurred before (its second occurrence)
13       1 everywhere if it had occurred at least twice before (third or later)
=======  ============================================================================

History positions before the start of the game (or of the position the game was set up
from) are all zeros. Then 7 constant planes at `14 * T + k`:

=======  ============================================================================
k        plane
=======  ============================================================================
0        side to move: 1 if Black, 0 if White
1        move count: `board.ply() / 512`
2, 3     own castling rights: king side, queen side (1 if held)
4, 5     the opponent's castling rights: king side, queen side
6        fifty-move counter: `halfmove_clock / 100` (reaches 1.5 at the 75-move rule)
=======  ============================================================================

With T = 8 that is 119 planes.

The planes are drawn by Numba kernels from the states' bitboard positions
(`games.chess.bitboard`): `encode_planes` for one position and its past, `encode_batch` for
many; `games.chess.state.encode_states` gathers the positions of `ChessState`s and calls
it.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from games.chess.bitboard import (
    BLACK_OCC,
    CASTLING,
    FULLMOVE,
    HALFMOVE,
    TURN,
    WHITE_OCC,
    lsb,
)

PLANES_PER_POSITION = 14
CONSTANT_PLANES = 7
MOVE_COUNT_SCALE = 512.0
FIFTY_MOVE_SCALE = 100.0


def num_planes(history: int) -> int:
    """C, the number of input planes for `history` positions."""
    return PLANES_PER_POSITION * history + CONSTANT_PLANES


@njit(cache=True, nogil=True)
def _draw_pieces(pos: np.ndarray, own: int, flip: int, out: np.ndarray, base: int) -> None:
    """The 12 piece planes of one history position at `out[base:base + 12]`."""
    for colour_side in range(2):
        side = pos[WHITE_OCC + own] if colour_side == 0 else pos[BLACK_OCC - own]
        for piece in range(6):
            bits = pos[piece] & side
            plane = base + 6 * colour_side + piece
            while bits:
                index = lsb(bits) ^ flip
                out[plane, index >> 3, index & 7] = 1.0
                bits &= bits - 1


@njit(cache=True, nogil=True)
def encode_planes(history: np.ndarray, present: np.ndarray, repetitions: np.ndarray,
                  out: np.ndarray) -> None:
    """The input planes of one position.

    Args:
        history: int64 `[T, POSITION_SIZE]` positions, newest (the current one) first.
        present: bool `[T]`, False for positions before the start of the game.
        repetitions: int64 `[T]`, each position's occurrences since the last irreversible
            move (1 = the first time).
        out: float32 `[14 * T + 7, 8, 8]`, overwritten.
    """
    out[:] = 0.0
    current = history[0]
    own = current[TURN]
    flip = 56 * own
    count = history.shape[0]
    for t in range(count):
        if not present[t]:
            continue
        base = PLANES_PER_POSITION * t
        _draw_pieces(history[t], own, flip, out, base)
        if repetitions[t] >= 2:
            out[base + 12] = 1.0
        if repetitions[t] >= 3:
            out[base + 13] = 1.0
    base = PLANES_PER_POSITION * count
    rights = current[CASTLING]
    out[base] = float(own)
    out[base + 1] = (2 * (current[FULLMOVE] - 1) + own) / MOVE_COUNT_SCALE
    out[base + 2] = float((rights >> (2 * own)) & 1)
    out[base + 3] = float((rights >> (2 * own + 1)) & 1)
    out[base + 4] = float((rights >> (2 - 2 * own)) & 1)
    out[base + 5] = float((rights >> (3 - 2 * own)) & 1)
    out[base + 6] = current[HALFMOVE] / FIFTY_MOVE_SCALE


@njit(cache=True, nogil=True)
def encode_batch(histories: np.ndarray, present: np.ndarray, repetitions: np.ndarray,
                 out: np.ndarray) -> None:
    """`encode_planes` of B positions: int64 `[B, T, POSITION_SIZE]`, bool `[B, T]` and
    int64 `[B, T]` into float32 `[B, 14 * T + 7, 8, 8]`."""
    for b in range(histories.shape[0]):
        encode_planes(histories[b], present[b], repetitions[b], out[b])
