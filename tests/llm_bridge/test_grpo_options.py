"""GRPO's DAPO-style options and advantage estimators against hand-computed cases."""

from __future__ import annotations

import math

import pytest
import torch

from engine.config import ConfigError
from llm_bridge import tasks
from llm_bridge.algorithms.advantages import estimate_advantages, informative_groups
from llm_bridge.algorithms.grpo import GRPO, GRPOConfig, token_losses
from llm_bridge.config import resolve_llm
from llm_bridge.policy import LLMPolicy
from llm_bridge.tasks import CombinedReward
from llm_bridge.tiny import CharTokenizer, TinyConfig, build_tiny_model

SMALL = TinyConfig(layers=1, d_model=32, heads=2, ffn=64, max_len=64)
TABLE = torch.tensor([[1.0, 0.0, 0.0, 0.0], [1.0, 1.0, 1.0, 1.0]])


def test_grpo_estimator_with_each_scale() -> None:
    group = estimate_advantages(TABLE, "grpo", "group", eps=0.0)
    assert torch.allclose(group[0], torch.tensor([1.5, -0.5, -0.5, -0.5]))  # std 0.5
    assert torch.equal(estimate_advantages(TABLE, "grpo", "group")[1], torch.zeros(4))
    none = estimate_advantages(TABLE, "grpo", "none")
    assert torch.allclose(none[0], torch.tensor([0.75, -0.25, -0.25, -0.25]))
    # batch: 5 ones and 3 zeros, unbiased variance (5 (3/8)^2 + 3 (5/8)^2) / 7 = 120 / 448
    batch = estimate_advantages(TABLE, "grpo", "batch", eps=0.0)
    assert torch.allclose(batch[0], torch.tensor([0.75, -0.25, -0.25, -0.25])
                          / math.sqrt(120 / 448))


def test_rloo_is_the_leave_one_out_baseline() -> None:
    rloo = estimate_advantages(TABLE, "rloo", "none")
    # 1 - mean(0, 0, 0) = 1 and 0 - mean(1, 0, 0) = -1/3
    assert torch.allclose(rloo[0], torch.tensor([1.0, -1 / 3, -1 / 3, -1 / 3]))
    rewards = torch.tensor([[0.2, 0.9, 0.4]])
    by_hand = [0.2 - 0.65, 0.9 - 0.3, 0.4 - 0.55]
    assert torch.allclose(estimate_advantages(rewards, "rloo", "none")[0],
                          torch.tensor(by_hand))
    with pytest.raises(ValueError, match="rloo"):
        estimate_advantages(torch.ones(3, 1), "rloo", "none")


def test_reinforce_plus_plus_normalises_by_the_batch_std() -> None:
    adv = estimate_advantages(TABLE, "reinforce++", "group", eps=0.0)
    # centred values 0.75, -0.25 x3 and four zeros: mean 0, unbiased variance 0.75 / 7
    std = math.sqrt(0.75 / 7)
    assert torch.allclose(adv[0], torch.tensor([0.75, -0.25, -0.25, -0.25]) / std)
    assert torch.equal(adv[1], torch.zeros(4))
    assert torch.equal(estimate_advantages(TABLE, "reinforce++", "none", eps=0.0), adv)


def test_bad_estimator_or_scale() -> None:
    with pytest.raises(ValueError, match="estimator"):
        estimate_advantages(TABLE, "ppo")
    with pytest.raises(ValueError, match="scale"):
        estimate_advantages(TABLE, "grpo", "token")


def test_informative_groups() -> None:
    assert informative_groups(TABLE).tolist() == [True, False]


def test_clip_higher_by_hand() -> None:
    logp = torch.log(torch.tensor([[0.5], [0.125]]))
    old = torch.log(torch.tensor([[0.25], [0.25]]))  # ratios 2 and 0.5
    adv = torch.tensor([1.0, -1.0])
    loss, parts = token_losses(logp, old, adv, clip_eps=0.2, clip_eps_high=0.5)
    # A = +1: min(2, 1.5) = 1.5. A = -1: min(-0.5, -clamp(0.5, 0.8, 1.5)) = -0.8.
    assert torch.allclose(loss, torch.tensor([[-1.5], [0.8]]))
    assert parts["clipped"].tolist() == [[True], [True]]
    symmetric, _ = token_losses(logp, old, adv, clip_eps=0.2)
    assert torch.allclose(symmetric, torch.tensor([[-1.2], [0.8]]))


def _policy(seed: int = 0) -> LLMPolicy:
    tok = CharTokenizer()
    return LLMPolicy(build_tiny_model(tok, SMALL, seed=seed), tok)


def _parity_reward() -> CombinedReward:
    """Groups of problems with an odd answer alternate 1, 0, 1, 0 (signal); the others get
    all ones (no signal)."""
    def reward(prompts, completions, answer, **kwargs):
        return [float(int(a) % 2 == 0 or i % 2 == 0) for i, a in enumerate(answer)]

    return CombinedReward({"parity": (reward, 1.0)})


def _grpo(policy: LLMPolicy, reward: CombinedReward, **config) -> GRPO:
    task = tasks.make("arithmetic", digits=1, terms=2, ops="+")
    optimizer = torch.optim.SGD([p for p in policy.parameters() if p.requires_grad], lr=0.1)
    return GRPO(policy, task, reward, optimizer, GRPOConfig(**config), max_new_tokens=4)


def test_dynamic_sampling_keeps_informative_groups_and_refills() -> None:
    algo = _grpo(_policy(), _parity_reward(), group_size=2, dynamic_sampling=True,
                 max_refill_rounds=5)
    pool = algo.task.generate("train", 30, seed=0)
    first, stream = pool[:4], iter(pool[4:])
    asked: list[int] = []

    def more(n: int) -> list:
        asked.append(n)
        return [next(stream) for _ in range(n)]

    rollout = algo.rollout(first, torch.Generator().manual_seed(0), more)
    odd = [p for p in pool if int(p.answer) % 2]
    kept = list(dict.fromkeys(rollout.problem_ids))
    assert kept == [p.id for p in odd[:4]]  # the first four odd-answer problems, in order
    assert rollout.group == [0, 0, 1, 1, 2, 2, 3, 3]
    used = 4 + sum(asked)
    assert rollout.metrics["llm/dynamic/sampled_groups"] == used
    assert rollout.metrics["llm/dynamic/refill_rounds"] == len(asked)
    assert rollout.metrics["llm/dynamic/kept_groups"] == 4
    first_odd = sum(int(p.answer) % 2 for p in first)
    # the reward figures are the first batch's: odd groups average 0.5, even ones 1
    assert rollout.metrics["llm/reward"] == pytest.approx((first_odd * 0.5 + 4 - first_odd) / 4)
    algo.learn(rollout)


def test_dynamic_sampling_stops_at_the_refill_cap() -> None:
    algo = _grpo(_policy(), _parity_reward(), group_size=2, dynamic_sampling=True,
                 max_refill_rounds=0)
    problems = algo.task.generate("train", 6, seed=1)
    rollout = algo.rollout(problems, torch.Generator().manual_seed(0), lambda n: 1 / 0)
    odd = [p.id for p in problems if int(p.answer) % 2]
    assert list(dict.fromkeys(rollout.problem_ids)) == odd
    # no informative group at all: the batch is kept as it is
    even = [p for p in algo.task.generate("train", 40, seed=1) if int(p.answer) % 2 == 0][:3]
    rollout = algo.rollout(even, torch.Generator().manual_seed(0), lambda n: 1 / 0)
    assert len(rollout) == 6 and rollout.metrics["llm/dynamic/kept_groups"] == 0


def test_mask_truncated_drops_cut_completions_from_the_loss() -> None:
    algo = _grpo(_policy(), _parity_reward(), group_size=2, mask_truncated=True,
                 value_coef=0.0, scale_rewards="none")
    problems = algo.task.generate("train", 6, seed=2)
    rollout = algo.rollout(problems, torch.Generator().manual_seed(0))
    rollout.truncated = [i % 3 == 0 for i in range(len(rollout))]
    # one pass: ratio 1, so each kept token's loss is -A; the sum is divided by kept tokens
    rewards = torch.tensor(rollout.rewards).view(-1, 2)
    adv = (rewards - rewards.mean(1, keepdim=True)).view(-1).tolist()
    kept = [i for i in range(len(rollout)) if not rollout.truncated[i]]
    lengths = [len(rollout.completions[i]) for i in kept]
    expected = -sum(adv[i] * n for i, n in zip(kept, lengths)) / sum(lengths)
    assert algo.learn(rollout)["loss/policy"] == pytest.approx(expected, abs=1e-6)


def test_truncation_is_recorded() -> None:
    algo = _grpo(_policy(), _parity_reward(), group_size=2)
    rollout = algo.rollout(algo.task.generate("train", 3, seed=0),
                           torch.Generator().manual_seed(0))
    for completion, cut in zip(rollout.completions, rollout.truncated):
        assert cut == (completion[-1] != algo.policy.codec.eos_id)
    assert rollout.metrics["llm/truncated_frac"] == pytest.approx(
        sum(rollout.truncated) / len(rollout))


def test_entropy_of_a_uniform_model_is_log_vocabulary() -> None:
    policy = _policy()
    with torch.no_grad():  # tied embeddings at zero: every logit is 0, the next token uniform
        policy.model.get_input_embeddings().weight.zero_()
    algo = _grpo(policy, _parity_reward(), group_size=2)
    rollout = algo.rollout(algo.task.generate("train", 2, seed=0),
                           torch.Generator().manual_seed(0))
    vocabulary = policy.model.config.vocab_size
    assert rollout.metrics["llm/entropy"] == pytest.approx(math.log(vocabulary), rel=1e-5)


def test_options_reachable_by_overrides() -> None:
    config = resolve_llm(None, ["grpo.advantage=\"rloo\"", "grpo.scale_rewards=\"batch\"",
                                "grpo.clip_eps_high=0.28", "grpo.mask_truncated=true",
                                "grpo.dynamic_sampling=true", "grpo.max_refill_rounds=2"])
    assert (config.grpo.advantage, config.grpo.scale_rewards, config.grpo.clip_eps_high,
            config.grpo.mask_truncated, config.grpo.dynamic_sampling,
            config.grpo.max_refill_rounds) == ("rloo", "batch", 0.28, True, True, 2)
    with pytest.raises(ConfigError, match="advantage"):
        resolve_llm(None, ["grpo.advantage=\"ppo\""])
    with pytest.raises(ConfigError, match="scale_rewards"):
        resolve_llm(None, ["grpo.scale_rewards=\"token\""])
    with pytest.raises(ConfigError, match="rloo"):
        resolve_llm(None, ["grpo.advantage=\"rloo\"", "grpo.group_size=1"])
