"""The 119 input planes: known contents, the colour-mirror property, history and repetitions."""

from __future__ import annotations

import random

import chess
import numpy as np
import pytest

from games.chess import Chess

SIDE, MOVES, OWN_K, OWN_Q, OPP_K, OPP_Q, FIFTY = range(112, 119)


def test_start_position_planes() -> None:
    planes = Chess().encode(chess.Board())
    assert planes.shape == (119, 8, 8) and planes.dtype == np.float32
    np.testing.assert_array_equal(planes[0][1], np.ones(8))  # own pawns: row 1 (rank 2)
    np.testing.assert_array_equal(planes[6][6], np.ones(8))  # opponent's: row 6 (rank 7)
    assert planes[0].sum() == planes[6].sum() == 8
    assert planes[5][0, 4] == 1 and planes[5].sum() == 1  # own king on e1
    assert planes[11][7, 4] == 1 and planes[11].sum() == 1  # opponent's king on e8
    assert planes[3][0, 0] == planes[3][0, 7] == 1  # own rooks a1, h1
    assert planes[14:112].sum() == 0  # no history before the first position
    assert planes[12].sum() == planes[13].sum() == 0  # first occurrence
    for plane in (OWN_K, OWN_Q, OPP_K, OPP_Q):
        assert (planes[plane] == 1).all()
    assert planes[SIDE].sum() == planes[MOVES].sum() == planes[FIFTY].sum() == 0


def test_black_sees_the_board_flipped_with_its_pieces_first() -> None:
    board = chess.Board()
    board.push_san("e4")
    planes = Chess().encode(board)
    np.testing.assert_array_equal(planes[0][1], np.ones(8))  # black pawns on its row 1
    assert planes[6][4, 4] == 1 and planes[6][6, 4] == 0  # white e-pawn: e4 is row 4 for Black
    assert (planes[SIDE] == 1).all()
    assert np.allclose(planes[MOVES], 1 / 512)
    # History t = 1 is the start position, still drawn from Black's side.
    np.testing.assert_array_equal(planes[14 + 6][6], np.ones(8))


def mirrored_games(seed: int, plies: int) -> tuple[list[chess.Board], list[chess.Board]]:
    """A random game and the same game with colours swapped and the board flipped."""
    rng = random.Random(seed)
    board = chess.Board()
    mirror = chess.Board().mirror()
    boards, mirrors = [board.copy()], [mirror.copy()]
    for _ in range(plies):
        if board.is_game_over():
            break
        move = rng.choice(list(board.legal_moves))
        board.push(move)
        mirror.push(chess.Move(chess.square_mirror(move.from_square),
                               chess.square_mirror(move.to_square), move.promotion))
        boards.append(board.copy())
        mirrors.append(mirror.copy())
    return boards, mirrors


@pytest.mark.parametrize("seed", range(3))
def test_colour_mirror_gives_the_same_planes(seed: int) -> None:
    # python-chess's Board.mirror() swaps colours and flips ranks: from the mover's point of
    # view nothing changes, so every plane but side-to-move and move count must agree.
    game = Chess()
    boards, mirrors = mirrored_games(seed, 80)
    state, twin = game.initial_state(), game.state_from_board(chess.Board().mirror())
    for i, (board, mirror) in enumerate(zip(boards, mirrors)):
        if i > 0:
            state = state.child(board.peek())
            twin = twin.child(mirror.peek())
        a, b = game.encode(state), game.encode(twin)
        same = [c for c in range(119) if c not in (SIDE, MOVES)]
        np.testing.assert_array_equal(a[same], b[same], err_msg=f"ply {i}")
        assert a[SIDE, 0, 0] != b[SIDE, 0, 0]


def test_repetition_planes_and_history_window() -> None:
    game = Chess(history=5)
    state = game.initial_state()
    for text in ("Nf3", "Nf6", "Ng1", "Ng8"):
        state = game.next_state(state, game.text_to_action(state, text))
    planes = game.encode(state)
    assert planes.shape == (14 * 5 + 7, 8, 8)
    assert (planes[12] == 1).all() and (planes[13] == 0).all()  # second occurrence now
    assert (planes[14 * 4 + 12] == 0).all()  # the start position itself was the first
    np.testing.assert_array_equal(planes[0:12], planes[14 * 4 : 14 * 4 + 12])
    assert np.allclose(planes[14 * 5 + 6], 4 / 100)  # fifty-move counter


def test_encode_many_matches_encode() -> None:
    game = Chess()
    boards, _ = mirrored_games(7, 30)
    states = [game.state_from_board(b) for b in boards[::5]]
    many = game.encode_many(states)
    np.testing.assert_array_equal(many, np.stack([game.encode(s) for s in states]))
    assert game.encode_many([]).shape == (0, 119, 8, 8)


def test_symmetry_is_identity_only() -> None:
    game = Chess()
    obs, pol = np.zeros((2, 119, 8, 8)), np.zeros((2, 4672))
    assert game.num_symmetries == 1
    assert game.apply_symmetry(0, obs, pol) == (obs, pol)
    with pytest.raises(ValueError):
        game.apply_symmetry(1, obs, pol)
