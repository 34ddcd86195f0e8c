"""A toy plug-in of the loop: a bandit actor, a counting learner and a fixed gate.

The model is one logit per arm. The actor pulls arms drawn from the softmax of the logits
(its own seeded stream) and writes each round's pulls as a JSON file; the learner counts
the pulls of every file it has not learned from and sets each logit to the log of that
arm's rewarded pulls (plus one); the gate's decision is fixed by the config. Everything the
loop does around it (run directory, checkpoints, best, resume, workers) is the real thing.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch

from engine.checkpoint import atomic_write_text
from engine.config import LoopConfig, resolve_config
from engine.loop import GateDecision, Plugin

ARM_REWARD = (0.1, 0.2, 0.8, 0.4)


@dataclass
class ToyConfig(LoopConfig):
    # Pulls per actor round; a pause per round (so a kill has something to interrupt); the
    # fixed gate's cadence (0 = no gate: every checkpoint is best) and decision.
    keep_checkpoints: int = 3
    pulls_per_round: int = 16
    round_seconds: float = 0.0
    gate_every: int = 0
    gate_promotes: bool = True


class PullReplay:
    def __init__(self, run_dir: Path) -> None:
        self.directory = Path(run_dir) / "pulls"
        self.directory.mkdir(parents=True, exist_ok=True)
        self.total_episodes = self.total_items = 0
        self._seen: set[str] = set()
        self.learned: set[str] = set()

    def add(self, episodes: list[dict[str, Any]], *, worker: int, version: int) -> int:
        name = f"w{worker:02d}-{self.written(worker):06d}.json"
        atomic_write_text(self.directory / name, json.dumps(
            {"version": version, "pulls": episodes}))
        return len(episodes)

    def written(self, worker: int) -> int:
        return len(list(self.directory.glob(f"w{worker:02d}-*.json")))

    def files(self) -> list[Path]:
        return sorted(self.directory.glob("w*.json"))

    def refresh(self) -> tuple[int, int]:
        new = 0
        for path in self.files():
            if path.name not in self._seen:
                self._seen.add(path.name)
                new += len(json.loads(path.read_text())["pulls"])
        self.total_episodes += new
        self.total_items += new
        return new, new

    def state_dict(self) -> dict[str, Any]:
        return {"learned": sorted(self.learned)}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.learned = set(state["learned"])


class BanditActor:
    def __init__(self, plugin: ToyPlugin, worker: int, written: int) -> None:
        self.plugin, self.worker = plugin, worker
        self.rng = np.random.default_rng([plugin.config.seed, worker, written])
        self.episodes_per_round = plugin.config.pulls_per_round

    def act(self, replay: PullReplay, version: int) -> dict[str, float]:
        time.sleep(self.plugin.config.round_seconds)
        logits = self.plugin.logits.detach().numpy()
        p = np.exp(logits - logits.max())
        arms = self.rng.choice(len(p), size=self.episodes_per_round, p=p / p.sum())
        pulls = [{"arm": int(a), "reward": float(self.rng.random() < ARM_REWARD[a])}
                 for a in arms]
        replay.add(pulls, worker=self.worker, version=version)
        return {"toy/mean_reward": float(np.mean([x["reward"] for x in pulls]))}

    def state_dict(self) -> dict[str, Any]:
        return {"rng": json.dumps(self.rng.bit_generator.state)}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.rng.bit_generator.state = json.loads(state["rng"])


class CountingLearner:
    def __init__(self, plugin: ToyPlugin) -> None:
        self.plugin = plugin
        self.step = 0
        self.counts = np.zeros(len(ARM_REWARD))

    def progress(self) -> int:
        return int(self.counts.sum())

    def learn(self, replay: PullReplay, new_items: int) -> dict[str, float]:
        for path in replay.files():
            if path.name in replay.learned:
                continue
            replay.learned.add(path.name)
            for pull in json.loads(path.read_text())["pulls"]:
                self.counts[pull["arm"]] += pull["reward"]
        with torch.no_grad():
            self.plugin.logits.copy_(torch.log1p(torch.tensor(self.counts)))
        self.step += 1
        return {"loss/toy": 0.0}

    def state_dict(self) -> dict[str, Any]:
        return {"step": self.step, "counts": self.counts.tolist()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.step, self.counts = int(state["step"]), np.asarray(state["counts"])


class FixedGate:
    def __init__(self, config: ToyConfig) -> None:
        self.every, self.gating, self.promotes = config.gate_every, config.gate_every > 0, \
            config.gate_promotes
        self.judged = 0

    def begin(self) -> dict[str, float]:
        return {}

    def judge(self, incumbent: Path | None, iteration: int) -> GateDecision:
        self.judged += 1
        return GateDecision(self.promotes, metrics={"toy/judged": float(self.judged)})

    def state_dict(self) -> dict[str, Any]:
        return {"judged": self.judged}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.judged = int(state["judged"])


class ToyPlugin(Plugin):
    name: ClassVar[str] = "toy_plugin:ToyPlugin"

    @classmethod
    def resolve_config(cls, preset: str | None = None, overrides: list[str] | None = None,
                       base: dict[str, Any] | None = None) -> ToyConfig:
        return resolve_config(ToyConfig, preset, overrides, base)

    @classmethod
    def build(cls, config: ToyConfig, run_dir: Path, *, worker: int = 0, log: Any = None,
              written: int | None = None) -> ToyPlugin:
        return cls(config, Path(run_dir), worker, written)

    def __init__(self, config: ToyConfig, run_dir: Path, worker: int,
                 written: int | None = None) -> None:
        self.config = config
        self.logits = torch.zeros(len(ARM_REWARD))
        self.replay = PullReplay(run_dir)
        self.actor = BanditActor(self, worker,
                                 self.replay.written(worker) if written is None else written)
        self.learner = CountingLearner(self)
        self.gate = FixedGate(config)

    def weights(self) -> dict[str, torch.Tensor]:
        return {"logits": self.logits}

    def load_weights(self, weights: dict[str, torch.Tensor]) -> None:
        self.logits.copy_(weights["logits"])

    def checkpoint_meta(self) -> dict[str, Any]:
        return {"arms": len(ARM_REWARD)}
