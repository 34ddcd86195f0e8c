"""`move37 arena`, `move37 eval` and `move37 move`: measuring and querying agents."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Optional

import typer

from engine.cli import app, fail


def _make_game(name: str, size: Optional[int] = None, komi: Optional[float] = None,
               players: tuple[str, ...] = ()):
    """The game `name`, with the options the checkpoint players were trained with (their
    networks only fit that encoding), then --size and --komi on top."""
    import games
    from engine.agents import checkpoint_game_options

    options: dict = {}
    trained: dict | None = None
    for spec in players:
        found = checkpoint_game_options(spec)
        if found is None:
            continue
        if trained is not None and found != trained:
            fail(f"the checkpoints were trained with different game options: {trained} and "
                 f"{found}")
        trained = found
    options.update(trained or {})
    if size is not None:
        options["size"] = size
    if komi is not None:
        options["komi"] = komi
    return games.make(name, **options)


@app.command("arena")
def arena_command(
    game: str = typer.Argument(..., help="Game (see `move37 games`)."),
    a: str = typer.Option(..., "--a", help="Player A: random, mcts:SIMS, perfect, ckpt:PATH[:SIMS], "
                                          "gtp:CMD, uci:CMD."),
    b: str = typer.Option(..., "--b", help="Player B (same forms)."),
    games: int = typer.Option(20, help="Number of games (colours alternate)."),
    opening_moves: int = typer.Option(0, help="Random opening plies shared by each pair of games."),
    max_moves: int = typer.Option(0, help="Adjudicate a draw after this many moves (0 = never)."),
    seed: int = typer.Option(0, help="Seed of openings and random players."),
    device: str = typer.Option("auto", help="Device for network players."),
    size: Optional[int] = typer.Option(None, help="Board size (Go)."),
    komi: Optional[float] = typer.Option(None, help="Komi (Go)."),
    records: Optional[Path] = typer.Option(None, help="Write the games' records to this file "
                                                     "(Go: one SGF per game, FILE-001.sgf, ...)."),
    referee: Optional[str] = typer.Option(
        None, help="Go: who names the dead stones of finished games before counting: a GTP "
                   "command (default 'gnugo --mode gtp' when GNU Go is on the PATH), 'estimate' "
                   "(move37's own playouts), 'ckpt:PATH' (that network's ownership head), or "
                   "'none' (count the board as it stands)."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as a JSON last line."),
) -> None:
    """Play a match between two players; report results and the Elo difference with its 95% CI."""
    from engine.agents import make_agent
    from engine.arena import play_match
    from engine.game_records import write_records
    from engine.go_referee import make_referee
    from games.go import Go

    the_game = _make_game(game, size, komi, players=(a, b))
    if games < 1:
        fail("--games must be at least 1")
    if referee is not None and not isinstance(the_game, Go):
        fail("--referee scores Go games only")
    agents = []
    the_referee = None
    ticks = GameTicks(games)
    try:
        agents.append(make_agent(a, the_game, device=device, seed=seed))
        agents.append(make_agent(b, the_game, device=device, seed=seed + 1))
        if isinstance(the_game, Go) and (referee or "").lower() != "none":
            the_referee = make_referee(referee, the_game, device)
        # After the players started: one that cannot start is one error line, alone.
        print(f"arena {the_game.name}: A = {a}, B = {b}; {games} games", file=sys.stderr,
              flush=True)
        result = play_match(the_game, agents[0], agents[1], games, seed=seed,
                            opening_moves=opening_moves, max_moves=max_moves,
                            keep_records=records is not None, referee=the_referee,
                            on_game=ticks)
    finally:
        for agent in agents:
            agent.close()
        if the_referee is not None:
            the_referee.close()
    summary = result.as_dict()
    if records is not None:
        write_records(the_game, result.records, records)
    for line in result.disagreements:
        print(f"move37: warning: the players disagree with the referee: {line}", file=sys.stderr)
    scored = f"; scored by {result.scoring}" if result.scoring else ""
    print(f"{a} vs {b}: +{result.wins} ={result.draws} -{result.losses} "
          f"score {result.score:.3f}, {elo_text(summary)}{scored}")
    if as_json:
        print(json.dumps(summary))


def elo_text(summary: dict) -> str:
    """`Elo +12.3 (95% CI [-40.1, +65.0])`, with an unbounded side written as a bound
    (a score of 0 or 1 has an infinite estimate)."""
    elo, low, high = summary["elo"], summary["elo_low"], summary["elo_high"]

    def side(x: float | None, sign: str) -> str:
        return f"{sign}inf" if x is None else f"{x:+.1f}"

    if elo is None:
        sign = "+" if summary["score"] > 0.5 else "-"
        known = low if sign == "+" else high
        if known is not None:
            relation = ">" if sign == "+" else "<"
            bound = "lower" if sign == "+" else "upper"
            return f"Elo {relation} {known:+.1f} (95% {bound} bound)"
        return f"Elo {sign}inf"
    return f"Elo {elo + 0.0:+.1f} (95% CI [{side(low, '-')}, {side(high, '+')}])"


class GameTicks:
    """A line on stderr as each game of a match ends (stdout keeps the result alone)."""

    def __init__(self, games: int) -> None:
        self.games = games
        self.counts = {1.0: 0, 0.5: 0, 0.0: 0}

    def __call__(self, score: float) -> None:
        print(self.line(score), file=sys.stderr, flush=True)

    def line(self, score: float) -> str:
        """`game 3/4: A wins | A +2 =0 -1`, counting this game."""
        self.counts[float(score)] += 1
        played = sum(self.counts.values())
        word = {1.0: "A wins", 0.5: "draw", 0.0: "B wins"}[float(score)]
        wins, draws, losses = self.counts[1.0], self.counts[0.5], self.counts[0.0]
        return f"game {played}/{self.games}: {word} | A +{wins} ={draws} -{losses}"


@app.command("eval")
def eval_command(
    game: str = typer.Argument(..., help="tictactoe or connect4."),
    checkpoint: str = typer.Option(..., help="Checkpoint file or run directory "
                                            "(or a player spec such as random, mcts:200)."),
    sims: int = typer.Option(0, help="Simulations per move (0 = the raw policy)."),
    pons_dir: Optional[Path] = typer.Option(None, help="Directory of Pons' Test_* files to check "
                                                     "against the shipped outcome table."),
    limit: int = typer.Option(0, help="Only the first N positions of each Connect Four set."),
    device: str = typer.Option("auto"),
    seed: int = typer.Option(0),
    as_json: bool = typer.Option(False, "--json", help="Print the report as a JSON last line."),
    set_: list[str] = typer.Option([], "--set", help="How a checkpoint's agent plays: "
                                                     "play_search.KEY=VALUE, "
                                                     "play_symmetries=BOOL or "
                                                     "precision=auto|bf16|fp32 (repeatable)."),
) -> None:
    """Score an agent against exact answers (tic-tac-toe: perfect play; Connect Four: Pons' sets)."""
    from engine.agents import load_checkpoint_agent, make_agent
    from engine.checkpoint import CheckpointError, load_checkpoint
    from engine.config import ConfigError, with_play_overrides
    from engine.evaluate import evaluate_connect4, evaluate_tictactoe

    path = Path(checkpoint)
    if _names_a_path(checkpoint) and not (path.exists() or
                                          path.with_name(path.name + ".json").is_file()):
        fail(f"checkpoint {checkpoint} not found (give a checkpoint file, a run directory, "
             f"or a player such as random or mcts:200)")
    the_game = _make_game(game, players=(checkpoint,))
    played = None
    if path.exists() or path.with_name(path.name + ".json").is_file():  # a file, dir or stem
        if set_:
            try:
                played = with_play_overrides(load_checkpoint(checkpoint).run_config, set_)
            except (CheckpointError, ConfigError) as error:
                fail(str(error))
        agent = load_checkpoint_agent(checkpoint, the_game, sims, device=device, seed=seed,
                                      play_config=played)
    elif set_:
        fail(f"--set changes how a checkpoint's agent plays; {checkpoint} is not a checkpoint")
    else:
        agent = make_agent(checkpoint, the_game, device=device, seed=seed)
    if the_game.name == "tictactoe":
        report = evaluate_tictactoe(the_game, agent, seed)
        print(f"from each of {report['positions']} positions, one game against perfect play "
              "for each side:")
        for side, label in (("as_player_to_move", "to move"), ("as_other_player", "other side")):
            r = report[side]
            print(f"  {label:>10}: {r['losses']} lost from a drawn or won position, "
                  f"{r['wins_given_up']} of {r['winnable']} won positions not won")
        print("perfect play: no loss and no win given up" if report["perfect"] else
              f"not perfect: {report['losses']} losses and {report['wins_given_up']} wins "
              "given up")
    elif the_game.name == "connect4":
        report = evaluate_connect4(the_game, agent, pons_dir, limit)
        print(f"{'set':<12} {'name':<14} {'all':>7} {'decisive':>9} {'n':>6}")
        for set_name, r in report.items():
            decisive = r["correct_decisive"]
            print(f"{set_name:<12} {r['name']:<14} {r['correct']:>7.1%} "
                  f"{(f'{decisive:.1%}' if decisive is not None else '-'):>9} {r['positions']:>6}")
    else:
        fail(f"eval knows tictactoe and connect4, not {game}")
    report["sims"] = sims
    if played is not None:  # the run's play settings with --set applied
        report.update(play_search=played.play_search, play_symmetries=played.play_symmetries,
                      precision=agent.evaluator.precision)
    if as_json:
        print(json.dumps(report))


def _names_a_path(spec: str) -> bool:
    """Whether a player spec is a file path (`runs/x`, `x.json`) rather than `kind:...`."""
    head = spec.replace("\\", "/").split("/")[0]
    return ("/" in spec.replace("\\", "/") and ":" not in head) or spec.endswith(
        (".json", ".safetensors"))


@app.command("move")
def move_command(
    game: str = typer.Argument(..., help="Game (see `move37 games`)."),
    checkpoint: str = typer.Option(..., help="Checkpoint file or run directory."),
    moves: Optional[str] = typer.Option(None, help="Moves from the start, space separated."),
    moves_file: Optional[Path] = typer.Option(None, help="One position per line (moves from "
                                                        "the start); one answer per line."),
    sims: int = typer.Option(0, help="Simulations (0 = the raw policy)."),
    device: str = typer.Option("auto"),
    as_json: bool = typer.Option(False, "--json", help="Answer in JSON."),
) -> None:
    """The agent's move and value estimate after the given moves."""
    from engine.agents import LoadedAgent, load_checkpoint_agent
    from games.base import GameError

    if (moves is None) == (moves_file is None):
        fail("give exactly one of --moves and --moves-file")
    the_game = _make_game(game, players=(checkpoint,))
    agent = LoadedAgent(load_checkpoint_agent(checkpoint, the_game, sims, device=device))
    if moves is not None:
        answer = agent.move(the_game, moves.split())
        print(json.dumps(answer) if as_json else f"{answer['move']} (value {answer['value']:+.3f})")
        return
    if not moves_file.is_file():
        fail(f"moves file {moves_file} not found")
    for line_number, line in enumerate(moves_file.read_text().splitlines(), 1):
        try:
            answer = agent.move(the_game, line.split())
        except GameError as error:
            answer = {"error": str(error), "line": line_number}
        print(json.dumps(answer) if as_json else
              answer.get("move", f"error: {answer.get('error')}"))
        sys.stdout.flush()
