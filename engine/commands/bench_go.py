"""`move37 bench go`: random Go playouts per second, ours against OpenSpiel's C++ Go, and
uniform-prior search speed (see `benchmarks.bench_go`)."""

from __future__ import annotations

import typer

from engine.cli import bench_app, fail


@bench_app.command("go")
def bench_go_command(
    size: list[int] | None = typer.Option(None, "--size", help="Board size (repeatable; "
                                                                 "default 9 and 19)."),
    seconds: float = typer.Option(3.0, help="Seconds per measurement."),
    sims: int = typer.Option(100, help="Simulations per search in the search benchmark."),
    batch: int = typer.Option(16, help="Games searched at once in the search benchmark."),
    as_json: bool = typer.Option(False, "--json", help="Print only the JSON line."),
) -> None:
    """Random playouts to the end per second (ours vs OpenSpiel) and search simulations/s."""
    from benchmarks.bench_go import main

    sizes = size or [9, 19]
    if any(not 5 <= s <= 19 for s in sizes):
        fail(f"--size must be from 5 to 19, got {sizes}")
    if seconds <= 0 or sims < 1 or batch < 1:
        fail("--seconds must be positive, --sims and --batch at least 1")
    argv = [a for s in sizes for a in ("--size", str(s))]
    argv += ["--seconds", str(seconds), "--sims", str(sims), "--batch", str(batch)]
    main(argv + (["--json"] if as_json else []))
