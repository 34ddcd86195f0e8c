"""What a plug-in hands the loop: an actor, a replay, a learner and a gate, over one model.

The loop (`engine.loop.run`) knows nothing of games or language models. A plug-in bundles

* an `Actor` that produces episodes (self-play games, scored rollouts) and adds each batch
  to the replay as soon as it is finished, so a kill loses no finished episode;
* a `Replay` that stores episodes on disk, atomically, and gives them back to the learner
  (it also sees what worker processes wrote into the same directory);
* a `Learner` that owns the optimiser, its step count and its learning-rate schedule;
* a `Gate` that judges a saved candidate against the incumbent `best` checkpoint;

with its config, its model's weights and the metadata that makes a checkpoint describe
itself. Every hook is declared here: the loop calls them and never probes for one.
`check_plugin` names any that are missing before a run starts.
"""

from __future__ import annotations

import inspect
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Protocol, runtime_checkable

import torch

from engine.config import LoopConfig
from engine.loop.gate import GateDecision


class PluginError(TypeError):
    """A plug-in that lacks a hook the loop needs."""


@dataclass
class RunState:
    """Where a run is; saved in every checkpoint."""

    iteration: int = 0
    elapsed_seconds: float = 0.0
    begun: dict[str, Any] = field(default_factory=dict)
    """What the plug-in's `begin` reported on the fresh run (e.g. test scores before)."""
    history: list[dict[str, Any]] = field(default_factory=list)


@runtime_checkable
class Replay(Protocol):
    """Episodes on disk: written atomically by actors, read back by the learner."""

    total_episodes: int
    """Episodes seen over the run (every file on disk, including other workers')."""
    total_items: int
    """Training items seen over the run (positions of games, completions of rollouts)."""

    def add(self, episodes: Any, *, worker: int, version: int) -> int:
        """Write a batch of finished episodes produced by `worker` with the network of
        learner step `version`; return how many episodes it held."""
        ...

    def written(self, worker: int) -> int:
        """Batches of episodes written for `worker` so far (a restarted worker derives a
        fresh seed stream from it)."""
        ...

    def refresh(self) -> tuple[int, int]:
        """Pick up files that appeared since the last call: `(episodes, items)` new."""
        ...

    def state_dict(self) -> dict[str, Any]:
        """What the replay must remember across a resume (e.g. what was consumed)."""
        ...

    def load_state_dict(self, state: dict[str, Any]) -> None: ...


@runtime_checkable
class Actor(Protocol):
    """Produces episodes with the plug-in's current weights."""

    episodes_per_round: int
    """Episodes one `act` call adds (what the learner waits for, per iteration)."""

    def act(self, replay: Replay, version: int) -> dict[str, Any]:
        """Play one round, adding every finished batch of episodes to `replay` at once;
        return the round's figures (TensorBoard tags; a str value, such as a sample
        episode, is logged as text and kept out of the summary)."""
        ...

    def state_dict(self) -> dict[str, Any]: ...

    def load_state_dict(self, state: dict[str, Any]) -> None: ...


@runtime_checkable
class Learner(Protocol):
    """Updates the model from the replay; owns the optimiser and its schedule."""

    step: int
    """Optimiser steps taken over the run (names checkpoints; drives the schedule)."""

    def learn(self, replay: Replay, new_items: int) -> dict[str, float]:
        """Train on the replay after `new_items` items arrived; return the figures."""
        ...

    def progress(self) -> int:
        """The logs' x-axis: positions or completions trained on so far."""
        ...

    def state_dict(self) -> dict[str, Any]: ...

    def load_state_dict(self, state: dict[str, Any]) -> None: ...


@runtime_checkable
class Gate(Protocol):
    """Judges the newest checkpoint against `best`."""

    every: int
    """Judge every this many iterations (0 = never)."""
    gating: bool
    """False: every checkpoint becomes `best` (no gate); the judgements only measure."""

    def begin(self) -> dict[str, float]:
        """Before the first iteration of a fresh run (e.g. score the starting weights)."""
        ...

    def judge(self, incumbent: Path | None, iteration: int) -> GateDecision:
        """Compare the plug-in's current weights with the checkpoint `incumbent` (`best`;
        None before there is one)."""
        ...

    def state_dict(self) -> dict[str, Any]: ...

    def load_state_dict(self, state: dict[str, Any]) -> None: ...


class Plugin(ABC):
    """A model with its actor, replay, learner and gate (see the module docstring).

    Subclasses set `name` (the registry key) and `resume_keys`, build their parts in
    `build`, and implement every abstract hook; the others have working defaults.
    """

    name: ClassVar[str]
    """Registry key (`engine.loop.registry`), also written to each checkpoint as `kind`."""
    resume_keys: ClassVar[tuple[str, ...]] = ("minutes", "iterations", "device", "workers",
                                              "cluster")
    """Config keys that `--resume` may change."""
    history_prefixes: ClassVar[tuple[str, ...]] = ("loss/", "gate/")
    """Figures kept per iteration in the run state's history (besides the iteration)."""

    config: LoopConfig
    actor: Actor
    replay: Replay
    learner: Learner
    gate: Gate

    # ------------------------------------------------------------------ construction
    @classmethod
    @abstractmethod
    def resolve_config(cls, preset: str | None = None, overrides: list[str] | None = None,
                       base: dict[str, Any] | None = None) -> Any:
        """The plug-in's config: defaults <- base <- preset <- `key=value` overrides."""

    @classmethod
    @abstractmethod
    def build(cls, config: Any, run_dir: Path, *, worker: int = 0, log: Any = None,
              written: int | None = None) -> Plugin:
        """The plug-in for `run_dir`: worker 0 is the learner's process (it may also act);
        workers 1.. only act, each with its own seed stream, derived from the run's seed,
        the worker's number and `written`, the batches the worker wrote before (None:
        counted in `run_dir`; a Ray actor, whose episodes the driver writes, is told)."""

    # ------------------------------------------------------------------ the model
    @abstractmethod
    def weights(self) -> dict[str, torch.Tensor]:
        """The tensors a checkpoint stores (all weights, or the trainable ones)."""

    @abstractmethod
    def load_weights(self, weights: dict[str, torch.Tensor]) -> None: ...

    @abstractmethod
    def checkpoint_meta(self) -> dict[str, Any]:
        """What a checkpoint says about itself besides the run config (game and model,
        task and policy spec, ...), enough to rebuild the model from it alone."""

    # ------------------------------------------------------------------ optional hooks
    def begin(self) -> dict[str, Any]:
        """Once, before the first iteration of a fresh run; the figures go to the summary."""
        return {}

    def summary(self, metrics: dict[str, Any], final: bool, state: RunState) -> dict[str, Any]:
        """The run's `summary.json` after an iteration (`final`: the run is ending), from
        the iteration's figures and the run's state."""
        return dict(metrics)

    def set_deadline(self, deadline: float | None) -> None:
        """The `time.monotonic()` moment the run's time budget ends (None: no limit), told
        before the first iteration; an actor may end its round there rather than overshoot."""

    def close(self) -> None:
        """Release what the plug-in holds (engines, pools)."""


REQUIRED_PARTS = {"actor": Actor, "replay": Replay, "learner": Learner, "gate": Gate}


def check_plugin(plugin: Plugin) -> None:
    """Raise `PluginError` naming every part or hook the loop needs and `plugin` lacks."""
    problems = []
    for part, protocol in REQUIRED_PARTS.items():
        value = getattr(plugin, part, None)
        if value is None:
            problems.append(f"no {part}")
            continue
        missing = [name for name in _protocol_members(protocol) if not hasattr(value, name)]
        if missing:
            problems.append(f"{part} {type(value).__name__} lacks {', '.join(missing)}")
    if problems:
        raise PluginError(f"plug-in {type(plugin).__name__}: " + "; ".join(problems))


def _protocol_members(protocol: type) -> list[str]:
    names = [n for n, v in vars(protocol).items()
             if not n.startswith("_") and (inspect.isfunction(v) or isinstance(v, property))]
    return sorted(names + list(getattr(protocol, "__annotations__", {})))
