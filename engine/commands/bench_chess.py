"""`move37 bench chess`: chess move generation through our interface versus python-chess and
OpenSpiel, and uniform-prior search speed (see `benchmarks.bench_chess`)."""

from __future__ import annotations

import typer

from engine.cli import bench_app, fail


@bench_app.command("chess")
def bench_chess_command(
    repeats: int = typer.Option(3, help="Timings per measurement (the best counts)."),
    sims: int = typer.Option(200, help="Simulations per search in the search benchmark."),
    as_json: bool = typer.Option(False, "--json", help="Print only the JSON line."),
) -> None:
    """Perft leaves/s (ours vs python-chess vs OpenSpiel) and search simulations/s."""
    from benchmarks.bench_chess import main

    if repeats < 1 or sims < 1:
        fail("--repeats and --sims must be at least 1")
    main(["--repeats", str(repeats), "--sims", str(sims)] + (["--json"] if as_json else []))
