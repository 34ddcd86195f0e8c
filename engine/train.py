"""The training loop: self-play -> replay -> learner -> checkpoint -> arena, repeated.

Run directory layout (everything a run needs to be resumed or inspected):

    config.json              the resolved config (written once, before anything else)
    selfplay/*.npz           shards of finished self-play games (see engine/replay.py)
    games/*.<ext>            the same games in the game's standard text form
    checkpoints/step-*.{safetensors,json,train.pt}
    tensorboard/             TensorBoard events; x-axis = positions trained
    summary.json             the last iteration's figures

The stages talk only through these files: self-play workers (`workers > 0`) are separate
processes that read the latest checkpoint and write shards, so they could as well run on
other machines. `resume` rebuilds everything from the directory: the config, the newest
complete checkpoint (weights, optimizer, schedule counters, RNG states) and every shard on
disk, including those written after that checkpoint. A kill at any moment loses at most the
games in flight and the gradient steps since the last checkpoint.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch

import games as games_registry
from engine.checkpoint import (CheckpointError, atomic_write_text, latest_checkpoint,
                               load_checkpoint, load_training_state, prune_checkpoints,
                               save_checkpoint)
from engine.config import ConfigError, RunConfig, from_json_file, to_json
from engine.gameops import GameOps, NetworkEvaluator
from engine.learner import Learner
from engine.model import NetworkShape, PolicyValueNet, count_parameters, resolve_device
from engine.replay import ReplayBuffer, augment, desired_window
from engine.selfplay import SelfPlayActor, stats_summary
from games.base import Game


@dataclass
class RunState:
    """Counters that define where a run is; saved in every checkpoint's training state."""

    iteration: int = 0
    step: int = 0
    positions_trained: int = 0
    games_played: int = 0
    elapsed_seconds: float = 0.0
    history: list[dict[str, Any]] = field(default_factory=list)


def seed_everything(seed: int) -> None:
    np.random.seed(seed % (2**32))
    torch.manual_seed(seed)


def build_model(game: Game, config: RunConfig) -> PolicyValueNet:
    return PolicyValueNet(NetworkShape(game.observation_shape, game.num_actions), config.model)


class Trainer:
    """One run: owns the model, learner, replay buffer, actor and logs of a run directory."""

    def __init__(self, config: RunConfig, run_dir: Path, *, resume: bool = False,
                 on_iteration: Callable[[dict[str, Any]], None] | None = None) -> None:
        self.run_dir = Path(run_dir)
        self.config = config
        self.on_iteration = on_iteration
        self.game = games_registry.make(config.game, **config.game_options)
        self.ops = GameOps(self.game)
        self.device = resolve_device(config.device)
        if config.torch_threads > 0:
            torch.set_num_threads(config.torch_threads)
        seed_everything(config.seed)
        self.model = build_model(self.game, config).to(self.device)
        self.learner = Learner(self.model, config.train, self.device, config.train.root_value_blend)
        self.state = RunState()
        self.rng = np.random.default_rng([config.seed, 1])
        self.checkpoint_dir = self.run_dir / "checkpoints"
        self.shard_dir = self.run_dir / "selfplay"
        self.games_dir = self.run_dir / "games"
        for directory in (self.checkpoint_dir, self.shard_dir, self.games_dir):
            directory.mkdir(parents=True, exist_ok=True)
        if resume:
            self._restore()
        else:
            atomic_write_text(self.run_dir / "config.json", to_json(config))
        r = config.replay
        self.replay = ReplayBuffer([self.shard_dir], lambda n: desired_window(
            n, r.window_min, r.window_exponent, r.window_scale, r.window_max))
        self.replay.refresh()
        self.evaluator = NetworkEvaluator(self.model, self.ops, self.device,
                                          compile=config.compile)
        self.actor: SelfPlayActor | None = None
        if config.workers == 0:
            self.actor = SelfPlayActor(
                self.game, config, self.evaluator,
                seed=int(np.random.SeedSequence([config.seed, 2, self.state.iteration])
                         .generate_state(1)[0]),
                worker=0, shard_dir=self.shard_dir, games_dir=self.games_dir)
        self._writer = None
        self.pool = None

    # --------------------------------------------------------------------------- resume
    def _restore(self) -> None:
        stem = latest_checkpoint(self.checkpoint_dir)
        if stem is None:
            return  # killed before the first checkpoint: start fresh but keep the shards
        checkpoint = load_checkpoint(stem)
        self.model.load_state_dict(checkpoint.state_dict)
        training = load_training_state(stem)
        self.learner.load_state_dict(training["learner"])
        run_state = json.loads(training["run_state"])
        self.state = RunState(**run_state)
        self.rng = np.random.default_rng()
        self.rng.bit_generator.state = json.loads(training["rng_state"])
        torch.set_rng_state(training["torch_rng"])

    def _training_state(self) -> dict[str, Any]:
        return {
            "learner": self.learner.state_dict(),
            "run_state": json.dumps(self.state.__dict__),
            "rng_state": json.dumps(self.rng.bit_generator.state),
            "torch_rng": torch.get_rng_state(),
        }

    # --------------------------------------------------------------------------- logging
    @property
    def writer(self):
        if self._writer is None:
            from torch.utils.tensorboard import SummaryWriter

            self._writer = SummaryWriter(str(self.run_dir / "tensorboard"))
            if self.state.iteration == 0:
                self._writer.add_text("config", f"```\n{to_json(self.config)}\n```", 0)
        return self._writer

    def _log(self, metrics: dict[str, float]) -> None:
        x = self.learner.positions_trained
        for tag, value in metrics.items():
            if isinstance(value, (int, float)) and np.isfinite(value):
                self.writer.add_scalar(tag, value, x)
        self.writer.flush()

    # --------------------------------------------------------------------------- the loop
    def iterate(self) -> dict[str, Any]:
        """One iteration: self-play, train, checkpoint, maybe arena. Returns its figures."""
        cfg = self.config
        metrics: dict[str, Any] = {"iteration": self.state.iteration + 1}
        start = time.perf_counter()
        if self.actor is not None:
            self.actor.network_step = self.learner.step
            stats, _ = self.actor.run(cfg.selfplay.games_per_iteration)
            self.state.games_played += stats.games
            summary = stats_summary(stats)
            metrics.update({f"selfplay/{k}": v for k, v in summary.items()})
            new_positions = self.replay.refresh()
        else:
            from engine.workers import wait_for_positions

            games_before = self.replay.total_games
            selfplay_start = time.perf_counter()
            new_positions = wait_for_positions(self, cfg.selfplay.games_per_iteration)
            self.state.games_played += self.replay.total_games - games_before
            metrics["selfplay/positions_per_sec"] = new_positions / max(
                1e-9, time.perf_counter() - selfplay_start)
        metrics["replay/window"] = self.replay.size
        metrics["replay/positions_generated"] = self.replay.total_positions
        steps = max(cfg.train.min_steps,
                    int(round(new_positions * cfg.train.sample_reuse / cfg.train.batch_size)))
        train_metrics = self._train(steps)
        metrics.update(train_metrics)
        self.state.iteration += 1
        self.state.step = self.learner.step
        self.state.positions_trained = self.learner.positions_trained
        if cfg.arena.every_iterations and self.state.iteration % cfg.arena.every_iterations == 0:
            metrics.update(self._arena())
        metrics["time/iteration_seconds"] = time.perf_counter() - start
        self.state.elapsed_seconds += metrics["time/iteration_seconds"]
        if cfg.checkpoint_every and self.state.iteration % cfg.checkpoint_every == 0:
            self.save()
        self._log({k: v for k, v in metrics.items() if k != "iteration"})
        metrics["positions_trained"] = self.learner.positions_trained
        self.state.history.append({k: v for k, v in metrics.items()
                                   if k.startswith(("arena/", "loss/")) or k == "iteration"})
        atomic_write_text(self.run_dir / "summary.json",
                          json.dumps(_jsonable(metrics), indent=2, sort_keys=True))
        if self.on_iteration:
            self.on_iteration(metrics)
        return metrics

    def _train(self, steps: int) -> dict[str, float]:
        if self.replay.size == 0:
            return {}
        totals: dict[str, float] = {}
        for _ in range(steps):
            batch = self.replay.sample(self.config.train.batch_size, self.rng)
            if self.config.replay.symmetries:
                batch = augment(batch, self.game.apply_symmetry, self.game.num_symmetries, self.rng)
            for key, value in self.learner.train_step(batch).items():
                totals[key] = totals.get(key, 0.0) + value
        result = {k: v / steps for k, v in totals.items()}
        result["train/steps"] = steps
        return result

    def _arena(self) -> dict[str, float]:
        from engine.agents import SearchAgent, make_agent
        from engine.arena import play_match
        from engine.config import play_search_config

        cfg = self.config.arena
        ours = SearchAgent(self.game, self.evaluator, cfg.simulations,
                           play_search_config(self.config),
                           seed=self.state.iteration, name="current")
        out: dict[str, float] = {}
        for spec in cfg.opponents:
            opponent = make_agent(spec, self.game, device=self.config.device,
                                  seed=self.state.iteration)
            result = play_match(self.game, ours, opponent, cfg.games, seed=self.state.iteration,
                                opening_moves=1 if self.game.num_actions < 16 else 2)
            elo, _, _ = result.elo()
            name = spec.replace(":", "_")
            out[f"arena/score_vs_{name}"] = result.score
            out[f"arena/losses_vs_{name}"] = result.losses
            out[f"arena/elo_vs_{name}"] = elo if np.isfinite(elo) else float(np.sign(elo) * 1000)
        return out

    def save(self) -> Path:
        stem = self.checkpoint_dir / f"step-{self.learner.step:09d}"
        save_checkpoint(stem, self.model, self.config, step=self.learner.step,
                        positions_trained=self.learner.positions_trained,
                        positions_generated=self.replay.total_positions,
                        training_state=self._training_state(),
                        extra={"iteration": self.state.iteration,
                               "parameters": count_parameters(self.model)})
        prune_checkpoints(self.checkpoint_dir, self.config.keep_checkpoints)
        return stem

    def run(self, should_stop: Callable[[], bool] | None = None) -> dict[str, Any]:
        """Iterate until the config's iteration or time limit (counted in this invocation)."""
        cfg = self.config
        start = time.monotonic()
        first_iteration = self.state.iteration
        last: dict[str, Any] = {}
        if cfg.workers > 0:
            from engine.workers import WorkerPool

            if latest_checkpoint(self.checkpoint_dir) is None:
                self.save()  # the workers start from the learner's initial weights
            self.pool = WorkerPool(self.run_dir, cfg.workers)
            self.pool.start()
        try:
            last = self._loop(start, first_iteration, should_stop)
        finally:
            if self.pool is not None:
                self.pool.stop()
                self.pool = None
        if self.state.iteration and (latest_checkpoint(self.checkpoint_dir) is None or
                                     cfg.checkpoint_every == 0 or
                                     self.state.iteration % cfg.checkpoint_every):
            self.save()
        if self._writer is not None:
            self._writer.close()
        return last

    def _loop(self, start: float, first_iteration: int,
              should_stop: Callable[[], bool] | None) -> dict[str, Any]:
        cfg = self.config
        last: dict[str, Any] = {}
        while True:
            done_iterations = self.state.iteration - first_iteration
            if cfg.iterations and self.state.iteration >= cfg.iterations:
                break
            if cfg.minutes and time.monotonic() - start >= cfg.minutes * 60:
                break
            if not cfg.iterations and not cfg.minutes and done_iterations >= 1:
                break
            if should_stop is not None and should_stop():
                break
            last = self.iterate()
        return last


def _jsonable(metrics: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for key, value in metrics.items():
        if isinstance(value, (np.floating, np.integer)):
            value = value.item()
        if isinstance(value, float) and not np.isfinite(value):
            value = None
        out[key] = value
    return out


def prepare_run(run_dir: Path, config: RunConfig | None, resume: bool,
                overrides: list[str] | None = None) -> RunConfig:
    """Check the run directory against the request; return the config to run with.

    A new run refuses a directory that already holds a run (nothing is overwritten); a resume
    reads the directory's saved config and applies only the limits given now (time,
    iterations, device, workers).
    """
    from engine.config import resolve, to_dict

    config_path = Path(run_dir) / "config.json"
    if resume:
        if not config_path.is_file():
            raise CheckpointError(f"nothing to resume in {run_dir}: no config.json")
        saved = from_json_file(config_path)
        allowed = ("minutes", "iterations", "device", "workers", "compile")
        for text in overrides or []:
            key = text.split("=", 1)[0].strip().lstrip("-")
            if key not in allowed:
                raise ConfigError(f"on --resume only {', '.join(allowed)} may change, not {key!r}")
        return resolve(base=to_dict(saved), overrides=overrides)
    if config_path.exists() or (Path(run_dir) / "checkpoints").exists():
        raise ConfigError(f"{run_dir} already holds a run; use --resume or another --out")
    assert config is not None
    return config
