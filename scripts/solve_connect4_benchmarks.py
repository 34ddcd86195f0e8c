"""Solve every move of every position of Pons' Connect Four test sets, for `move37 eval`.

For each line of `Test_L3_R1 ... Test_L1_R3` it weak-solves the position after each legal
column (win, draw or loss for the player to move), checks that the best of them agrees with
the sign of Pons' score, and writes `games/data/connect4_move_outcomes.json` (format in
`games.connect4_data`).

Sets are solved in rounds of `--chunk` lines each, so that the slow Begin sets all gain
lines while the run lasts. The run resumes: records already in the output file are kept (after checking that they are
the same lines of the same files) and solving goes on from the first missing line. The
file is rewritten atomically (temporary file, then rename) every `--save-every` seconds and
at the end of each set, so a kill loses at most that much work. The Begin-Hard set
(29 to 40 plies still to play) takes hours; run it in the background at low priority:

    nice -n 15 python scripts/solve_connect4_benchmarks.py &

Prints one progress line per save and a JSON summary (per-set positions and seconds) last.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

from games.connect4_data import (
    FORMAT,
    OUTCOME_CODES,
    SET_NAMES,
    encode_outcomes,
    read_pons_set,
    read_table,
)
from games.connect4_solver import Connect4Solver, state_from_moves

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO_ROOT / "games" / "data" / "connect4_move_outcomes.json"


def default_benchmarks() -> Path:
    """`../shared/benchmarks/connect4` beside the checkout, or `$MOVE37_SHARED_BENCHMARKS`."""
    root = os.environ.get("MOVE37_SHARED_BENCHMARKS")
    base = Path(root) if root else REPO_ROOT.parent / "shared" / "benchmarks"
    return base / "connect4"


def write_table(path: Path, sets: dict[str, list[list]]) -> None:
    """Write the table atomically, one record per line so that diffs stay readable."""
    blocks = []
    for name, records in sets.items():
        rows = ",\n".join(json.dumps(record) for record in records)
        blocks.append(f"{json.dumps(name)}: [\n{rows}\n]" if records else f"{json.dumps(name)}: []")
    text = (f'{{"format": {json.dumps(FORMAT)},\n"outcome_codes": {json.dumps(OUTCOME_CODES)},\n'
            f'"sets": {{\n' + ",\n".join(blocks) + "\n}}\n")
    json.loads(text)  # never replace a good file with a broken one
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def solve_line(solver: Connect4Solver, name: str, index: int, moves: str, score: int) -> list:
    """The record of one position, after checking the best move against Pons' score."""
    outcomes = solver.move_outcomes(state_from_moves(moves))
    best = int(outcomes[outcomes > -2].max())
    if best != int(np.sign(score)):
        raise RuntimeError(f"{name} line {index + 1} ({moves}): best move outcome {best} "
                           f"disagrees with Pons' score {score}")
    return [index, moves, score, encode_outcomes(outcomes)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--benchmarks", type=Path, default=default_benchmarks(),
                        help="folder holding Pons' Test_* files")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="table to write/resume")
    parser.add_argument("--sets", nargs="+", default=list(SET_NAMES), choices=SET_NAMES)
    parser.add_argument("--limit", type=int, default=0,
                        help="stop each set after this many lines (0: the whole file)")
    parser.add_argument("--table-log2", type=int, default=26,
                        help="transposition table of 2**N entries (6 bytes each)")
    parser.add_argument("--chunk", type=int, default=50,
                        help="lines per set per round, so that every set advances (0: one set "
                             "after the other)")
    parser.add_argument("--save-every", type=float, default=60.0, help="seconds between saves")
    args = parser.parse_args(argv)

    sets: dict[str, list[list]] = {name: [] for name in SET_NAMES}
    if args.out.exists():
        sets.update(read_table(args.out))
    pons = {name: read_pons_set(args.benchmarks / name) for name in args.sets}
    stops = {}
    for name in args.sets:
        for record in sets[name]:
            if (record[1], record[2]) != pons[name][record[0]]:
                raise ValueError(f"{args.out}: {name} line {record[0] + 1} differs from the file")
        stops[name] = min(len(pons[name]), args.limit) if args.limit else len(pons[name])
    solver = Connect4Solver(table_size=1 << args.table_log2)
    summary = {name: {"solved_now": 0, "seconds": 0.0} for name in args.sets}
    saved = time.perf_counter()
    while any(len(sets[name]) < stops[name] for name in args.sets):
        for name in args.sets:
            done, stop = sets[name], stops[name]
            end = min(stop, len(done) + args.chunk) if args.chunk else stop
            began, first = time.perf_counter(), len(done)
            for index in range(first, end):
                done.append(solve_line(solver, name, index, *pons[name][index]))
                if time.perf_counter() - saved > args.save_every:
                    write_table(args.out, sets)
                    saved = time.perf_counter()
                    print(f"{name}: {len(done)}/{len(pons[name])} lines", file=sys.stderr, flush=True)
            summary[name]["solved_now"] += len(done) - first
            summary[name]["seconds"] += time.perf_counter() - began
            if len(done) > first:
                print(f"{name}: lines {first + 1}-{len(done)} in "
                      f"{time.perf_counter() - began:.1f} s", file=sys.stderr, flush=True)
    write_table(args.out, sets)
    for name in args.sets:
        summary[name]["total"] = len(sets[name])
        summary[name]["seconds"] = round(summary[name]["seconds"], 2)
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
