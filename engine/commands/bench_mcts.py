"""`move37 bench mcts`: search simulations per second on tic-tac-toe, Connect Four or Go, against
OpenSpiel's C++ MCTS in the same run (see `benchmarks.bench_mcts`)."""

from __future__ import annotations

import typer

from engine.cli import bench_app, fail


@bench_app.command("mcts")
def bench_mcts_command(
    game: str = typer.Option("connect4", help="connect4, tictactoe or go."),
    size: int = typer.Option(9, help="Go board size (5-19)."),
    sims: int = typer.Option(800, help="Simulations per search."),
    batch: int = typer.Option(256, help="Searches run together (B)."),
    evaluator: str = typer.Option("uniform", help="uniform (no cost) or rollout (one random "
                                                  "playout per leaf)."),
    algorithm: str = typer.Option("puct", help="puct or gumbel."),
    leaves: int = typer.Option(1, help="Leaves per tree and round (virtual loss above 1)."),
    repeats: int = typer.Option(3, help="Timed runs; the best is reported."),
    moves: int = typer.Option(8, help="OpenSpiel bot steps per timed run."),
    python_step: bool = typer.Option(True, help="Also time the plain-Python-callables path."),
    as_json: bool = typer.Option(False, "--json", help="Print only the JSON line."),
) -> None:
    """Search simulations/s (all searches together) vs OpenSpiel's C++ MCTS."""
    from benchmarks.bench_mcts import GAMES, main

    if game not in GAMES:
        fail(f"--game must be one of {', '.join(GAMES)}, got {game!r}")
    if evaluator not in ("uniform", "rollout"):
        fail(f"--evaluator must be uniform or rollout, got {evaluator!r}")
    if algorithm not in ("puct", "gumbel"):
        fail(f"--algorithm must be puct or gumbel, got {algorithm!r}")
    if min(sims, batch, leaves, repeats, moves) < 1:
        fail("--sims, --batch, --leaves, --repeats and --moves must be at least 1")
    if not 5 <= size <= 19:
        fail(f"--size must be 5 to 19, got {size}")
    argv = ["--game", game, "--size", str(size), "--sims", str(sims), "--batch", str(batch), "--evaluator", evaluator,
            "--algorithm", algorithm, "--leaves", str(leaves), "--repeats", str(repeats),
            "--moves", str(moves)]
    main(argv + ([] if python_step else ["--no-python-step"]) + (["--json"] if as_json else []))
