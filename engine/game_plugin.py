"""Board games as a plug-in of the loop (`engine.loop`): self-play, shards, learner, arena.

* actor: `SelfPlayActor` plays `concurrent_games` games at once with the batched search and
  hands every finished batch of games to the replay at once;
* replay: the run's `selfplay/*.npz` shards (format in `engine.replay`) and the same games
  in the game's own text form under `games/`; the learner samples KataGo's power-law window;
* learner: `engine.learner.Learner`, trained `sample_reuse` times on each new position;
* gate: every `arena.every_iterations` iterations an arena against `arena.opponents` (for the
  logs), and with `arena.gate` a match against `best` that promotes at `gate_threshold`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch

import games as games_registry
from engine.checkpoint import CheckpointError, latest_checkpoint
from engine.config import ConfigError, RunConfig, play_search_config, resolve, to_dict, to_json
from engine.game_records import write_records
from engine.gameops import GameOps, NetworkEvaluator
from engine.learner import Learner
from engine.loop.gate import GateDecision, match_decision
from engine.loop.protocols import Plugin
from engine.model import build_model, count_parameters, load_weights, place_model, resolve_device
from engine.replay import (
    GameRecord,
    ReplayBuffer,
    augment,
    desired_window,
    next_shard_sequence,
    shard_name,
    write_shard,
)
from engine.selfplay import SelfPlayActor, SelfPlayStats, stats_summary
from games.base import Game, GameError, TerritoryGame

WORKER_GAMES_PER_ROUND = 32
"""Games a worker process plays between two looks for a newer `best`."""


class ShardReplay:
    """The run's self-play shards: written per finished batch, sampled within the window."""

    def __init__(self, run_dir: Path, game: Game, config: RunConfig) -> None:
        self.game = game
        self.shard_dir, self.games_dir = Path(run_dir) / "selfplay", Path(run_dir) / "games"
        for directory in (self.shard_dir, self.games_dir):
            directory.mkdir(parents=True, exist_ok=True)
        r = config.replay
        self.buffer = ReplayBuffer([self.shard_dir], lambda n: desired_window(
            n, r.window_min, r.window_exponent, r.window_scale, r.window_max),
            average_duplicates=r.average_duplicates)
        self._sequence: dict[int, int] = {}

    @property
    def total_episodes(self) -> int:
        return self.buffer.total_games

    @property
    def total_items(self) -> int:
        return self.buffer.total_positions

    def add(self, episodes: list[GameRecord], *, worker: int, version: int) -> int:
        """One shard of `episodes`, then their text records."""
        sequence = self._sequence.get(worker)
        if sequence is None:
            sequence = next_shard_sequence(self.shard_dir, worker)
        self._sequence[worker] = sequence + 1
        name = shard_name(worker, sequence)
        write_shard(self.shard_dir / name, episodes,
                    {"game": self.game.name, "worker": worker, "network_step": version})
        write_records(self.game, [r.text for r in episodes],
                      self.games_dir / f"{Path(name).stem}.{self.game.record_extension}")
        return len(episodes)

    def written(self, worker: int) -> int:
        sequence = self._sequence.get(worker)
        return next_shard_sequence(self.shard_dir, worker) if sequence is None else sequence

    def refresh(self) -> tuple[int, int]:
        games_before = self.buffer.total_games
        positions = self.buffer.refresh()
        return self.buffer.total_games - games_before, positions

    def state_dict(self) -> dict[str, Any]:
        return {}  # every shard on disk is read again on resume

    def load_state_dict(self, state: dict[str, Any]) -> None:
        pass


class GameActor:
    """Self-play rounds of a fixed number of games, each batch of finished games to replay.

    A round ends early at `deadline` (the run's time budget). With `log` set, a progress
    line (games finished, positions) goes to it at most every `PROGRESS_SECONDS`.
    """

    PROGRESS_SECONDS = 1.0

    def __init__(self, selfplay: SelfPlayActor, worker: int, games_per_round: int,
                 log: Callable[[str], None] | None = None) -> None:
        self.selfplay = selfplay
        self.worker = worker
        self.episodes_per_round = games_per_round
        self.deadline: float | None = None
        self.log = log

    def act(self, replay: ShardReplay, version: int) -> dict[str, Any]:
        self.selfplay.sink = lambda records: replay.add(records, worker=self.worker,
                                                        version=version)
        stats, finished = self.selfplay.run(self.episodes_per_round, self.deadline,
                                            self._progress() if self.log else None)
        figures: dict[str, Any] = {f"selfplay/{k}": v for k, v in stats_summary(stats).items()}
        if finished:  # one game of the round in the game's own record format
            figures["samples/selfplay_game"] = f"```\n{finished[0].text.strip()}\n```"
        return figures

    def _progress(self) -> Callable[[SelfPlayStats], None]:
        last = time.monotonic()

        def report(stats: SelfPlayStats) -> None:
            nonlocal last
            if time.monotonic() - last >= self.PROGRESS_SECONDS:
                last = time.monotonic()
                self.log(progress_line(stats, self.episodes_per_round))

        return report

    def state_dict(self) -> dict[str, Any]:
        return {"rng_state": json.dumps(self.selfplay.rng.bit_generator.state)}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.selfplay.rng.bit_generator.state = json.loads(state["rng_state"])


class GameLearner:
    """Gradient steps on batches drawn from the replay window (augmented by symmetries);
    at most until the time budget's end, and at least `train.min_steps`."""

    def __init__(self, model: torch.nn.Module, game: Game, config: RunConfig,
                 device: torch.device, log: Callable[[str], None] | None = None) -> None:
        self.game, self.config = game, config
        self.deadline: float | None = None
        """End of the run's time budget (`time.monotonic()`): learning stops there."""
        self.log = log
        processes = config.train.learner_processes
        if processes > 1:
            from engine.ddp_learner import DistributedLearner

            self.inner: Learner = DistributedLearner(
                model, config.train, device, config.train.root_value_blend, processes,
                (config.game, to_json(config)), config.precision)
        else:
            self.inner = Learner(model, config.train, device, config.train.root_value_blend,
                                 config.precision)
        self.rng = np.random.default_rng([config.seed, 1])

    @property
    def step(self) -> int:
        return self.inner.step

    def progress(self) -> int:
        return self.inner.positions_trained

    def learn(self, replay: ShardReplay, new_items: int) -> dict[str, float]:
        cfg = self.config
        if replay.buffer.size == 0:
            return {}
        steps = max(cfg.train.min_steps,
                    int(round(new_items * cfg.train.sample_reuse / cfg.train.batch_size)))
        totals: dict[str, float] = {}
        last_report = time.monotonic()
        for done in range(steps):
            # At the time budget's end, stop (the positions stay in the window for a resume).
            if (done >= cfg.train.min_steps and self.deadline is not None
                    and time.monotonic() >= self.deadline):
                steps = done
                break
            batch = replay.buffer.sample(cfg.train.batch_size, self.rng)
            # The learner's value target is the game result, or the blend self-play wrote
            # (`selfplay.value_target_blend`); both are the result when the blend is 0.
            batch["value"] = batch["value_target"]
            if cfg.replay.symmetries:
                batch = augment(batch, self.game.apply_symmetry, self.game.num_symmetries,
                                self.rng)
            for key, value in self.inner.train_step(batch).items():
                totals[key] = totals.get(key, 0.0) + value
            if self.log is not None and time.monotonic() - last_report >= 1.0:
                last_report = time.monotonic()
                self.log(f"learning {done + 1}/{steps} steps")
        result = {k: v / steps for k, v in totals.items()}
        result.update({"train/steps": steps, "replay/window": replay.buffer.size,
                       "replay/positions_generated": replay.total_items})
        return result

    def close(self) -> None:
        self.inner.close()

    def state_dict(self) -> dict[str, Any]:
        return {**self.inner.state_dict(), "rng_state": json.dumps(self.rng.bit_generator.state)}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.inner.load_state_dict(state)
        self.rng.bit_generator.state = json.loads(state["rng_state"])


class ArenaGate:
    """Arenas against the configured opponents, and with `arena.gate` against `best`."""

    def __init__(self, plugin: GamePlugin) -> None:
        self.plugin = plugin
        arena = plugin.config.arena
        self.every, self.gating = arena.every_iterations, arena.gate

    def begin(self) -> dict[str, float]:
        return {}

    def _current(self, seed: int) -> Any:
        from engine.agents import SearchAgent

        p = self.plugin
        # The arena plays as a loaded checkpoint would: with the run's play settings.
        evaluator = p.evaluator if not p.config.play_symmetries else NetworkEvaluator(
            p.model, GameOps(p.game), p.device, average_symmetries=True,
            precision=p.config.precision)
        return SearchAgent(p.game, evaluator, p.config.arena.simulations,
                           play_search_config(p.config), seed=seed, name="current",
                           endgame=p.config.endgame, ownership=p.evaluator.ownership)

    def _match(self, opponent_spec: str, iteration: int) -> Any:
        from engine.agents import make_agent
        from engine.arena import play_match

        p = self.plugin
        opponent = make_agent(opponent_spec, p.game, device=p.config.device, seed=iteration)
        current = self._current(iteration)
        return play_match(p.game, current, opponent, p.config.arena.games,
                          seed=iteration, opening_moves=1 if p.game.num_actions < 16 else 2,
                          referee=self._referee(current))

    def _referee(self, current: Any) -> Any:
        """Under `endgame.scoring = "ownership"` (Go), the current network's ownership
        names the dead stones of every arena game; otherwise the board counts as it is."""
        from engine.go_referee import OwnershipReferee

        endgame = self.plugin.config.endgame
        if endgame.scoring != "ownership" or not isinstance(self.plugin.game, TerritoryGame):
            return None
        return OwnershipReferee(current.ownership, endgame.dead_threshold)

    def incumbent_spec(self, incumbent: Path) -> str:
        """The player spec of the incumbent checkpoint, searching as the candidate does."""
        return f"ckpt:{incumbent}:{self.plugin.config.arena.simulations}"

    def judge(self, incumbent: Path | None, iteration: int) -> GateDecision:
        p, arena = self.plugin, self.plugin.config.arena
        metrics: dict[str, float] = {}
        for spec in arena.opponents:
            if spec == "previous":
                previous = p.store_latest()
                if previous is None:
                    continue
                spec_now = f"ckpt:{previous}:{arena.simulations}"
            else:
                spec_now = spec
            result = self._match(spec_now, iteration)
            name = spec.replace(":", "_")
            elo, _, _ = result.elo()
            metrics[f"arena/score_vs_{name}"] = result.score
            metrics[f"arena/losses_vs_{name}"] = result.losses
            metrics[f"arena/elo_vs_{name}"] = (elo if np.isfinite(elo)
                                               else float(np.sign(elo) * 1000))
        if not (self.gating and incumbent is not None):
            return GateDecision(True, metrics=metrics)
        result = self._match(self.incumbent_spec(incumbent), iteration)
        metrics["arena/score_vs_best"] = result.score
        return match_decision(result.wins, result.draws, result.losses, arena.gate_threshold,
                              metrics)

    def state_dict(self) -> dict[str, Any]:
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        pass


class GamePlugin(Plugin):
    """A board game's network with its self-play actor, shards, learner and arena gate."""

    name: ClassVar[str] = "game"
    resume_keys: ClassVar[tuple[str, ...]] = ("minutes", "iterations", "device", "workers",
                                              "cluster", "compile", "precision")
    history_prefixes: ClassVar[tuple[str, ...]] = ("loss/", "gate/", "arena/")

    @classmethod
    def resolve_config(cls, preset: str | None = None, overrides: list[str] | None = None,
                       base: dict[str, Any] | None = None) -> RunConfig:
        return resolve(preset, overrides, base)

    @classmethod
    def build(cls, config: RunConfig, run_dir: Path, *, worker: int = 0, log: Any = None,
              written: int | None = None) -> GamePlugin:
        """`log`: a callable that takes the self-play progress lines (None: quiet)."""
        return cls(config, Path(run_dir), worker, log, written)

    def __init__(self, config: RunConfig, run_dir: Path, worker: int = 0,
                 log: Callable[[str], None] | None = None,
                 written: int | None = None) -> None:
        self.config, self.run_dir = config, run_dir
        self.game = games_registry.make(config.game, **config.game_options)
        check_opponents(config.arena.opponents, self.game)
        self.device = resolve_device(config.device)
        if config.torch_threads > 0 and worker == 0:
            torch.set_num_threads(config.torch_threads)
        torch.manual_seed(config.seed)
        self.model = place_model(build_model(self.game, config), self.device)
        self.evaluator = NetworkEvaluator(self.model, GameOps(self.game), self.device,
                                          compile=config.compile, precision=config.precision)
        self.replay = ShardReplay(run_dir, self.game, config)
        # Every stream derives from the run's seed: the learner's actor by its role, each
        # worker by its number and how many shards it wrote before (so a restarted worker
        # goes on with new games rather than repeating its first ones).
        if written is None:
            written = self.replay.written(worker)
        seed = int(np.random.SeedSequence([config.seed, 2, worker, written]).generate_state(1)[0])
        selfplay = SelfPlayActor(self.game, config, self.evaluator, seed=seed,
                                 ownership=self.evaluator.ownership)
        per_round = config.selfplay.games_per_iteration
        if worker:
            per_round = min(WORKER_GAMES_PER_ROUND, per_round)
        self.actor = GameActor(selfplay, worker, per_round, log)
        self.learner = GameLearner(self.model, self.game, config, self.device, log)
        self.gate = ArenaGate(self)

    def set_deadline(self, deadline: float | None) -> None:
        self.actor.deadline = self.learner.deadline = deadline

    def store_latest(self) -> Path | None:
        """The run's newest checkpoint (the `previous` arena opponent while the current
        weights are not yet saved)."""
        return latest_checkpoint(self.run_dir / "checkpoints")

    def weights(self) -> dict[str, torch.Tensor]:
        return self.model.state_dict()

    def load_weights(self, weights: dict[str, torch.Tensor]) -> None:
        load_weights(self.model, weights)  # a run from before the ownership head resumes

    def checkpoint_meta(self) -> dict[str, Any]:
        return {"game": self.config.game, "game_options": self.config.game_options,
                "model": to_dict(self.config.model),
                "positions_trained": self.learner.progress(),
                "positions_generated": self.replay.total_items,
                "games_played": self.replay.total_episodes,
                "parameters": count_parameters(self.model)}

    def close(self) -> None:
        self.learner.close()

    def summary(self, metrics: dict[str, Any], final: bool, state: Any) -> dict[str, Any]:
        return {**metrics, "games_played": self.replay.total_episodes,
                "positions_trained": self.learner.progress()}


def progress_line(stats: SelfPlayStats, games: int) -> str:
    """`self-play 23/64 games, 4210 positions` (of the games finished in this round)."""
    return f"self-play {stats.games}/{games} games, {stats.positions} positions"


def check_opponents(specs: list[str], game: Game) -> None:
    """Refuse, before a run starts, an arena opponent that could not be built.

    Raises:
        ConfigError: naming the bad spec.
    """
    from engine.agents import check_agent_spec

    for spec in specs:
        if spec.strip() == "previous":
            continue
        try:
            check_agent_spec(spec, game)
        except (GameError, CheckpointError) as error:
            raise ConfigError(f"arena.opponents: {spec!r}: {error}") from None
