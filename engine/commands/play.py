"""`move37 play`: play a game in the terminal against a computer opponent."""

from __future__ import annotations

import typer

from engine.cli import app


@app.command("play")
def play_command(
    game: str = typer.Argument(..., help="Game to play (see `move37 games`)."),
    opponent: str = typer.Option("random", help="Opponent: random."),
    human_first: bool = typer.Option(True, "--human-first/--human-second",
                                     help="Whether you make the first move."),
    seed: int = typer.Option(0, help="Seed of the opponent's random choices."),
) -> None:
    """Play against the computer: type moves, 'help' for the legal ones, 'quit' or Ctrl-D
    to leave. The board is drawn after every move."""
    import games
    from engine.play import parse_opponent, play_game

    the_game = games.make(game)
    choose = parse_opponent(opponent, the_game, seed)
    play_game(the_game, choose, human=0 if human_first else 1)
