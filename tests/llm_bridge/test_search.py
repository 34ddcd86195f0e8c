"""Expert iteration: the distillation and value losses against direct computations, the
learner moving the policy towards the search's choice, and a whole search rollout."""

from __future__ import annotations

from dataclasses import replace

import pytest
import torch

from llm_bridge import tasks
from llm_bridge.algorithms.base import Rollout, StepRecord
from llm_bridge.algorithms.search import (
    ExpertIteration,
    candidate_cross_entropy,
    choose_reply,
    evaluate_with_search,
    loss_counts,
    split_rollout,
    value_regression,
    verified_likelihood,
    vote,
    with_tree_texts,
)
from llm_bridge.config import SearchSettings
from llm_bridge.game import ReasoningState
from llm_bridge.policy import LLMPolicy
from llm_bridge.tiny import CharTokenizer, TinyConfig, build_tiny_model

SMALL = TinyConfig(layers=1, d_model=32, heads=2, ffn=64, max_len=128)


def _policy(seed: int = 0) -> LLMPolicy:
    tok = CharTokenizer()
    return LLMPolicy(build_tiny_model(tok, SMALL, seed=seed), tok)


def _rollout(policy: LLMPolicy) -> Rollout:
    enc = policy.codec.encode
    prompt = [policy.codec.bos_id] + enc("What is 2 + 3?\n")
    a, b, c = enc("2 + 3 = 5\n"), enc("2 + 3 = 6\n"), enc("<answer>5</answer>")
    return Rollout(problem_ids=["p"], group=[0], prompts=[prompt], completions=[a + c],
                   texts=["2 + 3 = 5\n<answer>5</answer>"], rewards=[1.0],
                   steps=[StepRecord(sample=0, prefix=[], candidates=[a, b, []],
                                     target=[0.75, 0.25, 0.0]),
                          StepRecord(sample=0, prefix=a, candidates=[c, []],
                                     target=[1.0, 0.0])])


def test_candidate_cross_entropy_by_direct_computation() -> None:
    policy = _policy()
    rollout = _rollout(policy)
    prompt = rollout.prompts[0]
    a, b, c = rollout.steps[0].candidates[0], rollout.steps[0].candidates[1], \
        rollout.steps[1].candidates[0]
    with torch.no_grad():
        def seq(prefix, cand):
            with torch.no_grad():
                lp, mask = policy.completion_logprobs([prefix], [cand])
            return float((lp * mask).sum())
        la, lb = seq(prompt, a), seq(prompt, b)
        # decision 1: two candidates, q = softmax(la, lb); decision 2: one candidate, CE = 0
        qa = torch.softmax(torch.tensor([la, lb]), 0)
        expected = -(0.75 * torch.log(qa[0]) + 0.25 * torch.log(qa[1])).item() / 2
        got = candidate_cross_entropy(policy, rollout).item()
    assert got == pytest.approx(expected, rel=1e-4)
    assert seq(prompt + a, c) < 0  # the lone candidate still has a probability below one


def test_value_regression_by_direct_computation() -> None:
    policy = _policy()
    with torch.no_grad():
        policy.value_head.bias.fill_(0.3)
    rollout = _rollout(policy)
    got = value_regression(policy, rollout).item()
    # three texts (two decisions and the finished completion), each valued tanh(0.3), target 1
    assert got == pytest.approx((torch.tanh(torch.tensor(0.3)).item() - 1.0) ** 2, rel=1e-5)


def test_learner_moves_towards_the_search_policy() -> None:
    torch.manual_seed(0)
    policy = _policy()
    rollout = _rollout(policy)
    rollout.steps[0].target = [1.0, 0.0, 0.0]
    optimizer = torch.optim.Adam([p for p in policy.parameters() if p.requires_grad], lr=3e-3)
    algo = ExpertIteration(policy, None, None, optimizer, SearchSettings())
    losses = [algo.learn(rollout) for _ in range(30)]
    assert losses[-1]["loss/policy"] < 0.1 * losses[0]["loss/policy"]
    assert losses[-1]["loss/value"] < 0.1 * losses[0]["loss/value"]
    with torch.no_grad():
        assert policy.values([rollout.prompts[0]], [[]]).item() > 0.7


def test_search_rollout_records_targets() -> None:
    policy = _policy().eval()
    task = tasks.make("arithmetic", digits=1, terms=2, ops="+")
    reward = tasks.combine_rewards({task.name: 1.0}, functions={task.name: task})
    settings = SearchSettings(candidates=3, simulations=4, max_step_tokens=10, max_steps=3)
    algo = ExpertIteration(policy, task, reward, None, settings, max_new_tokens=24, seed=0)
    problems = task.generate("train", 2, seed=0)
    rollout = algo.rollout(problems, torch.Generator().manual_seed(0))
    assert len(rollout) == 2 and rollout.steps
    assert rollout.rewards == task.rewards(problems, rollout.texts)
    for step in rollout.steps:
        assert sum(step.target) == pytest.approx(1.0, abs=1e-5)
        assert all(t == 0.0 for t, cand in zip(step.target, step.candidates) if not cand)
        text = rollout.completions[step.sample]
        assert text[: len(step.prefix)] == step.prefix
    assert rollout.metrics["llm/search_decisions"] == len(rollout.steps)


def test_tree_texts_follow_their_played_text_without_duplicates() -> None:
    p, q = tasks.make("arithmetic").generate("train", 2, seed=0)
    def final(problem, prefix, reward):
        return ReasoningState(problem=problem, prompt=(1,), prefix=prefix, terminal=True,
                              reward=reward)
    played = [(0, final(p, (5, 6), 1.0), 1.0), (1, final(q, (7,), 0.0), 0.0)]
    finished = {p.id: [final(p, (5, 6), 1.0), final(p, (5, 9), 0.0), final(p, (5, 9), 0.0),
                       final(p, (), 0.0)],
                q.id: [final(q, (8,), 1.0)]}
    out = with_tree_texts(played, finished)
    assert [(g, s.prefix, r) for g, s, r in out] == [
        (0, (5, 6), 1.0), (0, (5, 9), 0.0), (1, (7,), 0.0), (1, (8,), 1.0)]
    assert finished == {}


def test_rollout_with_tree_texts_carries_every_finished_text() -> None:
    policy = _policy().eval()
    task = tasks.make("arithmetic", digits=1, terms=2, ops="+")
    reward = tasks.combine_rewards({task.name: 1.0}, functions={task.name: task})
    settings = SearchSettings(candidates=3, simulations=4, max_step_tokens=10, max_steps=3,
                              tree_texts=True)
    algo = ExpertIteration(policy, task, reward, None, settings, max_new_tokens=24, seed=0)
    problems = task.generate("train", 2, seed=0)
    plain = ExpertIteration(policy, task, reward, None, replace(settings, tree_texts=False),
                            max_new_tokens=24, seed=0)
    base = plain.rollout(problems, torch.Generator().manual_seed(0))
    rollout = algo.rollout(problems, torch.Generator().manual_seed(0))
    assert len(rollout) > len(problems) == len(base)
    assert rollout.metrics["llm/search_tree_texts"] == len(rollout) - len(problems)
    assert rollout.group == sorted(rollout.group) and set(rollout.group) == {0, 1}
    firsts = [rollout.group.index(g) for g in (0, 1)]
    assert [rollout.texts[i] for i in firsts] == base.texts
    assert {step.sample for step in rollout.steps} <= set(firsts)
    assert rollout.rewards == task.rewards([problems[g] for g in rollout.group], rollout.texts)
    for g in (0, 1):
        texts = [t for t, h in zip(rollout.texts, rollout.group) if h == g]
        assert len(set(texts)) == len(texts)


def _three_problem_rollout(policy: LLMPolicy) -> Rollout:
    """Three problems: the first with two texts (one paid in full) and two decisions, the
    second with one text and one decision, the third with one text and none."""
    one = _rollout(policy)
    enc = policy.codec.encode
    wrong = enc("2 + 3 = 6\n<answer>6</answer>")
    step = one.steps[0]
    return Rollout(problem_ids=["p", "p", "q", "r"], group=[0, 0, 1, 2],
                   prompts=one.prompts * 4,
                   completions=[wrong, one.completions[0], wrong, one.completions[0]],
                   texts=["a", "b", "c", "d"], rewards=[0.0, 1.0, 0.0, 1.0],
                   steps=[replace(step, sample=1), replace(one.steps[1], sample=1),
                          replace(step, sample=2)])


def test_split_rollout_keeps_problems_whole_and_renumbers_steps() -> None:
    rollout = _three_problem_rollout(_policy())
    assert split_rollout(rollout, 100) == [rollout]
    parts = split_rollout(rollout, 4)
    assert [p.group for p in parts] == [[0, 0], [1], [2]]
    assert [[s.sample for s in p.steps] for p in parts] == [[1, 1], [0], []]
    assert [p.completions[s.sample] for p in parts for s in p.steps] == [
        rollout.completions[s.sample] for s in rollout.steps]
    assert [p.group for p in split_rollout(rollout, 11)] == [[0, 0, 1], [2]]  # costs 7, 4, 1
    counts = [loss_counts(p) for p in parts]
    assert loss_counts(rollout) == {key: sum(c[key] for c in counts) for key in counts[0]}
    assert loss_counts(rollout)["sft"] == 2 * len(rollout.completions[1])


def test_learning_in_passes_takes_the_same_step() -> None:
    base = _policy()
    rollout = _three_problem_rollout(base)
    updated = []
    for rows in (1000, 4):
        policy = _policy()
        policy.load_state_dict(base.state_dict())
        settings = SearchSettings(sft_coef=0.5, rows_per_pass=rows)
        optimizer = torch.optim.SGD([p for p in policy.parameters() if p.requires_grad], lr=0.5)
        algo = ExpertIteration(policy, None, None, optimizer, settings, seed=0)
        metrics = algo.learn(rollout)
        updated.append((metrics, [p.detach().clone() for p in policy.parameters()]))
    (whole, params_whole), (passes, params_passes) = updated
    for key in ("loss/policy", "loss/value", "loss/sft", "train/grad_norm"):
        assert passes[key] == pytest.approx(whole[key], rel=1e-4), key
    moved = max((a - b).abs().max().item() for a, b in zip(params_whole, base.parameters()))
    assert moved > 1e-3
    for a, b in zip(params_whole, params_passes):
        assert torch.allclose(a, b, atol=1e-6)


def test_verified_likelihood_by_direct_computation() -> None:
    policy = _policy()
    rollout = _rollout(policy)
    enc = policy.codec.encode
    wrong = enc("<answer>6</answer>")
    rollout.prompts.append(rollout.prompts[0])
    rollout.completions.append(wrong)
    rollout.rewards.append(0.0)
    with torch.no_grad():
        lp, mask = policy.completion_logprobs(rollout.prompts[:1], rollout.completions[:1])
        expected = -float((lp * mask).sum() / mask.sum())  # the paid text alone
        assert verified_likelihood(policy, rollout).item() == pytest.approx(expected, rel=1e-5)
        # tokens a tool wrote are not the policy's to imitate: mask the first four out
        n = len(rollout.completions[0])
        rollout.tool_mask = [[1] * 4 + [0] * (n - 4), [0] * len(wrong)]
        expected = -float((lp * mask)[0, 4:].sum() / (n - 4))
        assert verified_likelihood(policy, rollout).item() == pytest.approx(expected, rel=1e-5)
        rollout.rewards = [0.0, 0.0]
        assert verified_likelihood(policy, rollout).item() == 0.0


def test_sft_coef_adds_the_likelihood_term() -> None:
    policy = _policy()
    rollout = _rollout(policy)
    optimizer = torch.optim.SGD([p for p in policy.parameters() if p.requires_grad], lr=0.0)
    plain = ExpertIteration(policy, None, None, optimizer, SearchSettings()).learn(rollout)
    with_sft = ExpertIteration(policy, None, None, optimizer,
                               SearchSettings(sft_coef=0.5)).learn(rollout)
    assert "loss/sft" not in plain
    assert with_sft["loss/sft"] == pytest.approx(verified_likelihood(policy, rollout).item(),
                                                 rel=1e-5)


def test_vote_prefers_the_answer_with_the_most_value() -> None:
    # answer 7 has three middling texts (0.9 in all), answer 8 one confident text (0.8)
    answers = ["7", "8", "7", "7", None]
    values = [0.3, 0.8, 0.35, 0.25, 1.0]
    assert vote(answers, values) == 2
    assert vote(["7", "8"], [-0.5, -0.1]) == 0  # negative values count nothing, ties: first
    assert vote([None, None], [0.1, 0.2]) is None


def test_reply_by_value_is_the_best_valued_text() -> None:
    answers, values = ["7", "8", "7", None], [0.3, 0.6, 0.35, 0.9]
    assert choose_reply(answers, values, "value") == 3  # a text without an answer counts too
    assert choose_reply(answers, values, "vote") == vote(answers, values) == 2
    assert choose_reply(["7", "8"], [0.5, 0.5], "value") == 0
    assert choose_reply([], [], "value") is None


def _answering_setup(settings: SearchSettings):
    """A small policy, an addition task and a run config with `settings`, 24 tokens."""
    from llm_bridge.config import LLMRunConfig

    config = LLMRunConfig()
    config.sampling.max_new_tokens = 24
    config.search = settings
    return _policy().eval(), tasks.make("arithmetic", digits=1, terms=2, ops="+"), config


def test_answering_by_vote_returns_a_text_the_search_reached() -> None:
    policy, task, config = _answering_setup(SearchSettings(
        candidates=3, max_step_tokens=10, max_steps=3, answer_by="vote", eval_candidates=5,
        eval_temperature=0.7))
    report = evaluate_with_search(policy, task, config, n=4, simulations=6, batch=2)
    assert report["answer_by"] == "vote" and report["candidates"] == 5
    assert report["temperature"] == 0.7 and report["n"] == 4


def test_answering_by_value_replies_with_a_text_the_search_scored() -> None:
    policy, task, config = _answering_setup(SearchSettings(
        candidates=3, max_step_tokens=4, max_steps=2, eval_step="whole", answer_by="value"))
    report = evaluate_with_search(policy, task, config, n=3, simulations=4, batch=3)
    assert report["answer_by"] == "value" and report["n"] == 3 and report["candidates"] == 4


def test_whole_completion_moves_score_one_sample_per_simulation() -> None:
    policy, task, config = _answering_setup(SearchSettings(
        candidates=3, max_step_tokens=4, max_steps=2, eval_step="whole", eval_c_scale=10.0))
    report = evaluate_with_search(policy, task, config, n=3, simulations=6, batch=3)
    assert report["eval_step"] == "whole" and report["candidates"] == 6
    # a whole-completion move is not cut at a line or at max_step_tokens
    algo = ExpertIteration(policy, task, None, None, config.search, max_new_tokens=24)
    game = algo.game(torch.Generator().manual_seed(0), terminal="value", candidates=8,
                     whole_steps=True)
    root = game.start(task.generate("test", 1, seed=0))[0]
    assert game.max_step_tokens == 24 and not game.stop_at_newline
    assert max(len(c) for c in root.candidates) > 4
