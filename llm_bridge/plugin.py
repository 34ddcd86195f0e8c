"""LLM tasks as a plug-in of the loop (`engine.loop`): rollouts, replay files, RL, dev gate.

The same stages as the board games, over text:

* actor: the algorithm plays the next train problems (GRPO samples G completions each;
  the search plays them step by step) and the reward function scores them;
* replay: each batch of scored trajectories is a file `replay/w<worker>-<n>.json`
  (`Rollout`); the learner reads back every file it has not learned from, so a learner
  could run from the files alone;
* learner: the algorithm's update (GRPO, or search distillation and value regression) with
  an AdamW whose rate warms up over optimiser steps;
* gate: greedy pass@1 on a fixed dev set every `eval.every_iterations` iterations; the
  candidate becomes `best` unless it is worse beyond noise than the best dev record so far
  (that baseline moves only up, so small steps down cannot add up).

The summary holds test pass@1 before RL (after any warm start), of the final weights and of
the best ones. A run killed at any moment and resumed ends with the same weights as one
never interrupted: the actor's problem stream and sampling generator are in the checkpoint,
and the rollout of an iteration that was not learned from is played again identically.
"""

from __future__ import annotations

import json
import re
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch
from safetensors.torch import load_file

from engine.loop.gate import GateDecision, paired_decision
from engine.loop.protocols import Plugin, RunState
from llm_bridge import tasks
from llm_bridge.algorithms.base import Rollout, concat_rollouts
from llm_bridge.build import (
    build_optimizer,
    build_policy,
    group_rates,
    make_algorithm,
    reward_weights,
)
from llm_bridge.config import LLMRunConfig, resolve_llm
from llm_bridge.evaluate import evaluate_policy
from llm_bridge.tasks.controls import ControlReward

_NAME = re.compile(r"^w(\d{2})-(\d{6})\.json$")


class RolloutReplay:
    """`replay/w<worker>-<n>.json` files; the learner takes those it has not learned from."""

    def __init__(self, run_dir: Path) -> None:
        self.directory = Path(run_dir) / "replay"
        self.directory.mkdir(parents=True, exist_ok=True)
        self.total_episodes = self.total_items = 0
        self._seen: set[str] = set()
        self.next_sequence: dict[int, int] = {}
        self.consumed: dict[int, int] = {}  # worker -> last sequence learned from

    def add(self, episodes: Rollout, *, worker: int, version: int) -> int:
        sequence = self.next_sequence.get(worker)
        if sequence is None:
            sequence = 1 + max((s for w, s in self.on_disk() if w == worker), default=0)
        self.next_sequence[worker] = sequence + 1
        episodes.metrics["llm/policy_step"] = float(version)
        episodes.save(self.directory / f"w{worker:02d}-{sequence:06d}.json")
        return len(episodes)

    def written(self, worker: int) -> int:
        sequence = self.next_sequence.get(worker)
        if sequence is None:
            return max((s for w, s in self.on_disk() if w == worker), default=0)
        return sequence - 1

    def on_disk(self) -> list[tuple[int, int]]:
        found = (_NAME.match(p.name) for p in self.directory.iterdir())
        return sorted((int(m.group(1)), int(m.group(2))) for m in found if m)

    def refresh(self) -> tuple[int, int]:
        new = 0
        for worker, sequence in self.on_disk():
            name = f"w{worker:02d}-{sequence:06d}.json"
            if name not in self._seen:
                self._seen.add(name)
                new += len(Rollout.load(self.directory / name))
        self.total_episodes += new
        self.total_items += new
        return new, new

    def take(self) -> Rollout | None:
        """Every rollout not yet learned from, oldest first, as one record."""
        fresh = [(s, w) for w, s in self.on_disk() if s > self.consumed.get(w, 0)]
        if not fresh:
            return None
        rollouts = [Rollout.load(self.directory / f"w{w:02d}-{s:06d}.json")
                    for s, w in sorted(fresh)]
        for s, w in fresh:
            self.consumed[w] = max(self.consumed.get(w, 0), s)
        return concat_rollouts(rollouts)

    def state_dict(self) -> dict[str, Any]:
        return {"next_sequence": {str(k): v for k, v in self.next_sequence.items() if k == 0},
                "consumed": {str(k): v for k, v in self.consumed.items()}}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.next_sequence = {int(k): v for k, v in state["next_sequence"].items()}
        self.consumed = {int(k): v for k, v in state["consumed"].items()}


class LLMActor:
    """Plays the next train problems of a reshuffled stream with the algorithm."""

    def __init__(self, plugin: LLMPlugin, worker: int, written: int | None = None) -> None:
        config = plugin.config
        self.plugin, self.worker = plugin, worker
        self.pool = plugin.task.generate("train", config.train_problems, seed=config.seed)
        self.cursor = self.epoch = 0
        # The learner's own actor keeps the run's seed; each worker derives its own from the
        # run's seed, its number and how many rollouts it wrote before (a restarted worker
        # goes on with new samples rather than repeating its first ones).
        if written is None:
            written = plugin.replay.written(worker)
        seed = config.seed if worker == 0 else int(
            np.random.SeedSequence([config.seed, 5, worker, written]).generate_state(1)[0])
        self.generator = torch.Generator(device=plugin.policy.device).manual_seed(seed)
        per_rollout = config.grpo.group_size if config.algo == "grpo" else 1
        self.episodes_per_round = config.optim.prompts_per_iteration * per_rollout

    def _order(self) -> np.ndarray:
        key = [self.plugin.config.seed, 7, self.epoch] + ([self.worker] if self.worker else [])
        return np.random.default_rng(key).permutation(len(self.pool))

    def next_problems(self, count: int) -> list[Any]:
        """The next `count` train problems of the stream (reshuffled every epoch)."""
        out: list[Any] = []
        while len(out) < count:
            order = self._order()
            take = min(count - len(out), len(self.pool) - self.cursor)
            out += [self.pool[int(i)] for i in order[self.cursor:self.cursor + take]]
            self.cursor += take
            if self.cursor == len(self.pool):
                self.cursor, self.epoch = 0, self.epoch + 1
        return out

    def act(self, replay: RolloutReplay, version: int) -> dict[str, Any]:
        problems = self.next_problems(self.plugin.config.optim.prompts_per_iteration)
        rollout = self.plugin.algorithm.rollout(problems, self.generator, self.next_problems)
        replay.add(rollout, worker=self.worker, version=version)
        return {**rollout.metrics, "samples/completions": self.sample_text(rollout)}

    def sample_text(self, rollout: Rollout, count: int = 4) -> str:
        """The first `count` prompts and completions of a rollout with their rewards, as
        TensorBoard (Markdown) text; every one is in the run's `replay/*.json`."""
        decode = self.plugin.policy.codec.decode
        blocks = [f"reward {rollout.rewards[i]:.2f}, problem {rollout.problem_ids[i]}\n\n"
                  f"```\n{decode(rollout.prompts[i])}{rollout.texts[i]}\n```"
                  for i in range(min(count, len(rollout)))]
        return "\n\n".join(blocks)

    def state_dict(self) -> dict[str, Any]:
        return {"cursor": self.cursor, "epoch": self.epoch,
                "generator": self.generator.get_state(),
                "generator_device": self.generator.device.type,
                "algorithm": json.dumps(self.plugin.algorithm.rng_state())}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.cursor, self.epoch = int(state["cursor"]), int(state["epoch"])
        self.plugin.algorithm.set_rng_state(json.loads(state["algorithm"]))
        if state["generator_device"] == self.generator.device.type:
            self.generator.set_state(state["generator"])
            return
        # A run moved between the CPU and a GPU cannot continue the sampling stream (the
        # generators' states differ in kind): reproducible, not bit-identical.
        self.generator.manual_seed(self.plugin.config.seed * 1_000_003 + self.epoch * 7919
                                   + self.cursor)
        warnings.warn(f"resumed on {self.generator.device.type} a run saved on "
                      f"{state['generator_device']}: sampling continues from a derived seed, "
                      "not the saved stream", stacklevel=2)


class LLMLearner:
    """The algorithm's update on every rollout not yet learned from."""

    def __init__(self, plugin: LLMPlugin) -> None:
        self.plugin = plugin
        self.step = 0
        self.samples = 0

    def progress(self) -> int:
        return self.samples

    def learn(self, replay: RolloutReplay, new_items: int) -> dict[str, float]:
        rollout = replay.take()
        if rollout is None:
            return {}
        optim, algorithm = self.plugin.config.optim, self.plugin.algorithm
        warm = min(1.0, (self.step + 1) / max(1, optim.warmup_steps))
        for group, rate in zip(self.plugin.optimizer.param_groups, group_rates(optim)):
            group["lr"] = rate * warm
        metrics = algorithm.learn(rollout)
        self.step += algorithm.steps_per_learn
        self.samples += len(rollout)
        metrics["train/lr"] = group_rates(optim)[0] * warm
        return metrics

    def state_dict(self) -> dict[str, Any]:
        return {"optimizer": self.plugin.optimizer.state_dict(), "step": self.step,
                "samples": self.samples}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.plugin.optimizer.load_state_dict(state["optimizer"])
        self.step, self.samples = int(state["step"]), int(state["samples"])


class DevGate:
    """Paired greedy pass@1 on the same dev problems against the best record so far."""

    def __init__(self, plugin: LLMPlugin) -> None:
        config = plugin.config
        self.plugin = plugin
        self.dev = plugin.task.generate("dev", config.eval.dev_problems, seed=config.seed) \
            if config.eval.every_iterations and config.eval.dev_problems else []
        self.every = config.eval.every_iterations if self.dev else 0
        self.gating = bool(self.dev)
        self.best_dev_rewards: list[float] = []
        self.best_iteration = 0

    def _dev_report(self) -> dict[str, Any]:
        p = self.plugin
        return evaluate_policy(p.policy, p.task, split="dev", n=len(self.dev),
                               seed=p.config.seed, return_rewards=True,
                               max_new_tokens=p.config.sampling.max_new_tokens)

    def begin(self) -> dict[str, float]:
        if self.dev:
            self.best_dev_rewards = self._dev_report()["rewards"]
        return {}

    def judge(self, incumbent: Path | None, iteration: int) -> GateDecision:
        report = self._dev_report()
        decision = paired_decision(report["rewards"], self.best_dev_rewards,
                                   z=self.plugin.config.eval.gate_z,
                                   metrics={"llm/pass_at_1": report["pass@1"]})
        if decision.promote:
            self.best_iteration = iteration
            if _solved(report["rewards"]) >= _solved(self.best_dev_rewards):
                self.best_dev_rewards = report["rewards"]
        return decision

    def state_dict(self) -> dict[str, Any]:
        return {"best_dev_rewards": json.dumps(self.best_dev_rewards),
                "best_iteration": self.best_iteration}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.best_dev_rewards = json.loads(state["best_dev_rewards"])
        self.best_iteration = int(state["best_iteration"])


class LLMPlugin(Plugin):
    """A language-model policy with its rollout actor, replay files, RL learner and gate."""

    name: ClassVar[str] = "llm"
    resume_keys: ClassVar[tuple[str, ...]] = ("minutes", "iterations", "device", "threads",
                                              "workers", "cluster")
    history_prefixes: ClassVar[tuple[str, ...]] = ("llm/reward", "llm/pass_at_1")

    @classmethod
    def resolve_config(cls, preset: str | None = None, overrides: list[str] | None = None,
                       base: dict[str, Any] | None = None) -> LLMRunConfig:
        return resolve_llm(preset, overrides, base)

    @classmethod
    def build(cls, config: LLMRunConfig, run_dir: Path, *, worker: int = 0,
              log: Callable[[str], None] | None = None,
              written: int | None = None) -> LLMPlugin:
        return cls(config, Path(run_dir), worker, log, written)

    def __init__(self, config: LLMRunConfig, run_dir: Path, worker: int = 0,
                 log: Callable[[str], None] | None = None,
                 written: int | None = None) -> None:
        torch.set_num_threads(config.threads if worker == 0 else 1)
        self.config, self.run_dir = config, run_dir
        self.log = log or (lambda message: None)
        self.task = tasks.make(config.task, **config.task_options)
        self.policy = build_policy(config, self.task, self.log)
        self.optimizer = build_optimizer(self.policy, config.optim)
        reward = tasks.combine_rewards(reward_weights(config, self.task.name),
                                       functions={self.task.name: self.task},
                                       timeout_s=config.reward_timeout_s,
                                       workers=config.reward_workers)
        if config.control != "none":
            reward = ControlReward(reward, self.task, config.control, config.seed)
        self.algorithm = make_algorithm(config, self.policy, self.task, reward,
                                        self.optimizer, config.seed)
        self.replay = RolloutReplay(run_dir)
        self.actor = LLMActor(self, worker, written)
        self.learner = LLMLearner(self)
        self.gate = DevGate(self)
        self.test_before: dict[str, Any] = {}

    def weights(self) -> dict[str, torch.Tensor]:
        return self.policy.trainable_state_dict()

    def load_weights(self, weights: dict[str, torch.Tensor]) -> None:
        self.policy.load_trainable_state_dict(weights)

    def checkpoint_meta(self) -> dict[str, Any]:
        c = self.config
        return {"task": c.task, "task_options": c.task_options, "model": c.model,
                "policy": self.policy.spec, "prompt_style": self.policy.prompt_style,
                "lora": self.policy.uses_lora, "optimizer_steps": self.learner.step,
                "samples": self.learner.samples, "algo": c.algo}

    def evaluate_test(self) -> dict[str, Any]:
        c = self.config
        return evaluate_policy(self.policy, self.task, split="test", n=c.eval.test_problems,
                               seed=c.eval.test_seed, max_new_tokens=c.sampling.max_new_tokens)

    def begin(self) -> dict[str, Any]:
        if not self.config.eval.test_problems:
            return {}
        self.log("test pass@1 before RL ...")
        return {"test_before": self.evaluate_test()}

    def summary(self, metrics: dict[str, Any], final: bool, state: RunState) -> dict[str, Any]:
        """Test pass@1 before RL and, at the end, of the final and the best weights."""
        c = self.config
        summary: dict[str, Any] = {
            "task": c.task, "task_options": c.task_options, "model": c.model, "algo": c.algo,
            "seed": c.seed, "iterations": state.iteration, "samples": self.learner.samples,
            "rl_seconds": round(state.elapsed_seconds, 1),
            "test_before": _strip(state.begun.get("test_before", {})),
            "dev_history": [h for h in state.history if "llm/pass_at_1" in h]}
        if not (final and c.eval.test_problems):
            return summary
        summary["test_final"] = _strip(self.evaluate_test())
        best = self.run_dir / "checkpoints" / "best.safetensors"
        moved_on = self.gate.best_iteration != summary["iterations"]
        if self.gate.gating and best.is_file() and moved_on:
            self.policy.load_trainable_state_dict(load_file(str(best)))
            summary["test_after"] = _strip(self.evaluate_test())
        else:
            summary["test_after"] = summary["test_final"]
        summary["best_iteration"] = (self.gate.best_iteration if self.gate.gating
                                     else summary["iterations"])
        if summary["test_before"]:
            summary["pass@1_gain"] = round(summary["test_after"]["pass@1"]
                                           - summary["test_before"]["pass@1"], 4)
        return summary


def _solved(rewards: list[float]) -> int:
    return sum(1 for r in rewards if r >= 1.0)


def _strip(report: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in report.items() if k != "rewards"}
