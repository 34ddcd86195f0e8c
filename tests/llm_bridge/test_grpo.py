"""GRPO: hand-computed advantages and losses, minibatch invariance, and a learning check."""

from __future__ import annotations

import copy
import math

import pytest
import torch

from llm_bridge import tasks
from llm_bridge.algorithms.grpo import (
    GRPO,
    GRPOConfig,
    group_advantages,
    loss_normaliser,
    token_losses,
)
from llm_bridge.policy import LLMPolicy
from llm_bridge.tasks import CombinedReward
from llm_bridge.tiny import CharTokenizer, TinyConfig, build_tiny_model

SMALL = TinyConfig(layers=1, d_model=32, heads=2, ffn=64, max_len=64)


def test_group_advantages_by_hand() -> None:
    rewards = torch.tensor([[1.0, 0.0, 0.0, 0.0], [1.0, 1.0, 1.0, 1.0]])
    # group 0: mean 0.25, unbiased std sqrt((0.75^2 + 3 * 0.25^2) / 3) = 0.5
    scaled = group_advantages(rewards, eps=0.0)
    assert torch.allclose(scaled[0], torch.tensor([1.5, -0.5, -0.5, -0.5]))
    assert torch.equal(group_advantages(rewards)[1], torch.zeros(4))  # zero std stays 0
    centred = group_advantages(rewards, scale=False)
    assert torch.allclose(centred[0], torch.tensor([0.75, -0.25, -0.25, -0.25]))
    with pytest.raises(ValueError):
        group_advantages(torch.zeros(4))


def test_token_losses_by_hand() -> None:
    logp = torch.log(torch.tensor([[0.5, 0.25], [0.5, 0.25]]))
    old = torch.log(torch.tensor([[0.25, 0.25], [0.25, 0.25]]))
    adv = torch.tensor([1.0, -1.0])
    loss, parts = token_losses(logp, old, adv, clip_eps=0.2)
    # ratio 2 and 1. A = +1: min(2, 1.2) = 1.2 and 1. A = -1: min(-2, -1.2) = -2 and -1.
    assert torch.allclose(loss, torch.tensor([[-1.2, -1.0], [2.0, 1.0]]))
    assert parts["clipped"].tolist() == [[True, False], [False, False]]
    ref = torch.log(torch.tensor([[0.25, 0.25], [0.25, 0.25]]))
    with_kl, parts = token_losses(logp, old, adv, clip_eps=0.2, ref_logprobs=ref, kl_coef=0.5)
    k3 = 0.5 + math.log(2.0) - 1.0  # exp(d) - d - 1 with d = log(0.25 / 0.5)
    assert parts["kl"][0, 0].item() == pytest.approx(k3, abs=1e-6)
    assert with_kl[0, 0].item() == pytest.approx(-1.2 + 0.5 * k3, abs=1e-6)
    assert parts["kl"][0, 1].item() == pytest.approx(0.0, abs=1e-7)
    with pytest.raises(ValueError):
        token_losses(logp, old, adv, clip_eps=0.2, kl_coef=0.1)


def test_loss_normaliser() -> None:
    masks = [torch.tensor([[1.0, 1.0, 0.0]]), torch.tensor([[1.0, 0.0, 0.0], [1.0, 1.0, 1.0]])]
    assert loss_normaliser(masks, dr_grpo=False, max_tokens=10) == 6.0
    assert loss_normaliser(masks, dr_grpo=True, max_tokens=10) == 30.0


def _reward_starting_with(chars: str) -> CombinedReward:
    return CombinedReward({"starts": (lambda prompts, completions, **kw:
                                      [float(c[:1] in chars and c != "") for c in completions],
                                      1.0)})


def _setup(seed: int = 0, lr: float = 0.5, **config) -> tuple[GRPO, list]:
    tok = CharTokenizer()
    policy = LLMPolicy(build_tiny_model(tok, SMALL, seed=seed), tok, reference=True)
    optimizer = torch.optim.SGD([p for p in policy.parameters() if p.requires_grad], lr=lr)
    task = tasks.make("arithmetic", digits=1, terms=2, ops="+")
    algo = GRPO(policy, task, _reward_starting_with("0123456789"), optimizer,
                GRPOConfig(**config), max_new_tokens=3)
    return algo, task.generate("train", 4, seed=0)


def test_minibatches_give_the_full_batch_step() -> None:
    full, problems = _setup(group_size=4, minibatch_size=16, kl_coef=0.1)
    rollout = full.rollout(problems, torch.Generator().manual_seed(0))
    split = copy.deepcopy(full)
    split.config = GRPOConfig(group_size=4, minibatch_size=3, kl_coef=0.1)
    split.optimizer = torch.optim.SGD([p for p in split.policy.parameters() if p.requires_grad],
                                      lr=0.5)
    a, b = full.learn(rollout), split.learn(rollout)
    assert a["loss/policy"] == pytest.approx(b["loss/policy"], abs=1e-6)
    for (name, x), (_, y) in zip(full.policy.named_parameters(), split.policy.named_parameters()):
        assert torch.allclose(x, y, atol=1e-6), name


def test_rollout_shapes_and_metrics() -> None:
    algo, problems = _setup(group_size=3)
    rollout = algo.rollout(problems, torch.Generator().manual_seed(1))
    assert len(rollout) == 12 and rollout.group == [0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3]
    assert rollout.rewards == [float(t[:1].isdigit()) for t in rollout.texts]
    assert "llm/frac_reward_zero_std" in rollout.metrics
    assert "llm/rewards/starts/mean" in rollout.metrics
    assert rollout.metrics["llm/completion_length"] == pytest.approx(
        sum(len(c) for c in rollout.completions) / 12)
    with pytest.raises(ValueError, match="groups"):
        algo.config = GRPOConfig(group_size=5)
        algo.learn(rollout)


@pytest.mark.parametrize("dr_grpo", [False, True])
def test_grpo_raises_the_rewarded_behaviour(dr_grpo: bool) -> None:
    torch.manual_seed(0)
    # Dr. GRPO's loss is divided by completions x max_new_tokens: a larger step for the same lr
    algo, problems = _setup(group_size=8, dr_grpo=dr_grpo, lr=5.0 if dr_grpo else 2.0)
    generator = torch.Generator().manual_seed(0)
    first = algo.rollout(problems, generator)
    rate = sum(first.rewards) / len(first)
    for _ in range(8):
        algo.learn(algo.rollout(problems, generator))
    final = algo.rollout(problems, generator)
    assert sum(final.rewards) / len(final) > max(0.5, rate + 0.3)


def test_value_head_learns_the_rewards_and_leaves_the_policy_step_alone() -> None:
    plain, problems = _setup(group_size=4, value_coef=0.0)
    valued = copy.deepcopy(plain)
    valued.config = GRPOConfig(group_size=4, value_coef=1.0)
    valued.optimizer = torch.optim.SGD(
        [p for p in valued.policy.parameters() if p.requires_grad], lr=0.5)
    rollout = plain.rollout(problems, torch.Generator().manual_seed(3))
    rewards = torch.tensor(rollout.rewards)
    assert 0 < rewards.mean() < 1  # something to learn for both the policy and the head
    a, b = plain.learn(rollout), valued.learn(rollout)
    assert "loss/value" not in a
    # the head starts at zero, so its squared error is the mean squared reward
    assert b["loss/value"] == pytest.approx(float((rewards ** 2).mean()), rel=1e-5)
    assert b["loss/policy"] == pytest.approx(a["loss/policy"], abs=1e-7)
    for (name, x), (_, y) in zip(plain.policy.named_parameters(),
                                 valued.policy.named_parameters()):
        if not name.startswith("value_head."):
            assert torch.equal(x, y), name
    values = valued.policy.values(rollout.prompts, rollout.completions)
    assert torch.all(values > 0)  # moved from 0 towards rewards whose mean is above 0
    assert torch.equal(plain.policy.value_head.bias, torch.zeros(1))
