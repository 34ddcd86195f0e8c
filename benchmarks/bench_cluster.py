"""Self-play on Ray actors: positions per second with 1..N actors, and the scaling efficiency.

The run's real actor pool (`engine.loop.ray_pool.RayActorPool`) plays with a freshly
initialised network of the preset's size and streams its games into a throwaway run
directory, as in training (the learner does not train here). The clock starts once every
actor has delivered a first batch (JIT compilation and model loading are behind it) and
positions are counted over a fixed window.

    move37 bench selfplay --game connect4 --cluster auto --actors 2
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path


def measure(game: str, preset: str | None, overrides: list[str], address: str, actors: int,
            seconds: float, seed: int) -> dict:
    """Positions/s of `actors` Ray actors over `seconds` of steady play."""
    from engine.config import resolve
    from engine.game_plugin import GamePlugin
    from engine.loop.ray_pool import RayActorPool, connect
    from engine.loop.store import CheckpointStore

    config = resolve(preset or game, [f'game="{game}"', f"seed={seed}", f'cluster="{address}"',
                                      f"workers={actors}", "arena.every_iterations=0",
                                      *overrides])
    connect(address, actors)
    with tempfile.TemporaryDirectory(prefix="move37-bench-") as scratch:
        run_dir = Path(scratch)
        plugin = GamePlugin.build(config, run_dir)
        store = CheckpointStore(run_dir / "checkpoints", 2)
        store.promote(store.save(0, plugin.weights(), {"kind": plugin.name}, None))
        pool = RayActorPool(plugin.name, config, plugin.replay, store, actors)
        pool.start()
        try:
            replay = plugin.replay
            while len({w for w in range(1, actors + 1) if replay.written(w)}) < actors:
                pool.check()
                time.sleep(0.2)
            replay.refresh()
            start, positions = time.perf_counter(), 0
            while time.perf_counter() - start < seconds:
                time.sleep(0.5)
                positions += replay.refresh()[1]
            elapsed = time.perf_counter() - start
            restarts = pool.restarts
        finally:
            pool.stop(timeout=0)
    return {"actors": actors, "positions": positions, "seconds": round(elapsed, 1),
            "positions_per_sec": round(positions / elapsed, 1), "restarts": restarts}


def run_cluster(game: str, preset: str | None, overrides: list[str], address: str,
                max_actors: int, seconds: float, seed: int) -> dict:
    """`measure` for 1 .. `max_actors` actors, with each count's efficiency against one."""
    import ray

    from engine.loop.ray_pool import connect

    description = connect(address, max_actors)
    rows = [measure(game, preset, overrides, address, n, seconds, seed)
            for n in range(1, max_actors + 1)]
    single = rows[0]["positions_per_sec"] or float("nan")
    for row in rows:
        row["efficiency"] = round(row["positions_per_sec"] / (row["actors"] * single), 3)
    return {"game": game, "preset": preset or game, "cluster": description,
            "ray": ray.__version__, "window_seconds": seconds, "rows": rows}


def report(result: dict) -> str:
    lines = [(f"{result['game']} ({result['preset']}) on {result['cluster']}, "
              f"{result['window_seconds']:.0f} s per count")]
    lines += [(f"  {r['actors']:>3} actors: {r['positions_per_sec']:>9.1f} positions/s, "
               f"efficiency {r['efficiency']:.2f}") for r in result["rows"]]
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------
# Two ways for many self-play actors to use a network: a model in every actor, or one
# inference actor that batches the evaluation requests of all of them.

class InferenceHost:
    """A Ray actor that owns the network and serves `evaluate` calls from many self-play
    actors, merging the requests that arrive within `wait_ms` into one forward pass."""

    def __init__(self, game: str, config_json: str, max_batch: int, wait_ms: float) -> None:
        import queue
        import threading

        import torch

        import games as registry
        from engine.config import resolve
        from engine.model import build_model, resolve_device, resolve_precision

        config = resolve(None, None, __import__("json").loads(config_json))
        self.device = resolve_device(config.device)
        self.precision = resolve_precision(config.precision, self.device)
        torch.manual_seed(config.seed)
        self.model = build_model(registry.make(game, **config.game_options), config).to(
            self.device).eval()
        self.max_batch, self.wait = max_batch, wait_ms / 1000
        self.pending: queue.Queue = queue.Queue()
        self.batches = self.positions = 0
        threading.Thread(target=self._serve, daemon=True).start()

    def evaluate(self, observations):
        from concurrent.futures import Future

        result: Future = Future()
        self.pending.put((observations, result))
        return result.result()

    def figures(self) -> dict:
        return {"batches": self.batches, "positions": self.positions}

    def _serve(self) -> None:
        import queue

        import numpy as np
        import torch

        from engine.model import autocast

        while True:
            items = [self.pending.get()]
            size, deadline = len(items[0][0]), time.monotonic() + self.wait
            while size < self.max_batch and (left := deadline - time.monotonic()) > 0:
                try:
                    items.append(self.pending.get(timeout=left))
                    size += len(items[-1][0])
                except queue.Empty:
                    break
            obs = torch.from_numpy(np.concatenate([o for o, _ in items])).to(self.device)
            with torch.inference_mode(), autocast(self.device, self.precision):
                logits, values = self.model(obs)
            logits, values = logits.float().cpu().numpy(), values.float().cpu().numpy()
            start = 0
            for o, result in items:
                result.set_result((logits[start:start + len(o)], values[start:start + len(o)]))
                start += len(o)
            self.batches, self.positions = self.batches + 1, self.positions + size


class RemoteEvaluator:
    """The self-play evaluator of the shared design: encode here, evaluate there."""

    def __init__(self, host, ops) -> None:
        self.host, self.ops = host, ops

    def __call__(self, states):
        import ray

        return ray.get(self.host.evaluate.remote(self.ops.encode(states)))


class SelfPlayHost:
    """A Ray actor that plays self-play games with its own model or the shared host's."""

    def __init__(self, game: str, config_json: str, seed: int, host=None) -> None:
        import json

        import torch

        import games as registry
        from engine.config import resolve
        from engine.gameops import GameOps, NetworkEvaluator
        from engine.model import build_model, resolve_device
        from engine.selfplay import SelfPlayActor

        torch.set_num_threads(1)
        config = resolve(None, None, json.loads(config_json))
        self.game = registry.make(game, **config.game_options)
        if host is None:
            device = resolve_device(config.device)
            torch.manual_seed(config.seed)
            evaluator = NetworkEvaluator(build_model(self.game, config).to(device),
                                         GameOps(self.game), device,
                                         precision=config.precision)
        else:
            evaluator = RemoteEvaluator(host, GameOps(self.game))
        self.actor = SelfPlayActor(self.game, config, evaluator, seed=seed)

    def play(self, games: int) -> tuple[int, float]:
        start = time.perf_counter()
        stats, _ = self.actor.run(games)
        return stats.positions, time.perf_counter() - start


def compare_designs(game: str, preset: str | None, overrides: list[str], address: str,
                    actors: int, games: int, seed: int) -> dict:
    """Positions/s of `actors` self-play actors with a model each, then with one shared
    inference actor (each after a warm-up round)."""
    import ray

    from engine.config import resolve, to_json
    from engine.loop.ray_pool import actor_runtime_env, connect

    description = connect(address, actors + 1)
    config = resolve(preset or game, [f'game="{game}"', f"seed={seed}", *overrides])
    config_json = to_json(config)
    options = {"num_cpus": 1, "runtime_env": actor_runtime_env()}
    rows = []
    for design in ("model per actor", "shared inference actor"):
        host = None
        if design.startswith("shared"):
            host = ray.remote(InferenceHost).options(
                num_cpus=0, max_concurrency=actors + 2, runtime_env=actor_runtime_env()).remote(
                game, config_json, 4 * config.selfplay.concurrent_games, 2.0)
        players = [ray.remote(SelfPlayHost).options(**options).remote(
            game, config_json, seed + k, host) for k in range(actors)]
        ray.get([p.play.remote(max(1, games // 4)) for p in players])  # JIT, caches
        start = time.perf_counter()
        results = ray.get([p.play.remote(games) for p in players])
        elapsed = time.perf_counter() - start
        positions = sum(r[0] for r in results)
        row = {"design": design, "actors": actors, "positions": positions,
               "seconds": round(elapsed, 1), "positions_per_sec": round(positions / elapsed, 1)}
        if host is not None:
            served = ray.get(host.figures.remote())
            row["mean_inference_batch"] = round(served["positions"] / max(1, served["batches"]),
                                                1)
            ray.kill(host)
        for player in players:
            ray.kill(player)
        rows.append(row)
    return {"game": game, "preset": preset or game, "cluster": description, "rows": rows}


def report_designs(result: dict) -> str:
    lines = [f"{result['game']} ({result['preset']}) on {result['cluster']}"]
    lines += [f"  {r['design']:>22}: {r['positions_per_sec']:>9.1f} positions/s"
              + (f", mean batch {r['mean_inference_batch']}" if "mean_inference_batch" in r
                 else "") for r in result["rows"]]
    return "\n".join(lines)
