"""Configuration of an LLM run: dataclasses with a doc per field, presets and overrides.

The same rules as the game engine's config (`engine.config`), whose resolver is reused:
defaults, then a preset (`configs/llm-*.toml` or a path), then `--set section.key=value`
overrides; unknown keys and wrong types are errors; the resolved config is saved as
`config.json` in the run directory.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.config import ConfigError, LoopConfig, read_json, resolve_config
from llm_bridge.algorithms.grpo import GRPOConfig
from llm_bridge.models import LoraSettings
from llm_bridge.tiny import TinyConfig, WarmStartConfig


@dataclass
class SamplingSettings:
    """How the actor samples."""

    max_new_tokens: int = 64
    """Cap on a completion's length in tokens."""
    temperature: float = 1.0
    """Sampling temperature."""
    top_p: float = 1.0
    """Nucleus mass kept."""


@dataclass
class OptimSettings:
    """The learner's optimiser (AdamW, constant rate after a linear warm-up)."""

    lr: float = 1e-4
    """Learning rate."""
    warmup_steps: int = 0
    """Linear warm-up of the rate over the first optimiser steps. A fresh AdamW's first steps
    move every weight by about the full rate whatever its gradient: on the tiny model, GRPO
    at 1e-3 without warm-up wrote garbage after two steps, and with 30 warm-up steps it
    raised the reward on a fixed set of 8 problems from 0.05 to 0.71 in 29 iterations."""
    value_lr: float | None = None
    """Learning rate of the value head alone (None = `lr`). The head is a linear probe on
    the language model's features: at a rate small enough for the language model it stays
    near its zero start for the whole run, and the search reads every unfinished text as
    worth nothing."""
    weight_decay: float = 0.0
    """Decoupled weight decay."""
    grad_clip: float = 1.0
    """Clip the global gradient norm (0 disables)."""
    prompts_per_iteration: int = 16
    """Training problems per iteration (each played `group_size` times by GRPO)."""
    gradient_checkpointing: bool = False
    """Recompute each layer's activations in the backward pass instead of keeping them
    (Hugging Face's gradient checkpointing): more compute per step, far less memory."""


@dataclass
class SearchSettings:
    """Expert iteration with the tree search over reasoning steps (`--algo search`)."""

    candidates: int = 4
    """K: candidate steps sampled per node (duplicates merged)."""
    simulations: int = 8
    """Simulations per move while acting."""
    algorithm: str = "gumbel"
    """Root selection: `gumbel` (sequential halving) or `puct`."""
    max_step_tokens: int = 24
    """Longest step in tokens (a step ends at a newline or eos)."""
    max_steps: int = 8
    """Most steps in a completion (then it is scored as it stands)."""
    value_coef: float = 1.0
    """Weight of the value loss beside the policy distillation loss."""
    policy_coef: float = 1.0
    """Weight of the cross-entropy to the search policy over candidates."""
    c_visit: float = 50.0
    """Gumbel sigma's visit offset (see mcts.SearchConfig)."""
    c_scale: float = 0.1
    """Gumbel sigma's scale (see mcts.SearchConfig)."""
    gumbel_scale: float = 1.0
    """Scale of the Gumbel noise at the root while acting (0 = deterministic)."""
    rescale_values: bool = True
    """While acting, map each node's candidate values to [0, 1] by their min and max before
    sigma (mctx's default), or (False) keep them as expected rewards: then two candidates
    whose values differ only by the value head's noise barely move the policy target,
    while a verified right answer against a wrong one moves it by the whole
    (c_visit + max N) * c_scale."""
    sft_coef: float = 0.0
    """Weight of the likelihood of finished texts the verifier paid in full (1): the
    search's successes imitated outright, beside the distillation over candidates."""
    tree_texts: bool = False
    """The learner also sees every other distinct finished text the trees reached, with
    the verifier's reward: the value head regresses on them, and with `sft_coef > 0` the
    ones paid in full are imitated too (not only the text the moves wrote)."""
    rows_per_pass: int = 128
    """Most sequences the learner scores in one forward and backward pass: the rollout's
    problems are split into passes of about this many and their gradients accumulated (the
    step is the same); lower it when a large model runs out of memory."""
    answer_by: str = "path"
    """Answering by search at inference: `path` (the text the search's moves wrote),
    `vote` (the answer whose finished texts, over every tree the search grew, carry the
    most value; the best-valued of them is the reply) or `value` (the best-valued finished
    text of them all)."""
    eval_temperature: float | None = None
    """Sampling temperature of the candidates when answering by search (None: the
    rollouts' `sampling.temperature`)."""
    eval_candidates: int | None = None
    """K when answering by search (None: `candidates`; ignored with `eval_step = whole`)."""
    eval_step: str = "line"
    """A move when answering by search: `line` (as in training) or `whole` (a whole
    completion, or the text up to a tool call; K = the simulations, so each simulation
    scores one more sampled completion)."""
    eval_c_scale: float | None = None
    """Gumbel sigma's scale when answering by search (None: `c_scale`); a large value lets
    the value head rather than the candidates' log-probs choose the move."""


@dataclass
class EvalSettings:
    """The evaluator/gate stage on the dev split, and the test figures in summary.json."""

    every_iterations: int = 5
    """Evaluate on dev (and gate) every this many iterations (0 = never)."""
    dev_problems: int = 100
    """Dev problems per evaluation (the same ones each time)."""
    test_problems: int = 200
    """Test problems for pass@1 before and after training (summary.json; 0 skips)."""
    test_seed: int = 0
    """Seed of the test draw (`move37 llm eval --seed` draws the same set)."""
    gate_z: float = 1.96
    """Width of the gate's interval: a candidate worse than the incumbent by more is rejected."""


@dataclass
class LLMRunConfig(LoopConfig):
    task: str = "arithmetic"
    """Registered task name (see `llm_bridge.tasks.available()`)."""
    task_options: dict[str, Any] = field(default_factory=dict)
    """Keyword arguments of the task's constructor (e.g. digits, terms, ops)."""
    rewards: dict[str, float] = field(default_factory=dict)
    """Reward name -> weight, added to the task's own grader (weight 1 unless named here;
    weight 0 drops a reward)."""
    control: str = "none"
    """`none`, or a control run with the verifier's reward replaced: `random` (1 with the
    verifier's mean rate on the batch, regardless of the text) or `format` (1 when an answer
    can be read, right or wrong); see `llm_bridge.tasks.controls`."""
    reward_timeout_s: float = 60.0
    """Deadline of one batch call of a reward function; past it its worker process is killed,
    the batch gets no reward from it, and `rewards/<name>/failed` counts it."""
    reward_workers: int = 2
    """Worker processes the reward functions run on (side by side)."""
    model: str = "tiny"
    """`tiny`, `smollm2`, a save_pretrained directory or a hub name."""
    algo: str = "grpo"
    """`grpo` or `search`."""
    threads: int = 2
    """torch CPU threads."""
    prompt_style: str = "auto"
    """`auto`, `bare`, `task` or `chat` (see LLMPolicy)."""
    prompt_shots: int = 0
    """Worked train examples shown before each problem (few-shot prompting)."""
    train_problems: int = 5000
    """Size of the pool of train problems cycled through (reshuffled every epoch)."""
    keep_checkpoints: int = 3  # LLM checkpoints are large: keep fewer
    cache_dir: str = ""
    """Model cache (empty: $MOVE37_CACHE or ~/.cache/move37)."""
    tiny: TinyConfig = field(default_factory=TinyConfig)
    """Shape of `--model tiny`."""
    warm_start: WarmStartConfig = field(default_factory=lambda: WarmStartConfig(steps=500))
    """Supervised phase on worked solutions before RL (`--model tiny` only; 0 steps = none)."""
    lora: LoraSettings = field(default_factory=LoraSettings)
    sampling: SamplingSettings = field(default_factory=SamplingSettings)
    optim: OptimSettings = field(default_factory=OptimSettings)
    grpo: GRPOConfig = field(default_factory=GRPOConfig)
    search: SearchSettings = field(default_factory=SearchSettings)
    eval: EvalSettings = field(default_factory=EvalSettings)


def resolve_llm(preset: str | None = None, overrides: list[str] | None = None,
                base: dict[str, Any] | None = None) -> LLMRunConfig:
    """Defaults <- base (a saved config) <- preset <- `key=value` overrides, validated."""
    config = resolve_config(LLMRunConfig, preset, overrides, base)
    validate(config)
    return config


def validate(config: LLMRunConfig) -> None:
    """Cross-field checks a type hint cannot express."""
    from llm_bridge.algorithms import ALGORITHMS
    from llm_bridge.algorithms.advantages import ESTIMATORS, SCALES

    checks = [
        (config.algo in ALGORITHMS, f"algo must be one of {ALGORITHMS}, got {config.algo!r}"),
        (config.prompt_style in ("auto", "bare", "task", "chat"),
         "prompt_style must be auto, bare, task or chat"),
        (config.prompt_shots >= 0, "prompt_shots must be >= 0"),
        (config.grpo.group_size >= 1, "grpo.group_size must be >= 1"),
        (config.grpo.epochs >= 1, "grpo.epochs must be >= 1"),
        (config.grpo.minibatch_size >= 1, "grpo.minibatch_size must be >= 1"),
        (config.grpo.advantage in ESTIMATORS,
         f"grpo.advantage must be one of {', '.join(ESTIMATORS)}"),
        (config.grpo.scale_rewards in SCALES,
         f"grpo.scale_rewards must be one of {', '.join(SCALES)}"),
        (config.grpo.advantage != "rloo" or config.grpo.group_size >= 2,
         "grpo.advantage rloo needs grpo.group_size >= 2"),
        (config.grpo.clip_eps_high is None or config.grpo.clip_eps_high >= 0,
         "grpo.clip_eps_high must be >= 0 (or unset)"),
        (config.grpo.max_refill_rounds >= 0, "grpo.max_refill_rounds must be >= 0"),
        (config.optim.prompts_per_iteration >= 1, "optim.prompts_per_iteration must be >= 1"),
        (config.sampling.max_new_tokens >= 1, "sampling.max_new_tokens must be >= 1"),
        (config.sampling.temperature > 0, "sampling.temperature must be > 0"),
        (0 < config.sampling.top_p <= 1, "sampling.top_p must be in (0, 1]"),
        (config.search.candidates >= 2, "search.candidates must be >= 2"),
        (config.search.simulations >= 1, "search.simulations must be >= 1"),
        (config.search.algorithm in ("gumbel", "puct"), "search.algorithm must be gumbel or puct"),
        (config.search.rows_per_pass >= 1, "search.rows_per_pass must be >= 1"),
        (config.search.answer_by in ("path", "vote", "value"),
         "search.answer_by must be path, vote or value"),
        (config.search.eval_candidates is None or config.search.eval_candidates >= 2,
         "search.eval_candidates must be >= 2"),
        (config.search.eval_temperature is None or config.search.eval_temperature > 0,
         "search.eval_temperature must be > 0"),
        (config.search.sft_coef >= 0, "search.sft_coef must be >= 0"),
        (config.search.eval_step in ("line", "whole"), "search.eval_step must be line or whole"),
        (config.search.eval_c_scale is None or config.search.eval_c_scale > 0,
         "search.eval_c_scale must be > 0"),
        (config.lora.rank >= 0, "lora.rank must be >= 0"),
        (config.train_problems >= config.optim.prompts_per_iteration,
         "train_problems must be >= optim.prompts_per_iteration"),
        (config.threads >= 1, "threads must be >= 1"),
        (config.reward_timeout_s > 0, "reward_timeout_s must be > 0"),
        (config.control in ("none", "random", "format"),
         "control must be none, random or format"),
        (config.reward_workers >= 1, "reward_workers must be >= 1"),
        (config.optim.value_lr is None or config.optim.value_lr > 0,
         "optim.value_lr must be > 0 (or unset)"),
        (0.0 <= config.warm_start.answer_only_share <= 1.0,
         "warm_start.answer_only_share must be in [0, 1]"),
        (config.checkpoint_every >= 1, "checkpoint_every must be >= 1"),
        (config.workers >= 0, "workers must be >= 0"),
    ]
    for ok, message in checks:
        if not ok:
            raise ConfigError(message)
    _check_rewards(config.rewards)


def _check_rewards(rewards: dict[str, float]) -> None:
    """Every extra reward must resolve now, before a model is built or a run directory made."""
    from llm_bridge.tasks.registry import resolve_reward
    from llm_bridge.tasks.rewards import RewardError

    for name in rewards:
        try:
            resolve_reward(name)
        except RewardError as error:
            raise ConfigError(f"rewards.{name}: {error}") from None


def from_json_file(path: Path) -> LLMRunConfig:
    return resolve_llm(base=read_json(path))
