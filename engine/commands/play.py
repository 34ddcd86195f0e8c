"""`move37 play`: play a game in the terminal against a computer opponent."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from engine.cli import app, fail


@app.command("play")
def play_command(
    game: str = typer.Argument(..., help="Game to play (see `move37 games`)."),
    opponent: str = typer.Option("random", help="Opponent: random, mcts:SIMS, perfect, "
                                                "ckpt:PATH[:SIMS]."),
    checkpoint: Optional[Path] = typer.Option(None, help="Play a trained agent (checkpoint "
                                                         "file or run directory)."),
    sims: int = typer.Option(0, help="With --checkpoint: simulations per move (0 = raw policy)."),
    device: str = typer.Option("auto", help="Device of a network opponent."),
    human_first: bool = typer.Option(True, "--human-first/--human-second",
                                     help="Whether you make the first move."),
    seed: int = typer.Option(0, help="Seed of the opponent's random choices."),
    sgf: Optional[Path] = typer.Option(None, "--sgf", help="Go: start from the end of this "
                                                            "SGF record (its size and komi)."),
    size: Optional[int] = typer.Option(None, "--size", help="Go: board size (5-19)."),
    komi: Optional[float] = typer.Option(None, "--komi", help="Go: komi."),
) -> None:
    """Play against the computer: type moves, 'help' for the legal ones, 'quit' or Ctrl-D
    to leave. The board is drawn after every move."""
    import games
    from engine.agents import checkpoint_game_options
    from engine.play import parse_opponent, play_game

    options = {k: v for k, v in (("size", size), ("komi", komi)) if v is not None}
    if (options or sgf is not None) and games.make(game).name != "go":
        fail("--sgf, --size and --komi are options of go")
    # The network only fits the encoding it was trained with: start from those options.
    spec = f"ckpt:{checkpoint}" if checkpoint is not None else opponent
    trained = checkpoint_game_options(spec) or {}
    start = None
    if sgf is not None:
        from games.go.sgf import read_sgf, replay

        record = read_sgf(sgf)
        if size is not None and size != record.size:
            fail(f"--size {size} does not match the record's {record.size}x{record.size}")
        the_game = games.make(game, **{**trained, "size": record.size, "komi": record.komi,
                                       **options})
        start, _ = replay(the_game, record)
    else:
        the_game = games.make(game, **{**trained, **options})
    if checkpoint is not None:
        opponent = f"ckpt:{checkpoint}:{sims}"
    choose = parse_opponent(opponent, the_game, seed, device)
    # "First" is the side to move in the starting position.
    first = 0 if start is None else the_game.to_play(start)
    play_game(the_game, choose, human=first if human_first else 1 - first, start=start)
