"""LLM bridge hot paths on the tiny model: sampling, scoring and one GRPO iteration.

* `generate`: completions per second and sampled tokens per second of `LLMPolicy.generate`
  (KV-cached, left-padded) for a batch of arithmetic prompts;
* `score`: tokens per second of `completion_logprobs` with gradients (forward + backward);
* `grpo_iteration`: seconds of one GRPO iteration (rollout + learn) at the preset's size;
* `search_move`: seconds of one searched move (all problems together) at a given budget.

The model is the tiny preset's shape, freshly initialised (timings do not depend on the
weights beyond completion lengths, which are capped).
"""

from __future__ import annotations

import time
from typing import Any

import torch

from llm_bridge import tasks
from llm_bridge.algorithms.grpo import GRPO, GRPOConfig
from llm_bridge.policy import LLMPolicy
from llm_bridge.tiny import CharTokenizer, TinyConfig, build_tiny_model


def _timed(fn, repeats: int, device: torch.device = torch.device("cpu")) -> float:
    fn()
    _sync(device)
    start = time.perf_counter()
    for _ in range(repeats):
        fn()
    _sync(device)
    return (time.perf_counter() - start) / repeats


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def run(batch: int = 128, max_new_tokens: int = 48, repeats: int = 3, threads: int = 2,
        simulations: int = 8, device: str = "cpu") -> dict[str, Any]:
    """All measurements; returns a JSON-ready dict."""
    from llm_bridge.models import check_device

    torch.set_num_threads(threads)
    where = check_device(device)
    tok = CharTokenizer()
    policy = LLMPolicy(build_tiny_model(tok, TinyConfig(), seed=0), tok).to(where).eval()
    task = tasks.make("arithmetic", digits=1, terms=(2, 4), ops="+-*")
    problems = task.generate("train", max(16, batch // 8), seed=0)
    prompts = policy.prompt_ids(problems, task)
    rows = [prompts[i % len(prompts)] for i in range(batch)]
    generator = torch.Generator(device=where).manual_seed(0)
    out: dict[str, Any] = {"batch": batch, "max_new_tokens": max_new_tokens, "threads": threads,
                           "device": str(where)}

    def generate():
        out["_gen"] = policy.generate(rows, max_new_tokens=max_new_tokens, generator=generator)

    seconds = _timed(generate, repeats, where)
    tokens = int(out.pop("_gen").lengths.sum())
    out["generate"] = {"seconds": seconds, "completions_per_s": batch / seconds,
                       "tokens_per_s": tokens / seconds}
    completions = [[5 + (i % 20)] * max_new_tokens for i in range(batch)]

    def score():
        logp, mask = policy.completion_logprobs(rows, completions)
        (logp * mask).sum().backward()

    seconds = _timed(score, repeats, where)
    out["score"] = {"seconds": seconds, "tokens_per_s": batch * max_new_tokens / seconds}
    reward = tasks.combine_rewards({task.name: 1.0}, functions={task.name: task})
    optimizer = torch.optim.AdamW(policy.parameters(), lr=1e-4)
    algo = GRPO(policy, task, reward, optimizer, GRPOConfig(group_size=8),
                max_new_tokens=max_new_tokens)
    out["grpo_iteration_seconds"] = _timed(
        lambda: algo.learn(algo.rollout(problems[: batch // 8], generator)), 1, where)
    out["search_move_seconds"] = _search_move(policy, task, problems[:16], simulations)
    return out


def _search_move(policy: LLMPolicy, task: Any, problems: list, simulations: int) -> float:
    import numpy as np

    from llm_bridge.algorithms.search import search_config
    from llm_bridge.config import SearchSettings
    from llm_bridge.game import ReasoningGame
    from mcts import BatchSearch

    settings = SearchSettings(simulations=simulations)
    game = ReasoningGame(task, policy, candidates=settings.candidates,
                         max_step_tokens=settings.max_step_tokens,
                         generator=torch.Generator(device=policy.device).manual_seed(0))
    roots = np.empty(len(problems), dtype=object)
    roots[:] = game.start(problems)
    search = BatchSearch(search_config(settings, simulations), len(problems), game.num_actions)
    start = time.perf_counter()
    search.run(roots, game.step, game.evaluate, root_to_play=np.zeros(len(problems), np.int8),
               root_legal=np.stack([game.legal(s) for s in roots]),
               rng=np.random.default_rng(0))
    return time.perf_counter() - start
