"""`move37 bench ...`: the hot-path benchmarks as CLI commands (registered as a
`move37.commands` entry point, so the engine never imports this package).

Each command checks its options (a bad one is a one-line error, exit 2) and runs the
matching `benchmarks.bench_*` module, which prints its figures and a JSON last line.
"""

from __future__ import annotations

from typing import Optional

import typer

from engine.cli import bench_app, fail

@bench_app.command("chess")
def bench_chess_command(
    repeats: int = typer.Option(3, help="Timings per measurement (the best counts)."),
    sims: int = typer.Option(200, help="Simulations per search in the search benchmark."),
    as_json: bool = typer.Option(False, "--json", help="Print only the JSON line."),
) -> None:
    """Perft leaves/s (ours vs python-chess vs OpenSpiel) and search simulations/s."""
    from benchmarks.bench_chess import main

    if repeats < 1 or sims < 1:
        fail("--repeats and --sims must be at least 1")
    main(["--repeats", str(repeats), "--sims", str(sims)] + (["--json"] if as_json else []))

@bench_app.command("games")
def bench_games_command(
    seconds: float = typer.Option(1.0, help="Time per measurement, in seconds."),
    batch: int = typer.Option(4096, help="Games per kernel call."),
    as_json: bool = typer.Option(False, "--json", help="Print only the JSON line."),
) -> None:
    """Random playouts/s: Numba kernels vs a plain-Python reference vs OpenSpiel."""
    from benchmarks.bench_games import main

    if not seconds > 0 or batch < 1:
        fail("--seconds must be positive and --batch at least 1")
    main(["--seconds", str(seconds), "--batch", str(batch)] + (["--json"] if as_json else []))

@bench_app.command("replay")
def bench_replay_command(
    shards: int = typer.Option(2000, help="Shards to write (9x9 Go positions)."),
    positions: int = typer.Option(128, help="Positions per shard."),
    window: int = typer.Option(200_000, help="Replay window, in positions."),
    repeats: int = typer.Option(20, help="Draws per measurement."),
    as_json: bool = typer.Option(False, "--json", help="Print only the JSON line."),
) -> None:
    """The learner's batch sampling: shards joined into chunks vs one chunk per shard."""
    from benchmarks.bench_replay import main

    if min(shards, positions, window, repeats) < 1:
        fail("--shards, --positions, --window and --repeats must be at least 1")
    main(["--shards", str(shards), "--positions", str(positions), "--window", str(window),
          "--repeats", str(repeats)] + (["--json"] if as_json else []))

@bench_app.command("learner")
def bench_learner_command(
    preset: str = typer.Option("connect4", help="Preset whose learner to time."),
    set_: list[str] = typer.Option([], "--set", help="Config override key=value."),
    variant: list[str] = typer.Option(
        [], "--variant", help="Other settings to time in the same run, KEY=VALUE[,KEY=VALUE] "
                              "(repeatable); reported as a ratio to the base."),
    steps: int = typer.Option(10, help="Gradient steps per timed round."),
    rounds: int = typer.Option(5, help="Timed rounds per setting (the median counts)."),
    seed: int = typer.Option(0),
    as_json: bool = typer.Option(False, "--json", help="Print only the JSON line."),
) -> None:
    """The learner's gradient steps: ms per step and positions/s, by preset and setting."""
    from benchmarks.bench_learner import main, settings_of
    from engine.config import resolve

    if steps < 1 or rounds < 1:
        fail("--steps and --rounds must be at least 1")
    for items in settings_of(list(set_), list(variant)).values():
        resolve(preset, items)  # a bad setting: a one-line error before any timing
    argv = ["--preset", preset, "--steps", str(steps), "--rounds", str(rounds),
            "--seed", str(seed)]
    argv += [a for item in set_ for a in ("--set", item)]
    argv += [a for item in variant for a in ("--variant", item)]
    main(argv + (["--json"] if as_json else []))

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


@bench_app.command("inference")
def bench_inference_command(
    presets: Optional[list[str]] = typer.Option(
        None, "--preset", help="Preset whose network to time, repeatable [default: connect4, go9]."),
    batches: Optional[list[int]] = typer.Option(
        None, "--batch", help="Batch size, repeatable [default: 1, 32, 256, 1024]."),
    modes: Optional[list[str]] = typer.Option(
        None, "--mode", help="fp32, bf16 (autocast), placed-fp32/-bf16 (in the memory format "
        "a run uses), compiled-fp32/-bf16 (torch.compile), graphs-fp32/-bf16 (compiled with "
        "CUDA graphs, GPU only); repeatable "
        "[default: fp32, placed-fp32, bf16, placed-bf16, compiled-fp32]."),
    device: str = typer.Option("auto", help="auto, cpu or cuda[:N]."),
    threads: int = typer.Option(0, help="Torch threads (0: torch's default)."),
    seed: int = typer.Option(0),
    as_json: bool = typer.Option(False, "--json", help="Print a JSON last line."),
) -> None:
    """Network positions/s by preset, batch size and precision, checked against float64."""
    from benchmarks.bench_inference import main

    argv = ["--presets", *(presets or ["connect4", "go9"]),
            "--batches", *map(str, batches or [1, 32, 256, 1024]),
            "--modes", *(modes or ["fp32", "bf16", "compiled-fp32"]),
            "--device", device, "--threads", str(threads), "--seed", str(seed)]
    if as_json:
        argv.append("--json")
    main(argv)

@bench_app.command("mcts")
def bench_mcts_command(
    game: str = typer.Option("connect4", help="connect4, tictactoe, go or chess."),
    size: int = typer.Option(9, help="Go board size (5-19)."),
    sims: int = typer.Option(800, help="Simulations per search."),
    batch: int = typer.Option(256, help="Searches run together (B)."),
    evaluator: str = typer.Option("uniform", help="uniform (no cost) or rollout (one random "
                                                  "playout per leaf)."),
    algorithm: str = typer.Option("puct", help="puct or gumbel."),
    leaves: int = typer.Option(1, help="Leaves per tree and round (virtual loss above 1)."),
    repeats: int = typer.Option(3, help="Timed runs; the best is reported."),
    peer: str = typer.Option("openspiel", help="openspiel: time OpenSpiel's C++ MCTSBot (a "
                                               "zero-cost and a one-rollout evaluator) in the "
                                               "same run; none: skip it."),
    peer_seconds: float = typer.Option(2.0, help="Wall-time cap of each OpenSpiel flavour."),
    python_step: bool = typer.Option(True, help="Also time the plain-Python-callables path."),
    as_json: bool = typer.Option(False, "--json", help="Print only the JSON line."),
) -> None:
    """Search simulations/s (all searches together) vs OpenSpiel's C++ MCTS."""
    from benchmarks.bench_mcts import GAMES, main

    if game not in GAMES:
        fail(f"--game must be one of {', '.join(GAMES)}, got {game!r}")
    if evaluator not in ("uniform", "rollout"):
        fail(f"--evaluator must be uniform or rollout, got {evaluator!r}")
    if algorithm not in ("puct", "gumbel"):
        fail(f"--algorithm must be puct or gumbel, got {algorithm!r}")
    if min(sims, batch, leaves, repeats) < 1:
        fail("--sims, --batch, --leaves and --repeats must be at least 1")
    if peer not in ("openspiel", "none"):
        fail(f"--peer must be openspiel or none, got {peer!r}")
    if peer_seconds < 0:
        fail(f"--peer-seconds must be at least 0, got {peer_seconds}")
    if not 5 <= size <= 19:
        fail(f"--size must be 5 to 19, got {size}")
    argv = ["--game", game, "--size", str(size), "--sims", str(sims), "--batch", str(batch),
            "--evaluator", evaluator,
            "--algorithm", algorithm, "--leaves", str(leaves), "--repeats", str(repeats),
            "--peer", peer, "--peer-seconds", str(peer_seconds)]
    main(argv + ([] if python_step else ["--no-python-step"]) + (["--json"] if as_json else []))


@bench_app.command("selfplay")
def bench_selfplay_command(
    game: str = typer.Option("connect4", help="Game to play."),
    preset: Optional[str] = typer.Option(None, help="Preset (default: the game's)."),
    games: int = typer.Option(256, help="Games to time (after a warm-up)."),
    seed: int = typer.Option(0),
    set_: list[str] = typer.Option([], "--set", help="Config override key=value."),
    as_json: bool = typer.Option(False, "--json", help="Print a JSON last line."),
    cluster: Optional[str] = typer.Option(
        None, help="Ray cluster (auto or HOST:PORT): time 1..--actors Ray actors instead."),
    actors: int = typer.Option(2, help="With --cluster: the most actors to time."),
    seconds: float = typer.Option(30.0, help="With --cluster: timing window per count."),
    compare_inference: bool = typer.Option(
        False, help="With --cluster: --actors actors with a model each, then with one shared "
                    "inference actor that batches their requests (--games each)."),
) -> None:
    """Time the self-play actor: positions/s, network vs search+game share; with --cluster,
    positions/s of 1..N Ray actors and the scaling efficiency against one."""
    if cluster:
        if actors < 1 or seconds <= 0:
            fail("--actors must be at least 1 and --seconds positive")
        if compare_inference:
            from benchmarks.bench_cluster import compare_designs, report_designs
            from benchmarks.common import emit

            emit(compare_designs(game, preset, list(set_), cluster, actors, games, seed),
                 report_designs, as_json)
            return
        from benchmarks.bench_cluster import report, run_cluster
        from benchmarks.common import emit

        emit(run_cluster(game, preset, list(set_), cluster, actors, seconds, seed), report,
             as_json)
        return
    from benchmarks.bench_selfplay import main

    argv = ["--game", game, "--games", str(games), "--seed", str(seed)]
    if preset:
        argv += ["--preset", preset]
    for item in set_:
        argv += ["--set", item]
    if as_json:
        argv.append("--json")
    main(argv)


@bench_app.command("llm")
def bench_llm(
    batch: int = typer.Option(128, help="Completions sampled together."),
    max_new_tokens: int = typer.Option(48, help="Tokens per completion."),
    repeats: int = typer.Option(3, help="Timed repetitions."),
    threads: int = typer.Option(2, help="torch CPU threads."),
    simulations: int = typer.Option(8, help="Budget of the timed searched move."),
    device: str = typer.Option("cpu", help="cpu, cuda, cuda:N or auto."),
) -> None:
    """Sampling, scoring, a GRPO iteration and a searched move on the tiny model (JSON last)."""
    from benchmarks.bench_llm import run

    if batch < 8 or max_new_tokens < 1 or repeats < 1 or threads < 1 or simulations < 1:
        fail("--batch must be >= 8 and the other options >= 1")
    import json

    typer.echo(json.dumps(run(batch, max_new_tokens, repeats, threads, simulations, device)))
