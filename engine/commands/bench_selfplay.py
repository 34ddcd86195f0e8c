"""`move37 bench selfplay`: self-play positions per second and the network's share of the time."""

from __future__ import annotations

from typing import Optional

import typer

from engine.cli import bench_app


@bench_app.command("selfplay")
def bench_selfplay_command(
    game: str = typer.Option("connect4", help="Game to play."),
    preset: Optional[str] = typer.Option(None, help="Preset (default: the game's)."),
    games: int = typer.Option(256, help="Games to time (after a warm-up)."),
    seed: int = typer.Option(0),
    set_: list[str] = typer.Option([], "--set", help="Config override key=value."),
    as_json: bool = typer.Option(False, "--json", help="Print a JSON last line."),
) -> None:
    """Time the self-play actor: positions/s, network vs search+game share."""
    from benchmarks.bench_selfplay import main

    argv = ["--game", game, "--games", str(games), "--seed", str(seed)]
    if preset:
        argv += ["--preset", preset]
    for item in set_:
        argv += ["--set", item]
    if as_json:
        argv.append("--json")
    main(argv)
