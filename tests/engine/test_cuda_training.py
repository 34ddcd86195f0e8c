"""The engine on a CUDA GPU (skipped without one): bf16 inference agrees with a float64
reference, and a run trained on the GPU is stored in float32 and continues on the CPU."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from safetensors.torch import load_file
from test_game_loop import TINY, game_run, prepare_run  # the loop test's tiny run

from benchmarks.bench_inference import _positions
from engine.agents import load_agent
from engine.checkpoint import latest_checkpoint
from engine.config import resolve
from engine.gameops import GameOps, NetworkEvaluator
from engine.model import build_model

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")


def test_bf16_evaluator_on_the_gpu_matches_a_float64_reference() -> None:
    import games

    config = resolve("connect4", ["model.size=b3c32"])
    game = games.make("connect4")
    ops = GameOps(game)
    torch.manual_seed(0)
    model = build_model(game, config)
    states = _positions(ops, 512, seed=1)
    x = torch.from_numpy(ops.encode(states))
    with torch.no_grad():  # BatchNorm statistics of real positions, so the net is not trivial
        model.train()
        model(x)
        model.eval()
        ref_logits, ref_values = model.double()(x.double())
    logits, values = NetworkEvaluator(model.float().cuda(), ops, torch.device("cuda"))(states)
    assert logits.dtype == np.float32 and np.isfinite(logits).all()
    ref_policy = torch.softmax(ref_logits, 1).numpy()
    policy = torch.softmax(torch.from_numpy(logits).double(), 1).numpy()
    assert np.abs(policy - ref_policy).max() < 0.02  # bf16 keeps ~3 significant digits
    assert np.abs(values - ref_values.numpy()).max() < 0.03
    assert next(model.parameters()).dtype == torch.float32  # autocast never casts the weights


def test_a_gpu_run_stores_float32_weights_and_resumes_on_the_cpu(tmp_path) -> None:
    run = tmp_path / "run"
    config = resolve("tictactoe", TINY + ["iterations=2", "seed=3", 'device="cuda"'])
    trainer = game_run(prepare_run(run, config, False), run)
    trainer.run()
    assert trainer.plugin.device.type == "cuda" and trainer.state.iteration == 2
    stem = latest_checkpoint(run)
    weights = load_file(str(stem) + ".safetensors")
    assert all(t.dtype in (torch.float32, torch.int64) for t in weights.values())
    # the stored net plays on the CPU ...
    answer = load_agent(run, sims=8, device="cpu").move("tictactoe", ["b2"])
    assert answer["move"] != "b2"
    # ... and the run continues there, optimizer state and all
    resumed = game_run(prepare_run(run, None, True, ["iterations=3", 'device="cpu"']), run,
                      resume=True)
    assert resumed.plugin.device.type == "cpu" and resumed.state.iteration == 2
    resumed.run()
    assert resumed.state.iteration == 3


def test_cuda_graph_evaluator_follows_the_learners_weight_updates() -> None:
    import games
    from engine.learner import Learner

    config = resolve("connect4", ["model.size=b2c16"])
    game = games.make("connect4")
    ops = GameOps(game)
    torch.manual_seed(0)
    model = build_model(game, config).cuda()
    device = torch.device("cuda")
    graphs = NetworkEvaluator(model, ops, device, compile="auto")
    eager = NetworkEvaluator(model, ops, device, compile="off")
    assert graphs.compiled and not eager.compiled
    states = _positions(ops, 100, seed=2)
    graphs.warm_up(128)
    before = graphs(states)
    learner = Learner(model, config.train, device, 0.0)
    rng = np.random.default_rng(0)
    n = 64
    legal = ops.legal(states[:n])
    policy = legal / legal.sum(1, keepdims=True)
    batch = {"observations": ops.encode(states[:n]), "policy": policy.astype(np.float32),
             "legal": legal, "value": rng.choice([-1.0, 1.0], n).astype(np.float32),
             "root_value": np.zeros(n, np.float32), "policy_weight": np.ones(n, np.float32)}
    for _ in range(5):
        learner.train_step(batch)
    after, reference = graphs(states), eager(states)
    assert np.abs(after[1] - before[1]).max() > 1e-3  # the weights did move ...
    np.testing.assert_allclose(after[0], reference[0], atol=2e-2)  # ... and the graphs saw it
    np.testing.assert_allclose(after[1], reference[1], atol=2e-2)
