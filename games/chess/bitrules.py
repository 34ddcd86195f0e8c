"""Game end, the 4,672-action encoding and the input planes as kernels over position arrays.

The same rules, in the same order, as `games.chess.game.Chess` (see its module docstring),
the same actions as `games.chess.actions` (its `MOVE_INDEX` table) and the same planes as
`games.chess.planes`, computed from `games.chess.bitboard` positions instead of
python-chess boards.

Repetitions are counted on Zobrist keys (`movegen.repetition_key`): a game keeps the keys
of the positions since the last capture or pawn move, the current one last. Termination
codes (`NOT_OVER`, `CHECKMATE`, ...) are small ints; `TERMINATIONS` maps them to
`games.base.Termination`.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from games.base import Termination
from games.chess.actions import MOVE_INDEX
from games.chess.bitboard import (
    BISHOP,
    BLACK_OCC,
    CASTLING,
    FULLMOVE,
    HALFMOVE,
    KING,
    KNIGHT,
    PAWN,
    QUEEN,
    ROOK,
    TURN,
    WHITE_OCC,
    lsb,
    popcount,
)
from games.chess.movegen import MAX_MOVES, generate_moves, in_check
from games.chess.planes import (
    FIFTY_MOVE_SCALE,
    MOVE_COUNT_SCALE,
    PLANES_PER_POSITION,
)

NOT_OVER, CHECKMATE, STALEMATE, INSUFFICIENT_MATERIAL = 0, 1, 2, 3
SEVENTYFIVE_MOVES, FIVEFOLD_REPETITION, FIFTY_MOVES, THREEFOLD_REPETITION, MAX_LENGTH = (
    4, 5, 6, 7, 8)
TERMINATIONS: dict[int, Termination] = {
    CHECKMATE: Termination.CHECKMATE,
    STALEMATE: Termination.STALEMATE,
    INSUFFICIENT_MATERIAL: Termination.INSUFFICIENT_MATERIAL,
    SEVENTYFIVE_MOVES: Termination.SEVENTYFIVE_MOVES,
    FIVEFOLD_REPETITION: Termination.FIVEFOLD_REPETITION,
    FIFTY_MOVES: Termination.FIFTY_MOVES,
    THREEFOLD_REPETITION: Termination.THREEFOLD_REPETITION,
    MAX_LENGTH: Termination.MAX_LENGTH,
}
"""Termination code -> `Termination` (`NOT_OVER` has none)."""

NO_LIMIT = -1
"""`max_moves` for games without a length limit."""

_DARK_SQUARES = int(np.uint64(0xAA55AA55AA55AA55).view(np.int64))
_LIGHT_SQUARES = ~_DARK_SQUARES
_MOVE_INDEX = np.ascontiguousarray(MOVE_INDEX).copy()


@njit(cache=True, nogil=True)
def _insufficient_for(pos: np.ndarray, colour: int) -> bool:
    """python-chess's `has_insufficient_material(colour)`."""
    own = pos[WHITE_OCC + colour]
    other = pos[BLACK_OCC - colour]
    if own & (pos[PAWN] | pos[ROOK] | pos[QUEEN]):
        return False
    if own & pos[KNIGHT]:
        return popcount(own) <= 2 and not (other & ~pos[KING] & ~pos[QUEEN])
    if own & pos[BISHOP]:
        same_colour = not (pos[BISHOP] & _DARK_SQUARES) or not (pos[BISHOP] & _LIGHT_SQUARES)
        return same_colour and not pos[PAWN] and not pos[KNIGHT]
    return True


@njit(cache=True, nogil=True)
def insufficient_material(pos: np.ndarray) -> bool:
    """Neither side can ever mate (python-chess's `is_insufficient_material`)."""
    return _insufficient_for(pos, 0) and _insufficient_for(pos, 1)


@njit(cache=True, nogil=True)
def ply(pos: np.ndarray) -> int:
    """Half-moves since the start of the game, from the move counters (`Board.ply`)."""
    return 2 * (pos[FULLMOVE] - 1) + pos[TURN]


@njit(cache=True, nogil=True)
def count_repetitions(keys: np.ndarray, n: int) -> int:
    """How often `keys[n - 1]` occurs in `keys[:n]` (1 = the first time)."""
    count = 0
    for i in range(n):
        count += keys[i] == keys[n - 1]
    return count


@njit(cache=True, nogil=True)
def termination(pos: np.ndarray, has_moves: bool, repetitions: int, draw_rules: bool,
                max_moves: int) -> int:
    """The termination code of `pos` (`NOT_OVER` while the game goes on).

    Args:
        pos: the position.
        has_moves: whether the side to move has a legal move.
        repetitions: occurrences of the position since the last irreversible move.
        draw_rules: whether insufficient material, repetitions and the 50/75-move rules
            end the game.
        max_moves: the game's length limit in half-moves, or `NO_LIMIT`.
    """
    if not has_moves and in_check(pos):
        return CHECKMATE
    if draw_rules and insufficient_material(pos):
        return INSUFFICIENT_MATERIAL
    if not has_moves:
        return STALEMATE
    if draw_rules:
        clock = pos[HALFMOVE]
        if clock >= 150:
            return SEVENTYFIVE_MOVES
        if repetitions >= 5:
            return FIVEFOLD_REPETITION
        if clock >= 100:
            return FIFTY_MOVES
        if repetitions >= 3:
            return THREEFOLD_REPETITION
    if max_moves != NO_LIMIT and ply(pos) >= max_moves:
        return MAX_LENGTH
    return NOT_OVER


@njit(cache=True, nogil=True)
def game_status(pos: np.ndarray, keys: np.ndarray, n: int, draw_rules: bool,
                max_moves: int) -> int:
    """`termination` of `pos`, with `keys[:n]` its repetition keys (see the module)."""
    moves = np.empty(MAX_MOVES, dtype=np.int32)
    has_moves = generate_moves(pos, moves) > 0
    return termination(pos, has_moves, count_repetitions(keys, n), draw_rules, max_moves)


@njit(cache=True, nogil=True, inline="always")
def move_action(move: int, turn: int) -> int:
    """The action of a kernel move for the side `turn` (0 White, 1 Black)."""
    flip = 56 * turn
    promotion = (move >> 12) & 7
    klass = promotion if promotion < 4 else 0
    return _MOVE_INDEX[(move & 63) ^ flip, ((move >> 6) & 63) ^ flip, klass]


@njit(cache=True, nogil=True)
def move_actions(moves: np.ndarray, n: int, turn: int, out: np.ndarray) -> None:
    """Write the actions of `moves[:n]` into `out[:n]`."""
    for i in range(n):
        out[i] = move_action(moves[i], turn)


@njit(cache=True, nogil=True)
def legal_mask(pos: np.ndarray, out: np.ndarray) -> int:
    """Set `out` (bool `[4672]`) to the legal actions of `pos`; return how many."""
    moves = np.empty(MAX_MOVES, dtype=np.int32)
    n = generate_moves(pos, moves)
    out[:] = False
    for i in range(n):
        out[move_action(moves[i], pos[TURN])] = True
    return n


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
    """The input planes of one position (`games.chess.planes`' layout).

    Args:
        history: int64 `[T, POSITION_SIZE]` positions, newest (the current one) first.
        present: bool `[T]`, False for positions before the start of the game.
        repetitions: int64 `[T]`, each position's occurrences since the last irreversible
            move.
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
    out[base + 1] = ply(current) / MOVE_COUNT_SCALE
    out[base + 2] = float((rights >> (2 * own)) & 1)
    out[base + 3] = float((rights >> (2 * own + 1)) & 1)
    out[base + 4] = float((rights >> (2 - 2 * own)) & 1)
    out[base + 5] = float((rights >> (3 - 2 * own)) & 1)
    out[base + 6] = current[HALFMOVE] / FIFTY_MOVE_SCALE


@njit(cache=True, nogil=True)
def encode_batch(histories: np.ndarray, present: np.ndarray, repetitions: np.ndarray,
                 out: np.ndarray) -> None:
    """`encode_planes` of B positions: `[B, T, POSITION_SIZE]`, `[B, T]`, `[B, T]` into
    float32 `[B, 14 * T + 7, 8, 8]`."""
    for b in range(histories.shape[0]):
        encode_planes(histories[b], present[b], repetitions[b], out[b])
