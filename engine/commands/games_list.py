"""`move37 games`: list the registered games."""

from __future__ import annotations

from engine.cli import app


@app.command("games")
def games_command() -> None:
    """List the games move37 knows."""
    import games

    for name, description in games.available().items():
        print(f"{name:<10} {description}")
