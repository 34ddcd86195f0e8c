"""Go rules speed: random playouts to the end per second, ours against OpenSpiel's C++ Go,
and uniform-prior search simulations per second.

* `bulk`: the fused playout kernel (`Go.bulk_playouts`), one thread, from the empty board.
* `batched`: `Go.batch_random_rollout` over a batch of flat states (the path the search and
  self-play use: each state is unpacked into the fast board first).
* `openspiel`: `pyspiel.evaluate_bots` with two C++ uniform random bots, the whole game in
  C++ (its random policy also picks passes and fills eyes, so its games differ from ours;
  the mean game length of each is reported beside the rate).
* `search`: `mcts.BatchSearch` with a uniform evaluator over our batch kernels.

    python -m benchmarks.bench_go --size 9 --json
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np

from benchmarks.common import emit, parser_for


def _timed(function: Callable[[], int], seconds: float) -> tuple[int, float]:
    """Call `function` (returns work done) until `seconds` pass; (work, elapsed)."""
    done, start = 0, time.perf_counter()
    while True:
        done += function()
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return done, elapsed


def ours(size: int, seconds: float, seed: int = 0) -> dict[str, Any]:
    from games.go import Go

    go = Go(size=size, komi=7.5)
    go.bulk_playouts(8, seed)  # compile
    chunk = max(16, 20_000 // (size * size))
    lengths: list[float] = []

    def bulk() -> int:
        _, length = go.bulk_playouts(chunk, seed + len(lengths))
        lengths.append(float(length.mean()))
        return chunk

    done, elapsed = _timed(bulk, seconds)
    states = go.batch_initial(chunk)
    go.batch_random_rollout(states[:2], seed)  # compile
    calls = [0]

    def batched() -> int:
        calls[0] += 1
        go.batch_random_rollout(states, seed + calls[0])
        return chunk

    batched_done, batched_elapsed = _timed(batched, seconds)
    return {"bulk": round(done / elapsed), "batched": round(batched_done / batched_elapsed),
            "mean_length": round(float(np.mean(lengths)), 1)}


def openspiel(size: int, seconds: float, seed: int = 0) -> dict[str, Any]:
    try:
        import pyspiel
    except ImportError as error:
        return {"unavailable": f"pyspiel not importable: {error}"}
    game = pyspiel.load_game("go", {"board_size": size, "komi": 7.5})
    bots = [pyspiel.make_uniform_random_bot(p, seed + p) for p in (0, 1)]
    lengths: list[int] = []

    def one() -> int:
        state = game.new_initial_state()
        pyspiel.evaluate_bots(state, bots, seed + len(lengths))
        lengths.append(len(state.history()))
        return 1

    done, elapsed = _timed(one, seconds)
    return {"playouts": round(done / elapsed), "mean_length": round(float(np.mean(lengths)), 1)}


def search(size: int, simulations: int, batch: int) -> dict[str, Any]:
    try:
        from engine.gameops import GameOps, uniform_evaluator
        from mcts import BatchSearch, SearchConfig
    except ImportError as error:
        return {"unavailable": f"search not importable: {error}"}
    from games.go import Go

    go = Go(size=size)
    ops = GameOps(go)
    states = go.batch_initial(batch)
    to_play, legal = ops.roots(states)

    def once() -> int:
        tree = BatchSearch(SearchConfig(num_simulations=simulations), batch, go.num_actions)
        tree.run(states, ops.search_step, uniform_evaluator(go.num_actions),
                 root_to_play=to_play, root_legal=legal, rng=np.random.default_rng(0),
                 num_simulations=simulations)
        return simulations * batch

    once()  # compile
    done, elapsed = _timed(once, 1.0)
    return {f"sims_per_s_b{batch}": round(done / elapsed), "simulations": simulations}


def run(sizes: tuple[int, ...] = (9, 19), seconds: float = 3.0, sims: int = 100,
        batch: int = 16) -> dict[str, Any]:
    """All measurements, as one JSON-ready dict."""
    results: dict[str, Any] = {"benchmark": "go", "threads": 1}
    for size in sizes:
        entry: dict[str, Any] = {"ours": ours(size, seconds), "openspiel": openspiel(size, seconds)}
        if "playouts" in entry["openspiel"]:
            entry["ratio"] = round(entry["ours"]["bulk"] / entry["openspiel"]["playouts"], 2)
        entry["search"] = search(size, sims, batch)
        results[f"{size}x{size}"] = entry
    return results


def report(results: dict[str, Any]) -> str:
    lines = ["go: random playouts to the end per second (one thread)"]
    for key, entry in results.items():
        if not isinstance(entry, dict):
            continue
        o, s = entry["ours"], entry["openspiel"]
        spiel = (f"openspiel {s['playouts']:>8,} (mean {s['mean_length']} moves)"
                 if "playouts" in s else f"openspiel: {s['unavailable']}")
        lines.append(f"  {key:<6} ours bulk {o['bulk']:>8,}  batched {o['batched']:>8,} "
                     f"(mean {o['mean_length']} moves)  {spiel}  ratio {entry.get('ratio', '-')}")
        lines.append(f"         search {entry['search']}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    """`python -m benchmarks.bench_go [--size N ...] [--seconds S] [--sims N] [--json]`."""
    parser = parser_for(__doc__)
    parser.add_argument("--size", type=int, action="append", help="board size (repeatable; "
                        "default 9 and 19)")
    parser.add_argument("--seconds", type=float, default=3.0, help="time per measurement")
    parser.add_argument("--sims", type=int, default=100, help="simulations per search")
    parser.add_argument("--batch", type=int, default=16, help="games searched at once")
    args = parser.parse_args(argv)
    sizes = tuple(args.size) if args.size else (9, 19)
    for size in sizes:
        if not 5 <= size <= 19:
            parser.error(f"--size must be from 5 to 19, got {size}")
    results = run(sizes, max(0.1, args.seconds), max(1, args.sims), max(1, args.batch))
    emit(results, report, args.json)


if __name__ == "__main__":
    main()
