"""python-chess oracles for the tests: the game-end rules and the input planes computed from
`chess.Board`s, as `Chess` computed them before its rules moved to the bitboard kernels."""

from __future__ import annotations

from collections.abc import Sequence

import chess
import numpy as np

from games.base import NO_PLAYER, Outcome, Termination
from games.chess.planes import FIFTY_MOVE_SCALE, MOVE_COUNT_SCALE, PLANES_PER_POSITION, num_planes


def reference_outcome(board: chess.Board, repetitions: int, draw_rules: bool = True,
                      max_moves: int | None = None) -> Outcome | None:
    """How `Chess` ends the game at `board`, the position's `repetitions` given."""
    has_moves = any(board.generate_legal_moves())
    if not has_moves and board.is_check():
        return Outcome(Termination.CHECKMATE, winner=1 if board.turn else 0)
    if draw_rules and board.is_insufficient_material():
        return Outcome(Termination.INSUFFICIENT_MATERIAL, NO_PLAYER)
    if not has_moves:
        return Outcome(Termination.STALEMATE, NO_PLAYER)
    if draw_rules:
        if board.halfmove_clock >= 150:
            return Outcome(Termination.SEVENTYFIVE_MOVES, NO_PLAYER)
        if repetitions >= 5:
            return Outcome(Termination.FIVEFOLD_REPETITION, NO_PLAYER)
        if board.halfmove_clock >= 100:
            return Outcome(Termination.FIFTY_MOVES, NO_PLAYER)
        if repetitions >= 3:
            return Outcome(Termination.THREEFOLD_REPETITION, NO_PLAYER)
    if max_moves is not None and board.ply() >= max_moves:
        return Outcome(Termination.MAX_LENGTH, NO_PLAYER)
    return None


def reference_planes(boards: Sequence[chess.Board | None], repetitions: Sequence[int],
                     history: int) -> np.ndarray:
    """float32 `[14 * history + 7, 8, 8]`: the planes of `boards[0]` with its past positions
    `boards[1:]` (newest first, None before the game), each with its repetition count."""
    out = np.zeros((num_planes(history), 8, 8), dtype=np.float32)
    board = boards[0]
    assert board is not None
    turn = board.turn
    for t in range(history):
        past = boards[t] if t < len(boards) else None
        if past is None:
            continue
        kinds = (past.pawns, past.knights, past.bishops, past.rooks, past.queens, past.kings)
        sides = (past.occupied_co[turn], past.occupied_co[not turn])
        for s, side in enumerate(sides):
            for k, bitboard in enumerate(kinds):
                for square in chess.scan_forward(bitboard & side):
                    rank = chess.square_rank(square) if turn else 7 - chess.square_rank(square)
                    out[PLANES_PER_POSITION * t + 6 * s + k, rank, chess.square_file(square)] = 1
        out[PLANES_PER_POSITION * t + 12] = float(repetitions[t] >= 2)
        out[PLANES_PER_POSITION * t + 13] = float(repetitions[t] >= 3)
    rights = board.clean_castling_rights()
    own_rank, other_rank = (chess.BB_RANK_1, chess.BB_RANK_8) if turn else (
        chess.BB_RANK_8, chess.BB_RANK_1)
    base = PLANES_PER_POSITION * history
    out[base:] = np.array([
        float(not turn),
        board.ply() / MOVE_COUNT_SCALE,
        float(bool(rights & own_rank & chess.BB_FILE_H)),
        float(bool(rights & own_rank & chess.BB_FILE_A)),
        float(bool(rights & other_rank & chess.BB_FILE_H)),
        float(bool(rights & other_rank & chess.BB_FILE_A)),
        board.halfmove_clock / FIFTY_MOVE_SCALE,
    ], dtype=np.float32)[:, None, None]
    return out
