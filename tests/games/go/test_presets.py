"""The Go presets resolve against the run-config schema and build their game."""

from __future__ import annotations

import pytest

import games
from engine.config import resolve


@pytest.mark.parametrize("preset, size", [("go9", 9), ("go19", 19)])
def test_go_presets_resolve_and_build_the_game(preset: str, size: int) -> None:
    config = resolve(preset)
    assert config.game == "go" and config.search.algorithm == "gumbel"
    game = games.make(config.game, **config.game_options)
    assert game.size == size and game.komi == 7.5
    assert game.layout.window == game.max_moves + 1  # full positional superko
