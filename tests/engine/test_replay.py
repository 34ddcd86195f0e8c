"""Shards round-trip; the replay window follows KataGo's power law; sampling stays in it."""

from __future__ import annotations

import numpy as np
import pytest

from engine.replay import (GameRecord, ReplayBuffer, desired_window, next_shard_sequence,
                           read_shard, shard_name, write_shard)


def _game(length: int, marker: float, winner_first: bool = True) -> GameRecord:
    to_play = np.arange(length, dtype=np.int8) % 2
    return GameRecord(
        observations=np.full((length, 2, 3, 3), marker, dtype=np.float32),
        policy=np.tile(np.eye(9, dtype=np.float32)[0], (length, 1)),
        legal=np.ones((length, 9), dtype=bool),
        to_play=to_play,
        root_value=np.zeros(length, dtype=np.float32),
        policy_weight=np.ones(length, dtype=np.float32),
        actions=list(range(length)),
        outcome_values=(1.0, -1.0) if winner_first else (-1.0, 1.0),
    )


def test_shard_round_trip_and_value_sign(tmp_path) -> None:
    path = tmp_path / shard_name(0, 0)
    n = write_shard(path, [_game(3, 1.0), _game(2, 2.0, winner_first=False)], {"game": "x"})
    assert n == 5
    data = read_shard(path)
    # Values are from the point of view of the player to move at each position.
    assert data["value"].tolist() == [1, -1, 1, -1, 1]
    assert data["game_index"].tolist() == [0, 0, 0, 1, 1]
    assert data["ply"].tolist() == [0, 1, 2, 0, 1]
    assert data["observations"].dtype == np.float16
    assert not list(tmp_path.glob("*.tmp"))


def test_corrupt_shard_is_reported_not_loaded(tmp_path) -> None:
    (tmp_path / shard_name(0, 0)).write_bytes(b"not a zip file")
    write_shard(tmp_path / shard_name(0, 1), [_game(4, 1.0)], {})
    buffer = ReplayBuffer([tmp_path], lambda n: n)
    assert buffer.refresh() == 4
    assert len(buffer.bad_shards) == 1
    with pytest.raises(ValueError, match="unreadable"):
        read_shard(tmp_path / shard_name(0, 0))


def test_power_law_window_by_hand() -> None:
    assert desired_window(500, 1000, 0.75, 0.4, 10**9) == 500
    # N = 16c, alpha = 0.75: (16)^0.75 = 8 -> c * (1 + 0.4 * 7 / 0.75)
    assert desired_window(16000, 1000, 0.75, 0.4, 10**9) == int(1000 * (1 + 0.4 * 7 / 0.75))
    assert desired_window(16000, 1000, 0.75, 0.4, 2000) == 2000


def test_sampling_only_from_the_window(tmp_path) -> None:
    for k in range(5):  # shards with observation marker k, 10 positions each
        write_shard(tmp_path / shard_name(0, k), [_game(10, float(k))], {})
    buffer = ReplayBuffer([tmp_path], lambda n: 20)
    buffer.refresh()
    assert buffer.total_positions == 50 and buffer.total_games == 5
    batch = buffer.sample(2000, np.random.default_rng(0))
    markers = set(np.unique(batch["observations"][:, 0, 0, 0]).tolist())
    assert markers == {3.0, 4.0}  # the two newest shards only


def test_joined_chunks_sample_the_same_positions_as_one_chunk_per_shard(tmp_path) -> None:
    for k in range(12):  # shards of 3 to 8 positions (66 in all), each with its own marker
        write_shard(tmp_path / shard_name(0, k), [_game(3 + k % 6, float(k))], {})
    per_shard = ReplayBuffer([tmp_path], lambda n: 40, chunk_positions=1)
    joined = ReplayBuffer([tmp_path], lambda n: 40, chunk_positions=24)
    assert per_shard.refresh() == joined.refresh() == 66
    # The newest shards that hold the 40-position window: 8+3+4+5+6 | 7+8 positions.
    assert [len(c["value"]) for c in per_shard._chunks] == [8, 3, 4, 5, 6, 7, 8]
    assert [len(c["value"]) for c in joined._chunks] == [26, 15]
    # Both number the window from the newest position back: the same draws, the same rows.
    a = per_shard.sample(500, np.random.default_rng(1))
    b = joined.sample(500, np.random.default_rng(1))
    key = np.lexsort((a["ply"], a["observations"][:, 0, 0, 0]))
    other = np.lexsort((b["ply"], b["observations"][:, 0, 0, 0]))
    for name in a:
        np.testing.assert_array_equal(a[name][key], b[name][other])
    assert set(np.unique(a["observations"][:, 0, 0, 0])) == set(range(5, 12))
    # A later refresh fills the newest chunk up before it starts another.
    write_shard(tmp_path / shard_name(0, 12), [_game(4, 12.0)], {})
    assert joined.refresh() == 4
    assert [len(c["value"]) for c in joined._chunks] == [26, 19]


def test_shard_sequence_resumes_after_the_highest(tmp_path) -> None:
    assert next_shard_sequence(tmp_path, 1) == 0
    write_shard(tmp_path / shard_name(1, 7), [_game(1, 0.0)], {})
    assert next_shard_sequence(tmp_path, 1) == 8
    assert next_shard_sequence(tmp_path, 0) == 0


# --- ownership targets (games counted by area) -----------------------------------------

def _go_game(length: int, owner: int) -> GameRecord:
    game = _game(length, 1.0)
    game.ownership = np.full((length, 3, 3), owner, dtype=np.int8)
    return game


def _old_format_shard(path, length: int) -> None:
    """A shard as written before ownership targets: format 1, no ownership fields."""
    import json

    from engine.replay import FALLBACK_FIELDS, SHARD_FIELDS

    game = _game(length, 3.0)
    arrays = {"observations": game.observations.astype(np.float16), "policy": game.policy,
              "legal": game.legal, "value": game.values(), "root_value": game.root_value,
              "policy_weight": game.policy_weight,
              "game_index": np.zeros(length, np.int32), "ply": np.arange(length, dtype=np.int32)}
    assert set(arrays) == set(SHARD_FIELDS) - set(FALLBACK_FIELDS)
    with open(path, "wb") as handle:
        np.savez_compressed(handle, meta=np.array(json.dumps({"format_version": 1})), **arrays)


def test_ownership_round_trips_and_games_without_it_get_weight_zero(tmp_path) -> None:
    path = tmp_path / shard_name(0, 0)
    write_shard(path, [_go_game(2, -1), _game(3, 2.0)], {"game": "go"})
    data = read_shard(path)
    assert data["ownership"].dtype == np.int8 and data["ownership"].shape == (5, 3, 3)
    assert data["ownership"][:, 0, 0].tolist() == [-1, -1, 0, 0, 0]
    assert data["ownership_weight"].tolist() == [1, 1, 0, 0, 0]
    write_shard(tmp_path / shard_name(0, 1), [_game(2, 1.0)], {"game": "tictactoe"})
    assert "ownership" not in read_shard(tmp_path / shard_name(0, 1))


def test_a_shard_from_before_ownership_still_loads_and_mixes(tmp_path) -> None:
    _old_format_shard(tmp_path / shard_name(0, 0), 4)
    old = read_shard(tmp_path / shard_name(0, 0))
    assert "ownership" not in old and len(old["value"]) == 4
    alone = ReplayBuffer([tmp_path], lambda n: n)
    alone.refresh()
    assert "ownership" not in alone.sample(8, np.random.default_rng(0))
    write_shard(tmp_path / shard_name(0, 1), [_go_game(4, 1)], {"game": "go"})
    buffer = ReplayBuffer([tmp_path], lambda n: n)
    assert buffer.refresh() == 8
    batch = buffer.sample(64, np.random.default_rng(0))
    old_rows = batch["observations"][:, 0, 0, 0] == 3.0
    assert old_rows.any() and (~old_rows).any()
    assert (batch["ownership_weight"][old_rows] == 0).all()
    assert (batch["ownership"][old_rows] == 0).all()
    assert (batch["ownership_weight"][~old_rows] == 1).all()
    assert (batch["ownership"][~old_rows] == 1).all()


def test_augmentation_moves_ownership_with_the_board() -> None:
    from engine.replay import augment
    from games.go import Go

    go = Go(size=5)
    rng = np.random.default_rng(1)
    observations = (rng.random((32, go.observation_shape[0], 5, 5)) < 0.3).astype(np.float32)
    batch = {"observations": observations,
             "policy": np.full((32, go.num_actions), 1 / go.num_actions, np.float32),
             "legal": np.ones((32, go.num_actions), dtype=bool),
             "value": np.zeros(32, np.float32),
             # the target is a copy of the first plane, so it must move exactly as it does
             "ownership": observations[:, 0].astype(np.int8),
             "ownership_weight": np.ones(32, np.float32)}
    out = augment(batch, go.apply_symmetry, go.num_symmetries, np.random.default_rng(2))
    assert not np.array_equal(out["ownership"], batch["ownership"])
    np.testing.assert_array_equal(out["ownership"], out["observations"][:, 0].astype(np.int8))
