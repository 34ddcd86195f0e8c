"""What every algorithm hands the loop: a `Rollout` (the replay record) and two methods.

An algorithm is an actor and a learner over one policy:

* `rollout(problems, generator) -> Rollout`: play the problems (sample completions, or
  search over reasoning steps) and score them with the reward function;
* `learn(rollout) -> metrics`: update the policy (and value head) from that record.

A `Rollout` is plain data (token ids, texts, rewards, per-step search targets) written to the
run's replay directory as one JSON file per iteration, so what the learner trained on can be
inspected, and a learner could run from the files alone.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

import torch


@dataclass
class StepRecord:
    """One searched decision: the candidate steps at a node and the improved policy over them.

    Attributes:
        sample: index of the trajectory (in `Rollout.completions`) it belongs to.
        prefix: token ids of the text before the step (prompt excluded).
        candidates: token ids of each candidate step.
        target: the search's policy over the candidates (sums to 1).
    """

    sample: int
    prefix: list[int]
    candidates: list[list[int]]
    target: list[float]


@dataclass
class Rollout:
    """The trajectories of one iteration, N samples over P problems.

    Attributes:
        problem_ids: `[N]` the problem each sample answers.
        group: `[N]` index of that problem within the iteration (samples of one problem
            share it and are consecutive).
        prompts: `[N]` prompt token ids.
        completions: `[N]` completion token ids (eos included when produced).
        texts: `[N]` decoded completions.
        rewards: `[N]` total rewards.
        metrics: figures of the acting stage (reward means, lengths, ...).
        steps: per-decision search targets (expert iteration only).
        truncated: `[N]` the completion was cut at the token cap before its end-of-sequence
            token (empty in records written before it was kept: none truncated).
        tool_mask: `[N]` per completion token, 1 where a tool wrote it (no loss there);
            empty when no completion called a tool.
    """

    problem_ids: list[str]
    group: list[int]
    prompts: list[list[int]]
    completions: list[list[int]]
    texts: list[str]
    rewards: list[float]
    metrics: dict[str, float] = field(default_factory=dict)
    steps: list[StepRecord] = field(default_factory=list)
    truncated: list[bool] = field(default_factory=list)
    tool_mask: list[list[int]] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.completions)

    def save(self, path: Path) -> None:
        """Write the record as JSON, atomically."""
        from engine.checkpoint import atomic_write_text

        atomic_write_text(Path(path), json.dumps(asdict(self)))

    @classmethod
    def load(cls, path: Path) -> Rollout:
        data = json.loads(Path(path).read_text())
        data["steps"] = [StepRecord(**s) for s in data.get("steps", [])]
        return cls(**data)


class Algorithm(Protocol):
    """An actor and a learner over one policy (see the module docstring)."""

    name: str

    @property
    def steps_per_learn(self) -> int:
        """Optimiser steps one `learn` call takes."""
        ...

    def rollout(self, problems: Sequence[Any], generator: torch.Generator,
                more: Callable[[int], list[Any]] | None = None) -> Rollout:
        """Play `problems`; `more(n)` hands out the next n problems of the stream, for an
        algorithm that replaces problems it could not learn from (dynamic sampling)."""
        ...

    def learn(self, rollout: Rollout) -> dict[str, float]: ...

    def rng_state(self) -> dict[str, Any]:
        """The algorithm's own random state besides the sampling generator (JSON-able)."""
        ...

    def set_rng_state(self, state: dict[str, Any]) -> None: ...


def concat_rollouts(rollouts: Sequence[Rollout]) -> Rollout:
    """One record of several (problem groups and step samples renumbered); metrics of the
    last one."""
    if len(rollouts) == 1:
        return rollouts[0]
    out = Rollout([], [], [], [], [], [], dict(rollouts[-1].metrics) if rollouts else {}, [])
    for r in rollouts:
        group_offset = max(out.group, default=-1) + 1
        sample_offset = len(out)
        out.problem_ids += r.problem_ids
        out.group += [g + group_offset for g in r.group]
        out.prompts += r.prompts
        out.completions += r.completions
        out.texts += r.texts
        out.rewards += r.rewards
        out.truncated += r.truncated or [False] * len(r)
        out.tool_mask += r.tool_mask or [[0] * len(c) for c in r.completions]
    if not any(any(m) for m in out.tool_mask):
        out.tool_mask = []
        out.steps += [StepRecord(s.sample + sample_offset, s.prefix, s.candidates, s.target)
                      for s in r.steps]
    return out


def select_groups(rollout: Rollout, groups: Sequence[int]) -> Rollout:
    """The samples of the given problem groups, in that order, groups renumbered from 0;
    metrics kept. (GRPO's records hold no search steps.)"""
    rows = [[i for i, g in enumerate(rollout.group) if g == group] for group in groups]
    flat = [i for block in rows for i in block]
    truncated = rollout.truncated or [False] * len(rollout)
    tools = rollout.tool_mask
    return Rollout(problem_ids=[rollout.problem_ids[i] for i in flat],
                   group=[k for k, block in enumerate(rows) for _ in block],
                   prompts=[rollout.prompts[i] for i in flat],
                   completions=[rollout.completions[i] for i in flat],
                   texts=[rollout.texts[i] for i in flat],
                   rewards=[rollout.rewards[i] for i in flat], metrics=dict(rollout.metrics),
                   truncated=[truncated[i] for i in flat],
                   tool_mask=[tools[i] for i in flat] if tools else [])


def reward_metrics(breakdown: Any, lengths: Sequence[int], group_size: int) -> dict[str, float]:
    """The acting stage's figures under the `llm/` namespace."""
    raw = breakdown.metrics(num_generations=group_size if group_size > 1 else None)
    out = {f"llm/{k}": float(v) for k, v in raw.items()}
    out["llm/completion_length"] = float(sum(lengths) / max(1, len(lengths)))
    return out
