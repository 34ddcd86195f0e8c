"""Search speed: simulations per second of `mcts.BatchSearch` on tic-tac-toe, Connect Four,
Go (`--size`, komi 7.5) or chess, all B searches together, against OpenSpiel's C++ MCTS in
the same run.

Measured single-threaded from B initial positions, best of `--repeats` runs (the first,
untimed call compiles or loads the kernels; its time is reported as `compile_s`). The
trees' zeroed arrays are mapped on first touch, so the first timed run of a large tree
(chess: 4,672 actions a node) also pays its page faults; the later ones measure the search
as self-play runs it, on a tree it has used before (chess needs three runs to get there).

* `search`: the game as Numba kernels (`engine.search_adapter.batch_game_step`, from the
  game's `search_kernels`) with a kernel evaluator, so the whole search runs in one jitted
  loop: `uniform` (prior logits 0, value 0: the cost of the tree alone) or `rollout` (one
  random playout per leaf). Go's kernels are compiled for the board size asked for.
* `python_step`: the same search through plain Python callables (a step function over the
  game's batch methods, an evaluator function): the path a network evaluator takes, with
  a handful of Python calls per round of B leaves.
* `openspiel` (unless `--peer none`): OpenSpiel's C++ `MCTSBot(uct_c=2)` timed by the
  C++ harness `openspiel_mcts.cc` (built once, see `benchmarks.openspiel_peer`), B searches
  of `--sims` simulations from the initial state, each a fresh tree, in both flavours:
  `zero` (value 0, uniform prior: the peer of our `uniform`) and `rollout` (one random
  playout per leaf: the peer of our `rollout`). A flavour stops after the search that
  ends past `--peer-seconds`. Its selection rule is UCT (every child tried once first)
  where ours is PUCT with a uniform prior; the work per simulation (walk the tree, expand
  one node, evaluate, back up) is the same. The ratio compares our evaluator with the
  matching flavour. Without the `open_spiel` wheel or a C++ compiler a one-line note
  replaces the rows.

Rates are given per second of wall-clock time and per second of this process's CPU time
(the fairer figure on a busy machine); ratios compare like with like.

    python -m benchmarks.bench_mcts --game connect4 --sims 800 --batch 256 --evaluator rollout
    python -m benchmarks.bench_mcts --game go --size 9 --sims 200 --batch 64 --evaluator rollout
    python -m benchmarks.bench_mcts --game chess --sims 800 --batch 64
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from benchmarks.common import emit, parser_for

GAMES = ("connect4", "tictactoe", "go", "chess")
GO_KOMI = 7.5
MAX_LISTED = 400
"""Larger action spaces (chess) report the root's visited actions only, as {action: visits}."""


def game_options(name: str, size: int) -> dict[str, Any]:
    """Constructor options of our game (Go: board size and komi)."""
    return {"size": size, "komi": GO_KOMI} if name == "go" else {}


def _timed(call, repeats: int) -> tuple[float, float]:
    """(best wall seconds, best CPU seconds) of `repeats` calls."""
    wall, cpu = [], []
    for _ in range(repeats):
        w, c = time.perf_counter(), time.process_time()
        call()
        wall.append(time.perf_counter() - w)
        cpu.append(time.process_time() - c)
    return min(wall), min(cpu)


def _rates(work: int, wall: float, cpu: float) -> dict[str, Any]:
    return {"sims_per_s": round(work / wall), "sims_per_cpu_s": round(work / max(cpu, 1e-9)),
            "seconds": round(wall, 4), "cpu_seconds": round(cpu, 4)}


def search_rate(name: str, sims: int, batch: int, evaluator: str, algorithm: str,
                repeats: int, kernels: bool = True, leaves: int = 1,
                seed: int = 0, size: int = 9) -> dict[str, Any]:
    """Simulations/s of `BatchSearch` from `batch` initial positions."""
    import games
    from engine.search_adapter import batch_game_rollout, batch_game_roots, batch_game_step
    from mcts import BatchSearch, SearchConfig, uniform_evaluator

    game = games.make(name, **game_options(name, size))
    step = batch_game_step(game, kernels=kernels)
    evaluate: Any = (uniform_evaluator(game.num_actions) if evaluator == "uniform"
                     else batch_game_rollout(game, seed))
    if not kernels:  # a plain function: the search cannot fuse it into its jitted loop
        inner = evaluate
        evaluate = lambda states: inner(states)
    states = game.batch_initial(batch)
    to_play, legal = batch_game_roots(game, states)
    # No first-play reduction: with a flat prior over many moves (82 on 9x9 Go) it makes
    # every unvisited move look worse than a visited one, and the search walks one line
    # hundreds of plies deep, which is neither a useful search nor the tree OpenSpiel's UCT
    # (every child tried once first) builds.
    config = SearchConfig(num_simulations=sims, algorithm=algorithm, leaves_per_round=leaves,
                          fpu="reduction", fpu_reduction=0.0)
    search = BatchSearch(config, batch, game.num_actions)
    rng = np.random.default_rng(seed)

    def run(simulations: int = sims):
        return search.run(states, step, evaluate, root_to_play=to_play, root_legal=legal,
                          rng=rng, num_simulations=simulations)

    start = time.perf_counter()
    run(min(sims, 4))
    compile_s = time.perf_counter() - start
    wall, cpu = _timed(run, repeats)
    out = run()
    result = _rates(sims * batch, wall, cpu)
    visits = out.visit_counts[0]
    result.update(compile_s=round(compile_s, 2), fused=type(step).__name__ == "KernelStep"
                  and kernels, root_visits=(visits.tolist() if visits.size <= MAX_LISTED
                                            else {int(a): int(visits[a])
                                                  for a in np.flatnonzero(visits)}),
                  root_value=round(float(out.root_value.mean()), 4))
    return result


def peer_rates(name: str, sims: int, batch: int, seconds: float,
               size: int = 9) -> dict[str, Any]:
    """OpenSpiel's MCTSBot in both flavours ({flavour: rates}), or {"unavailable": why}."""
    from benchmarks import openspiel_peer

    try:
        openspiel_peer.build()
    except openspiel_peer.PeerUnavailable as error:
        return {"unavailable": str(error)}
    game = openspiel_peer.game_string(name, size, GO_KOMI)
    rows: dict[str, Any] = {}
    for flavour in openspiel_peer.EVALUATORS:
        row = openspiel_peer.run(game, sims, batch, flavour, seconds)
        rows[flavour] = {**_rates(row["simulations"], row["wall_s"], row["cpu_s"]),
                         "searches": row["searches"], "uct_c": 2.0}
    return rows


def run(game: str = "connect4", sims: int = 800, batch: int = 256, evaluator: str = "uniform",
        algorithm: str = "puct", repeats: int = 3, peer: bool = True, peer_seconds: float = 2.0,
        python_step: bool = True, leaves: int = 1, size: int = 9) -> dict[str, Any]:
    """All measurements, as one JSON-ready dict."""
    results: dict[str, Any] = {
        "benchmark": "mcts", "game": game, "sims": sims, "batch": batch, "evaluator": evaluator,
        "algorithm": algorithm, "leaves_per_round": leaves, "threads": 1, "repeats": repeats,
        "search": search_rate(game, sims, batch, evaluator, algorithm, repeats, leaves=leaves,
                              size=size),
    }
    if game == "go":
        results["size"] = size
    if python_step and results["search"]["fused"]:  # else `search` already took that path
        results["python_step"] = search_rate(game, sims, batch, evaluator, algorithm, repeats,
                                             kernels=False, leaves=leaves, size=size)
    if peer:
        results["openspiel"] = peer_rates(game, sims, batch, peer_seconds, size)
        matching = results["openspiel"].get("zero" if evaluator == "uniform" else "rollout")
        if matching is not None:
            ours = results["search"]
            results["ratio_vs_openspiel"] = round(ours["sims_per_s"] / matching["sims_per_s"], 2)
            results["cpu_ratio_vs_openspiel"] = round(
                ours["sims_per_cpu_s"] / matching["sims_per_cpu_s"], 2)
    return results


def report(results: dict[str, Any]) -> str:
    """A human-readable summary of `run`'s results."""
    name = results["game"] + (f" {results['size']}x{results['size']}" if "size" in results else "")
    lines = [(f"{results['algorithm']} search, {name}, {results['sims']} simulations x "
             f"{results['batch']} searches, {results['evaluator']} evaluator, one thread "
             f"(best of {results['repeats']})"),
             f"  {'implementation':<17} {'sims/s (wall)':>14} {'sims/s (cpu)':>14} {'seconds':>9}"]
    rows = [(label, results[label]) for label in ("search", "python_step") if label in results]
    peer = results.get("openspiel", {})
    rows += [(f"openspiel {flavour}", row) for flavour, row in peer.items()
             if flavour != "unavailable"]
    for label, row in rows:
        lines.append(f"  {label:<17} {row['sims_per_s']:>14,} {row['sims_per_cpu_s']:>14,} "
                     f"{row['seconds']:>9.3f}")
    if "unavailable" in peer:
        lines.append(f"  openspiel: skipped ({peer['unavailable']})")
    if "ratio_vs_openspiel" in results:
        flavour = "zero" if results["evaluator"] == "uniform" else "rollout"
        lines.append(f"  search / openspiel {flavour}: x{results['ratio_vs_openspiel']:g} "
                     f"(wall), x{results['cpu_ratio_vs_openspiel']:g} (cpu)")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    """`python -m benchmarks.bench_mcts [--game G] [--sims S] [--batch B] ... [--json]`."""
    parser = parser_for(__doc__)
    parser.add_argument("--game", choices=GAMES, default="connect4")
    parser.add_argument("--size", type=int, default=9, help="Go board size")
    parser.add_argument("--sims", type=int, default=800, help="simulations per search")
    parser.add_argument("--batch", type=int, default=256, help="searches run together")
    parser.add_argument("--evaluator", choices=("uniform", "rollout"), default="uniform")
    parser.add_argument("--algorithm", choices=("puct", "gumbel"), default="puct")
    parser.add_argument("--leaves", type=int, default=1, help="leaves per tree and round")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs (best is kept)")
    parser.add_argument("--peer", choices=("openspiel", "none"), default="openspiel",
                        help="time OpenSpiel's C++ MCTSBot in the same run")
    parser.add_argument("--peer-seconds", type=float, default=2.0,
                        help="wall-time cap of each OpenSpiel flavour (at least one search)")
    parser.add_argument("--no-python-step", action="store_true",
                        help="skip the plain-Python-callables measurement")
    args = parser.parse_args(argv)
    if min(args.sims, args.batch, args.repeats, args.leaves) < 1:
        parser.error("--sims, --batch, --repeats and --leaves must be at least 1")
    if args.peer_seconds < 0:
        parser.error("--peer-seconds must be at least 0")
    results = run(args.game, args.sims, args.batch, args.evaluator, args.algorithm,
                  args.repeats, args.peer == "openspiel", args.peer_seconds,
                  not args.no_python_step, args.leaves, args.size)
    emit(results, report, args.json)


if __name__ == "__main__":
    main()
