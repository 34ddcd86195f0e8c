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
    minutes: Optional[float] = typer.Option(
        None, help="Stop after this many minutes (with --resume: this many more)."),
    iterations: Optional[int] = typer.Option(
        None, help="Stop after this many iterations (with --resume: this many more)."),
    out: Optional[Path] = typer.Option(None, help="Run directory (default runs/GAME-TIME)."),
    seed: Optional[int] = typer.Option(None, help="Root seed of the run."),
    device: Optional[str] = typer.Option(None, help="auto, cpu, cuda, cuda:N."),
    workers: Optional[int] = typer.Option(None, help="Self-play processes besides the learner."),
    cluster: Optional[str] = typer.Option(
        None, help="Run the actors on Ray: auto or the head's HOST:PORT (docs/distributed.md)."),
    actors: Optional[int] = typer.Option(None, help="Ray actors with --cluster (as --workers)."),
    learner_gpus: Optional[int] = typer.Option(
        None, help="Learner processes joined by DDP, one per GPU (gloo on the CPU)."),
    resume: Optional[Path] = typer.Option(
        None, help="Continue the run in this directory; --minutes and --iterations add to it."),
    set_: list[str] = typer.Option([], "--set", help="Config override key=value (repeatable)."),
    quiet: bool = typer.Option(False, help="No live status line, even on a terminal."),
) -> None:
    """Train an agent by self-play (AlphaZero-style), writing checkpoints and TensorBoard logs."""
    started = time.monotonic()
    from engine.config import available_presets, resolve
    from engine.display import Display

    display = Display(live=False if quiet else None)
    workers = actors if actors is not None else workers
    if resume is not None:
        from engine.game_plugin import GamePlugin
        from engine.loop import completed_iterations, prepare_run

        if game is not None or preset is not None or seed is not None or set_ \
                or learner_gpus is not None:
            fail("--resume takes only --minutes, --iterations, --device, --workers/--actors "
                 "and --cluster")
        done = completed_iterations(resume) if (resume / "config.json").is_file() else 0
        limits = limit_overrides(minutes=minutes, device=device, workers=workers,
                                 cluster=cluster,
                                 iterations=None if iterations is None else done + iterations)
        config = prepare_run(GamePlugin, resume, None, True, limits)
        if config.iterations and done >= config.iterations and not minutes:
            fail(f"{resume} has run {done} iterations, its limit of {config.iterations}: "
                 f"add --iterations N or --minutes M to run more")
        run_dir = resume
    else:
        if game is None:
            fail("name a game to train (see `move37 games`) or --resume a run directory")
        import games

        game_key = game.lower()
        games.make(game_key)  # fails early, with the list of games, on an unknown name
        chosen = preset or (game_key if game_key in available_presets() else None)
        limits = limit_overrides(minutes=minutes, iterations=iterations, device=device,
                                 workers=workers, cluster=cluster)
        overrides = [f"game=\"{game_key}\""] + list(set_) + limits
        if learner_gpus is not None:
            overrides.append(f"train.learner_processes={learner_gpus}")
        if seed is not None:
            overrides.append(f"seed={seed}")
        config = resolve(chosen, overrides)
        if config.game != game_key:
            fail(f"preset {chosen!r} is for {config.game}, not {game_key}")
        run_dir = out or Path("runs") / f"{game_key}-{time.strftime('%Y%m%d-%H%M%S')}"
        # The first line before torch loads: the user sees at once what will happen.
        display.event(start_line(config, run_dir, _budget(config, started, None), None))
        from engine.game_plugin import GamePlugin
        from engine.loop import prepare_run

        prepare_run(GamePlugin, run_dir, config, False)
        done = None
    if resume is not None:
        display.event(start_line(config, run_dir, _budget(config, started, done), done))
    _run_with_display(config, run_dir, done, display, started)


def _budget(config, started: float, resumed_at: int | None):
    from engine.display import Budget

    return Budget(started, config.minutes, resumed_at or 0, config.iterations)


def _run_with_display(config, run_dir: Path, resumed_at: int | None, display,
                      started: float) -> None:
    from engine.display import run_saving_on_interrupt
    from engine.game_plugin import GamePlugin
    from engine.loop import Run

    budget = _budget(config, started, resumed_at)
    plugin = GamePlugin.build(config, run_dir, log=lambda text: display.progress(
        f"{text} | it {run.state.iteration + 1} | {budget.fields(run.state.iteration)}"))
    run = Run(plugin, run_dir, resume=resumed_at is not None, on_iteration=lambda metrics: (
        display.clear_progress(), display.event(iteration_line(metrics, plugin, budget))))
    summary = run_saving_on_interrupt(run, display, started,
                                      f"move37 train --resume {run_dir}")
    display.event(final_line(config.game, run_dir, budget, run.state, summary))


def start_line(config, run_dir: Path, budget, resumed_at: int | None) -> str:
    """The first line: the game, the run directory, what this call will do, the setup."""
    if resumed_at is None:
        what = f"budget {budget.describe()}"
    else:
        what = f"resuming at iteration {resumed_at}; running {budget.describe(more=True)}"
    return (f"move37 train {config.game} -> {run_dir}; {what}; seed {config.seed}, model "
            f"{config.model.size}, {config.search.algorithm} {config.search.num_simulations} "
            f"sims, {config.workers} workers")


def iteration_line(metrics: dict, plugin, budget) -> str:
    """`it 3 | 1:23/2:00 eta 0:37 | games 192 | 612 pos/s | policy 2.289 value 0.125 | ...`
    (Go adds `ownership 0.412` after the value loss)."""
    parts = [f"it {metrics['iteration']}", budget.fields(metrics["iteration"]),
             f"games {plugin.replay.total_episodes}"]
    speed = metrics.get("selfplay/positions_per_sec", metrics.get("actor/items_per_sec"))
    if speed is not None:
        parts.append(f"{speed:.0f} pos/s")
    if "loss/policy" in metrics:
        parts.append(f"policy {metrics['loss/policy']:.3f} value {metrics['loss/value']:.3f}"
                     + (f" ownership {metrics['loss/ownership']:.3f}"
                        if "loss/ownership" in metrics else ""))
    arena = arena_scores(metrics)
    if arena:
        parts.append(f"arena {arena}")
    return " | ".join(parts)


def arena_scores(metrics: dict) -> str:
    """`random 0.95, perfect 0.40` from an iteration's `arena/score_vs_*` figures."""
    return ", ".join(f"{k.split('score_vs_')[1]} {v:.2f}" for k, v in metrics.items()
                     if k.startswith("arena/score_vs_"))


def final_line(game: str, run_dir: Path, budget, state, summary: dict) -> str:
    """The last line: wall time, the last arena score, where the summary is, what next."""
    from engine.display import clock

    last_arena = next((arena_scores(h) for h in reversed(state.history)
                       if arena_scores(h)), "")
    plural = "s" if state.iteration != 1 else ""
    return (f"done in {clock(budget.elapsed())}: {state.iteration} iteration{plural}, "
            f"{summary.get('games_played', 0)} games"
            f"{f'; last arena {last_arena}' if last_arena else ''}; "
            f"summary {run_dir / 'summary.json'}; next: move37 play {game} --checkpoint {run_dir}")
