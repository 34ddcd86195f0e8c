"""Speed of the exact Connect Four solver on Pascal Pons' six test sets.

    python benchmarks/bench_connect4_solver.py                  # exact scores
    python benchmarks/bench_connect4_solver.py --mode weak      # win/draw/loss only
    python benchmarks/bench_connect4_solver.py --mode moves     # outcome of every move
    python benchmarks/bench_connect4_solver.py --sets Test_L1_R3 --limit 5

For each set it solves the first `--limit` lines (default: every line of the easy sets, a
sample of the Begin ones) with one solver whose table starts empty, checks every answer
against Pons' score (`moves` checks the best move's outcome against its sign), and prints
positions per second, milliseconds and nodes per position. The last line is JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np

from games.connect4_data import SET_NAMES, read_pons_set
from games.connect4_solver import Connect4Solver, state_from_moves

DEFAULT_LIMITS = {"Test_L3_R1": 1000, "Test_L2_R1": 1000, "Test_L2_R2": 1000,
                  "Test_L1_R1": 1000, "Test_L1_R2": 100, "Test_L1_R3": 3}
"""Lines solved per set by default: every line where that takes seconds, else a sample."""


def default_benchmarks() -> Path:
    root = os.environ.get("MOVE37_SHARED_BENCHMARKS")
    base = Path(root) if root else Path(__file__).resolve().parents[2] / "shared" / "benchmarks"
    return base / "connect4"


def answer(solver: Connect4Solver, moves: str, mode: str) -> int:
    """The solver's value for a line: exact score, its sign, or the best move's outcome."""
    if mode == "moves":
        outcomes = solver.move_outcomes(state_from_moves(moves))
        return int(outcomes[outcomes > -2].max())
    return solver.solve_moves(moves, weak=mode == "weak")


def bench_set(path: Path, limit: int, mode: str, table_log2: int) -> dict:
    """Solve the first `limit` lines of one file; timings and agreement with Pons."""
    lines = read_pons_set(path)[:limit]
    solver = Connect4Solver(table_size=1 << table_log2)
    agree = 0
    began = time.perf_counter()
    for moves, score in lines:
        expected = score if mode == "exact" else int(np.sign(score))
        agree += answer(solver, moves, mode) == expected
    seconds = time.perf_counter() - began
    return {
        "positions": len(lines),
        "agree": agree,
        "seconds": round(seconds, 3),
        "positions_per_s": round(len(lines) / seconds, 2),
        "ms_per_position": round(1e3 * seconds / len(lines), 3),
        "nodes_per_position": round(solver.nodes / len(lines)),
        "mnodes_per_s": round(solver.nodes / seconds / 1e6, 2),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--benchmarks", type=Path, default=default_benchmarks())
    parser.add_argument("--sets", nargs="+", default=list(SET_NAMES), choices=SET_NAMES)
    parser.add_argument("--limit", type=int, default=0, help="lines per set (0: the defaults)")
    parser.add_argument("--mode", choices=("exact", "weak", "moves"), default="exact")
    parser.add_argument("--table-log2", type=int, default=23)
    args = parser.parse_args(argv)

    Connect4Solver(table_size=1).solve_moves("4453")  # compile (or load) the kernels first
    results = {}
    for name in args.sets:
        result = bench_set(args.benchmarks / name, args.limit or DEFAULT_LIMITS[name],
                           args.mode, args.table_log2)
        results[name] = result
        print(f"{name:11s} {result['positions']:5d} positions  {result['agree']:5d} agree  "
              f"{result['positions_per_s']:10.1f} pos/s  {result['ms_per_position']:10.3f} ms/pos"
              f"  {result['nodes_per_position']:10d} nodes/pos  {result['mnodes_per_s']:5.2f} Mn/s",
              flush=True)
    print(json.dumps({"mode": args.mode, "table_log2": args.table_log2, "sets": results}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
