"""Game end and the 4,672-action encoding as kernels over position arrays.

The rules of `games.chess.game.Chess`, in its order (see its module docstring), and the
actions of `games.chess.actions` (its `MOVE_INDEX` table), computed from
`games.chess.bitboard` positions.

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
    FULLMOVE,
    HALFMOVE,
    KING,
    KNIGHT,
    PAWN,
    QUEEN,
    ROOK,
    TURN,
    WHITE_OCC,
    popcount,
)
from games.chess.movegen import MAX_MOVES, generate_moves, in_check

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
def legal_actions(pos: np.ndarray, actions: np.ndarray, moves: np.ndarray) -> int:
    """Write the legal moves of `pos` into `moves` (int32 `[MAX_MOVES]`) and their actions
    into `actions` (int64 `[MAX_MOVES]`); return how many."""
    n = generate_moves(pos, moves)
    move_actions(moves, n, pos[TURN], actions)
    return n
