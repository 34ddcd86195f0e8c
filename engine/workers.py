"""Self-play worker processes (`--workers N`): actors that talk to the learner through files.

Each worker reads the run's `config.json`, loads the newest checkpoint, plays games with its
own seed stream and writes shards into the run's `selfplay/` directory, picking up newer
checkpoints as the learner writes them. Nothing else is shared, so the same worker could run
on another machine against a shared directory (or as a Ray actor).
"""

from __future__ import annotations

import multiprocessing as mp
import time
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from engine.train import Trainer

GAMES_PER_ROUND = 32  # games between two checks for a newer checkpoint


def worker_main(run_dir: str, worker: int, stop: "mp.synchronize.Event") -> None:
    """Entry point of one self-play process (worker numbers start at 1; 0 is the learner)."""
    import torch

    import games as registry
    from engine.checkpoint import latest_checkpoint, load_checkpoint
    from engine.config import from_json_file
    from engine.gameops import GameOps, NetworkEvaluator
    from engine.model import resolve_device
    from engine.selfplay import SelfPlayActor
    from engine.train import build_model

    torch.set_num_threads(1)
    run = Path(run_dir)
    config = from_json_file(run / "config.json")
    game = registry.make(config.game, **config.game_options)
    device = resolve_device(config.device)
    model = build_model(game, config).to(device)
    evaluator = NetworkEvaluator(model, GameOps(game), device, compile=config.compile)
    seed = int(np.random.SeedSequence([config.seed, 3, worker, int(time.time())])
               .generate_state(1)[0])
    actor = SelfPlayActor(game, config, evaluator, seed=seed, worker=worker,
                          shard_dir=run / "selfplay", games_dir=run / "games")
    loaded = None
    while not stop.is_set():
        stem = latest_checkpoint(run / "checkpoints")
        if stem is not None and stem != loaded:
            try:
                checkpoint = load_checkpoint(stem)
                model.load_state_dict(checkpoint.state_dict)
                actor.network_step = int(checkpoint.meta.get("step", 0))
                loaded = stem
            except Exception:  # a checkpoint pruned between listing and loading: retry later
                pass
        actor.run(min(GAMES_PER_ROUND, config.selfplay.games_per_iteration))


class WorkerPool:
    """N self-play processes for one run directory."""

    def __init__(self, run_dir: Path, count: int) -> None:
        context = mp.get_context("spawn")
        self.stop_event = context.Event()
        self.processes = [
            context.Process(target=worker_main, args=(str(run_dir), k + 1, self.stop_event),
                            daemon=True, name=f"move37-selfplay-{k + 1}")
            for k in range(count)
        ]

    def start(self) -> None:
        for process in self.processes:
            process.start()

    def alive(self) -> int:
        return sum(p.is_alive() for p in self.processes)

    def stop(self, timeout: float = 30.0) -> None:
        self.stop_event.set()
        deadline = time.monotonic() + timeout
        for process in self.processes:
            process.join(max(0.1, deadline - time.monotonic()))
            if process.is_alive():
                process.terminate()
                process.join(5)


def wait_for_positions(trainer: "Trainer", games: int, poll_seconds: float = 0.5) -> int:
    """Block until the workers have written `games` more finished games; return new positions."""
    start_games = trainer.replay.total_games
    added = 0
    while trainer.replay.total_games - start_games < games:
        pool = trainer.pool
        if pool is not None and pool.alive() == 0:
            raise RuntimeError("all self-play workers have stopped")
        time.sleep(poll_seconds)
        added += trainer.replay.refresh()
    return added
