"""Checkpoints: safetensors weights + metadata, atomic, and clear errors when broken."""

from __future__ import annotations

import json

import pytest
import torch

from engine.checkpoint import (CheckpointError, latest_checkpoint, load_checkpoint,
                               prune_checkpoints, save_checkpoint)
from engine.config import resolve
from engine.model import NetworkShape, PolicyValueNet


def _model(config):
    return PolicyValueNet(NetworkShape((3, 3, 3), 9), config.model)


def test_round_trip_rebuilds_the_same_network(tmp_path) -> None:
    config = resolve("tictactoe", ["seed=5"])
    model = _model(config)
    stem = tmp_path / "step-000000010"
    save_checkpoint(stem, model, config, step=10, positions_trained=2560, positions_generated=99)
    loaded = load_checkpoint(tmp_path / "step-000000010.json")
    assert loaded.meta["step"] == 10 and loaded.meta["seed"] == 5
    assert loaded.game_name == "tictactoe"
    assert loaded.run_config == config
    rebuilt = PolicyValueNet(NetworkShape((3, 3, 3), 9), loaded.model_config)
    rebuilt.load_state_dict(loaded.state_dict)
    x = torch.randn(4, 3, 3, 3)
    model.eval(), rebuilt.eval()
    for a, b in zip(model(x), rebuilt(x)):
        assert torch.equal(a, b)
    assert not list(tmp_path.glob("*.tmp"))


@pytest.mark.parametrize("damage", ["missing", "bad_json", "bad_weights", "no_fields"])
def test_broken_checkpoints_raise_checkpoint_error(tmp_path, damage: str) -> None:
    config = resolve("tictactoe")
    stem = tmp_path / "step-000000001"
    save_checkpoint(stem, _model(config), config, step=1, positions_trained=0,
                    positions_generated=0)
    if damage == "missing":
        stem.with_suffix(".safetensors").unlink()
    elif damage == "bad_json":
        stem.with_suffix(".json").write_text("{not json")
    elif damage == "bad_weights":
        stem.with_suffix(".safetensors").write_bytes(b"\x00" * 10)
    else:
        stem.with_suffix(".json").write_text(json.dumps({"step": 1}))
    with pytest.raises(CheckpointError):
        load_checkpoint(stem)


def test_latest_and_pruning(tmp_path) -> None:
    config = resolve("tictactoe")
    model = _model(config)
    for step in (1, 2, 3):
        save_checkpoint(tmp_path / f"step-{step:09d}", model, config, step=step,
                        positions_trained=0, positions_generated=0)
    # A checkpoint whose metadata was never written (killed mid-save) is not listed.
    (tmp_path / "step-000000004.safetensors").write_bytes(b"partial")
    assert latest_checkpoint(tmp_path).name == "step-000000003"
    prune_checkpoints(tmp_path, keep=2)
    assert sorted(p.name for p in tmp_path.glob("*.json")) == [
        "step-000000002.json", "step-000000003.json"]
    with pytest.raises(CheckpointError, match="no checkpoint"):
        load_checkpoint(tmp_path / "empty") if (tmp_path / "empty").mkdir() is None else None
