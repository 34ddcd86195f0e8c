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
    lines = [f"{result['game']} ({result['preset']}) on {result['cluster']}, "
             f"{result['window_seconds']:.0f} s per count"]
    lines += [f"  {r['actors']:>3} actors: {r['positions_per_sec']:>9.1f} positions/s, "
              f"efficiency {r['efficiency']:.2f}" for r in result["rows"]]
    return "\n".join(lines)
