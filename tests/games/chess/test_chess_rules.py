"""Game endings, immutability and errors, with python-chess's own full-stack board as oracle."""

from __future__ import annotations

import random

import chess
import numpy as np
import pytest

from games import GameOverError, IllegalMoveError, Outcome, Termination, make
from games.chess import Chess, ChessState, InvalidPositionError, position_key


def reference_termination(board: chess.Board) -> Termination | None:
    """python-chess's verdict with claimable draws taken on the board as it stands."""
    outcome = board.outcome(claim_draw=False)
    if outcome is not None:
        return Termination[outcome.termination.name]
    if board.is_fifty_moves():
        return Termination.FIFTY_MOVES
    if board.is_repetition(3):
        return Termination.THREEFOLD_REPETITION
    return None


def shuffling_move(board: chess.Board, rng: random.Random, undo: float) -> chess.Move:
    """With probability `undo`, take back the mover's previous move (to provoke repetitions);
    else mostly quiet piece moves (to run the fifty-move clock), sometimes anything."""
    moves = list(board.legal_moves)
    if len(board.move_stack) >= 2 and rng.random() < undo:
        last = board.move_stack[-2]
        back = chess.Move(last.to_square, last.from_square)
        if back in moves:
            return back
    quiet = [m for m in moves if not board.is_capture(m) and board.piece_type_at(m.from_square)
             != chess.PAWN]
    return rng.choice(quiet if quiet and rng.random() < 0.9 else moves)


KIWIPETE = "r3k2r/p1ppqpb1/bn2pnp1/3PN3/1p2P3/2N2Q1p/PPPBBPPP/R3K2R w KQkq -"
SEEDS = [(seed, undo, fen) for seed in range(3) for undo, fen in (
    (0.7, chess.STARTING_FEN), (0.1, f"{KIWIPETE} 92 60"), (0.0, f"{KIWIPETE} 140 80"))]


@pytest.mark.parametrize("seed, undo, fen", SEEDS)
def test_every_termination_agrees_with_python_chess(seed: int, undo: float, fen: str) -> None:
    # Keep playing through the claimable draws (state.child skips the game-over check), so
    # fifty moves, threefold, seventy-five moves and fivefold are all met along the way.
    rng = random.Random(seed)
    game = Chess(max_moves=None)
    board, state = chess.Board(fen), game.state_from_fen(fen)
    for _ in range(400):
        expected = reference_termination(board)
        got = game.outcome(state)
        assert (got.termination if got else None) == expected, board.fen()
        assert state.repetitions == 1 + _earlier_occurrences(board)
        if board.outcome(claim_draw=False) is not None:
            break
        move = shuffling_move(board, rng, undo)
        board.push(move)
        state = state.child(move)


def _earlier_occurrences(board: chess.Board) -> int:
    key, count, replay = position_key(board), 0, board.copy()
    while replay.move_stack:
        replay.pop()
        count += position_key(replay) == key
    return count


def test_the_terminations_are_all_reached_across_seeds() -> None:
    seen = set()
    for seed, undo, fen in SEEDS:
        rng = random.Random(seed)
        game = Chess(max_moves=None)
        board, state = chess.Board(fen), game.state_from_fen(fen)
        for _ in range(400):
            if (outcome := game.outcome(state)) is not None:
                seen.add(outcome.termination)
            if board.outcome() is not None:
                break
            move = shuffling_move(board, rng, undo)
            board.push(move)
            state = state.child(move)
    assert {Termination.THREEFOLD_REPETITION, Termination.FIVEFOLD_REPETITION,
            Termination.FIFTY_MOVES, Termination.SEVENTYFIVE_MOVES} <= seen, seen


@pytest.mark.parametrize(
    "fen, termination, winner",
    [
        ("rnb1kbnr/pppp1ppp/8/4p3/6Pq/5P2/PPPPP2P/RNBQKBNR w KQkq - 1 3", "CHECKMATE", 1),
        ("7k/5Q2/6K1/8/8/8/8/8 b - - 0 1", "STALEMATE", -1),
        ("8/8/8/8/8/2k5/8/KB6 w - - 0 1", "INSUFFICIENT_MATERIAL", -1),
        ("8/8/8/8/8/2k5/8/KR6 w - - 100 80", "FIFTY_MOVES", -1),
        ("8/8/8/8/8/2k5/8/KR6 w - - 150 80", "SEVENTYFIVE_MOVES", -1),
    ],
)
def test_endings_from_fen(fen: str, termination: str, winner: int) -> None:
    game = Chess()
    state = game.state_from_fen(fen)
    assert game.outcome(state) == Outcome(Termination[termination], winner)
    assert not game.legal_mask(state).any()
    assert game.legal_actions(state) == []
    with pytest.raises(GameOverError, match=termination.lower().replace("_", " ")):
        game.next_state(state, 0)


def test_mate_beats_the_fifty_move_rule() -> None:
    state = Chess().state_from_fen("7k/6Q1/6K1/8/8/8/8/8 b - - 120 90")
    assert Chess().outcome(state) == Outcome(Termination.CHECKMATE, winner=0)


def test_max_moves_is_a_draw_counted_in_half_moves() -> None:
    game = Chess(max_moves=4)
    state = game.initial_state()
    for text in ("e4", "e5", "Nf3"):
        state = game.next_state(state, game.text_to_action(state, text))
        assert game.outcome(state) is None
    state = game.next_state(state, game.text_to_action(state, "Nc6"))
    assert game.outcome(state) == Outcome(Termination.MAX_LENGTH)
    assert Chess(max_moves=None).outcome(state) is None  # the cached verdict is per rules


def test_draw_rules_off_keeps_only_mate_and_stalemate() -> None:
    game = Chess(max_moves=None, draw_rules=False)
    state = game.state_from_fen("8/8/8/8/8/2k5/8/KB6 w - - 150 80")
    assert game.outcome(state) is None
    assert game.legal_mask(state).sum() == 8


def test_threefold_by_knight_shuffle_and_stack_replay() -> None:
    game = make("chess")
    moves = ["Nf3", "Nf6", "Ng1", "Ng8"] * 2
    state = game.initial_state()
    for i, text in enumerate(moves):
        assert game.outcome(state) is None, i
        state = game.next_state(state, game.text_to_action(state, text))
    assert state.repetitions == 3
    assert game.outcome(state) == Outcome(Termination.THREEFOLD_REPETITION)
    # A board with the same move stack gives the same verdict: the stack is replayed.
    board = chess.Board()
    for text in moves:
        board.push_san(text)
    assert game.outcome(board) == Outcome(Termination.THREEFOLD_REPETITION)
    assert game.outcome(chess.Board(board.fen())) is None  # a bare FEN has no history


def test_fivefold_from_a_board_stack() -> None:
    board = chess.Board()
    for text in ["Nf3", "Nf6", "Ng1", "Ng8"] * 4:
        board.push_san(text)
    assert board.is_fivefold_repetition()
    assert Chess().outcome(board) == Outcome(Termination.FIVEFOLD_REPETITION)


def test_callers_boards_are_never_modified() -> None:
    game = Chess()
    board = chess.Board()
    board.push_san("e4")
    before = (board.fen(), list(board.move_stack))
    state = game.next_state(board, game.text_to_action(board, "e5"))
    game.legal_mask(board)
    game.encode(board)
    assert (board.fen(), list(board.move_stack)) == before
    copy = state.board
    copy.push_san("Nf3")
    assert state.fen() == "rnbqkbnr/pppp1ppp/8/4p3/4P3/8/PPPP1PPP/RNBQKBNR w KQkq - 0 2"
    assert [m.uci() for m in state.moves_from_root()] == ["e2e4", "e7e5"]
    assert state.root().fen() == chess.STARTING_FEN


def test_illegal_actions_raise() -> None:
    game = Chess()
    state = game.initial_state()
    e2e5 = game.move_to_action(state, chess.Move.from_uci("e2e5"))
    with pytest.raises(IllegalMoveError, match="e2e5"):
        game.next_state(state, e2e5)
    with pytest.raises(IllegalMoveError, match="not a move"):
        game.next_state(state, 0 * 64 + 63)
    with pytest.raises(IllegalMoveError, match="not a move"):
        game.next_state(state, -1)


@pytest.mark.parametrize(
    "fen, message",
    [
        ("not a fen", "malformed FEN"),
        ("8/8/8/8/8/8/8/8 w - - 0 1", "empty"),
        ("8/8/8/8/8/8/8/K7 w - - 0 1", "no black king"),
        ("r6k/8/8/8/8/8/8/K7 b - - 0 1", "opposite check"),
    ],
)
def test_bad_positions_raise(fen: str, message: str) -> None:
    with pytest.raises(InvalidPositionError, match=message):
        Chess().state_from_fen(fen)


def test_step_many_matches_next_state_and_outcome() -> None:
    game = Chess()
    mate_in_one = game.state_from_fen("6k1/5ppp/8/8/8/8/8/R5K1 w - - 0 1")
    start = game.initial_state()
    actions = [game.text_to_action(mate_in_one, "Ra8"), game.text_to_action(start, "e4")]
    children, to_play, legal, terminal, value = game.step_many([mate_in_one, start], actions)
    assert isinstance(children[0], ChessState)
    np.testing.assert_array_equal(to_play, [1, 1])
    np.testing.assert_array_equal(terminal, [True, False])
    np.testing.assert_array_equal(value, [-1.0, 0.0])  # the side to move was mated
    assert not legal[0].any()
    np.testing.assert_array_equal(legal[1], game.legal_mask(children[1]))
    assert legal[1].sum() == 20


def test_constructor_validates() -> None:
    with pytest.raises(ValueError, match="max_moves"):
        Chess(max_moves=0)
    with pytest.raises(ValueError, match="history"):
        Chess(history=0)
    assert Chess(history=2).observation_shape == (35, 8, 8)
    assert make("chess").observation_shape == (119, 8, 8)
