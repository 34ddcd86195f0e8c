"""`move37 train`: run (or resume) the self-play training loop."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Optional

import typer

from engine.cli import app, fail, limit_overrides


@app.command("train")
def train_command(
    game: Optional[str] = typer.Argument(None, help="Game to train (see `move37 games`)."),
    preset: Optional[str] = typer.Option(None, help="Preset in configs/ (default: the game's)."),
    minutes: Optional[float] = typer.Option(None, help="Stop after this many minutes."),
    iterations: Optional[int] = typer.Option(None, help="Stop after this many iterations."),
    out: Optional[Path] = typer.Option(None, help="Run directory (default runs/GAME-TIME)."),
    seed: Optional[int] = typer.Option(None, help="Root seed of the run."),
    device: Optional[str] = typer.Option(None, help="auto, cpu, cuda, cuda:N."),
    workers: Optional[int] = typer.Option(None, help="Self-play processes besides the learner."),
    cluster: Optional[str] = typer.Option(
        None, help="Run the actors on Ray: auto or the head's HOST:PORT (docs/distributed.md)."),
    actors: Optional[int] = typer.Option(None, help="Ray actors with --cluster (as --workers)."),
    learner_gpus: Optional[int] = typer.Option(
        None, help="Learner processes joined by DDP, one per GPU (gloo on the CPU)."),
    resume: Optional[Path] = typer.Option(None, help="Continue the run in this directory."),
    set_: list[str] = typer.Option([], "--set", help="Config override key=value (repeatable)."),
    quiet: bool = typer.Option(False, help="No live display; one line per iteration."),
) -> None:
    """Train an agent by self-play (AlphaZero-style), writing checkpoints and TensorBoard logs."""
    from engine.config import available_presets, resolve
    from engine.game_plugin import GamePlugin
    from engine.loop import prepare_run

    limits = limit_overrides(minutes=minutes, iterations=iterations, device=device,
                             workers=actors if actors is not None else workers,
                             cluster=cluster)
    if resume is not None:
        if game is not None or preset is not None or seed is not None or set_ \
                or learner_gpus is not None:
            fail("--resume takes only --minutes, --iterations, --device, --workers/--actors "
                 "and --cluster")
        config = prepare_run(GamePlugin, resume, None, True, limits)
        run_dir = resume
    else:
        if game is None:
            fail("name a game to train (see `move37 games`) or --resume a run directory")
        import games

        game_key = game.lower()
        games.make(game_key)  # fails early, with the list of games, on an unknown name
        chosen = preset or (game_key if game_key in available_presets() else None)
        overrides = [f"game=\"{game_key}\""] + list(set_) + limits
        if learner_gpus is not None:
            overrides.append(f"train.learner_processes={learner_gpus}")
        if seed is not None:
            overrides.append(f"seed={seed}")
        config = resolve(chosen, overrides)
        if config.game != game_key:
            fail(f"preset {chosen!r} is for {config.game}, not {game_key}")
        run_dir = out or Path("runs") / f"{game_key}-{time.strftime('%Y%m%d-%H%M%S')}"
        prepare_run(GamePlugin, run_dir, config, False)
    _run_with_display(config, run_dir, resume is not None, quiet)


def _run_with_display(config, run_dir: Path, resume: bool, quiet: bool) -> None:
    from rich.console import Console

    from engine.game_plugin import GamePlugin
    from engine.loop import Run

    console = Console(stderr=False)
    console.print(f"[bold]move37 train[/bold] {config.game} -> {run_dir}"
                  f"{' (resumed)' if resume else ''}; seed {config.seed}, "
                  f"model {config.model.size}, {config.search.algorithm} "
                  f"{config.search.num_simulations} sims")

    def show(metrics: dict) -> None:
        parts = [f"it {metrics['iteration']:>4}",
                 f"games {plugin.replay.total_episodes:>7}"]
        speed = metrics.get("selfplay/positions_per_sec", metrics.get("actor/items_per_sec"))
        if speed is not None:
            parts.append(f"pos/s {speed:8.0f}")
        if "loss/policy" in metrics:
            parts.append(f"policy {metrics['loss/policy']:.3f} value {metrics['loss/value']:.3f}")
        arena = [f"{k.split('score_vs_')[1]} {v:.2f}" for k, v in metrics.items()
                 if k.startswith("arena/score_vs_")]
        if arena:
            parts.append("arena " + ", ".join(arena))
        line = " | ".join(parts)
        console.print(line) if quiet or not console.is_terminal else console.log(line)

    plugin = GamePlugin.build(config, run_dir)
    run = Run(plugin, run_dir, resume=resume, on_iteration=show)
    try:
        run.run()
    except KeyboardInterrupt:
        console.print("interrupted: saving a checkpoint")
        run.save()
        raise
    console.print(f"done: {run.state.iteration} iterations, {plugin.replay.total_episodes} "
                  f"games, {plugin.learner.progress()} positions trained; "
                  f"checkpoints in {run.store.directory}")
