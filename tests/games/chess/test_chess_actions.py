"""The 4,672-action table: its geometry, known entries, and round trips on real positions."""

from __future__ import annotations

import chess
import numpy as np
import pytest

from games.chess import Chess, action_to_move, move_to_action, moves_to_actions
from games.chess.actions import ACTION_FROM, ACTION_PROMOTION, ACTION_TO, MOVE_INDEX, NUM_ACTIONS


def test_table_has_the_1858_moves_leela_counts() -> None:
    # 1456 queen-like + 336 knight + 66 underpromotion geometries fit on the board: the size
    # of Leela Chess Zero's compact policy, an independent count of the same move set.
    valid = ACTION_TO >= 0
    assert NUM_ACTIONS == 4672
    assert int(valid.sum()) == 1858
    assert int((valid & (ACTION_PROMOTION > 0)).sum()) == 66
    assert int(valid[56 * 64 : 64 * 64].sum()) == 336


def test_move_index_inverts_the_table() -> None:
    actions = np.flatnonzero(ACTION_TO >= 0)
    classes = np.select(
        [ACTION_PROMOTION == chess.KNIGHT, ACTION_PROMOTION == chess.BISHOP,
         ACTION_PROMOTION == chess.ROOK], [1, 2, 3], 0)
    back = MOVE_INDEX[ACTION_FROM[actions], ACTION_TO[actions], classes[actions]]
    np.testing.assert_array_equal(back, actions)
    assert int((MOVE_INDEX >= 0).sum()) == 1858


@pytest.mark.parametrize(
    "uci, turn, action",
    [
        ("e2e4", chess.WHITE, 1 * 64 + 12),  # N, distance 2, from e2
        ("e7e5", chess.BLACK, 1 * 64 + 12),  # the same move seen from Black's side
        ("g1f3", chess.WHITE, 63 * 64 + 6),  # knight offset (-1, +2) is plane 63
        ("e1g1", chess.WHITE, 15 * 64 + 4),  # castling: the king moves E by 2
        ("e8c8", chess.BLACK, 43 * 64 + 4),  # black long castling: W (6) by 2
        ("a7a8n", chess.WHITE, 65 * 64 + 48),  # knight underpromotion, push
        ("b2a1r", chess.BLACK, 70 * 64 + 49),  # rook underpromotion towards a; b2 is b7 for Black
        ("b7c8q", chess.WHITE, 7 * 64 + 49),  # queen promotion on the NE queen plane
        ("h1a8", chess.WHITE, 7 * 7 * 64 + 6 * 64 + 7),  # NW, distance 7
    ],
)
def test_known_actions(uci: str, turn: chess.Color, action: int) -> None:
    assert move_to_action(turn, chess.Move.from_uci(uci)) == action


def test_queen_plane_decodes_to_a_queen_promotion_only_for_pawns() -> None:
    pawn = chess.Board("8/1P6/8/8/8/8/8/k1K5 w - - 0 1")
    queen = chess.Board("8/1Q6/8/8/8/8/8/k1K5 w - - 0 1")
    action = move_to_action(chess.WHITE, chess.Move.from_uci("b7b8q"))
    assert action_to_move(pawn, action) == chess.Move.from_uci("b7b8q")
    assert action_to_move(queen, action) == chess.Move.from_uci("b7b8")


def test_bad_actions_and_moves_are_rejected() -> None:
    board = chess.Board()
    with pytest.raises(ValueError, match="out of range"):
        action_to_move(board, NUM_ACTIONS)
    with pytest.raises(ValueError, match="leaves the board"):
        action_to_move(board, 0 * 64 + 63)  # N from h8
    with pytest.raises(ValueError, match="no action"):
        move_to_action(board, chess.Move.null())
    with pytest.raises(ValueError, match="no action"):
        move_to_action(board, chess.Move.from_uci("a1c4"))  # no piece moves like that


def assert_round_trips(board: chess.Board) -> None:
    moves = list(board.legal_moves)
    actions = moves_to_actions(board.turn, moves)
    assert len(set(actions)) == len(moves), f"two moves share an action in {board.fen()}"
    for move, action in zip(moves, actions):
        assert move_to_action(board, move) == action
        assert action_to_move(board, action) == move, (board.fen(), move.uci(), action)


def test_round_trip_on_perftsuite_positions_and_children(perftsuite) -> None:
    checked = 0
    for record in perftsuite:
        board = chess.Board(record.fen)
        assert_round_trips(board)
        for move in list(board.legal_moves):
            board.push(move)
            assert_round_trips(board)
            board.pop()
            checked += 1
    assert checked > 1400


def test_round_trip_through_the_game_interface(tricky) -> None:
    game = Chess(max_moves=None, draw_rules=False)
    for record in tricky:
        state = game.state_from_fen(record.fen)
        board = chess.Board(record.fen)
        mask = game.legal_mask(state)
        expected = {move_to_action(board, m): m for m in board.legal_moves}
        assert set(np.flatnonzero(mask)) == set(expected), record.name
        for action, move in expected.items():
            assert game.action_to_move(state, action) == move
            assert game.text_to_action(state, move.uci()) == action
            assert game.text_to_action(state, board.san(move)) == action
