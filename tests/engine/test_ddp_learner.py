"""The learner on two processes joined by DistributedDataParallel (gloo, on the CPU)."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch

import games
from engine.config import ConfigError, resolve, to_json
from engine.ddp_learner import DistributedLearner, shards
from engine.learner import Learner, learning_rate, losses
from engine.model import build_model, place_model

SETS = ['game="tictactoe"', "model.size=b1c8", "model.policy_channels=2",
        "model.value_hidden=8", "train.batch_size=16", "train.warmup_steps=0",
        "train.grad_clip=1.0", "train.optimizer=sgd", "train.lr=0.05", 'precision="fp32"']
# SGD: Adam divides by the root of tiny second moments, which turns float rounding in the
# gradients into visible differences of the weights. float32: the reference step below is
# computed by hand in float32.


def batch_of(game, size: int, seed: int) -> dict[str, np.ndarray]:
    """Random but valid training positions: legal moves of random play, random targets."""
    rng = np.random.default_rng(seed)
    observations, legal = [], []
    for _ in range(size):
        state = game.initial_state()
        for _ in range(rng.integers(0, 5)):
            state = game.next_state(state, int(rng.choice(np.flatnonzero(game.legal_mask(state)))))
        observations.append(game.encode(state))
        legal.append(game.legal_mask(state))
    legal_array = np.asarray(legal, dtype=bool)
    policy = rng.random(legal_array.shape).astype(np.float32) * legal_array
    return {"observations": np.asarray(observations, dtype=np.float32),
            "policy": policy / policy.sum(axis=1, keepdims=True), "legal": legal_array,
            "value": rng.uniform(-1, 1, size).astype(np.float32),
            "root_value": rng.uniform(-1, 1, size).astype(np.float32),
            "policy_weight": np.ones(size, dtype=np.float32)}


def reference_step(model, optimizer, config, batch, step, positions):
    """What two data-parallel ranks compute, by hand in one process: the mean of the two
    shards' gradients (each shard through the model on its own), one optimizer step."""
    model.train()
    for group in optimizer.param_groups:
        group["lr"] = learning_rate(config.train, step, positions)
    optimizer.zero_grad()
    for shard in shards(batch, 2):
        tensors = {k: torch.from_numpy(v) for k, v in shard.items()}
        parts = losses(model, tensors, 0.0)
        ((parts["policy"] + parts["value"]) / 2).backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), config.train.grad_clip)
    optimizer.step()


@pytest.mark.parametrize("placed", [False, True], ids=["contiguous", "channels-last"])
def test_two_ranks_take_the_mean_gradient_of_their_shards_and_stay_equal(placed):
    config = resolve(None, SETS)
    game = games.make("tictactoe")
    torch.manual_seed(0)
    model = build_model(game, config)
    if placed:  # as a run places it on the CPU: the replicas must take the same layout
        model = place_model(model, torch.device("cpu"))
    reference = copy.deepcopy(model)
    reference_optimizer = Learner(reference, config.train, torch.device("cpu")).optimizer
    learner = DistributedLearner(model, config.train, torch.device("cpu"), 0.0, 2,
                                 ("tictactoe", to_json(config)), config.precision)
    try:
        for step in range(3):
            batch = batch_of(game, 16, step)
            reference_step(reference, reference_optimizer, config, batch, step, step * 16)
            learner.train_step(batch)
        assert learner.step == 3 and learner.positions_trained == 48
        for ours, theirs in zip(model.parameters(), reference.parameters()):
            torch.testing.assert_close(ours, theirs, rtol=1e-4, atol=1e-5)
        checksums = learner.replica_checksums()
        assert checksums[1] == pytest.approx(checksums[0], rel=1e-6)
    finally:
        learner.close()


def test_batch_must_divide_by_the_learner_processes():
    with pytest.raises(ConfigError, match="must divide"):
        resolve(None, [*SETS, "train.learner_processes=3"])


def test_a_training_run_with_two_learner_processes(tmp_path):
    import subprocess
    import sys

    from engine.checkpoint import latest_checkpoint, load_checkpoint

    run = tmp_path / "run"
    sets = [*SETS[1:], "search.num_simulations=4", "selfplay.concurrent_games=8",
            "selfplay.games_per_iteration=8", "arena.every_iterations=0"]
    result = subprocess.run(
        [sys.executable, "-m", "engine", "train", "tictactoe", "--learner-gpus", "2",
         "--iterations", "2", "--quiet", "--out", str(run),
         *[part for item in sets for part in ("--set", item)]],
        capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stderr
    meta = load_checkpoint(latest_checkpoint(run)).meta
    assert meta["iteration"] == 2 and meta["positions_trained"] > 0
    assert meta["config"]["train"]["learner_processes"] == 2
