"""`move37 gtp`: a Go engine speaking GTP 2 on stdin/stdout (GUIs, servers, GNU Go matches).

With `--checkpoint` the search is guided by a trained Go network (the board size is then
the network's); without one it is the search with a uniform prior whose leaves are valued
by `--rollouts` random playouts each (0: value 0, the plain `mcts:SIMS` player).
"""

from __future__ import annotations

from pathlib import Path

import typer

from engine.cli import app, fail


@app.command("gtp")
def gtp_command(
    checkpoint: Path | None = typer.Option(
        None, "--checkpoint", help="A Go checkpoint (stem, .json or run directory)."),
    size: int = typer.Option(9, "--size", help="Initial board size (5-19; GTP boardsize "
                                                "changes it)."),
    komi: float = typer.Option(7.5, "--komi", help="Initial komi (GTP komi changes it)."),
    sims: int = typer.Option(200, "--sims", help="Search simulations per genmove."),
    analysis_sims: int = typer.Option(
        10_000, "--analysis-sims", help="Most simulations an lz-analyze / kata-analyze search "
                                        "grows its tree to."),
    rollouts: int = typer.Option(1, "--rollouts", help="Without a checkpoint: random playouts "
                                                        "per leaf as its value (0: none)."),
    resign_threshold: float | None = typer.Option(
        None, "--resign-threshold", help="Resign when the value for us is below this, "
                                         "e.g. -0.95 (default: never resign)."),
    device: str = typer.Option("auto", "--device", help="Device for the network."),
    seed: int = typer.Option(0, "--seed", help="Seed of the search."),
) -> None:
    """Speak the Go Text Protocol on stdin and stdout."""
    import sys

    from engine.config import EndgameConfig
    from engine.gtp import GtpEngine
    from engine.gtp_serve import serve

    if sims < 0 or rollouts < 0:
        fail(f"--sims and --rollouts must be >= 0, got {sims} and {rollouts}")
    if analysis_sims < 1:
        fail(f"--analysis-sims must be >= 1, got {analysis_sims}")
    if not 5 <= size <= 19:
        fail(f"--size must be from 5 to 19, got {size}")
    if resign_threshold is not None and not -1.0 <= resign_threshold <= 1.0:
        fail(f"--resign-threshold must be in [-1, 1], got {resign_threshold}")
    history, sizes, name = 3, None, "move37"
    endgame = EndgameConfig()
    if checkpoint is not None:
        from engine.checkpoint import load_checkpoint

        loaded = load_checkpoint(checkpoint)
        if loaded.game_name != "go":
            fail(f"checkpoint {checkpoint} was trained on {loaded.game_name}, not go")
        history = int(loaded.game_options.get("history", 3))
        size = int(loaded.game_options.get("size", size))
        sizes = {size}  # the network's policy head fixes the board size
        endgame = loaded.run_config.endgame

    def make_agent(game):  # type: ignore[no-untyped-def]
        from engine.agents import SearchAgent, load_checkpoint_agent, make_agent
        from mcts import SearchConfig, rollout_evaluator

        if checkpoint is not None:
            return load_checkpoint_agent(checkpoint, game, sims, device=device, seed=seed)
        if rollouts == 0:
            return make_agent(f"mcts:{sims}", game, device=device, seed=seed)

        def playouts(states, playout_seed):  # type: ignore[no-untyped-def]
            return sum(game.batch_random_rollout(states, playout_seed * rollouts + k)
                       for k in range(rollouts)) / rollouts

        # Gumbel root search spends a small budget on a few sampled moves, halving them.
        config = SearchConfig(num_simulations=max(1, sims), algorithm="gumbel",
                              gumbel_num_considered=16)
        evaluator = rollout_evaluator(game.num_actions, playouts, seed)
        return SearchAgent(game, evaluator, sims, config, seed=seed,
                           name=f"mcts:{sims}+rollouts:{rollouts}")

    engine = GtpEngine(make_agent, size=size, komi=komi, resign_threshold=resign_threshold,
                       history=history, sizes=sizes, name=name,
                       analysis_simulations=analysis_sims,
                       endgame=endgame)
    serve(engine, sys.stdin, sys.stdout)
