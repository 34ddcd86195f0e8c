"""Config resolution: defaults, presets, overrides, and clear errors for bad input."""

from __future__ import annotations

import dataclasses
import json

import pytest

from engine.config import (ConfigError, available_presets, from_json_file, parse_model_size,
                           play_search_config, resolve, to_json)


def test_defaults_then_preset_then_overrides() -> None:
    config = resolve("tictactoe", ["train.lr=0.5", "search.num_simulations=7", "seed=3"])
    assert config.game == "tictactoe"
    assert config.model.size == "b2c32"  # from the preset
    assert config.train.lr == 0.5 and config.search.num_simulations == 7 and config.seed == 3
    assert config.train.batch_size == 256


def test_int_is_accepted_for_float_but_not_the_reverse() -> None:
    assert resolve(None, ["train.lr=1"]).train.lr == 1.0
    with pytest.raises(ConfigError, match="train.batch_size"):
        resolve(None, ["train.batch_size=1.5"])


@pytest.mark.parametrize("override, message", [
    ("train.nonexistent=1", "unknown config key 'train.nonexistent'"),
    ("nosuchsection.x=1", "unknown config key 'nosuchsection'"),
    ("train.lr=fast", "train.lr"),
    ("selfplay.tree_reuse=3", "selfplay.tree_reuse"),
    ("model.size=big", "b<blocks>c<channels>"),
    ("train.optimizer=adam", "adamw or sgd"),
    ("noequals", "key=value"),
    ("play_search.bogus=1", "play_search.bogus is not a search setting"),
    ("play_search.c_init=-1", "c_init must be >= 0"),
    ("play_search.fpu_reduction=low", "play_search.fpu_reduction"),
])
def test_bad_overrides_are_errors(override: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        resolve(None, [override])


def test_unknown_preset_lists_known_ones() -> None:
    with pytest.raises(ConfigError, match="tictactoe"):
        resolve("no-such-preset")


def test_every_shipped_preset_resolves() -> None:
    names = available_presets()
    assert {"tictactoe", "connect4"} <= set(names)
    for name in names:
        resolve(name)


def test_resolved_config_round_trips_through_json(tmp_path) -> None:
    config = resolve("connect4", ["seed=11", "arena.opponents=['random', 'mcts:50']"])
    path = tmp_path / "config.json"
    path.write_text(to_json(config))
    again = from_json_file(path)
    assert again == config
    assert json.loads(path.read_text())["arena"]["opponents"] == ["random", "mcts:50"]


def test_model_size_names() -> None:
    assert parse_model_size("b6c96") == (6, 96)
    with pytest.raises(ConfigError):
        parse_model_size("c6b96")


def test_tables_merge_key_by_key() -> None:
    # go9 sets size, komi and history; one override changes one of them and keeps the rest.
    config = resolve("go9", ["game_options.komi=6.5"])
    assert config.game_options == {"size": 9, "komi": 6.5, "history": 3}


def test_play_search_changes_only_the_fields_it_names() -> None:
    base = resolve("connect4")
    config = resolve("connect4", ["play_search.fpu_reduction=0", "play_search.c_init=2"])
    play = play_search_config(config)
    assert (play.fpu_reduction, play.c_init) == (0.0, 2.0)
    assert config.search == base.search  # self-play search is untouched
    assert dataclasses.replace(play, fpu_reduction=base.search.fpu_reduction,
                               c_init=base.search.c_init) == base.search
