"""`move37 serve`: the web board (play every game, see the agent's analysis, replay runs)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from engine.cli import app, fail


@app.command("serve")
def serve_command(
    port: int = typer.Option(8037, help="Port to listen on."),
    host: str = typer.Option("127.0.0.1", help="Address to bind; the default is this "
                                               "machine only."),
    checkpoint: list[str] = typer.Option([], "--checkpoint", help="A player the page may "
                                         "choose: run dir, checkpoint, ckpt:PATH[:SIMS] or "
                                         "zoo:NAME (repeatable)."),
    run: list[Path] = typer.Option([], "--run", help="Another run directory whose plots and "
                                   "game records the page shows (repeatable)."),
    game: Optional[str] = typer.Option(None, help="Game the page opens with."),
    sims: int = typer.Option(64, help="Simulations per move of checkpoints given without a "
                                      "count."),
    device: str = typer.Option("cpu", help="Device of network players."),
    seed: int = typer.Option(0, help="Seed of the players' random choices."),
    max_games: int = typer.Option(64, help="Games kept at once (the longest idle go first)."),
) -> None:
    """Serve the web board at http://HOST:PORT/ until interrupted."""
    try:
        import starlette  # noqa: F401
        import uvicorn
    except ImportError:
        fail("the web board needs starlette and uvicorn: pip install starlette uvicorn")
    from engine.web.app import WEB_GAMES, ServeConfig, create_app

    if game is not None and game not in WEB_GAMES:
        fail(f"--game must be one of {', '.join(WEB_GAMES)}")
    if not 0 < port < 65536:
        fail("--port must lie between 1 and 65535")
    if max_games < 1:
        fail("--max-games must be at least 1")
    for path in run:
        if not path.is_dir():
            fail(f"--run {path} is not a directory")
    config = ServeConfig(checkpoints=list(checkpoint), runs=list(run), sims=sims,
                         device=device, seed=seed, max_games=max_games, default_game=game)
    application = create_app(config)
    print(f"move37 web board on http://{host}:{port}/ (Ctrl-C to stop)")
    uvicorn.run(application, host=host, port=port, log_level="warning")
