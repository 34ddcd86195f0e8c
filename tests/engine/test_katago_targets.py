"""KataGo's target tricks: value targets blended with the search's values (recorded in
self-play, stored in the shards) and duplicate positions averaged in the replay window."""

from __future__ import annotations

import json

import numpy as np
import pytest

import games
from engine.config import ConfigError, resolve
from engine.replay import GameRecord, ReplayBuffer, read_shard, shard_name, write_shard
from engine.selfplay import SelfPlayActor, value_targets
from mcts import uniform_evaluator

ROOT_VALUES = [0.2, 0.4, -0.6, 0.8]  # each for the player to move
TO_PLAY = [0, 1, 0, 1]
RESULT = (1.0, -1.0)  # the first player won


def test_value_targets_by_hand() -> None:
    assert value_targets(ROOT_VALUES, TO_PLAY, RESULT, 0.0, 1.0).tolist() == [1, -1, 1, -1]
    # Horizon 1: the position's own root value; half and half.
    np.testing.assert_allclose(value_targets(ROOT_VALUES, TO_PLAY, RESULT, 0.5, 1.0),
                               [0.6, -0.3, 0.2, -0.1], atol=1e-7)
    # Horizon 2 (lam = 1/2), all short-term. The first player's view of the root values is
    # 0.2, -0.4, -0.6, -0.8, then the win (1): td(3) = (-0.8 + 1) / 2 = 0.1, td(2) = (-0.6 +
    # 0.1) / 2 = -0.25, td(1) = -0.325, td(0) = (0.2 - 0.325) / 2 = -0.0625; the second
    # player's view is the negation, so its targets at plies 1 and 3 are 0.325 and -0.1.
    np.testing.assert_allclose(value_targets(ROOT_VALUES, TO_PLAY, RESULT, 1.0, 2.0),
                               [-0.0625, 0.325, -0.25, -0.1], atol=1e-7)
    # One player: no negation. Root values 0.5, 0.5, result 0, horizon 2: td(1) = 0.25,
    # td(0) = 0.375.
    np.testing.assert_allclose(value_targets([0.5, 0.5], [0, 0], (0.0,), 1.0, 2.0),
                               [0.375, 0.25])


def _record(markers, policy_actions, values, weights=None, value_target=None) -> GameRecord:
    n = len(markers)
    return GameRecord(
        observations=np.array([np.full((1, 2, 2), m) for m in markers], dtype=np.float32),
        policy=np.eye(4, dtype=np.float32)[policy_actions],
        legal=np.ones((n, 4), dtype=bool),
        to_play=np.zeros(n, dtype=np.int8),
        root_value=np.asarray(values, dtype=np.float32) / 2,
        policy_weight=np.ones(n, np.float32) if weights is None else np.asarray(weights, np.float32),
        actions=list(range(n)),
        outcome_values=(float(values[0]),),
        value_target=None if value_target is None else np.asarray(value_target, np.float32),
    )


def test_value_target_round_trips_and_old_shards_still_load(tmp_path) -> None:
    write_shard(tmp_path / shard_name(0, 0), [_record([0, 1], [0, 1], [1, 1],
                                                      value_target=[0.5, 0.25])], {})
    assert read_shard(tmp_path / shard_name(0, 0))["value_target"].tolist() == [0.5, 0.25]
    # A shard of the first format: no value_target; its target is the result.
    data = dict(read_shard(tmp_path / shard_name(0, 0)))
    del data["value_target"]
    with open(tmp_path / shard_name(0, 1), "wb") as handle:
        np.savez_compressed(handle, meta=np.array(json.dumps({"format_version": 1})), **data)
    old = read_shard(tmp_path / shard_name(0, 1))
    assert old["value_target"].tolist() == old["value"].tolist() == [1.0, 1.0]
    buffer = ReplayBuffer([tmp_path], lambda n: n)
    assert buffer.refresh() == 4
    assert not buffer.bad_shards


def _window(tmp_path, average: bool, window: int = 100) -> ReplayBuffer:
    # Three games; position marker 0 (the opening) occurs three times, marker 1 twice.
    write_shard(tmp_path / shard_name(0, 0), [_record([0, 1, 2], [0, 1, 2], [1, 1, 1])], {})
    write_shard(tmp_path / shard_name(0, 1), [_record([0, 5], [1, 3], [-1, -1])], {})
    write_shard(tmp_path / shard_name(0, 2), [_record([0, 1], [2, 3], [0, 0],
                                                      weights=[0, 1])], {})
    buffer = ReplayBuffer([tmp_path], lambda n: window, average_duplicates=average)
    buffer.refresh()
    return buffer


def test_duplicates_get_averaged_targets(tmp_path) -> None:
    batch = _window(tmp_path, True).sample(400, np.random.default_rng(0))
    marker = batch["observations"][:, 0, 0, 0]
    for m, policy, value, root in [
        # Opening: values 1, -1, 0; policies e0, e1 and e2, the last from a fast search
        # (weight 0), so the policy mean is over the first two.
        (0, [0.5, 0.5, 0, 0], 0.0, 0.0),
        # Marker 1: values 1 and 0, policies e1 and e3.
        (1, [0, 0.5, 0, 0.5], 0.5, 0.25),
        # Unique positions keep their own targets.
        (2, [0, 0, 1, 0], 1.0, 0.5),
        (5, [0, 0, 0, 1], -1.0, -0.5),
    ]:
        rows = marker == m
        assert rows.any()
        np.testing.assert_allclose(batch["policy"][rows], np.tile(policy, (rows.sum(), 1)))
        np.testing.assert_allclose(batch["value"][rows], value, atol=1e-7)
        np.testing.assert_allclose(batch["value_target"][rows], value, atol=1e-7)
        np.testing.assert_allclose(batch["root_value"][rows], root, atol=1e-7)
    # The policy weight stays each position's own.
    assert set(batch["policy_weight"][marker == 0].tolist()) == {0.0, 1.0}


def test_only_duplicates_inside_the_window_count(tmp_path) -> None:
    # The newest four positions: the last two games; the opening occurs twice there.
    batch = _window(tmp_path, True, window=4).sample(200, np.random.default_rng(1))
    rows = batch["observations"][:, 0, 0, 0] == 0
    np.testing.assert_allclose(batch["value"][rows], -0.5)
    np.testing.assert_allclose(batch["policy"][rows], np.tile([0, 1, 0, 0], (rows.sum(), 1)))


def test_without_averaging_the_targets_are_each_positions_own(tmp_path) -> None:
    batch = _window(tmp_path, False).sample(400, np.random.default_rng(0))
    rows = batch["observations"][:, 0, 0, 0] == 0
    assert set(batch["value"][rows].tolist()) == {1.0, -1.0, 0.0}


def test_self_play_records_the_blended_targets_with_every_search_trick() -> None:
    config = resolve("tictactoe", [
        "selfplay.concurrent_games=4", "search.num_simulations=24",
        "selfplay.value_target_blend=0.5", "selfplay.value_target_horizon=3",
        "search.forced_playouts=2", "search.dirichlet_total_alpha=10.83",
        "search.dirichlet_shaped=true", "search.root_policy_temperature=1.25"])
    game = games.make("tictactoe")
    actor = SelfPlayActor(game, config, uniform_evaluator(game.num_actions), seed=0)
    _, records = actor.run(4)
    assert len(records) >= 4
    for record in records:
        expected = value_targets(record.root_value, record.to_play, record.outcome_values,
                                 0.5, 3.0)
        np.testing.assert_array_equal(record.value_target, expected)
        np.testing.assert_allclose(record.policy.sum(axis=1), 1.0, atol=1e-5)
        assert not (record.policy[~record.legal] > 0).any()


@pytest.mark.parametrize("override, message", [
    ("selfplay.value_target_blend=1.5", "value_target_blend must be in"),
    ("selfplay.value_target_horizon=0.5", "value_target_horizon must be"),
    ("replay.average_duplicates=2", "replay.average_duplicates"),
    ("search.forced_playouts=-2", "forced_playouts must be >= 0"),
    ("search.root_policy_temperature=0", "root_policy_temperature must be > 0"),
    ("search.dirichlet_shaped=yes", "search.dirichlet_shaped"),
])
def test_bad_values_are_config_errors(override: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        resolve(None, [override])


def test_both_value_blends_at_once_are_refused() -> None:
    with pytest.raises(ConfigError, match="not both"):
        resolve(None, ["train.root_value_blend=0.5", "selfplay.value_target_blend=0.5"])
