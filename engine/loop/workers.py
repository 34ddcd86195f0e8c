"""Worker processes (`--workers N`) that run any plug-in's actor beside the learner.

A worker rebuilds the plug-in from the run directory's `config.json` (worker numbers start
at 1; 0 is the learner's process), plays with the run's `best` checkpoint (the latest one
before any is promoted), reloads it whenever it changes, and adds its episodes to the run's
replay files. The processes talk to the learner through the directory alone, so the same
worker could run on another machine against a shared directory. A worker exits when its
parent dies, even by `kill -9`.

`ActorPool` is what the loop asks of a pool of actors; `WorkerPool` (processes on this
machine) and `engine.loop.ray_pool.RayActorPool` (Ray actors anywhere) are its two kinds,
and `make_pool` picks one from the config.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import signal
import time
from pathlib import Path
from typing import Any, Protocol


def worker_main(plugin_name: str, run_dir: str, worker: int,
                stop: mp.synchronize.Event) -> None:
    """Entry point of one worker process."""
    import torch

    from engine.loop.registry import plugin_class
    from engine.loop.store import CheckpointStore

    # Ctrl-C on a terminal reaches the whole process group: the learner reports it and
    # saves; a worker just ends (its finished episodes are already on disk).
    signal.signal(signal.SIGINT, _exit_quietly)
    torch.set_num_threads(1)
    parent = os.getppid()
    run = Path(run_dir)
    cls = plugin_class(plugin_name)
    config = cls.resolve_config(base=json.loads((run / "config.json").read_text()))
    plugin = cls.build(config, run, worker=worker)
    store = CheckpointStore(run / "checkpoints", config.keep_checkpoints)
    loaded: tuple[int, int] | None = None
    version = 0
    while not stop.is_set() and os.getppid() == parent:
        stem = store.playing()
        if stem is not None:
            try:
                info = stem.with_suffix(".json").stat()
                key = (info.st_ino, info.st_mtime_ns)
                if key != loaded:
                    weights, meta = store.load_weights(stem)
                    plugin.load_weights(weights)
                    version, loaded = int(meta.get("step", 0)), key
            except Exception:  # noqa: BLE001 (replaced or pruned while reading: retry later)
                pass
        plugin.actor.act(plugin.replay, version)
    plugin.close()


class ActorPool(Protocol):
    """Actors beside the learner that add their episodes to the run's replay."""

    def start(self) -> None: ...

    def check(self) -> None:
        """Raise if the actors can no longer feed the run."""
        ...

    def alive(self) -> int:
        """Actors running (or being restarted)."""
        ...

    def stop(self, timeout: float = 30.0) -> None:
        """Let rounds in flight finish (within `timeout` seconds), then end the actors."""
        ...


def make_pool(plugin_name: str, run_dir: Path, config: Any, replay: Any,
              store: Any) -> ActorPool | None:
    """The actor pool the config asks for: Ray actors with `cluster`, worker processes with
    `workers`, or None (the learner's process acts)."""
    if config.workers <= 0:
        return None
    if config.cluster:
        from engine.loop.ray_pool import RayActorPool

        return RayActorPool(plugin_name, config, replay, store, config.workers)
    return WorkerPool(plugin_name, run_dir, config.workers)


def _exit_quietly(signum: int, frame: object) -> None:
    raise SystemExit(0)


class WorkerPool:
    """N worker processes for one run directory."""

    def __init__(self, plugin_name: str, run_dir: Path, count: int) -> None:
        context = mp.get_context("spawn")
        self.stop_event = context.Event()
        self.processes = [
            context.Process(target=worker_main,
                            args=(plugin_name, str(run_dir), k + 1, self.stop_event),
                            daemon=True, name=f"move37-actor-{k + 1}")
            for k in range(count)
        ]

    def start(self) -> None:
        for process in self.processes:
            process.start()

    def alive(self) -> int:
        return sum(p.is_alive() for p in self.processes)

    def check(self) -> None:
        if self.alive() == 0:
            raise RuntimeError("all worker processes have stopped")

    def stop(self, timeout: float = 30.0) -> None:
        self.stop_event.set()
        deadline = time.monotonic() + timeout
        for process in self.processes:
            process.join(max(0.1, deadline - time.monotonic()))
            if process.is_alive():
                process.terminate()
                process.join(5)
