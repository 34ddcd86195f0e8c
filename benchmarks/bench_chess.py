"""Chess hot paths: move generation and successor states through our `Game` interface,
against python-chess's own make/unmake and OpenSpiel's C++ chess, and search speed.

Measured in one run, on the same positions (the start position and Kiwipete):

* `perft_full`: perft where every node is made: legal moves of every interior node, and a
  successor for every edge. Ours: `legal_mask` + `next_state` (a new immutable state per
  edge); python-chess: `legal_moves` + `push`/`pop` on one board; OpenSpiel: C++ move
  generation and `apply_action`/`undo_action`, driven from a Python loop.
* `perft_bulk`: the same trees with the last ply counted from the legal moves (how perft
  is usually timed).
* `bitboard`: the Numba bitboard kernels (`games.chess.position.perft`) on deeper trees
  (start position to depth 5, Kiwipete to 4: about 9 million leaves), full and bulk, after
  compiling; `x_python_chess` and `x_openspiel` divide its full rate by theirs in
  `perft_full` (OpenSpiel's moves are made from a Python loop, as ours were). The bitboard
  kernels also join `perft_full` and `perft_bulk` on the small trees, so all three
  implementations must agree there.
* `search`: simulations per second of the search with a uniform prior and value 0 (no
  network) on the start position, batch 1 and 8, through `engine.gameops.GameOps` (what the
  agents use) and through `Chess.step_many`.

`overhead` is python-chess's speed divided by ours through the interface (above 1: slower
than python-chess; below 1: faster).
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import Any

import chess
import numpy as np

from benchmarks.common import emit, parser_for
from games.chess import Chess, ChessState, position

KIWIPETE = "r3k2r/p1ppqpb1/bn2pnp1/3PN3/1p2P3/2N2Q1p/PPPBBPPP/R3K2R w KQkq - 0 1"
POSITIONS = {"startpos": (chess.STARTING_FEN, 3), "kiwipete": (KIWIPETE, 2)}
"""name -> (FEN, depth of the full perft; the bulk perft goes one ply deeper)."""
BITBOARD_POSITIONS = {"startpos": (chess.STARTING_FEN, 5), "kiwipete": (KIWIPETE, 4)}
"""name -> (FEN, depth) of the bitboard kernels' own, deeper, perft."""

_RULES = Chess(max_moves=None, history=1, draw_rules=False)


def interface_perft(state: ChessState, depth: int, bulk: bool) -> int:
    """Leaves through `legal_mask` and `next_state`."""
    if depth == 0:
        return 1
    actions = np.flatnonzero(_RULES.legal_mask(state))
    if bulk and depth == 1:
        return int(actions.size)
    return sum(interface_perft(_RULES.next_state(state, int(a)), depth - 1, bulk)
               for a in actions)


def python_chess_perft(board: chess.Board, depth: int, bulk: bool) -> int:
    """Leaves by python-chess make/unmake on one board."""
    if depth == 0:
        return 1
    if bulk and depth == 1:
        return board.legal_moves.count()
    count = 0
    for move in board.generate_legal_moves():
        board.push(move)
        count += python_chess_perft(board, depth - 1, bulk)
        board.pop()
    return count


def openspiel_perft(state: Any, depth: int, bulk: bool) -> int:
    """Leaves by OpenSpiel's C++ chess (`apply_action` / `undo_action`)."""
    if depth == 0:
        return 1
    actions = state.legal_actions()
    if bulk and depth == 1:
        return len(actions)
    player, count = state.current_player(), 0
    for action in actions:
        state.apply_action(action)
        count += openspiel_perft(state, depth - 1, bulk)
        state.undo_action(player, action)
    return count


def best_time(function: Callable[[], int], repeats: int) -> tuple[int, float]:
    """(result, fastest wall time in seconds) over `repeats` calls."""
    result, best = 0, float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        result = function()
        best = min(best, time.perf_counter() - start)
    return result, best


def perft_rates(bulk: bool, repeats: int) -> dict[str, Any]:
    """Leaves per second for each implementation, summed over `POSITIONS`."""
    try:
        import pyspiel

        openspiel_game = pyspiel.load_game("chess")
    except ImportError:
        openspiel_game = None
    totals: dict[str, list[float]] = {
        "ours": [0, 0], "python_chess": [0, 0], "openspiel": [0, 0], "bitboard": [0, 0]}
    for fen, depth in POSITIONS.values():
        depth += bulk
        runs = {
            "ours": lambda f=fen, d=depth: interface_perft(_RULES.state_from_fen(f), d, bulk),
            "python_chess": lambda f=fen, d=depth: python_chess_perft(chess.Board(f), d, bulk),
            "bitboard": lambda f=fen, d=depth: position.perft(position.from_fen(f), d, bulk),
        }
        if openspiel_game is not None:
            runs["openspiel"] = lambda f=fen, d=depth: openspiel_perft(
                openspiel_game.new_initial_state(f), d, bulk)
        counts = set()
        for name, run in runs.items():
            leaves, seconds = best_time(run, repeats)
            counts.add(leaves)
            totals[name][0] += leaves
            totals[name][1] += seconds
        if len(counts) != 1:
            raise RuntimeError(f"perft disagreement on {fen} at depth {depth}: {counts}")
    rates = {name: round(n / s) for name, (n, s) in totals.items() if s > 0}
    rates["overhead"] = round(rates["python_chess"] / rates["ours"], 2)
    rates["leaves"] = int(totals["ours"][0])
    return rates


def bitboard_rates(repeats: int, full_rates: dict[str, Any]) -> dict[str, Any]:
    """Leaves per second of the bitboard kernels on `BITBOARD_POSITIONS`, full and bulk.

    Args:
        repeats: timings per tree (the fastest counts).
        full_rates: `perft_rates(bulk=False, ...)`, for the ratios to python-chess and
            OpenSpiel.
    """
    position.perft(position.from_fen(chess.STARTING_FEN), 2)  # compile (or load the cache)
    rates: dict[str, Any] = {}
    for bulk, label in ((False, "full"), (True, "bulk")):
        leaves, seconds = 0, 0.0
        for fen, depth in BITBOARD_POSITIONS.values():
            pos = position.from_fen(fen)
            run = functools.partial(position.perft, pos, depth, bulk)
            count, best = best_time(run, repeats)
            leaves, seconds = leaves + count, seconds + best
        rates[label] = round(leaves / seconds)
        rates["leaves"] = leaves
    for name in ("python_chess", "openspiel"):
        if name in full_rates:
            rates[f"x_{name}"] = round(rates["full"] / full_rates[name], 1)
    return rates


def search_rates(simulations: int, batch_sizes: tuple[int, ...] = (1, 8)) -> dict[str, Any]:
    """Uniform-prior search simulations per second (per game of the batch, summed)."""
    try:
        from engine.gameops import GameOps
        from mcts import StepResult
    except ImportError as error:
        return {"unavailable": f"search not importable: {error}"}
    game = Chess()
    ops = GameOps(game)

    def step_many(states: np.ndarray, actions: np.ndarray) -> Any:
        return StepResult(*game.step_many(states, actions))

    rates: dict[str, Any] = {}
    for batch in batch_sizes:
        states = ops.stack([game.initial_state()] * batch)
        to_play, legal = ops.roots(states)
        for label, step in (("gameops", ops.search_step), ("step_many", step_many)):
            run = functools.partial(_search_once, step, states, to_play, legal, simulations)
            run()  # compile and warm up
            done, seconds = best_time(run, 2)
            rates[f"{label}_b{batch}"] = round(done / seconds)
    return rates


def _search_once(step: Callable[..., Any], states: np.ndarray, to_play: np.ndarray,
                 legal: np.ndarray, simulations: int) -> int:
    """One search of `simulations` per root; returns the simulations done."""
    from mcts import BatchSearch, SearchConfig

    num_actions = legal.shape[1]
    search = BatchSearch(SearchConfig(num_simulations=simulations), len(states), num_actions)
    search.run(states, step, _uniform(num_actions), root_to_play=to_play, root_legal=legal,
               rng=np.random.default_rng(0), num_simulations=simulations)
    return simulations * len(states)


def _uniform(num_actions: int) -> Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]:
    from engine.gameops import uniform_evaluator

    return uniform_evaluator(num_actions)


def run(repeats: int = 3, simulations: int = 200) -> dict[str, Any]:
    """All measurements, as one JSON-ready dict."""
    full = perft_rates(bulk=False, repeats=repeats)
    return {
        "benchmark": "chess",
        "perft_full": full,
        "perft_bulk": perft_rates(bulk=True, repeats=repeats),
        "bitboard": bitboard_rates(repeats, full),
        "search": search_rates(simulations),
    }


def report(results: dict[str, Any]) -> str:
    """A human-readable table of `run`'s results."""
    lines = ["chess: leaves/s (best of repeats) and search simulations/s"]
    for key in ("perft_full", "perft_bulk"):
        rates = results[key]
        others = "  ".join(f"{name} {rates[name]:>10,}" for name in
                           ("ours", "python_chess", "openspiel", "bitboard") if name in rates)
        lines.append(f"  {key:<11} {others}  overhead x{rates['overhead']}")
    kernels = results["bitboard"]
    ratios = "  ".join(f"{k} {v}" for k, v in kernels.items() if k.startswith("x_"))
    lines.append(f"  bitboard    full {kernels['full']:>12,}  bulk {kernels['bulk']:>12,}  "
                 f"({kernels['leaves']:,} leaves)  {ratios}")
    search = results["search"]
    lines.append("  search      " + "  ".join(f"{k} {v:,}" if isinstance(v, int) else f"{k}: {v}"
                                           for k, v in search.items()))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    """`python -m benchmarks.bench_chess [--json] [--repeats N] [--sims N]`."""
    parser = parser_for(__doc__)
    parser.add_argument("--repeats", type=int, default=3, help="timings per measurement")
    parser.add_argument("--sims", type=int, default=200, help="simulations per search")
    args = parser.parse_args(argv)
    results = run(repeats=max(1, args.repeats), simulations=max(1, args.sims))
    emit(results, report, args.json)


if __name__ == "__main__":
    main()
