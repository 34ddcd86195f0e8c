"""The chess presets resolve against the run config schema and build the game they name."""

from __future__ import annotations

import pytest

import games


@pytest.mark.parametrize("preset, history, max_moves", [("chess-cpu", 2, 160), ("chess", 8, 512)])
def test_preset_builds_its_game(preset: str, history: int, max_moves: int) -> None:
    from engine.config import resolve

    config = resolve(preset)
    assert config.game == "chess"
    game = games.make(config.game, **config.game_options)
    assert game.observation_shape == (14 * history + 7, 8, 8)
    assert game.max_moves == max_moves and game.num_actions == 4672
    assert config.search.algorithm == "gumbel"
    assert config.search.gumbel_num_considered <= config.search.num_simulations


def test_cpu_preset_keeps_torch_to_one_thread() -> None:
    from engine.config import resolve

    assert resolve("chess-cpu").torch_threads == 1
