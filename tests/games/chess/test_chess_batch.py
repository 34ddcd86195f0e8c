"""Chess as a `BatchGame`: the state-row kernels against the single-state `ChessState` path.

Random games are played in both forms side by side; at every ply the rows must equal the
rows written from the `ChessState`s, and the legal masks, outcomes and input planes agree.
"""

from __future__ import annotations

import chess
import numpy as np
import pytest

from engine.gameops import GameOps
from games.base import BatchGame, GameOverError, IllegalMoveError
from games.chess import Chess, ChessState
from games.chess import batch as chess_batch

CONFIGS = ({}, {"max_moves": 60, "history": 2}, {"draw_rules": False, "max_moves": 150})


@pytest.mark.parametrize("options", CONFIGS, ids=["default", "short", "no-draw-rules"])
def test_rows_follow_the_single_state_rules(options: dict) -> None:
    game = Chess(**options)
    assert isinstance(game, BatchGame)
    count, rng = 4, np.random.default_rng(7)
    rows = game.batch_initial(count)
    states = [game.initial_state() for _ in range(count)]
    for _ in range(160):
        legal = game.batch_legal_mask(rows)
        done, value = game.batch_terminal(rows)
        assert game.batch_to_play(rows).tolist() == [game.to_play(s) for s in states]
        assert np.array_equal(game.batch_encode(rows), game.encode_many(states))
        for i, state in enumerate(states):
            assert np.array_equal(game.state_row(state), rows[i])
            assert np.array_equal(legal[i], game.legal_mask(state))
            outcome = game.outcome(state)
            assert outcome == game.outcome(rows[i])
            assert done[i] == (outcome is not None)
            assert value[i] == (outcome.value(game.to_play(state)) if outcome else 0.0)
            assert np.array_equal(game.state_row(ChessState.from_row(rows[i])), rows[i])
        if done.all():
            break
        actions = np.array([rng.choice(np.flatnonzero(m)) if m.any() else 0 for m in legal])
        alive = np.flatnonzero(~done)
        rows[alive] = game.batch_step(rows[alive], actions[alive])
        states = [game.next_state(s, int(a)) if not d else s
                  for s, a, d in zip(states, actions, done)]


def test_repetition_keys_and_threefold_in_rows() -> None:
    game = Chess()
    shuffle = ["g1f3", "g8f6", "f3g1", "f6g8"] * 2
    row = game.batch_initial(1)
    for move in shuffle:
        row = game.batch_step(row, np.array([game.text_to_action(row[0], move)]))
    assert row[0, chess_batch.NUM_KEYS] == 9
    assert game.outcome(row[0]).termination.value == "threefold_repetition"
    assert game.batch_legal_mask(row).sum() == 0


def test_single_state_methods_take_rows() -> None:
    game = Chess()
    row = game.batch_initial(1)[0]
    action = game.text_to_action(row, "e4")
    after = game.next_state(row, action)
    assert isinstance(after, np.ndarray) and after.shape == game.state_shape
    assert game.action_to_text(after, game.text_to_action(after, "e5")) == "e5"
    assert ChessState.from_row(after).fen() == chess.Board(
        "rnbqkbnr/pppppppp/8/8/4P3/8/PPPP1PPP/RNBQKBNR b KQkq - 0 1").fen()
    with pytest.raises(IllegalMoveError):
        game.next_state(row, 0)  # a1a2: the rook is blocked
    mated = game.state_row(game.state_from_fen("7k/6Q1/6K1/8/8/8/8/8 b - - 0 1"))
    with pytest.raises(GameOverError):
        game.next_state(mated, 0)


def test_gameops_stacks_states_boards_and_rows() -> None:
    game = Chess(history=2)
    ops = GameOps(game)
    assert ops.batched
    board = chess.Board()
    board.push_san("e4")
    rows = ops.stack([game.initial_state(), board, ops.initial(1)[0]])
    assert rows.shape == (3, *game.state_shape)
    assert np.array_equal(rows[0], rows[2])
    assert np.array_equal(rows[1], game.state_row(game.state_from_board(board)))
    assert ops.encode(rows).shape == (3, *game.observation_shape)


def test_random_rollout_values_are_results() -> None:
    game = Chess(max_moves=40)
    values = game.batch_random_rollout(game.batch_initial(8), seed=3)
    assert values.shape == (8,) and set(values.tolist()) <= {-1.0, 0.0, 1.0}
    mated_in_one = game.state_row(game.state_from_fen("6k1/5ppp/8/8/8/8/8/R5K1 w - - 0 1"))
    assert game.batch_random_rollout(mated_in_one[None], seed=0).shape == (1,)


def test_pgn_replays_actions_with_the_kernels_and_names_the_illegal_one() -> None:
    from games.chess import actions_from_pgn, pgn_from_game

    game = Chess()
    row = game.batch_initial(1)[0]
    actions = []
    for move in ("e4", "e5", "Nf3", "Nc6", "Bb5", "a6", "Bxc6", "dxc6", "O-O"):
        actions.append(game.text_to_action(row, move))
        row = game.next_state(row, actions[-1])
    text = pgn_from_game(actions, values=[0.1] * len(actions))
    assert "5. O-O" in text and actions_from_pgn(text)[0] == actions
    with pytest.raises(IllegalMoveError, match="move 3 of the game"):
        pgn_from_game(actions[:2] + [actions[0]])
