"""The network: the ownership head (built for Go only; checkpoints saved before it still
load), global pooling in the trunk, and the soft-policy output."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from engine.agents import load_checkpoint_agent
from engine.checkpoint import save_checkpoint
from engine.config import ModelConfig, resolve
from engine.model import (
    PolicyValueNet,
    build_model,
    cpu_has_native_bf16,
    load_weights,
    network_shape,
    resolve_precision,
)
from games import make
from games.go import Go

CONFIG = resolve(None, ["game=go", "game_options.size=5", "model.size=b1c8"])


def round_trip_logits(tmp_path, model, config, game, x: torch.Tensor) -> torch.Tensor:
    """The logits for `x` of `model` saved as a checkpoint and loaded back as an agent."""
    save_checkpoint(tmp_path / "net", model, config, step=0, positions_trained=0,
                    positions_generated=0)
    loaded = load_checkpoint_agent(tmp_path / "net", game, 0, device="cpu")
    with torch.no_grad():
        return loaded.evaluator.model(x)[0]


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


def test_global_pool_blocks_are_spread_through_the_tower() -> None:
    from engine.model import global_pool_positions

    assert global_pool_positions(6, 2) == [2, 4]
    assert global_pool_positions(4, 1) == [2]
    assert global_pool_positions(3, 3) == [0, 1, 2]
    assert global_pool_positions(6, 0) == []


def test_a_global_pooling_block_sees_the_whole_board() -> None:
    """Two 3x3 convolutions reach 2 points away: a plain block's output at one corner of a
    9x9 board ignores the other corner, a pooling block's does not."""
    from engine.model import GlobalPoolBlock, ResidualBlock

    torch.manual_seed(0)
    x = torch.randn(2, 8, 9, 9)
    far = x.clone()
    far[:, :, 8, 8] += 5.0
    for block, reaches in ((ResidualBlock(8, False), False), (GlobalPoolBlock(8), True)):
        block.eval()
        with torch.no_grad():
            changed = not torch.allclose(block(x)[:, :, 0, 0], block(far)[:, :, 0, 0])
        assert changed == reaches, type(block).__name__


def test_trunk_pooling_and_the_soft_policy_output_round_trip_a_checkpoint(tmp_path) -> None:
    from engine.model import GlobalPoolBlock

    config = resolve(None, ["game=connect4", "model.size=b3c16", "model.global_pool_blocks=1",
                            "model.soft_policy_head=true"])
    game = make("connect4")
    model = build_model(game, config).eval()
    assert [type(b) is GlobalPoolBlock for b in model.tower] == [False, True, False]
    x = torch.randn(3, *game.observation_shape)
    outputs = model(x, all_heads=True)
    assert set(outputs) == {"logits", "value", "soft_logits"}
    assert outputs["soft_logits"].shape == (3, game.num_actions)
    logits, value = model(x)
    assert torch.equal(logits, outputs["logits"])
    assert torch.allclose(round_trip_logits(tmp_path, model, config, game, x), logits,
                          atol=1e-6)
    with pytest.raises(Exception, match="global_pool_blocks"):
        resolve(None, ["game=connect4", "model.size=b2c16", "model.global_pool_blocks=3"])


def test_a_placed_model_is_channels_last_on_the_cpu_and_computes_the_same(tmp_path) -> None:
    from engine.model import place_model

    config = resolve(None, ["game=connect4", "model.size=b2c16"])
    game = make("connect4")
    torch.manual_seed(0)
    plain = build_model(game, config).eval()
    placed = place_model(build_model(game, config), torch.device("cpu")).eval()
    placed.load_state_dict(plain.state_dict())  # copied in place: the layout stays
    weight = placed.stem[0].weight
    assert weight.is_contiguous(memory_format=torch.channels_last) and not weight.is_contiguous()
    x = torch.randn(5, *game.observation_shape)
    with torch.no_grad():
        (a, va), (b, vb) = plain(x), placed(x)
    assert torch.allclose(a, b, atol=1e-5) and torch.allclose(va, vb, atol=1e-5)
    # A checkpoint of the placed model is written contiguous and loads back equal.
    assert torch.allclose(round_trip_logits(tmp_path, placed, config, game, x), b, atol=1e-6)


INTEL_FLAGS = "processor\t: 0\nflags\t\t: fpu sse2 avx2 avx512f avx512bw avx512_vnni\n"


@pytest.mark.parametrize("cpuinfo, native", [
    (INTEL_FLAGS, False),  # AVX-512 without BF16: oneDNN emulates bf16
    (INTEL_FLAGS.replace("avx512_vnni", "avx512_vnni avx512_bf16"), True),
    (INTEL_FLAGS.replace("avx512_vnni", "amx_tile amx_bf16"), True),
    ("processor\t: 0\nFeatures\t: fp asimd\n", False),  # no x86 flags line at all
])
def test_native_bf16_is_read_from_the_cpu_flags(cpuinfo: str, native: bool) -> None:
    assert cpu_has_native_bf16(cpuinfo) is native


def test_precision_auto_is_bf16_on_a_gpu_and_follows_the_cpu_flags(monkeypatch) -> None:
    import engine.model as model_module

    cpu, gpu = torch.device("cpu"), torch.device("cuda")
    assert resolve_precision("fp32", gpu) == "fp32" and resolve_precision("bf16", cpu) == "bf16"
    assert resolve_precision("auto", gpu) == "bf16"
    for native in (True, False):
        monkeypatch.setattr(model_module, "_this_cpu_has_native_bf16", lambda n=native: n)
        assert resolve_precision("auto", cpu) == ("bf16" if native else "fp32")
    with pytest.raises(ValueError, match="precision must be one of auto, bf16, fp32"):
        resolve_precision("fp16", cpu)


def test_a_wdl_value_head_gives_win_minus_loss_and_round_trips_a_checkpoint(tmp_path) -> None:
    config = resolve(None, ["game=connect4", "model.size=b2c16", "model.value_head=wdl"])
    game = make("connect4")
    torch.manual_seed(0)
    model = build_model(game, config).eval()
    x = torch.randn(4, *game.observation_shape)
    with torch.no_grad():
        outputs = model(x, all_heads=True)
    assert outputs["wdl_logits"].shape == (4, 3)
    wdl = np.exp(outputs["wdl_logits"].numpy())
    wdl /= wdl.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(outputs["value"].numpy(), wdl[:, 0] - wdl[:, 2], atol=1e-6)
    logits = model(x)[0]
    assert torch.allclose(round_trip_logits(tmp_path, model, config, game, x), logits,
                          atol=1e-6)
    with pytest.raises(Exception, match="value_head"):
        resolve(None, ["game=connect4", "model.value_head=categorical"])
