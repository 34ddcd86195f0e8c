"""The learner's auxiliary heads: ownership learns from Go targets, and batches or networks
without ownership (old shards, other games) train as before; the soft policy's target and
loss against hand-computed cases."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from engine.config import ModelConfig, TrainConfig
from engine.learner import Learner
from engine.model import PolicyValueNet, build_model, network_shape
from games import make
from games.go import Go


@pytest.fixture(autouse=True)
def one_thread():  # type: ignore[no-untyped-def]
    """Tiny networks: one thread is faster on a shared machine."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def go_batch(go: Go, size: int = 16, seed: int = 0) -> dict[str, np.ndarray]:
    """Positions of random games with their boards' area ownership as the target."""
    rng = np.random.default_rng(seed)
    states = []
    state = go.initial_state()
    while len(states) < size:
        legal = np.flatnonzero(go.legal_mask(state)[:-1])
        if len(legal) == 0 or go.is_over(state):
            state = go.initial_state()
            continue
        state = go.next_state(state, int(rng.choice(legal)))
        states.append(state)
    sign = np.array([1 if go.to_play(s) == 0 else -1 for s in states], dtype=np.float32)
    policy = np.stack([go.legal_mask(s) / go.legal_mask(s).sum() for s in states])
    return {
        "observations": np.stack([go.encode(s) for s in states]),
        "policy": policy.astype(np.float32),
        "legal": np.stack([go.legal_mask(s) for s in states]),
        "value": np.zeros(size, dtype=np.float32),
        "root_value": np.zeros(size, dtype=np.float32),
        "policy_weight": np.ones(size, dtype=np.float32),
        "ownership": np.stack([go.final_ownership(s) for s in states]).astype(np.int8)
        * sign[:, None, None].astype(np.int8),
        "ownership_weight": np.ones(size, dtype=np.float32),
    }


def small_model(game) -> PolicyValueNet:  # type: ignore[no-untyped-def]
    torch.manual_seed(0)
    return PolicyValueNet(network_shape(game), ModelConfig(size="b1c16"))


def test_the_ownership_loss_falls_on_a_tiny_batch() -> None:
    go = Go(size=5, komi=0.5)
    model = small_model(go)
    assert model.has_ownership
    learner = Learner(model, TrainConfig(lr=0.01, warmup_steps=0, lr_schedule="constant"),
                      torch.device("cpu"))
    batch = go_batch(go)
    losses = [learner.train_step(batch)["loss/ownership"] for _ in range(30)]
    assert losses[-1] < 0.7 * losses[0], losses


def test_rows_without_targets_and_games_without_ownership_train_as_before() -> None:
    go = Go(size=5, komi=0.5)
    learner = Learner(small_model(go), TrainConfig(), torch.device("cpu"))
    batch = go_batch(go)
    old = {k: v for k, v in batch.items() if not k.startswith("ownership")}
    figures = learner.train_step(old)  # a batch of old shards only
    assert "loss/ownership" not in figures and np.isfinite(figures["loss/total"])
    unweighted = {**batch, "ownership_weight": np.zeros(len(batch["value"]), np.float32)}
    assert learner.train_step(unweighted)["loss/ownership"] == 0.0
    connect4 = make("connect4")
    model = build_model(connect4, type("Run", (), {"model": ModelConfig(size="b1c8")})())
    assert not model.has_ownership and model.ownership_head is None


def test_a_learner_resumes_from_a_run_saved_before_the_head() -> None:
    go = Go(size=5, komi=0.5)
    old_model = PolicyValueNet(network_shape(go, ownership=False), ModelConfig(size="b1c16"))
    old = Learner(old_model, TrainConfig(), torch.device("cpu"))
    batch = {k: v for k, v in go_batch(go).items() if not k.startswith("ownership")}
    old.train_step(batch)
    new = Learner(small_model(go), TrainConfig(), torch.device("cpu"))
    new.load_state_dict(old.state_dict())
    assert (new.step, new.positions_trained) == (1, len(batch["value"]))
    assert "loss/ownership" in new.train_step(go_batch(go))


def test_the_soft_policy_target_is_the_policy_flattened_and_renormalised() -> None:
    from engine.learner import soft_policy_target

    policy = torch.tensor([[0.81, 0.16, 0.03, 0.0], [0.0, 0.0, 0.0, 0.0]])
    soft = soft_policy_target(policy, temperature=2.0)
    expected = np.array([0.9, 0.4, np.sqrt(0.03), 0.0]) / (1.3 + np.sqrt(0.03))
    np.testing.assert_allclose(soft[0].numpy(), expected, rtol=1e-6)
    assert soft[1].tolist() == [0.0] * 4  # no target, no mass (and no division by zero)
    np.testing.assert_allclose(soft_policy_target(policy, 1.0)[0].numpy(), policy[0].numpy(),
                               rtol=1e-6)


def test_the_soft_policy_loss_is_the_cross_entropy_of_its_own_output() -> None:
    from engine.learner import losses

    game = make("connect4")
    torch.manual_seed(0)
    model = PolicyValueNet(network_shape(game), ModelConfig(size="b1c16", soft_policy_head=True))
    rng = np.random.default_rng(0)
    policy = rng.dirichlet(np.ones(game.num_actions) * 0.3, size=4).astype(np.float32)
    legal = np.ones((4, game.num_actions), dtype=bool)
    weight = np.array([1.0, 1.0, 0.0, 1.0], dtype=np.float32)  # row 2 is not trained
    batch = {"observations": torch.randn(4, *game.observation_shape),
             "policy": torch.from_numpy(policy), "legal": torch.from_numpy(legal),
             "value": torch.zeros(4), "root_value": torch.zeros(4),
             "policy_weight": torch.from_numpy(weight)}
    model.eval()
    parts = losses(model, batch, 0.0, soft_policy_temperature=4.0)
    with torch.no_grad():
        soft_logits = model(batch["observations"], all_heads=True)["soft_logits"].numpy()
    log_probs = soft_logits - np.log(np.exp(soft_logits).sum(axis=1, keepdims=True))
    target = policy ** 0.25 / (policy ** 0.25).sum(axis=1, keepdims=True)
    expected = (-(target * log_probs).sum(axis=1) * weight).sum() / weight.sum()
    assert float(parts["soft_policy"].detach()) == pytest.approx(expected, rel=1e-5)
    learner = Learner(model, TrainConfig(lr=0.01, warmup_steps=0, lr_schedule="constant"),
                      torch.device("cpu"))
    numpy_batch = {k: v.numpy() for k, v in batch.items()}
    first = learner.train_step(numpy_batch)
    assert first["loss/total"] == pytest.approx(
        first["loss/policy"] + first["loss/value"] + 8.0 * first["loss/soft_policy"], rel=1e-5)
    for _ in range(30):
        last = learner.train_step(numpy_batch)
    assert last["loss/soft_policy"] < first["loss/soft_policy"]


def test_bf16_training_follows_float32_training_and_keeps_float32_weights() -> None:
    go = Go(size=5, komi=0.5)
    batch = go_batch(go)
    curves = {}
    for precision in ("fp32", "bf16"):
        model = small_model(go)
        learner = Learner(model, TrainConfig(lr=0.01, warmup_steps=0, lr_schedule="constant"),
                          torch.device("cpu"), precision=precision)
        curves[precision] = [learner.train_step(batch)["loss/total"] for _ in range(40)]
        assert all(p.dtype == torch.float32 for p in model.parameters())
    assert curves["fp32"][-1] < 0.9 * curves["fp32"][0], curves["fp32"]
    assert curves["bf16"] != curves["fp32"]  # bf16 products did round
    np.testing.assert_allclose(curves["bf16"], curves["fp32"], rtol=0.02)


def test_a_scalar_target_as_win_draw_loss_keeps_its_mean() -> None:
    from engine.learner import wdl_target

    target = wdl_target(torch.tensor([1.0, 0.0, -1.0, 0.5, -0.25]))
    expected = [[1, 0, 0], [0, 1, 0], [0, 0, 1], [0.5, 0.5, 0], [0, 0.75, 0.25]]
    np.testing.assert_allclose(target.numpy(), expected, atol=1e-7)


def test_a_wdl_head_learns_a_draw_by_cross_entropy() -> None:
    from engine.learner import losses

    game = make("connect4")
    torch.manual_seed(0)
    model = PolicyValueNet(network_shape(game), ModelConfig(size="b1c16", value_head="wdl"))
    results = np.array([1.0, 0.0, -1.0, 0.0], dtype=np.float32)
    batch = {"observations": torch.randn(4, *game.observation_shape),
             "policy": torch.full((4, game.num_actions), 1 / game.num_actions),
             "legal": torch.ones(4, game.num_actions, dtype=torch.bool),
             "value": torch.from_numpy(results), "root_value": torch.zeros(4),
             "policy_weight": torch.ones(4)}
    model.eval()
    parts = losses(model, batch, 0.0)
    with torch.no_grad():
        wdl_logits = model(batch["observations"], all_heads=True)["wdl_logits"].numpy()
    log_probs = wdl_logits - np.log(np.exp(wdl_logits).sum(axis=1, keepdims=True))
    classes = [0, 1, 2, 1]  # win, draw, loss, draw
    expected = -np.mean([log_probs[i, c] for i, c in enumerate(classes)])
    assert float(parts["value"].detach()) == pytest.approx(expected, rel=1e-5)
    learner = Learner(model, TrainConfig(lr=0.01, warmup_steps=0, lr_schedule="constant"),
                      torch.device("cpu"))
    numpy_batch = {k: v.numpy() for k, v in batch.items()}
    for _ in range(60):
        figures = learner.train_step(numpy_batch)
    assert figures["loss/value_mse"] < 0.05, figures
    model.eval()
    with torch.no_grad():
        wdl = torch.softmax(model(batch["observations"], all_heads=True)["wdl_logits"], 1)
    assert wdl[1, 1] > 0.8 and wdl[3, 1] > 0.8  # the drawn rows: a draw, not a coin toss
