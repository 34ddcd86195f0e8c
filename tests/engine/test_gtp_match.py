"""`move37 gtp` as a subprocess: a smoke test of the command, and complete 9x9 games against
GNU Go run by a small referee. Every move of either side must be legal under our rules and
accepted by the other engine. Games end with dead stones on the board: on every game
finished by passes, our engine's `final_score` (dead stones by playouts) must equal GNU
Go's Chinese count, and where GNU Go sees no dead stones both must equal the board as it
stands (our rules' count)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from engine.gtp_client import GtpClient
from games.go import Go

ENGINE = [sys.executable, "-m", "engine", "gtp"]


def test_gtp_command_smoke() -> None:
    script = "1 protocol_version\n2 boardsize 5\n3 play b C3\n4 genmove w\n5 showboard\n6 quit\n"
    done = subprocess.run(ENGINE + ["--sims", "8"], input=script, capture_output=True, check=False,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    replies = done.stdout.split("\n\n")
    assert replies[:3] == ["=1 2", "=2 ", "=3 "]
    move = replies[3].removeprefix("=4 ")
    assert move != "C3" and Go(size=5).text_to_action(None, move) is not None
    assert "X" in replies[4] and "O" in replies[4] and replies[5] == "=6 "


def score_text(score: float) -> str:
    return "0" if score == 0 else f"{'B' if score > 0 else 'W'}+{abs(score):.1f}"


def referee(ours: GtpClient, theirs: GtpClient, our_player: int, go: Go, limit: int
            ) -> tuple[object, str]:
    """Play one game; returns (final state, how it ended: 'passes', 'resign' or 'limit')."""
    for client in (ours, theirs):
        client.send(f"boardsize {go.size}")
        client.send(f"komi {go.komi:g}")
        client.send("clear_board")
    state, passes = go.initial_state(), 0
    for _ in range(limit):
        player = go.to_play(state)
        mover, other = (ours, theirs) if player == our_player else (theirs, ours)
        colour = "black" if player == 0 else "white"
        reply = mover.send(f"genmove {colour}")
        if reply.lower() == "resign":
            return state, "resign"
        state = go.next_state(state, go.text_to_action(state, reply))  # legal for us
        other.send(f"play {colour} {reply}")  # accepted by the other engine
        passes = passes + 1 if reply.lower() == "pass" else 0
        if passes == 2:
            return state, "passes"
    return state, "limit"


def play_match(gnugo: str, games: int, sims: int) -> list[tuple[str, str | None, int]]:
    """Per game: how it ended, the count both engines gave (None: not ended by passes), and
    how many stones GNU Go called dead."""
    go = Go(size=9, komi=7.5, max_moves=4 * 81)
    ends = []
    for game in range(games):
        level = game % 2
        with GtpClient(ENGINE + ["--sims", str(sims), "--seed", str(game)], timeout=600, setup_timeout=600) as ours, \
                GtpClient(f"{gnugo} --mode gtp --chinese-rules "
                          f"--level {level} --seed {game}") as theirs:
            state, end = referee(ours, theirs, game % 2, go, limit=4 * 81)
            compared, dead = None, []
            if end == "passes":
                compared = theirs.send("final_score")
                assert ours.send("final_score") == compared, go.render(state)
                dead = theirs.send("final_status_list dead").split()
                if not dead:
                    assert compared == score_text(go.score(state)), go.render(state)
            ends.append((end, compared, len(dead)))
    return ends


def test_games_against_gnugo(gnugo: str) -> None:
    ends = play_match(gnugo, games=2, sims=48)
    assert sum(compared is not None and dead > 0 for _, compared, dead in ends) >= 1, ends


@pytest.mark.slow
def test_more_games_against_gnugo(gnugo: str) -> None:
    ends = play_match(gnugo, games=8, sims=200)
    assert sum(compared is not None for _, compared, _ in ends) >= 4, ends
