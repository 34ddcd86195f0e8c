"""Self-play throughput: positions per second and where the time goes.

The actor runs its real loop (batched search + network evaluation + game kernels) with a
freshly initialised network of the preset's size. Time spent inside the network evaluator
is measured separately from the rest of the search and game code, so the report shows the
share of self-play time that is search + rules overhead (target: under 20% on the CPU).

    python -m benchmarks.bench_selfplay --game connect4 --json
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import torch


class TimedEvaluator:
    """Wraps an evaluator and accumulates the seconds spent in it."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.seconds = 0.0
        self.positions = 0

    def __call__(self, states):
        start = time.perf_counter()
        out = self.inner(states)
        self.seconds += time.perf_counter() - start
        self.positions += len(states)
        return out


def run(game_name: str, preset: str | None, games: int, overrides: list[str], seed: int) -> dict:
    import games as registry
    from engine.config import resolve
    from engine.gameops import GameOps, NetworkEvaluator
    from engine.model import build_model, place_model, resolve_device
    from engine.selfplay import SelfPlayActor

    config = resolve(preset or game_name, [f'game="{game_name}"', f"seed={seed}"] + overrides)
    game = registry.make(config.game, **config.game_options)
    device = resolve_device(config.device)
    if config.torch_threads > 0:
        torch.set_num_threads(config.torch_threads)
    torch.manual_seed(seed)
    model = place_model(build_model(game, config), device)  # as a run places it
    evaluator = TimedEvaluator(NetworkEvaluator(model, GameOps(game), device,
                                                compile=config.compile,
                                                precision=config.precision))
    actor = SelfPlayActor(game, config, evaluator, seed=seed)
    start = time.perf_counter()
    evaluator.inner.warm_up(config.selfplay.concurrent_games)  # compiled nets: every shape
    actor.run(min(games, config.selfplay.concurrent_games) // 4 or 1)  # warm-up: JIT, caches
    warm_up_s = time.perf_counter() - start
    evaluator.seconds, evaluator.positions = 0.0, 0
    start = time.perf_counter()
    stats, _ = actor.run(games)
    seconds = time.perf_counter() - start
    network_share = evaluator.seconds / seconds
    return {
        "game": game_name,
        "device": str(device),
        "precision": evaluator.inner.precision,
        "model": config.model.size,
        "algorithm": config.search.algorithm,
        "simulations": config.search.num_simulations,
        "concurrent_games": config.selfplay.concurrent_games,
        "games": stats.games,
        "positions": stats.positions,
        "seconds": round(seconds, 2),
        "positions_per_sec": round(stats.positions / seconds, 1),
        "evaluations_per_sec": round(evaluator.positions / seconds, 1),
        "network_share": round(network_share, 3),
        "search_and_game_share": round(1 - network_share, 3),
        "torch_threads": torch.get_num_threads(),
        "compile": config.compile,
        "warm_up_s": round(warm_up_s, 1),
    }


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--game", default="connect4")
    parser.add_argument("--preset", default=None)
    parser.add_argument("--games", type=int, default=256)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--set", dest="overrides", action="append", default=[])
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    result = run(args.game, args.preset, args.games, args.overrides, args.seed)
    for key, value in result.items():
        print(f"{key:>24}: {value}")
    if args.json:
        print(json.dumps(result))
    return result


if __name__ == "__main__":
    np.set_printoptions(precision=3)
    main()
