"""`move37 uci`: a UCI chess engine on stdin/stdout, for GUIs, python-chess and arenas.

With `--checkpoint` the search is guided by a trained chess network; without one it is the
search with a uniform prior and value 0 (legal, weak, but a real search).
"""

from __future__ import annotations

from pathlib import Path

import typer

from engine.cli import app, fail


def agent_factory(checkpoint: Path | None, game: object, sims: int, seed: int):  # type: ignore[no-untyped-def]
    """device name -> the agent `move37 uci` plays with: the checkpoint's network guiding the
    search, or (without a checkpoint) the search with a uniform prior and value 0."""

    def make_agent(device: str):  # type: ignore[no-untyped-def]
        from engine.agents import load_checkpoint_agent, make_agent
        from mcts import SearchConfig

        if checkpoint is not None:
            return load_checkpoint_agent(checkpoint, game, sims, device=device, seed=seed)
        # With every value 0, a first-play urgency below the parent's value would send each
        # simulation down the first line tried; without it the search spreads over the
        # moves and finds what the rules alone can see (mates, repetitions).
        return make_agent(f"mcts:{sims}", game, device=device, seed=seed,
                          search_config=SearchConfig(fpu_reduction=0.0))

    return make_agent


@app.command("uci")
def uci_command(
    checkpoint: Path | None = typer.Option(
        None, "--checkpoint", help="A chess checkpoint (stem, .json or run directory)."),
    sims: int = typer.Option(800, "--sims", help="Simulations per move when `go` sets no limit."),
    device: str = typer.Option("auto", "--device", help="Device for the network."),
    seed: int = typer.Option(0, help="Seed of the search and of move sampling."),
) -> None:
    """Speak UCI (Universal Chess Interface) on stdin and stdout."""
    import sys

    from engine.uci import serve
    from games.chess import Chess

    if sims < 0:
        fail(f"--sims must be >= 0, got {sims}")
    history, name = 8, f"move37 mcts:{sims}"
    if checkpoint is not None:
        from engine.checkpoint import load_checkpoint

        loaded = load_checkpoint(checkpoint)
        if loaded.game_name != "chess":
            fail(f"checkpoint {checkpoint} was trained on {loaded.game_name}, not chess")
        history = int(loaded.game_options.get("history", 8))
        name = f"move37 {loaded.path.name}"
    # The GUI adjudicates the game length: no `max_moves` here.
    game = Chess(max_moves=None, history=history)

    make_agent = agent_factory(checkpoint, game, sims, seed)
    serve(make_agent, sys.stdin, sys.stdout, game=game, simulations=sims, name=name,
          device=device, seed=seed)
