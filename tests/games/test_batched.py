"""What every kernel game gets from `games.batched.KernelGame`: validated batches, the
single-state API as batches of one, and the same errors for bad actions and finished games."""

from __future__ import annotations

import numpy as np
import pytest

from games import BatchGame, GameError, GameOverError, IllegalMoveError, play_moves
from games.batched import KernelGame
from games.connect4 import ConnectFour
from games.go import Go
from games.tictactoe import TicTacToe

# (game, moves of a finished game)
CASES = [(TicTacToe(), ["a1", "a2", "b1", "b2", "c1"]), (ConnectFour(), list("1122334")),
         (Go(size=5), ["pass", "pass"])]


@pytest.fixture(params=CASES, ids=lambda case: case[0].name)
def case(request) -> tuple[KernelGame, list[str]]:
    return request.param


def test_single_states_are_batches_of_one(case) -> None:
    game, _ = case
    assert isinstance(game, BatchGame)
    rng = np.random.default_rng(0)
    states = game.batch_initial(4)
    for _ in range(3):
        actions = np.array([rng.choice(np.flatnonzero(row)) for row in game.batch_legal_mask(states)])
        children = game.batch_step(states, actions)
        for i, state in enumerate(states):
            np.testing.assert_array_equal(game.next_state(state, int(actions[i])), children[i])
            np.testing.assert_array_equal(game.legal_mask(state), game.batch_legal_mask(states)[i])
            np.testing.assert_array_equal(game.encode(state), game.batch_encode(states)[i])
            assert game.to_play(state) == game.batch_to_play(states)[i]
        states = children
    np.testing.assert_array_equal(game.initial_state(), game.batch_initial(1)[0])


def test_bad_actions_and_finished_games(case) -> None:
    game, moves = case
    state = game.initial_state()
    for bad in (-1, game.num_actions, 1.0, True, "1"):
        with pytest.raises(IllegalMoveError):
            game.next_state(state, bad)
    over = play_moves(game, moves)
    assert game.outcome(over) is not None and not game.legal_mask(over).any()
    assert game.batch_terminal(over[None])[0][0]
    with pytest.raises(GameOverError):
        game.next_state(over, 0)
    with pytest.raises(GameOverError):
        game.text_to_action(over, game.action_to_text(state, 0))


def test_bad_states_are_rejected(case) -> None:
    game, _ = case
    size = game.state_shape[0]
    with pytest.raises(GameError, match=rf"\[B, {size}\]"):
        game.batch_step(np.zeros((2, size + 1), dtype=game.state_dtype), np.zeros(2))
    with pytest.raises(GameError, match=rf"\[B, {size}\]"):
        game.batch_legal_mask(np.zeros((2, size), dtype=np.float32))
    with pytest.raises(GameError, match="shape"):
        game.legal_mask(np.zeros(size - 1, dtype=game.state_dtype))
    assert game.batch_legal_mask(game.batch_initial(0)).shape == (0, game.num_actions)
