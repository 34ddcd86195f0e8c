"""`move37 perft FEN DEPTH [--divide]`: count the chess move tree through the `Game` interface.

The count goes through the legal mask, `next_state` and the 4,672-action encoding (see
`games.chess.perft`), so a mismatch with a published perft count points at our encoding
or state handling rather than at python-chess.
"""

from __future__ import annotations

import time

import typer

from engine.cli import app, fail


@app.command("perft")
def perft_command(
    fen: str = typer.Argument(..., help="The position as a FEN (quoted), or 'startpos'."),
    depth: int = typer.Argument(..., help="Depth in plies (>= 0)."),
    divide: bool = typer.Option(False, "--divide", help="Also print the count below each move."),
) -> None:
    """Count the leaf nodes of the legal move tree (chess), like engines' `perft`."""
    import chess

    from games.chess import Chess, perft
    from games.chess import divide as perft_divide

    if depth < 0:
        fail(f"depth must be >= 0, got {depth}")
    if divide and depth < 1:
        fail("--divide needs depth >= 1")
    text = chess.STARTING_FEN if fen.strip().lower() == "startpos" else fen
    state = Chess(max_moves=None, history=1, draw_rules=False).state_from_fen(text)
    start = time.perf_counter()
    if divide:
        split = perft_divide(state, depth)
        for move, count in sorted(split.items()):
            print(f"{move}: {count}")
        print()
        nodes = sum(split.values())
    else:
        nodes = perft(state, depth)
    seconds = time.perf_counter() - start
    print(f"Nodes searched: {nodes}")
    print(f"Time: {seconds:.3f} s ({nodes / max(seconds, 1e-9):,.0f} nodes/s)")
