"""`uci:COMMAND` players: the spec, the agent against a scripted engine that logs what it is
told (no Stockfish needed), and `move37 arena` against Stockfish when it is installed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import chess
import chess.engine
import numpy as np
import pytest

from engine.agent_types import AgentSpecError
from engine.agents import make_agent
from engine.uci_client import DEFAULT_MOVETIME_MS, UciAgent, UciEngineError, UciSpec
from games import play_moves
from games.chess import Chess
from games.tictactoe import TicTacToe

REPO_ROOT = Path(__file__).resolve().parents[2]

# A UCI engine in a few lines: it logs every command to LOG, declares one option, and answers
# `go` with the first legal move (by UCI text) and a score of +1 pawn.
FAKE_ENGINE = textwrap.dedent("""
    import sys, chess
    log = open(sys.argv[1], "a")
    board = chess.Board()
    for line in sys.stdin:
        line = line.strip()
        log.write(line + "\\n"); log.flush()
        if line == "uci":
            print("id name fake\\noption name Skill Level type spin default 20 min 0 max 20")
            print("uciok", flush=True)
        elif line == "isready":
            print("readyok", flush=True)
        elif line.startswith("position"):
            words = line.split()
            board = chess.Board()
            for move in words[words.index("moves") + 1:] if "moves" in words else []:
                board.push_uci(move)
        elif line.startswith("go"):
            move = min(m.uci() for m in board.legal_moves)
            print(f"info depth 1 score cp 100 pv {move}")
            print(f"bestmove {move}", flush=True)
        elif line == "quit":
            break
""")


@pytest.fixture
def fake_engine(tmp_path: Path) -> tuple[str, Path]:
    """(spec command of the scripted engine, the file it logs its commands to)."""
    script = tmp_path / "fake_uci.py"
    script.write_text(FAKE_ENGINE)
    log = tmp_path / "commands.log"
    return f"{sys.executable} {script} {log}", log


def test_spec_limits_and_options() -> None:
    spec = UciSpec.parse("stockfish")
    assert spec.argv == ["stockfish"] and spec.options == {}
    assert spec.limit == chess.engine.Limit(time=DEFAULT_MOVETIME_MS / 1000)
    spec = UciSpec.parse("'/opt/my engine' --flag; nodes=500 ;depth=8;Skill Level=3;")
    assert spec.argv == ["/opt/my engine", "--flag"]
    assert spec.limit == chess.engine.Limit(nodes=500, depth=8)
    assert spec.options == {"Skill Level": "3"}
    assert UciSpec.parse("sf;movetime=250").limit == chess.engine.Limit(time=0.25)


@pytest.mark.parametrize("text", ["", " ;nodes=5", "sf;nodes=0", "sf;depth=x", "sf;Hash",
                                  "sf;=3"])
def test_bad_specs(text: str) -> None:
    with pytest.raises(AgentSpecError):
        UciSpec.parse(text)


def test_agent_sends_the_moves_and_options_and_reads_the_reply(fake_engine) -> None:
    command, log = fake_engine
    game = Chess()
    agent = make_agent(f"uci:{command};nodes=7;Skill Level=2", game)
    assert isinstance(agent, UciAgent)
    try:
        state = play_moves(game, ["e4", "e5"])
        analysis = agent.analyse(game, state)
        expected = min(m.uci() for m in state.board.legal_moves)
        assert game.action_to_move(state, analysis.action).uci() == expected
        assert 0.0 < analysis.value < 1.0  # +1 pawn for the side to move
        batch = agent.analyse_batch(np.array([game.initial_state(), state], dtype=object))
        assert [a.action for a in batch][1] == analysis.action
    finally:
        agent.close()
    sent = log.read_text().splitlines()
    assert "setoption name Skill Level value 2" in sent
    assert "position startpos moves e2e4 e7e5" in sent
    assert "go nodes 7" in sent
    assert sent[-1] == "quit"


def test_agent_errors(fake_engine, tmp_path: Path) -> None:
    command, _ = fake_engine
    with pytest.raises(AgentSpecError, match="play chess"):
        make_agent(f"uci:{command}", TicTacToe())
    with pytest.raises(UciEngineError, match="cannot start"):
        make_agent(f"uci:{tmp_path / 'no_such_engine'}", Chess())
    with pytest.raises(UciEngineError, match="Hash"):
        make_agent(f"uci:{command};Hash=16", Chess())


def test_stockfish_mates_in_one(stockfish_path: str) -> None:
    game = Chess()
    agent = UciAgent([stockfish_path], game, limit=chess.engine.Limit(depth=6))
    try:
        state = play_moves(game, ["e4", "e5", "Bc4", "Nc6", "Qh5", "Nf6"])
        analysis = agent.analyse(game, state)
        assert game.action_to_move(state, analysis.action).uci() == "h5f7"
        assert analysis.value > 0.9
    finally:
        agent.close()


def test_arena_against_stockfish(stockfish_path: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "engine", "arena", "chess", "--a", "uci:stockfish", "--b",
         "random", "--games", "2", "--json"],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=300, check=False,
        env={**os.environ, "PATH": f"{Path(stockfish_path).parent}:{os.environ['PATH']}"})
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    assert lines[0].startswith("uci:stockfish vs random: +")
    result = json.loads(lines[-1])
    assert result["games"] == 2 and result["wins"] + result["draws"] + result["losses"] == 2
    assert result["losses"] == 0
