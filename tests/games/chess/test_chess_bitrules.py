"""Game-end kernels: insufficient material against python-chess, and each termination."""

from __future__ import annotations

import chess
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from games.base import NO_PLAYER, Outcome, Termination
from games.chess import bitrules, position

EXTRA_PIECES = st.lists(
    st.tuples(st.sampled_from("PNBRQpnbrq"), st.integers(8, 55)), max_size=4)


@given(kings=st.tuples(st.integers(0, 63), st.integers(0, 63)), extra=EXTRA_PIECES)
@settings(max_examples=400, deadline=None)
def test_insufficient_material_matches_python_chess(kings, extra) -> None:
    board = chess.Board(None)
    board.set_piece_at(kings[0], chess.Piece(chess.KING, chess.WHITE))
    board.set_piece_at(kings[1], chess.Piece(chess.KING, chess.BLACK))
    for symbol, square in extra:
        if board.piece_at(square) is None:
            board.set_piece_at(square, chess.Piece.from_symbol(symbol))
    if kings[0] == kings[1]:
        return
    pos = position.from_board(board)
    assert bitrules.insufficient_material(pos) == board.is_insufficient_material()


def test_checkmate_and_stalemate() -> None:
    mated = position.from_fen("rnb1kbnr/pppp1ppp/8/4p3/6Pq/5P2/PPPPP2P/RNBQKBNR w KQkq - 1 3")
    assert position.outcome(mated, []) == Outcome(Termination.CHECKMATE, winner=1)
    stalemate = position.from_fen("7k/5Q2/6K1/8/8/8/8/8 b - - 0 1")
    assert position.outcome(stalemate, []) == Outcome(Termination.STALEMATE, NO_PLAYER)


def test_clock_and_repetition_rules_in_order() -> None:
    pos = position.from_fen("r3k3/8/8/8/8/8/8/4K2R w - - 0 1")
    key = position.repetition_key(pos)
    assert position.outcome(pos, [key] * 2) is None
    assert position.outcome(pos, [key] * 3).termination == Termination.THREEFOLD_REPETITION
    assert position.outcome(pos, [key] * 5).termination == Termination.FIVEFOLD_REPETITION
    assert position.outcome(pos, [key] * 5, draw_rules=False) is None
    pos[position.bb.HALFMOVE] = 100
    assert position.outcome(pos, [key] * 3).termination == Termination.FIFTY_MOVES
    pos[position.bb.HALFMOVE] = 150
    assert position.outcome(pos, [key] * 5).termination == Termination.SEVENTYFIVE_MOVES
    pos[position.bb.HALFMOVE] = 0
    pos[position.bb.FULLMOVE] = 11
    assert position.outcome(pos, [key], max_moves=20) == Outcome(Termination.MAX_LENGTH)
    assert position.outcome(pos, [key], max_moves=21) is None


def test_repetition_key_sees_only_legal_en_passant() -> None:
    # After ...d5, the e5 pawn could take en passant only if it were not pinned.
    free = position.from_fen("4k3/8/8/3pP3/8/8/8/4K3 w - d6 0 1")
    pinned = position.from_fen("4k3/8/8/K2pP2r/8/8/8/8 w - d6 0 1")
    assert position.repetition_key(free) != free[position.bb.HASH]
    assert position.repetition_key(pinned) == pinned[position.bb.HASH]
    no_ep = position.from_fen("4k3/8/8/K2pP2r/8/8/8/8 w - - 0 1")
    assert position.repetition_key(pinned) == position.repetition_key(no_ep)
    assert np.array_equal(np.sort(position.legal_actions(pinned)[0]),
                          np.sort(position.legal_actions(no_ep)[0]))


def test_impossible_en_passant_squares_are_dropped() -> None:
    # No black pawn on d5 to take (python-chess would offer e5xd6 all the same); a square
    # on the wrong rank for the side to move.
    for fen in ("4k3/8/8/4P3/8/8/8/4K3 w - d6 0 1", "4k3/8/8/8/8/8/3Pp3/K7 w - e3 0 1"):
        pos = position.from_fen(fen)
        assert pos[position.bb.EP_SQUARE] == -1
        assert position.to_fen(pos).split()[3] == "-"
        texts = {position.move_to_uci(m) for m in position.legal_moves(pos)}
        assert not texts & {"e5d6", "d2e3"}
