"""The AlphaZero chess action encoding: 8 x 8 x 73 = 4,672 actions.

Every move is described from the point of view of the side to move: for Black the board is
flipped vertically (rank r becomes rank 7 - r; files stay put), so a pawn always advances
"north" and both sides share one table.

An action is `plane * 64 + square`, where `square = rank * 8 + file` is the move's *from*
square in that relative frame (a1 = 0, h1 = 7, a8 = 56; for Black, a8 = 0). A policy vector
`[4672]` is thus a `[73, 8, 8]` stack of planes flattened in C order, which is what a
convolutional policy head with 73 output channels produces.

The 73 planes:

==========  =====================================================================
plane       move
==========  =====================================================================
0 - 55      queen-like: `plane = 7 * direction + (distance - 1)`, distance 1..7,
            directions 0..7 = N, NE, E, SE, S, SW, W, NW (N = towards the
            opponent, E = towards the h-file). Covers every king, queen, rook,
            bishop and pawn move, castling (the king moves two squares E or W)
            and promotions to a queen.
56 - 63     knight moves, `plane = 56 + k` for the (file, rank) offsets
            k = 0..7: (+1,+2) (+2,+1) (+2,-1) (+1,-2) (-1,-2) (-2,-1) (-2,+1)
            (-1,+2).
64 - 72     underpromotions, `plane = 64 + 3 * piece + direction` with
            piece 0..2 = knight, bishop, rook and direction 0..2 = NW (capture
            towards the a-file), N (push), NE (capture towards the h-file).
==========  =====================================================================

A pawn move to the last rank on a queen-like plane is a promotion to a queen; whether a
queen-like move is a pawn move depends on the position, which is why `action_to_move`
takes the board. Actions that leave the board (e.g. N from rank 8) are never legal.

The tables below are plain numpy arrays built once at import; `MOVE_INDEX` maps
`(from, to, promotion class)` back to the action, with -1 where no action exists.
"""

from __future__ import annotations

from collections.abc import Iterable

import chess
import numpy as np

NUM_PLANES = 73
NUM_ACTIONS = 64 * NUM_PLANES  # 4672

QUEEN_DIRECTIONS: tuple[tuple[int, int], ...] = (
    (0, 1), (1, 1), (1, 0), (1, -1), (0, -1), (-1, -1), (-1, 0), (-1, 1),
)
"""(file step, rank step) of the queen-like directions N, NE, E, SE, S, SW, W, NW."""

KNIGHT_OFFSETS: tuple[tuple[int, int], ...] = (
    (1, 2), (2, 1), (2, -1), (1, -2), (-1, -2), (-2, -1), (-2, 1), (-1, 2),
)
"""(file, rank) offsets of the knight planes 56..63, in plane order."""

UNDERPROMOTION_PIECES: tuple[chess.PieceType, ...] = (chess.KNIGHT, chess.BISHOP, chess.ROOK)
UNDERPROMOTION_FILE_STEPS: tuple[int, ...] = (-1, 0, 1)  # NW, N, NE

# Promotion class used by MOVE_INDEX: 0 = no promotion or a queen, 1..3 = N, B, R.
_PROMOTION_CLASS = {None: 0, chess.QUEEN: 0, chess.KNIGHT: 1, chess.BISHOP: 2, chess.ROOK: 3}


def _build_tables() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Build ACTION_FROM, ACTION_TO, ACTION_PROMOTION and MOVE_INDEX (relative frame)."""
    action_from = np.empty(NUM_ACTIONS, dtype=np.int16)
    action_to = np.full(NUM_ACTIONS, -1, dtype=np.int16)
    action_promotion = np.zeros(NUM_ACTIONS, dtype=np.int8)
    move_index = np.full((64, 64, 4), -1, dtype=np.int32)

    def add(plane: int, square: int, file_step: int, rank_step: int, promotion: int) -> None:
        action = plane * 64 + square
        action_from[action] = square
        file, rank = square % 8 + file_step, square // 8 + rank_step
        if 0 <= file < 8 and 0 <= rank < 8:
            to = rank * 8 + file
            action_to[action] = to
            action_promotion[action] = promotion
            klass = _PROMOTION_CLASS[promotion or None]
            move_index[square, to, klass] = action

    for square in range(64):
        for direction, (df, dr) in enumerate(QUEEN_DIRECTIONS):
            for distance in range(1, 8):
                add(7 * direction + distance - 1, square, df * distance, dr * distance, 0)
        for k, (df, dr) in enumerate(KNIGHT_OFFSETS):
            add(56 + k, square, df, dr, 0)
        for piece_index, piece in enumerate(UNDERPROMOTION_PIECES):
            for direction, df in enumerate(UNDERPROMOTION_FILE_STEPS):
                plane = 64 + 3 * piece_index + direction
                # Underpromotions only exist from the 7th rank; elsewhere the action is void.
                if square // 8 == 6:
                    add(plane, square, df, 1, piece)
                else:
                    action_from[plane * 64 + square] = square
    for table in (action_from, action_to, action_promotion, move_index):
        table.setflags(write=False)
    return action_from, action_to, action_promotion, move_index


ACTION_FROM, ACTION_TO, ACTION_PROMOTION, MOVE_INDEX = _build_tables()
"""int16 `[4672]` relative from-square; int16 `[4672]` relative to-square (-1: off the board);
int8 `[4672]` underpromotion piece type (0: none); int32 `[64, 64, 4]` action of
(relative from, relative to, promotion class), -1 where none."""

# Flat Python lists for the per-move hot path (indexing a list beats indexing numpy by far).
_MOVE_INDEX_LIST: list[int] = MOVE_INDEX.ravel().tolist()
_ACTION_FROM_LIST: list[int] = ACTION_FROM.tolist()
_ACTION_TO_LIST: list[int] = ACTION_TO.tolist()
_ACTION_PROMOTION_LIST: list[int] = ACTION_PROMOTION.tolist()


def _turn_of(board_or_turn: chess.Board | chess.Color) -> chess.Color:
    if isinstance(board_or_turn, chess.Board):
        return board_or_turn.turn
    return bool(board_or_turn)


def move_to_action(board_or_turn: chess.Board | chess.Color, move: chess.Move) -> int:
    """The action of `move` for the side to move.

    Args:
        board_or_turn: the position (only its side to move is used) or that colour
            (`chess.WHITE` / `chess.BLACK`).
        move: a standard-chess move (castling as the king's two-square move).

    Returns:
        The action in `[0, 4672)`.

    Raises:
        ValueError: the move has no action (a null move, a drop, or a geometry no piece has).
    """
    flip = 0 if _turn_of(board_or_turn) else 56
    klass = _PROMOTION_CLASS.get(move.promotion, -1)
    if move.drop is not None or klass < 0 or move.from_square == move.to_square:
        raise ValueError(f"move {move.uci()} has no action in the chess encoding")
    action = _MOVE_INDEX_LIST[
        ((move.from_square ^ flip) * 64 + (move.to_square ^ flip)) * 4 + klass
    ]
    if action < 0:
        raise ValueError(f"move {move.uci()} has no action in the chess encoding")
    return action


def moves_to_actions(turn: chess.Color, moves: Iterable[chess.Move]) -> list[int]:
    """`move_to_action` for many moves of one side (moves must be legal: not re-checked)."""
    flip = 0 if turn else 56
    table = _MOVE_INDEX_LIST
    classes = _PROMOTION_CLASS
    return [
        table[((m.from_square ^ flip) * 64 + (m.to_square ^ flip)) * 4 + classes[m.promotion]]
        for m in moves
    ]


def action_to_move(board: chess.Board, action: int) -> chess.Move:
    """The move that `action` stands for in `board` (legality is not checked).

    A queen-like action of a pawn onto the last rank becomes a promotion to a queen.

    Raises:
        ValueError: `action` is out of range or points off the board.
    """
    if not 0 <= action < NUM_ACTIONS:
        raise ValueError(f"action {action} out of range [0, {NUM_ACTIONS})")
    to = _ACTION_TO_LIST[action]
    if to < 0:
        raise ValueError(f"action {action} leaves the board")
    flip = 0 if board.turn else 56
    origin = _ACTION_FROM_LIST[action] ^ flip
    target = to ^ flip
    promotion = _ACTION_PROMOTION_LIST[action] or None
    if promotion is None and to >= 56 and action < 56 * 64 and board.pawns >> origin & 1:
        promotion = chess.QUEEN
    return chess.Move(origin, target, promotion)


def action_mask(turn: chess.Color, moves: Iterable[chess.Move]) -> np.ndarray:
    """bool `[4672]`, True at the actions of `moves` (legal moves of the side `turn`)."""
    mask = np.zeros(NUM_ACTIONS, dtype=bool)
    mask[moves_to_actions(turn, moves)] = True
    return mask
