"""The ownership head: built for Go only, and checkpoints saved before it still load."""

from __future__ import annotations

import pytest
import torch

from engine.agents import load_checkpoint_agent
from engine.checkpoint import save_checkpoint
from engine.config import ModelConfig, resolve
from engine.model import PolicyValueNet, build_model, load_weights, network_shape
from games import make
from games.go import Go

CONFIG = resolve(None, ["game=go", "game_options.size=5", "model.size=b1c8"])


def test_the_head_is_built_for_go_only_and_answers_per_point() -> None:
    go = Go(size=5)
    model = build_model(go, CONFIG).eval()
    logits, value, owned = model(torch.zeros(2, *go.observation_shape), with_ownership=True)
    assert owned.shape == (2, 5, 5) and owned.abs().max() <= 1
    plain = build_model(make("tictactoe"), CONFIG)
    assert not plain.has_ownership
    with pytest.raises(ValueError, match="no ownership head"):
        plain(torch.zeros(1, *make("tictactoe").observation_shape), with_ownership=True)


def test_a_checkpoint_without_the_head_loads_without_it(tmp_path) -> None:
    go = Go(size=5)
    old = PolicyValueNet(network_shape(go, ownership=False), CONFIG.model)
    save_checkpoint(tmp_path / "old", old, CONFIG, step=0, positions_trained=0,
                    positions_generated=0)
    agent = load_checkpoint_agent(tmp_path / "old", go, 0)
    assert agent.ownership(go, go.initial_state()) is None  # callers fall back (module docs)
    # A run from before the head resumes: its weights load, the head keeps its start.
    new = build_model(go, CONFIG)
    load_weights(new, old.state_dict())
    for name, tensor in old.state_dict().items():
        assert torch.equal(new.state_dict()[name], tensor)
    wrong = PolicyValueNet(network_shape(go), ModelConfig(size="b2c8"))
    with pytest.raises(RuntimeError, match="do not fit"):
        load_weights(wrong, old.state_dict())
