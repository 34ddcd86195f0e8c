"""Random playouts per second of tic-tac-toe and Connect Four: our Numba kernels against a
plain-Python implementation of the same rules and against OpenSpiel's C++ games.

Measured in one run, each for about `--seconds`, single-threaded:

* `kernel`: the fused playout kernel (`bulk_playouts`), called on batches of `--batch`
  games from the empty board; nothing is stored per game.
* `rollout`: `batch_random_rollout` on a batch of `--batch` initial states (the kernel the
  search uses to score leaves; it also writes one result per state).
* `python`: the reference below, lists and loops, `random.Random.choice` over legal moves.
* `openspiel`: `pyspiel.load_game("connect_four" / "tic_tac_toe")`, a Python loop of
  `state.apply_action(random legal action)` until the state is terminal (skipped when
  `pyspiel` does not import).

Ratios are the kernel's rate divided by the other one's. Every implementation also reports
how its games ended (first player wins / draws / second player wins, mean length), so a
reader can see that all of them play the same game.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from benchmarks.common import emit, parser_for
from games.connect4 import ConnectFour
from games.tictactoe import TicTacToe

OPENSPIEL_NAMES = {"tictactoe": "tic_tac_toe", "connect4": "connect_four"}
GAMES = {"tictactoe": TicTacToe, "connect4": ConnectFour}

Playout = Callable[[random.Random], tuple[int, int]]
"""One random game: (winner 1 or 2, or 0 for a draw; plies played)."""


# --- the plain-Python reference ------------------------------------------------------------
def python_connect4_playout(rng: random.Random) -> tuple[int, int]:
    """Connect Four on `board[column][row]` (row 0 at the bottom), player 1 first."""
    board = [[0] * 6 for _ in range(7)]
    heights = [0] * 7
    player = 1
    for ply in range(42):
        column = rng.choice([c for c in range(7) if heights[c] < 6])
        row = heights[column]
        board[column][row] = player
        heights[column] += 1
        if _connects_four(board, column, row, player):
            return player, ply + 1
        player = 3 - player
    return 0, 42


def _connects_four(board: list[list[int]], column: int, row: int, player: int) -> bool:
    """Whether the stone at (column, row) completes four in a row for `player`."""
    for dc, dr in ((1, 0), (0, 1), (1, 1), (1, -1)):
        count = 1
        for sign in (1, -1):
            c, r = column + sign * dc, row + sign * dr
            while 0 <= c < 7 and 0 <= r < 6 and board[c][r] == player:
                count += 1
                c, r = c + sign * dc, r + sign * dr
        if count >= 4:
            return True
    return False


_TTT_LINES = [(0, 1, 2), (3, 4, 5), (6, 7, 8), (0, 3, 6), (1, 4, 7), (2, 5, 8),
              (0, 4, 8), (2, 4, 6)]


def python_tictactoe_playout(rng: random.Random) -> tuple[int, int]:
    """Tic-tac-toe on a list of 9 squares, player 1 first."""
    board = [0] * 9
    player = 1
    for ply in range(9):
        square = rng.choice([s for s in range(9) if board[s] == 0])
        board[square] = player
        if any(board[a] == board[b] == board[c] == player for a, b, c in _TTT_LINES):
            return player, ply + 1
        player = 3 - player
    return 0, 9


PYTHON_PLAYOUTS: dict[str, Playout] = {
    "tictactoe": python_tictactoe_playout,
    "connect4": python_connect4_playout,
}


# --- timing --------------------------------------------------------------------------------
def _summary(first: int, draws: int, second: int, plies: int, seconds: float) -> dict[str, Any]:
    games = first + draws + second
    return {
        "playouts_per_s": round(games / seconds),
        "playouts": games,
        "first_wins": round(first / games, 4),
        "draws": round(draws / games, 4),
        "second_wins": round(second / games, 4),
        "mean_plies": round(plies / games, 2),
    }


def kernel_rate(name: str, seconds: float, batch: int, seed: int = 0) -> dict[str, Any]:
    """The fused playout kernel, called on batches of `batch` games."""
    game = GAMES[name]()
    game.bulk_playouts(16, seed)  # compile (or load from the cache) outside the timing
    totals = np.zeros(4, dtype=np.int64)
    calls = 0
    start = time.perf_counter()
    while True:
        totals += game.bulk_playouts(batch, seed + calls)
        calls += 1
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            break
    return _summary(*(int(x) for x in totals), elapsed)


def rollout_rate(name: str, seconds: float, batch: int, seed: int = 0) -> dict[str, Any]:
    """`batch_random_rollout` over `batch` initial states per call."""
    game = GAMES[name]()
    states = game.batch_initial(batch)
    game.batch_random_rollout(states[:2], seed)
    first = draws = second = calls = 0
    start = time.perf_counter()
    while True:
        results = game.batch_random_rollout(states, seed + calls)
        calls += 1
        first += int((results > 0).sum())
        second += int((results < 0).sum())
        draws += int((results == 0).sum())
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            break
    summary = _summary(first, draws, second, 0, elapsed)
    del summary["mean_plies"]  # the kernel does not report lengths
    return summary


def loop_rate(playout: Callable[[], tuple[int, int]], seconds: float) -> dict[str, Any]:
    """Playouts one at a time from Python until `seconds` have passed."""
    counts = [0, 0, 0]  # draws, first player wins, second player wins
    plies = 0
    start = time.perf_counter()
    while True:
        winner, length = playout()
        counts[winner] += 1
        plies += length
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            break
    return _summary(counts[1], counts[0], counts[2], plies, elapsed)


def python_rate(name: str, seconds: float, seed: int = 0) -> dict[str, Any]:
    rng = random.Random(seed)
    playout = PYTHON_PLAYOUTS[name]
    return loop_rate(lambda: playout(rng), seconds)


def openspiel_rate(name: str, seconds: float, seed: int = 0) -> dict[str, Any] | None:
    """OpenSpiel's C++ game driven from Python, or None where `pyspiel` is missing."""
    try:
        import pyspiel
    except ImportError:
        return None
    game = pyspiel.load_game(OPENSPIEL_NAMES[name])
    rng = random.Random(seed)

    def playout() -> tuple[int, int]:
        state = game.new_initial_state()
        plies = 0
        while not state.is_terminal():
            state.apply_action(rng.choice(state.legal_actions()))
            plies += 1
        first_return = state.returns()[0]
        return (1 if first_return > 0 else 2 if first_return < 0 else 0), plies

    return loop_rate(playout, seconds)


def run(seconds: float = 1.0, batch: int = 4096) -> dict[str, Any]:
    """All measurements, as one JSON-ready dict."""
    results: dict[str, Any] = {"benchmark": "games", "seconds": seconds, "batch": batch,
                               "threads": 1, "games": {}}
    for name in GAMES:
        kernel = kernel_rate(name, seconds, batch)
        entry: dict[str, Any] = {
            "kernel": kernel,
            "rollout": rollout_rate(name, seconds, batch, seed=1 << 32),
            "python": python_rate(name, seconds),
        }
        entry["speedup_vs_python"] = round(kernel["playouts_per_s"]
                                           / entry["python"]["playouts_per_s"], 1)
        openspiel = openspiel_rate(name, seconds)
        if openspiel is not None:
            entry["openspiel"] = openspiel
            entry["speedup_vs_openspiel"] = round(kernel["playouts_per_s"]
                                                  / openspiel["playouts_per_s"], 1)
        results["games"][name] = entry
    return results


def report(results: dict[str, Any]) -> str:
    """A human-readable table of `run`'s results."""
    title = (f"random playouts/s, single thread, batches of {results['batch']}, about "
             f"{results['seconds']:g} s each; ratio = kernel rate / this rate")
    header = (f"  {'game':<10} {'implementation':<10} {'playouts/s':>12} {'ratio':>8}   "
              "1st wins  draws  2nd wins  plies")
    lines = [title, header]
    for name, entry in results["games"].items():
        for label in ("kernel", "rollout", "python", "openspiel"):
            if label not in entry:
                continue
            row = entry[label]
            ratio = entry.get(f"speedup_vs_{label}")
            ratio_text = f"x{ratio:g}" if ratio is not None else ""
            shape = (f"{row['first_wins']:>8.3f} {row['draws']:>6.3f} {row['second_wins']:>9.3f}"
                     if "first_wins" in row else "")
            plies = f"{row['mean_plies']:>6.2f}" if "mean_plies" in row else ""
            lines.append(f"  {name:<10} {label:<10} {row['playouts_per_s']:>12,} "
                         f"{ratio_text:>8}   {shape} {plies}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    """`python -m benchmarks.bench_games [--json] [--seconds S] [--batch B]`."""
    parser = parser_for(__doc__)
    parser.add_argument("--seconds", type=float, default=1.0, help="time per measurement")
    parser.add_argument("--batch", type=int, default=4096, help="games per kernel call")
    args = parser.parse_args(argv)
    if not args.seconds > 0 or args.batch < 1:
        parser.error("--seconds must be positive and --batch at least 1")
    results = run(seconds=args.seconds, batch=args.batch)
    emit(results, report, args.json)


if __name__ == "__main__":
    main()
