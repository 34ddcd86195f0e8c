"""Scoring a policy on a task split: greedy pass@1 and sampled pass@k with intervals.

* pass@1 is the share of problems whose greedy completion earns the full reward (1), with
  a Wilson 95% interval.
* pass@k uses the unbiased estimator of Chen et al. (2021): with n samples of which c are
  correct, pass@k = 1 - C(n - c, k) / C(n, k), averaged over problems.
* The gate (`engine.loop.gate.paired_decision`) compares a candidate with the incumbent on
  the same dev problems, each read as a game (won: only the candidate solves it, lost: only
  the incumbent does, drawn otherwise).

Problems come from `task.generate(split, n, seed)`: splits are disjoint by hash, so test
problems are never trained on, and another seed draws a fresh set of the same distribution.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch

from llm_bridge.policy import LLMPolicy
from llm_bridge.tools import generate_with_tools


def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased pass@k from n samples with c correct.

    >>> pass_at_k(4, 1, 1), pass_at_k(4, 1, 4), pass_at_k(5, 0, 2)
    (0.25, 1.0, 0.0)
    >>> round(pass_at_k(5, 2, 2), 6)  # 1 - C(3,2)/C(5,2) = 1 - 3/10
    0.7
    """
    if not 0 <= c <= n or not 1 <= k <= n:
        raise ValueError(f"need 0 <= c <= n and 1 <= k <= n, got n={n} c={c} k={k}")
    if n - c < k:
        return 1.0
    return 1.0 - math.comb(n - c, k) / math.comb(n, k)


def wilson_interval(successes: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """The Wilson score interval of a binomial proportion.

    >>> tuple(round(x, 4) for x in wilson_interval(5, 10))
    (0.2366, 0.7634)
    """
    if n <= 0:
        return 0.0, 1.0
    p = successes / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


@torch.no_grad()
def completions(policy: LLMPolicy, task: Any, problems: Sequence[Any], *, samples: int = 1,
                greedy: bool = True, temperature: float = 1.0, top_p: float = 1.0,
                max_new_tokens: int = 64, batch_size: int = 64,
                generator: torch.Generator | None = None) -> list[list[str]]:
    """`samples` completions per problem (`[len(problems)][samples]` texts)."""
    prompts = policy.prompt_ids(problems, task)
    rows = [(i, prompts[i]) for i in range(len(problems)) for _ in range(samples)]
    texts: list[list[str]] = [[] for _ in problems]
    was_training = policy.training
    policy.eval()
    for start in range(0, len(rows), batch_size):
        chunk = rows[start:start + batch_size]
        if task.tools:
            done = generate_with_tools(policy, [r[1] for r in chunk],
                                       max_new_tokens=max_new_tokens, greedy=greedy,
                                       temperature=temperature, top_p=top_p,
                                       generator=generator)
            for (i, _), d in zip(chunk, done):
                texts[i].append(policy.codec.decode(d.ids))
            continue
        out = policy.generate([r[1] for r in chunk], max_new_tokens=max_new_tokens,
                              greedy=greedy, temperature=temperature, top_p=top_p,
                              generator=generator)
        for j, (i, _) in enumerate(chunk):
            texts[i].append(policy.codec.decode(out.ids(j)))
    policy.train(was_training)
    return texts


def evaluate_policy(policy: LLMPolicy, task: Any, *, split: str = "test", n: int = 200,
                    seed: int = 0, samples: int = 0, temperature: float = 1.0,
                    top_p: float = 1.0, max_new_tokens: int = 64, batch_size: int = 64,
                    return_rewards: bool = False) -> dict[str, Any]:
    """pass@1 (greedy) and, with `samples >= 1`, sampled pass@k on n problems of `split`.

    Returns:
        `{"split", "n", "seed", "pass@1", "pass@1_low", "pass@1_high", "mean_reward",
        "completion_chars"}`, `"lenient_pass@1"` where the task's answers are numbers (the
        answer read leniently: `Task.lenient_reward`), plus `"pass@k"` for k = 1, 2, 4, ...
        up to `samples` (sampled at `temperature`) and, with `return_rewards`, the
        per-problem greedy rewards.
    """
    problems = task.generate(split, n, seed=seed)
    greedy = [c[0] for c in completions(policy, task, problems, max_new_tokens=max_new_tokens,
                                        batch_size=batch_size)]
    report = {"task": task.name, "split": split, "seed": seed,
              **score_texts(task, problems, greedy, return_rewards)}
    n = len(problems)
    if samples >= 1:
        generator = torch.Generator(device=policy.device).manual_seed(seed)
        sampled = completions(policy, task, problems, samples=samples, greedy=False,
                              temperature=temperature, top_p=top_p,
                              max_new_tokens=max_new_tokens, batch_size=batch_size,
                              generator=generator)
        correct = [sum(1 for r in task.rewards([p] * samples, texts) if r >= 1.0)
                   for p, texts in zip(problems, sampled)]
        ks = sorted({k for k in (1, 2, 4, 8, 16, 32, 64, 128) if k <= samples} | {samples})
        report["samples"] = samples
        report["temperature"] = temperature
        report["pass@k"] = {str(k): sum(pass_at_k(samples, c, k) for c in correct) / n
                            for k in ks}
    return report


def score_texts(task: Any, problems: Sequence[Any], texts: Sequence[str],
                return_rewards: bool = False) -> dict[str, Any]:
    """pass@1 of one answer per problem, strict (the task's grader) with its Wilson interval
    and, where the task's answers are numbers, lenient (`Task.lenient_reward`)."""
    n = len(problems)
    rewards = task.rewards(problems, texts)
    solved = sum(1 for r in rewards if r >= 1.0)
    low, high = wilson_interval(solved, n)
    report: dict[str, Any] = {
        "n": n, "pass@1": solved / n, "pass@1_low": low, "pass@1_high": high,
        "mean_reward": sum(rewards) / n, "completion_chars": sum(len(c) for c in texts) / n}
    lenient = [task.lenient_reward(p, c) for p, c in zip(problems, texts)]
    if all(value is not None for value in lenient):
        report["lenient_pass@1"] = sum(1 for value in lenient if value >= 1.0) / n
    if return_rewards:
        report["rewards"] = rewards
    return report
