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
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache

import chess
import numpy as np

from games.chess.state import ChessState

PLANES_PER_POSITION = 14
CONSTANT_PLANES = 7
MOVE_COUNT_SCALE = 512.0
FIFTY_MOVE_SCALE = 100.0


def num_planes(history: int) -> int:
    """C, the number of input planes for `history` positions."""
    return PLANES_PER_POSITION * history + CONSTANT_PLANES


@cache
def _piece_plane_indices(history: int) -> np.ndarray:
    return np.array(
        [PLANES_PER_POSITION * t + k for t in range(history) for k in range(12)], dtype=np.intp
    )


def _position_fields(state: ChessState, history: int) -> tuple[list[int], list[float]]:
    """(12 * T piece bitboards, 7 + 2 * T scalars) of one state; see the module docstring."""
    board = state._board
    turn = board.turn
    bitboards: list[int] = []
    scalars: list[float] = []
    for past in state.history(history):
        if past is None:
            bitboards.extend((0,) * 12)
            scalars.extend((0.0, 0.0))
            continue
        b = past._board
        kinds = (b.pawns, b.knights, b.bishops, b.rooks, b.queens, b.kings)
        own, other = b.occupied_co[turn], b.occupied_co[not turn]
        bitboards.extend([bb & own for bb in kinds])
        bitboards.extend([bb & other for bb in kinds])
        repetitions = past.repetitions
        scalars.extend((float(repetitions >= 2), float(repetitions >= 3)))
    rights = board.clean_castling_rights()
    own_rank, other_rank = (chess.BB_RANK_1, chess.BB_RANK_8) if turn else (
        chess.BB_RANK_8, chess.BB_RANK_1)
    scalars.extend((
        float(not turn),
        board.ply() / MOVE_COUNT_SCALE,
        float(bool(rights & own_rank & chess.BB_FILE_H)),
        float(bool(rights & own_rank & chess.BB_FILE_A)),
        float(bool(rights & other_rank & chess.BB_FILE_H)),
        float(bool(rights & other_rank & chess.BB_FILE_A)),
        board.halfmove_clock / FIFTY_MOVE_SCALE,
    ))
    return bitboards, scalars


def encode_states(states: Sequence[ChessState], history: int) -> np.ndarray:
    """float32 `[B, 14 * history + 7, 8, 8]` input planes of `states`."""
    count = len(states)
    channels = num_planes(history)
    out = np.zeros((count, channels, 8, 8), dtype=np.float32)
    if count == 0:
        return out
    bitboards: list[int] = []
    scalars: list[list[float]] = []
    black = np.zeros(count, dtype=bool)
    for i, state in enumerate(states):
        bbs, values = _position_fields(state, history)
        bitboards.extend(bbs)
        scalars.append(values)
        black[i] = not state._board.turn
    raw = np.array(bitboards, dtype="<u8").view(np.uint8)
    bits = np.unpackbits(raw, bitorder="little").reshape(count, 12 * history, 8, 8)
    # Black's view: rank 8 becomes row 0.
    bits[black] = bits[black][:, :, ::-1, :]
    out[:, _piece_plane_indices(history)] = bits
    values = np.asarray(scalars, dtype=np.float32)  # [B, 2T + 7]
    repetition_planes = np.array(
        [PLANES_PER_POSITION * t + k for t in range(history) for k in (12, 13)], dtype=np.intp
    )
    out[:, repetition_planes] = values[:, : 2 * history, None, None]
    out[:, PLANES_PER_POSITION * history:] = values[:, 2 * history:, None, None]
    return out


def encode_state(state: ChessState, history: int) -> np.ndarray:
    """float32 `[14 * history + 7, 8, 8]` input planes of one state."""
    return encode_states([state], history)[0]
