"""The LLM training loop: actor -> replay -> learner -> checkpoint -> evaluator/gate.

The same stages as the game engine's loop (`engine.train`), over text:

* actor: the algorithm plays a batch of train problems (GRPO samples G completions each;
  search plays them step by step with the tree search) and the reward function scores them;
* replay: the trajectories with their rewards are written to `replay/iter-*.json`;
* learner: the algorithm updates the policy (and value head) from that record;
* checkpoint: trainable weights (all of them, or the LoRA adapter) and the value head in
  safetensors, metadata JSON, and the resume state (optimiser, RNG, data position);
* evaluator/gate: greedy pass@1 on a fixed dev set; the candidate replaces the incumbent
  best checkpoint unless it is worse beyond noise (`llm_bridge.evaluate.paired_gate`) than
  the best dev record so far (the baseline moves only up, so small steps down cannot add up).

Run directory:

    config.json                      the resolved config (written first)
    replay/iter-*.json               each iteration's trajectories and rewards
    checkpoints/step-*.{safetensors,json,train.pt}, checkpoints/best.{safetensors,json}
    tensorboard/                     x-axis = completions sampled
    summary.json                     test pass@1 before RL (after any warm start) and after

Resume (`resume=True`) rebuilds everything from the directory: config, newest checkpoint,
optimiser, sampling RNG and the position in the train-problem stream, so a run killed at any
moment and resumed produces the same weights as one never interrupted.
"""

from __future__ import annotations

import json
import shutil
import time
import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import load_file, save_file

from engine.checkpoint import (
    CheckpointError,
    atomic_write,
    atomic_write_text,
    latest_checkpoint,
    load_training_state,
    prune_checkpoints,
)
from engine.config import ConfigError
from llm_bridge import tasks
from llm_bridge.config import LLMRunConfig, from_json_file, resolve_llm, to_json
from llm_bridge.evaluate import evaluate_policy, paired_gate
from llm_bridge.models import check_device, load_policy, resolve_model_dir
from llm_bridge.policy import LLMPolicy
from llm_bridge.tiny import TinyConfig, WarmStartConfig

FORMAT_VERSION = 1


@dataclass
class LLMRunState:
    """Where a run is; saved with every checkpoint."""

    iteration: int = 0
    optimizer_steps: int = 0
    samples: int = 0
    cursor: int = 0
    epoch: int = 0
    elapsed_seconds: float = 0.0
    best_iteration: int = 0
    best_dev_rewards: list[float] = field(default_factory=list)
    test_before: dict[str, Any] = field(default_factory=dict)
    history: list[dict[str, Any]] = field(default_factory=list)


def build_policy(config: LLMRunConfig, task: Any, log: Callable[[str], None] | None = None):
    """The policy a run starts from: the model spec resolved (tiny warm-started, SmolLM2
    converted) and loaded with the run's LoRA and reference settings."""
    model_dir = resolve_model_dir(
        config.model, task=task, task_options=config.task_options,
        cache_dir=config.cache_dir or None, tiny=TinyConfig(**asdict(config.tiny)),
        warm=WarmStartConfig(**asdict(config.warm_start)), seed=config.seed, log=log)
    return load_policy(model_dir, spec={"model": config.model}, lora=config.lora,
                       prompt_style=config.prompt_style, shots=config.prompt_shots,
                       reference=config.algo == "grpo" and config.grpo.kl_coef > 0,
                       device=check_device(config.device))


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


class LLMTrainer:
    """One LLM run over a run directory (see the module docstring)."""

    def __init__(self, config: LLMRunConfig, run_dir: Path, *, resume: bool = False,
                 on_iteration: Callable[[dict[str, Any]], None] | None = None,
                 log: Callable[[str], None] | None = None) -> None:
        torch.set_num_threads(config.threads)
        self.config, self.run_dir, self.on_iteration = config, Path(run_dir), on_iteration
        self.log = log or (lambda message: None)
        self.task = tasks.make(config.task, **config.task_options)
        self.policy = build_policy(config, self.task, self.log)
        self.optimizer = build_optimizer(self.policy, config.optim)
        self.reward = tasks.combine_rewards(reward_weights(config, self.task.name),
                                            functions={self.task.name: self.task})
        self.algorithm = make_algorithm(config, self.policy, self.task, self.reward,
                                        self.optimizer, config.seed)
        self.generator = torch.Generator(device=self.policy.device).manual_seed(config.seed)
        self.state = LLMRunState()
        self.pool = self.task.generate("train", config.train_problems, seed=config.seed)
        self.checkpoint_dir = self.run_dir / "checkpoints"
        self.replay_dir = self.run_dir / "replay"
        for directory in (self.checkpoint_dir, self.replay_dir):
            directory.mkdir(parents=True, exist_ok=True)
        if resume:
            self._restore()
        else:
            atomic_write_text(self.run_dir / "config.json", to_json(config))
        self._writer = None
        self._dev = self.task.generate("dev", config.eval.dev_problems, seed=config.seed) \
            if config.eval.every_iterations and config.eval.dev_problems else []

    # ------------------------------------------------------------------ data
    def _next_problems(self, count: int) -> list[Any]:
        """The next `count` train problems of the shuffled stream (reshuffled every epoch)."""
        out = []
        while len(out) < count:
            order = np.random.default_rng([self.config.seed, 7, self.state.epoch]).permutation(
                len(self.pool))
            take = min(count - len(out), len(self.pool) - self.state.cursor)
            out += [self.pool[int(i)] for i in order[self.state.cursor:self.state.cursor + take]]
            self.state.cursor += take
            if self.state.cursor == len(self.pool):
                self.state.cursor, self.state.epoch = 0, self.state.epoch + 1
        return out

    # ------------------------------------------------------------------ checkpoints
    def save(self) -> Path:
        """Write `checkpoints/step-<iteration>.*`: weights, resume state, then metadata."""
        stem = self.checkpoint_dir / f"step-{self.state.iteration:09d}"
        weights = self.policy.trainable_state_dict()
        atomic_write(stem.with_suffix(".safetensors"), lambda tmp: save_file(weights, str(tmp)))
        training = {"optimizer": self.optimizer.state_dict(),
                    "generator": self.generator.get_state(),
                    "generator_device": self.generator.device.type,
                    "algorithm": json.dumps(getattr(self.algorithm, "rng_state", dict)()),
                    "run_state": json.dumps(asdict(self.state))}
        atomic_write(stem.with_suffix(".train.pt"), lambda tmp: torch.save(training, tmp))
        atomic_write_text(stem.with_suffix(".json"), json.dumps(self._meta(), indent=2,
                                                                sort_keys=True))
        prune_checkpoints(self.checkpoint_dir, self.config.keep_checkpoints)
        return stem

    def _meta(self) -> dict[str, Any]:
        return {"format_version": FORMAT_VERSION, "kind": "llm", "task": self.config.task,
                "task_options": self.config.task_options, "model": self.config.model,
                "policy": self.policy.spec, "prompt_style": self.policy.prompt_style,
                "lora": self.policy.uses_lora, "iteration": self.state.iteration,
                "optimizer_steps": self.state.optimizer_steps, "samples": self.state.samples,
                "algo": self.config.algo, "seed": self.config.seed,
                "config": json.loads(to_json(self.config))}

    def _restore(self) -> None:
        stem = latest_checkpoint(self.checkpoint_dir)
        if stem is None:
            return  # killed before the first checkpoint: start afresh
        self.policy.load_trainable_state_dict(load_file(str(stem.with_suffix(".safetensors"))))
        training = load_training_state(stem)
        self.optimizer.load_state_dict(training["optimizer"])
        self._restore_generator(training)
        if hasattr(self.algorithm, "set_rng_state"):
            self.algorithm.set_rng_state(json.loads(training["algorithm"]))
        self.state = LLMRunState(**json.loads(training["run_state"]))

    def _restore_generator(self, training: dict[str, Any]) -> None:
        """Continue the sampling stream exactly; a run moved between the CPU and a GPU cannot
        (their generators' states differ in kind), so it goes on from a seed derived from the
        run's seed and iteration: reproducible, not bit-identical to an unmoved run."""
        saved_on = training.get("generator_device", self.generator.device.type)
        if saved_on == self.generator.device.type:
            self.generator.set_state(training["generator"])
            return
        state = json.loads(training["run_state"])
        self.generator.manual_seed(self.config.seed * 1_000_003 + int(state["iteration"]))
        warnings.warn(f"resumed on {self.generator.device.type} a run saved on {saved_on}: "
                      "sampling continues from a derived seed, not the saved stream",
                      stacklevel=2)

    def _promote(self) -> None:
        """Copy the newest checkpoint's weights and metadata to `best.*`."""
        stem = self.checkpoint_dir / f"step-{self.state.iteration:09d}"
        for suffix in (".safetensors", ".json"):
            source = stem.with_suffix(suffix)
            atomic_write(self.checkpoint_dir / f"best{suffix}",
                         lambda tmp, source=source: shutil.copyfile(source, tmp))

    # ------------------------------------------------------------------ logging
    @property
    def writer(self):
        if self._writer is None:
            from torch.utils.tensorboard import SummaryWriter

            self._writer = SummaryWriter(str(self.run_dir / "tensorboard"))
            if self.state.iteration == 0:
                self._writer.add_text("config", f"```\n{to_json(self.config)}\n```", 0)
        return self._writer

    def _log(self, metrics: dict[str, Any]) -> None:
        for tag, value in metrics.items():
            if "/" in tag and isinstance(value, (int, float)) and np.isfinite(value):
                self.writer.add_scalar(tag, value, self.state.samples)
        self.writer.flush()

    # ------------------------------------------------------------------ stages
    def evaluate_test(self) -> dict[str, Any]:
        cfg = self.config
        return evaluate_policy(self.policy, self.task, split="test", n=cfg.eval.test_problems,
                               seed=cfg.eval.test_seed,
                               max_new_tokens=cfg.sampling.max_new_tokens)

    def _evaluate_dev(self) -> dict[str, Any]:
        report = evaluate_policy(self.policy, self.task, split="dev", n=len(self._dev),
                                 seed=self.config.seed, return_rewards=True,
                                 max_new_tokens=self.config.sampling.max_new_tokens)
        return report

    def _gate(self, metrics: dict[str, Any]) -> None:
        report = self._evaluate_dev()
        metrics["llm/pass_at_1"] = report["pass@1"]
        decision = paired_gate(report["rewards"], self.state.best_dev_rewards,
                               z=self.config.eval.gate_z)
        metrics["gate/elo"] = decision.elo if np.isfinite(decision.elo) else 0.0
        metrics["gate/promoted"] = float(decision.promote)
        if decision.promote:
            self.state.best_iteration = self.state.iteration
            # The baseline of later comparisons moves only upwards: a run drifting down in
            # steps that are each within noise would otherwise carry the baseline down.
            if _solved(report["rewards"]) >= _solved(self.state.best_dev_rewards):
                self.state.best_dev_rewards = report["rewards"]

    def iterate(self) -> dict[str, Any]:
        """One iteration of every stage; returns its figures."""
        cfg = self.config
        start = time.perf_counter()
        warm = min(1.0, (self.state.optimizer_steps + 1) / max(1, cfg.optim.warmup_steps))
        for group, rate in zip(self.optimizer.param_groups, group_rates(cfg.optim)):
            group["lr"] = rate * warm
        problems = self._next_problems(cfg.optim.prompts_per_iteration)
        rollout = self.algorithm.rollout(problems, self.generator)
        act_seconds = time.perf_counter() - start
        rollout.save(self.replay_dir / f"iter-{self.state.iteration + 1:06d}.json")
        metrics: dict[str, Any] = {"iteration": self.state.iteration + 1, **rollout.metrics}
        metrics.update(self.algorithm.learn(rollout))
        self.state.iteration += 1
        self.state.optimizer_steps += getattr(self.algorithm, "steps_per_learn", 1)
        self.state.samples += len(rollout)
        if cfg.eval.every_iterations and self._dev \
                and self.state.iteration % cfg.eval.every_iterations == 0:
            self._gate(metrics)
        metrics["time/act_seconds"] = act_seconds
        metrics["time/iteration_seconds"] = time.perf_counter() - start
        self.state.elapsed_seconds += metrics["time/iteration_seconds"]
        self.state.history.append({k: v for k, v in metrics.items()
                                   if k in ("iteration", "llm/reward", "llm/pass_at_1")})
        if self.state.iteration % cfg.checkpoint_every == 0 or metrics.get("gate/promoted"):
            self.save()
            if metrics.get("gate/promoted"):
                self._promote()
        self._log(metrics)
        if self.on_iteration:
            self.on_iteration(metrics)
        return metrics

    def run(self, should_stop: Callable[[], bool] | None = None) -> dict[str, Any]:
        """Evaluate before, iterate until a limit, evaluate after; write summary.json."""
        cfg = self.config
        if self.state.iteration == 0 and not self.state.test_before and cfg.eval.test_problems:
            self.log("test pass@1 before RL ...")
            self.state.test_before = self.evaluate_test()
        if self.state.iteration == 0 and self._dev and not self.state.best_dev_rewards:
            self.state.best_dev_rewards = self._evaluate_dev()["rewards"]
            self.save()
            self._promote()
        while not self._done() and not (should_stop and should_stop()):
            self.iterate()
        if self.state.iteration % cfg.checkpoint_every:
            self.save()
        summary = self.summarise()
        if self._writer is not None:
            self._writer.close()
        return summary

    def _done(self) -> bool:
        cfg = self.config
        if cfg.iterations and self.state.iteration >= cfg.iterations:
            return True
        if cfg.minutes and self.state.elapsed_seconds >= cfg.minutes * 60:
            return True
        return not cfg.iterations and not cfg.minutes and self.state.iteration >= 1

    def summarise(self) -> dict[str, Any]:
        """Test pass@1 of the final and the best (gated) weights; writes summary.json."""
        cfg = self.config
        summary: dict[str, Any] = {
            "task": cfg.task, "task_options": cfg.task_options, "model": cfg.model,
            "algo": cfg.algo, "seed": cfg.seed, "iterations": self.state.iteration,
            "samples": self.state.samples, "rl_seconds": round(self.state.elapsed_seconds, 1),
            "test_before": _strip(self.state.test_before)}
        if cfg.eval.test_problems:
            summary["test_final"] = _strip(self.evaluate_test())
            best = self.checkpoint_dir / "best.safetensors"
            if best.is_file() and self.state.best_iteration != self.state.iteration:
                self.policy.load_trainable_state_dict(load_file(str(best)))
                summary["test_after"] = _strip(self.evaluate_test())
            else:
                summary["test_after"] = summary["test_final"]
            summary["best_iteration"] = self.state.best_iteration if self._dev \
                else self.state.iteration
            if self.state.test_before:
                summary["pass@1_gain"] = round(summary["test_after"]["pass@1"]
                                               - self.state.test_before["pass@1"], 4)
            self._log({"llm/test_pass_at_1": summary["test_after"]["pass@1"]})
        summary["dev_history"] = [h for h in self.state.history if "llm/pass_at_1" in h]
        atomic_write_text(self.run_dir / "summary.json", json.dumps(summary, indent=2))
        return summary


def reward_weights(config: LLMRunConfig, task_name: str) -> dict[str, float]:
    """Reward name -> weight: the task's own grader at weight 1 unless `rewards` names it,
    plus whatever `rewards` adds (a shaping reward never silently replaces the grader; give
    the task's name weight 0 to drop it)."""
    weights = {task_name: 1.0, **config.rewards}
    weights = {name: w for name, w in weights.items() if w != 0.0}
    if not weights:
        raise ConfigError("every reward has weight 0: nothing would be learned")
    return weights


def _solved(rewards: list[float]) -> int:
    return sum(1 for r in rewards if r >= 1.0)


def _strip(report: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in report.items() if k != "rewards"}


def prepare_run(run_dir: Path, config: LLMRunConfig | None, resume: bool,
                overrides: list[str] | None = None) -> LLMRunConfig:
    """The config to run with: a new run refuses a used directory; a resume reads the saved
    config and lets only the limits change (minutes, iterations, device, threads)."""
    config_path = Path(run_dir) / "config.json"
    if resume:
        if not config_path.is_file():
            raise CheckpointError(f"nothing to resume in {run_dir}: no config.json")
        saved = from_json_file(config_path)
        allowed = ("minutes", "iterations", "device", "threads")
        for text in overrides or []:
            key = text.split("=", 1)[0].strip().lstrip("-")
            if key not in allowed:
                raise ConfigError(f"on --resume only {', '.join(allowed)} may change, not {key!r}")
        return resolve_llm(base=asdict(saved), overrides=overrides)
    if config_path.exists() or (Path(run_dir) / "checkpoints").exists():
        raise ConfigError(f"{run_dir} already holds a run; use --resume or another --out")
    if config is None:
        raise ConfigError("a new run needs a config")
    return config


def main(argv: list[str] | None = None) -> None:
    """`python -m llm_bridge.train RUN_DIR [--resume] [key=value ...]` (used by the tests'
    kill -9 check; people use `move37 llm train`)."""
    import sys

    args = list(sys.argv[1:] if argv is None else argv)
    run_dir = Path(args.pop(0))
    resume = "--resume" in args
    overrides = [a for a in args if a != "--resume"]
    config = prepare_run(run_dir, None if resume else resolve_llm(overrides=overrides), resume,
                         overrides if resume else None)
    LLMTrainer(config, run_dir, resume=resume).run()


if __name__ == "__main__":
    main()


def checkpoint_stem(path: Path | str) -> Path:
    """A run directory means its best checkpoint (else its newest); a checkpoints directory
    the same; a file `x.json`/`x.safetensors`/`x` that checkpoint.

    Raises:
        CheckpointError: nothing there.
    """
    path = Path(path)
    if path.is_dir():
        directory = path / "checkpoints" if (path / "checkpoints").is_dir() else path
        if (directory / "best.json").is_file():
            return directory / "best"
        latest = latest_checkpoint(directory)
        if latest is None:
            raise CheckpointError(f"no LLM checkpoint in {path}")
        return latest
    for suffix in (".json", ".safetensors", ".train.pt"):
        if path.name.endswith(suffix):
            path = path.with_name(path.name[: -len(suffix)])
    if not path.with_suffix(".json").is_file() or not path.with_suffix(".safetensors").is_file():
        raise CheckpointError(f"checkpoint {path} not found (need {path.name}.json and "
                              f"{path.name}.safetensors)")
    return path


def load_checkpoint_policy(path: Path | str, *, device: str = "auto",
                           log: Callable[[str], None] | None = None):
    """`(config, policy)` of an LLM checkpoint: the base rebuilt from the saved config, then
    the checkpoint's trainable weights loaded.

    Raises:
        CheckpointError: a missing, foreign or corrupt checkpoint.
    """
    stem = checkpoint_stem(path)
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
