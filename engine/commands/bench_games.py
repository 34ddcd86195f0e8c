"""`move37 bench games`: random playouts per second of tic-tac-toe and Connect Four, our
kernels against plain Python and OpenSpiel (see `benchmarks.bench_games`)."""

from __future__ import annotations

import typer

from engine.cli import bench_app, fail


@bench_app.command("games")
def bench_games_command(
    seconds: float = typer.Option(1.0, help="Time per measurement, in seconds."),
    batch: int = typer.Option(4096, help="Games per kernel call."),
    as_json: bool = typer.Option(False, "--json", help="Print only the JSON line."),
) -> None:
    """Random playouts/s: Numba kernels vs a plain-Python reference vs OpenSpiel."""
    from benchmarks.bench_games import main

    if not seconds > 0 or batch < 1:
        fail("--seconds must be positive and --batch at least 1")
    main(["--seconds", str(seconds), "--batch", str(batch)] + (["--json"] if as_json else []))
