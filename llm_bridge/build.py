"""Building an LLM run's parts from its config: the policy, optimiser, reward and algorithm,
and a policy back from a checkpoint."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file

from engine.checkpoint import CheckpointError, checkpoint_stem
from engine.config import ConfigError
from llm_bridge import tasks
from llm_bridge.config import LLMRunConfig, resolve_llm
from llm_bridge.models import check_device, load_policy, resolve_model_dir
from llm_bridge.policy import LLMPolicy


def build_policy(config: LLMRunConfig, task: Any, log: Callable[[str], None] | None = None):
    """The policy a run starts from: the model spec resolved (tiny warm-started, SmolLM2
    converted) and loaded with the run's LoRA and reference settings."""
    model_dir = resolve_model_dir(
        config.model, task=task, task_options=config.task_options,
        cache_dir=config.cache_dir or None, tiny=config.tiny, warm=config.warm_start,
        seed=config.seed, log=log)
    return load_policy(model_dir, spec={"model": config.model}, lora=config.lora,
                       prompt_style=config.prompt_style, shots=config.prompt_shots,
                       reference=config.algo == "grpo" and config.grpo.kl_coef > 0,
                       device=check_device(config.device),
                       gradient_checkpointing=config.optim.gradient_checkpointing)


def make_algorithm(config: LLMRunConfig, policy: Any, task: Any, reward: Any,
                   optimizer: torch.optim.Optimizer, seed: int) -> Any:
    """The `--algo` module's actor/learner over `policy`."""
    if config.algo == "grpo":
        from llm_bridge.algorithms.grpo import GRPO

        return GRPO(policy, task, reward, optimizer, config.grpo,
                    max_new_tokens=config.sampling.max_new_tokens,
                    temperature=config.sampling.temperature, top_p=config.sampling.top_p,
                    grad_clip=config.optim.grad_clip)
    from llm_bridge.algorithms.search import ExpertIteration

    return ExpertIteration(policy, task, reward, optimizer, config.search,
                           max_new_tokens=config.sampling.max_new_tokens,
                           temperature=config.sampling.temperature,
                           grad_clip=config.optim.grad_clip, seed=seed)


def group_rates(optim: Any) -> list[float]:
    """The learning rate of each parameter group of `build_optimizer`, after warm-up."""
    return [optim.lr] if optim.value_lr is None else [optim.lr, optim.value_lr]


def build_optimizer(policy: LLMPolicy, optim: Any) -> torch.optim.Optimizer:
    """AdamW over the policy's trainable weights; with `optim.value_lr` set, the value head
    is a second parameter group at that rate."""
    rates = group_rates(optim)
    if len(rates) == 1:
        params = [p for p in policy.parameters() if p.requires_grad]
        return torch.optim.AdamW(params, lr=rates[0], weight_decay=optim.weight_decay)
    groups = [{"params": policy.language_model_parameters(), "lr": rates[0]},
              {"params": list(policy.value_head.parameters()), "lr": rates[1]}]
    return torch.optim.AdamW(groups, weight_decay=optim.weight_decay)


def reward_weights(config: LLMRunConfig, task_name: str) -> dict[str, float]:
    """Reward name -> weight: the task's own grader at weight 1 unless `rewards` names it,
    plus whatever `rewards` adds (a shaping reward never silently replaces the grader; give
    the task's name weight 0 to drop it)."""
    weights = {task_name: 1.0, **config.rewards}
    weights = {name: w for name, w in weights.items() if w != 0.0}
    if not weights:
        raise ConfigError("every reward has weight 0: nothing would be learned")
    return weights


def load_checkpoint_policy(path: Path | str, *, device: str = "auto",
                           log: Callable[[str], None] | None = None):
    """`(config, policy)` of an LLM checkpoint: the base rebuilt from the saved config, then
    the checkpoint's trainable weights loaded.

    Raises:
        CheckpointError: a missing, foreign or corrupt checkpoint.
    """
    stem = checkpoint_stem(path)
    if not stem.with_suffix(".json").is_file() or not stem.with_suffix(".safetensors").is_file():
        raise CheckpointError(f"checkpoint {stem} not found (need {stem.name}.json and "
                              f"{stem.name}.safetensors)")
    try:
        meta = json.loads(stem.with_suffix(".json").read_text())
    except (OSError, json.JSONDecodeError) as error:
        raise CheckpointError(f"checkpoint metadata {stem}.json is unreadable: {error}") from None
    if not isinstance(meta, dict) or meta.get("kind") != "llm" or "config" not in meta:
        raise CheckpointError(f"{stem}.json is not an LLM checkpoint")
    config = resolve_llm(base=meta["config"], overrides=[f'device="{device}"'])
    task = tasks.make(config.task, **config.task_options)
    policy = build_policy(config, task, log)
    try:
        weights = load_file(str(stem.with_suffix(".safetensors")))
    except Exception as error:  # noqa: BLE001 (safetensors raises several types)
        raise CheckpointError(f"checkpoint weights {stem}.safetensors are corrupt: "
                              f"{error}") from None
    policy.load_trainable_state_dict(weights)
    return config, policy
