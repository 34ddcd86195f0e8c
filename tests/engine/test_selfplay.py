"""Self-play on Go: each position's ownership target is its game's final board from the
side to move's view, and `endgame.scoring = "ownership"` counts the end without dead stones."""

from __future__ import annotations

import numpy as np
import pytest

from engine.config import resolve
from engine.endgame import dead_points
from engine.gameops import uniform_evaluator
from engine.selfplay import SelfPlayActor
from games import make
from games.go import Go


def go_actor(scoring: str, ownership=None) -> tuple[Go, SelfPlayActor]:  # type: ignore[no-untyped-def]
    config = resolve(None, ["game=go", "game_options.size=5", "selfplay.concurrent_games=2",
                            "search.num_simulations=4", "search.algorithm=gumbel",
                            "search.gumbel_num_considered=4", f"endgame.scoring={scoring}"])
    go = make("go", size=5)
    return go, SelfPlayActor(go, config, uniform_evaluator(go.num_actions), seed=0,
                             ownership=ownership)


def replayed(go: Go, actions: list[int]) -> np.ndarray:
    state = go.initial_state()
    for action in actions:
        state = go.next_state(state, action)
    return state


def test_ownership_targets_are_the_final_board_from_the_side_to_moves_view() -> None:
    go, actor = go_actor("tromp-taylor")
    _, records = actor.run(2)
    for record in records:
        final = replayed(go, record.actions)
        assert go.is_over(final) and record.ownership is not None
        owner = go.final_ownership(final)
        for t, player in enumerate(record.to_play):
            np.testing.assert_array_equal(record.ownership[t], owner if player == 0 else -owner)
        assert record.outcome_values[0] == np.sign(go.score(final))


@pytest.mark.parametrize("owner", [1.0, -1.0])
def test_ownership_scoring_takes_the_dead_stones_off(owner: float) -> None:
    go = Go(size=5)

    def everything_to(batch: np.ndarray) -> np.ndarray:
        """A head that gives every point to black (owner 1) or white (-1)."""
        to_play = go.batch_to_play(batch)
        view = np.where(to_play == 0, owner, -owner).astype(np.float32)
        return np.broadcast_to(view[:, None, None], (len(batch), 5, 5)).copy()

    go, actor = go_actor("ownership", everything_to)
    _, records = actor.run(2)
    for record in records:
        final = replayed(go, record.actions)
        dead = dead_points(go.stones(final), np.full((5, 5), owner), 0.5).tolist()
        assert record.outcome_values[0] == np.sign(go.score_without(final, dead)) == owner
        expected = go.final_ownership(final, dead)
        np.testing.assert_array_equal(record.ownership[0], expected)  # black moved first
        assert (expected == owner).all()


def test_random_openings_are_played_but_not_trained_on() -> None:
    """Tic-tac-toe with up to 4 random opening moves: each record holds the whole game
    (opening included, so its text replays), positions only from the first searched move,
    whose observation is the board after the opening; the openings' lengths vary."""
    game = make("tictactoe")
    config = resolve(None, ["game=tictactoe", "selfplay.concurrent_games=8",
                            "search.num_simulations=8", "selfplay.random_opening_moves=4"])
    actor = SelfPlayActor(game, config, uniform_evaluator(game.num_actions), seed=3)
    _, records = actor.run(40)
    openings = set()
    for record in records:
        openings.add(record.opening)
        state = game.initial_state()
        for action in record.actions[:record.opening]:
            state = game.next_state(state, action)
        assert game.outcome(state) is None
        np.testing.assert_array_equal(record.observations[0], game.encode(state))
        assert len(record.observations) == len(record.actions) - record.opening
        for action in record.actions[record.opening:]:
            state = game.next_state(state, action)
        assert game.outcome(state) is not None
    assert openings == {0, 1, 2, 3, 4}
