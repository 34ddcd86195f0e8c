"""The one loop: actor -> replay -> learner -> checkpoint -> gate, for every plug-in.

Run directory (the same for games and language models):

    config.json          the resolved config, written before anything else
    <replay files>       the plug-in's episodes (`selfplay/*.npz`, `replay/*.json`, ...)
    checkpoints/         step-*.{safetensors,train.pt,json} and best.{safetensors,json}
    tensorboard/         TensorBoard events; x-axis = the learner's progress
    summary.json         the plug-in's summary after the latest iteration

An iteration: the actor plays a round and adds each finished batch of episodes to the
replay (or, with `workers > 0`, worker processes or Ray actors do, and the learner waits
for a round's worth, and learns at most a round's worth when more waited); the learner
trains on the replay; every `gate.every` iterations the
gate judges the current weights against `best`; a checkpoint is written every
`checkpoint_every` iterations and whenever the gate promotes. Without gating every
checkpoint is `best`.

An actor's figures are TensorBoard scalars; a text figure (a sample game record, sample
completions) is logged as TensorBoard text and kept out of `summary.json`.

Resume rebuilds the run from the directory alone: config, newest checkpoint (weights,
learner, actor, replay and gate state, RNGs) and every episode on disk, including those
written after that checkpoint, so a kill at any moment loses no finished episode and no
checkpoint.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import torch

from engine.checkpoint import CheckpointError, atomic_write_text, latest_checkpoint
from engine.config import ConfigError, to_json
from engine.loop.protocols import Plugin, RunState, check_plugin
from engine.loop.store import CheckpointStore
from engine.loop.workers import ActorPool, make_pool


class Run:
    """One run of a plug-in over a run directory (see the module docstring)."""

    def __init__(self, plugin: Plugin, run_dir: Path, *, resume: bool = False,
                 on_iteration: Callable[[dict[str, Any]], None] | None = None) -> None:
        check_plugin(plugin)
        self.plugin, self.config = plugin, plugin.config
        self.run_dir = Path(run_dir)
        self.on_iteration = on_iteration
        self.store = CheckpointStore(self.run_dir / "checkpoints", self.config.keep_checkpoints)
        self.state = RunState()
        self.pool: ActorPool | None = None
        self.resumed = resume
        self.deadline: float | None = None
        """`time.monotonic()` moment the time budget ends (set by `run`; None: no limit)."""
        self._writer: Any = None
        if resume:
            self._restore()
        else:
            atomic_write_text(self.run_dir / "config.json", to_json(self.config))
        self.plugin.replay.refresh()

    # ------------------------------------------------------------------ checkpoints
    def _training_state(self) -> dict[str, Any]:
        p = self.plugin
        return {"learner": p.learner.state_dict(), "actor": p.actor.state_dict(),
                "replay": p.replay.state_dict(), "gate": p.gate.state_dict(),
                "run_state": json.dumps(_jsonable(asdict(self.state))),
                "torch_rng": torch.get_rng_state()}

    def save(self) -> Path:
        """Write a checkpoint of the current weights and everything resuming needs."""
        p = self.plugin
        meta = {"kind": p.name, "iteration": self.state.iteration, "seed": self.config.seed,
                "config": json.loads(to_json(self.config)), **p.checkpoint_meta()}
        return self.store.save(p.learner.step, p.weights(), meta, self._training_state())

    def _restore(self) -> None:
        stem = self.store.latest()
        if stem is None:
            return  # killed before the first checkpoint: start afresh, keeping the episodes
        weights, _ = self.store.load_weights(stem)
        self.plugin.load_weights(weights)
        training = self.store.load_training(stem)
        p = self.plugin
        p.learner.load_state_dict(training["learner"])
        p.actor.load_state_dict(training["actor"])
        p.replay.load_state_dict(training["replay"])
        p.gate.load_state_dict(training["gate"])
        self.state = RunState(**json.loads(training["run_state"]))
        torch.set_rng_state(training["torch_rng"])

    # ------------------------------------------------------------------ logging
    @property
    def writer(self) -> Any:
        if self._writer is None:
            from torch.utils.tensorboard import SummaryWriter

            self._writer = SummaryWriter(str(self.run_dir / "tensorboard"))
            if not self.resumed:
                self._writer.add_text("config", f"```\n{to_json(self.config)}\n```", 0)
                # The HParams tab: the config flattened, one column per key.
                self._writer.add_hparams(hparams(json.loads(to_json(self.config))), {},
                                         run_name=".")
        return self._writer

    def _log(self, metrics: dict[str, Any], texts: dict[str, str] | None = None) -> None:
        x = self.plugin.learner.progress()
        for tag, value in metrics.items():
            if "/" in tag and isinstance(value, (int, float)) and np.isfinite(value):
                self.writer.add_scalar(tag, value, x)
        for tag, text in (texts or {}).items():
            self.writer.add_text(tag, text, x)
        self.writer.flush()

    def _write_summary(self, metrics: dict[str, Any], final: bool) -> dict[str, Any]:
        summary = _jsonable(self.plugin.summary(metrics, final, self.state))
        atomic_write_text(self.run_dir / "summary.json",
                          json.dumps(summary, indent=2, sort_keys=True))
        return summary

    # ------------------------------------------------------------------ the loop
    def iterate(self) -> dict[str, Any]:
        """One iteration of every stage; returns its figures."""
        p, cfg = self.plugin, self.config
        start = time.perf_counter()
        metrics: dict[str, Any] = {"iteration": self.state.iteration + 1}
        if self.pool is None:
            metrics.update(p.actor.act(p.replay, p.learner.step))
            _, new_items = p.replay.refresh()
        else:
            per_round = p.actor.episodes_per_round
            new_episodes, arrived = self._wait_for_workers(per_round, self.deadline)
            metrics["actor/items_per_sec"] = arrived / max(1e-9, time.perf_counter() - start)
            metrics["actor/rounds_waiting"] = new_episodes / max(1, per_round)
            new_items = items_to_learn(per_round, new_episodes, arrived)
        act_seconds = time.perf_counter() - start
        # Text figures (a sample game, sample completions) go to TensorBoard only.
        texts = {k: metrics.pop(k) for k in [k for k, v in metrics.items() if isinstance(v, str)]}
        metrics.update(p.learner.learn(p.replay, new_items))
        self.state.iteration += 1
        decision = None
        # Past the time budget the gate waits: an arena can take longer than an iteration.
        if (p.gate.every and self.state.iteration % p.gate.every == 0
                and not self._out_of_time()):
            decision = p.gate.judge(self.store.best(), self.state.iteration)
            metrics.update(decision.metrics)
            metrics.update({"gate/promoted": float(decision.promote),
                            "gate/score": decision.score})
            if np.isfinite(decision.elo):
                metrics["gate/elo"] = decision.elo
        # Gated: only a judged and accepted candidate becomes best. Ungated: every checkpoint.
        promote = (decision is not None and decision.promote) if p.gate.gating else True
        metrics["time/act_seconds"] = act_seconds
        metrics["time/iteration_seconds"] = time.perf_counter() - start
        self.state.elapsed_seconds += metrics["time/iteration_seconds"]
        self.state.history.append({k: v for k, v in metrics.items()
                                   if k == "iteration" or k.startswith(p.history_prefixes)})
        due = cfg.checkpoint_every and self.state.iteration % cfg.checkpoint_every == 0
        if due or (promote and decision is not None):
            stem = self.save()
            if promote:
                self.store.promote(stem)
        metrics["progress"] = p.learner.progress()
        self._log({k: v for k, v in metrics.items() if k != "iteration"}, texts)
        self._write_summary(metrics, final=False)
        if self.on_iteration:
            self.on_iteration(metrics)
        return metrics

    def run(self, should_stop: Callable[[], bool] | None = None,
            started: float | None = None) -> dict[str, Any]:
        """Iterate until the config's iteration or time limit; returns the final summary.

        The time limit counts from `started` (a `time.monotonic()` value; default: now), so
        a caller can count its own start-up in the budget. The plug-in is told the deadline
        (`set_deadline`; the board games' actor and learner stop there) and the gate is
        skipped once the budget is spent.
        """
        p, cfg = self.plugin, self.config
        start = time.monotonic() if started is None else started
        self.deadline = start + cfg.minutes * 60 if cfg.minutes else None
        p.set_deadline(self.deadline)
        if self.store.latest() is None:
            self.state.begun = {**p.begin(), **p.gate.begin()}
            self.store.promote(self.save())  # the starting weights: incumbent and workers' net
        self.pool = make_pool(p.name, self.run_dir, cfg, p.replay, self.store)
        if self.pool is not None:
            self.pool.start()
        first = self.state.iteration
        last: dict[str, Any] = {}
        try:
            while not self._done(start, first) and not (should_stop and should_stop()):
                last = self.iterate()
        finally:
            if self.pool is not None:
                self.pool.stop()
                self.pool = None
        if self.state.iteration and self.store.latest() != self.store.stem(p.learner.step):
            stem = self.save()
            if not p.gate.gating:
                self.store.promote(stem)
        summary = self._write_summary(last, final=True)
        if self._writer is not None:
            self._writer.close()
        p.close()
        return summary

    def _done(self, start: float, first: int) -> bool:
        cfg = self.config
        if cfg.iterations and self.state.iteration >= cfg.iterations:
            return True
        if cfg.minutes and time.monotonic() - start >= cfg.minutes * 60:
            return True
        return not cfg.iterations and not cfg.minutes and self.state.iteration > first

    def _out_of_time(self) -> bool:
        return self.deadline is not None and time.monotonic() >= self.deadline

    def _wait_for_workers(self, episodes: int, deadline: float | None = None,
                          poll_seconds: float = 0.2) -> tuple[int, int]:
        """Block until the workers have added `episodes` more episodes (or the deadline
        passed); return the new episodes and items."""
        replay, got, items = self.plugin.replay, 0, 0
        while got < episodes and not (deadline is not None and time.monotonic() >= deadline):
            self.pool.check()
            time.sleep(poll_seconds)
            new_episodes, new_items = replay.refresh()
            got, items = got + new_episodes, items + new_items
        return got, items


def items_to_learn(per_round: int, episodes: int, items: int) -> int:
    """The new items an iteration's learning is sized by: those of at most one actor round.

    Workers that outrun the learner leave several rounds waiting; sizing the learning by all
    of them (steps = items x sample_reuse / batch) would make each iteration longer than the
    last, and the network the workers play with staler. Learning one round's worth keeps
    the learner's pace; the surplus stays in the replay window, trained on less often (as
    KataGo's trainer does when self-play outpaces it).

    >>> items_to_learn(64, 64, 3000), items_to_learn(64, 256, 12000), items_to_learn(64, 0, 0)
    (3000, 3000, 0)
    """
    if episodes <= per_round:
        return items
    return round(items * per_round / episodes)


def hparams(config: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """A nested config as TensorBoard hyperparameters: `section.key` -> number, bool or
    string (lists and other values as their JSON text).

    >>> hparams({"seed": 1, "train": {"lr": 0.1, "sizes": [1, 2]}})
    {'seed': 1, 'train.lr': 0.1, 'train.sizes': '[1, 2]'}
    """
    flat: dict[str, Any] = {}
    for key, value in config.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(hparams(value, f"{name}."))
        elif isinstance(value, (bool, int, float, str)):
            flat[name] = value
        else:
            flat[name] = json.dumps(value)
    return flat


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (np.floating, np.integer)):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


def completed_iterations(run_dir: Path) -> int:
    """Iterations the run in `run_dir` finished by its newest checkpoint (0 without one)."""
    stem = latest_checkpoint(Path(run_dir) / "checkpoints")
    if stem is None:
        return 0
    try:
        return int(json.loads(stem.with_suffix(".json").read_text()).get("iteration", 0))
    except (OSError, ValueError, AttributeError) as error:
        raise CheckpointError(f"checkpoint {stem}.json is unreadable: {error}") from None


def prepare_run(plugin: type[Plugin], run_dir: Path, config: Any, resume: bool,
                overrides: list[str] | None = None) -> Any:
    """Check the run directory against the request; return the config to run with.

    A new run refuses a directory that already holds one (nothing is overwritten); a resume
    reads the saved config and applies only the overrides the plug-in allows on resume. A
    run on a Ray cluster joins it here.
    """
    config_path = Path(run_dir) / "config.json"
    if resume:
        if not config_path.is_file():
            raise CheckpointError(f"nothing to resume in {run_dir}: no config.json")
        try:
            saved = json.loads(config_path.read_text())
        except (OSError, json.JSONDecodeError) as error:
            raise ConfigError(f"cannot read config {config_path}: {error}") from None
        for text in overrides or []:
            key = text.split("=", 1)[0].strip().lstrip("-")
            if key not in plugin.resume_keys:
                raise ConfigError(f"on --resume only {', '.join(plugin.resume_keys)} may "
                                  f"change, not {key!r}")
        return _join_cluster(plugin.resolve_config(base=saved, overrides=overrides))
    if config_path.exists() or (Path(run_dir) / "checkpoints").exists():
        raise ConfigError(f"{run_dir} already holds a run; use --resume or another --out")
    if config is None:
        raise ConfigError("a new run needs a config")
    return _join_cluster(config)


def _join_cluster(config: Any) -> Any:
    """Join the config's Ray cluster now, so that a bad address fails before anything is
    written (`engine.loop.ray_pool.ClusterError`)."""
    if config.cluster:
        if config.workers < 1:
            raise ConfigError("a run on a Ray cluster needs actors: --actors N (N >= 1)")
        from engine.loop.ray_pool import connect

        connect(config.cluster, config.workers)
    return config
