"""Go matches scored by a referee, dead stones taken off: against GNU Go's own count of a
real game that ends with dead stones on the board, and through `move37 arena`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sgfmill import sgf

from engine.agents import make_agent
from engine.arena import play_match
from engine.go_referee import EstimateReferee, GtpReferee, referee_game
from engine.gtp_client import GtpClient
from games import play_moves
from games.base import Outcome, Termination
from games.go import Go

REPO_ROOT = Path(__file__).resolve().parents[2]

# GNU Go (black, level 1) against random white stones, then two passes: white's stones in
# black's area are dead but stay on the board. GNU Go counts B+73.5 under Chinese rules; the
# board as it stands (Tromp-Taylor) counts W+7.5.
GAME = ("E5 C2 F3 G9 G5 F8 G7 B7 C5 G8 D2 E2 B6 A1 C7 D4 D8 C9 B8 H9 F7 E6 E7 F5 D3 J4 E4 H5 "
        "H7 J7 J8 C8 D1 H3 G4 A2 pass pass").split()


def gnugo_final_score(gnugo: str, go: Go, moves: list[str]) -> str:
    """GNU Go's own count of the game, by a separate GNU Go process."""
    with GtpClient(f"{gnugo} --mode gtp --chinese-rules") as client:
        client.send(f"boardsize {go.size}")
        client.send(f"komi {go.komi:g}")
        for i, move in enumerate(moves):
            client.send(f"play {'black' if i % 2 == 0 else 'white'} {move}")
        return client.send("final_score")


def test_referee_counts_as_gnugo_does_with_dead_stones_off(gnugo: str) -> None:
    go = Go(size=9, komi=7.5)
    state = play_moves(go, GAME)
    actions = [go.text_to_action(None, move) for move in GAME]
    on_board = go.outcome(state)
    assert on_board.winner == 1  # the board as it stands: white wins
    expected = gnugo_final_score(gnugo, go, GAME)
    assert expected == "B+73.5"
    referee = GtpReferee(f"{gnugo} --mode gtp")
    try:
        refereed = referee_game(referee, go, actions, state, on_board)
    finally:
        referee.close()
    assert len(refereed.dead) == 18 and refereed.board_result == "W+7.5"
    assert refereed.outcome.winner == 0 and f"B+{refereed.outcome.margin:g}" == expected
    estimated = referee_game(EstimateReferee(), go, actions, state, on_board)
    assert sorted(estimated.dead) == sorted(refereed.dead)


def test_players_counts_that_disagree_are_listed(gnugo: str) -> None:
    go = Go(size=9, komi=7.5)
    state = play_moves(go, GAME)
    actions = [go.text_to_action(None, move) for move in GAME]
    player = make_agent(f"gtp:{gnugo} --mode gtp --chinese-rules", go)
    try:
        player.analyse(go, play_moves(go, GAME[:-1]))  # it has seen the game (and passes)
        # A referee that sees no dead stones names the other winner than GNU Go's count.
        blind = EstimateReferee(playouts=0)
        refereed = referee_game(blind, go, actions, state, go.outcome(state), [player])
    finally:
        player.close()
    assert refereed.outcome.winner == 1
    assert refereed.player_counts == {player.name: "B+73.5"}
    assert refereed.disagreements == {player.name: "B+73.5"}
    assert referee_game(blind, go, actions, state,
                        Outcome(Termination.MAX_LENGTH)).dead == []  # adjudicated: untouched


def test_arena_names_the_referee_in_result_and_sgf(gnugo: str, tmp_path: Path) -> None:
    env = {**os.environ, "PATH": os.environ.get("PATH", "") + ":" + str(Path(gnugo).parent)}
    records = tmp_path / "match.sgf"
    done = subprocess.run(
        [sys.executable, "-m", "engine", "arena", "go", "--size", "9", "--a",
         "gtp:gnugo --mode gtp --level 0", "--b", "random", "--games", "2",
         "--records", str(records)],
        capture_output=True, text=True, cwd=REPO_ROOT, env=env, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    line = done.stdout.strip().splitlines()[-1]
    assert "+2 =0 -0" in line and "scored by referee gnugo --mode gtp" in line, line
    for number, colours in ((1, ("PB", "PW")), (2, ("PW", "PB"))):
        game = sgf.Sgf_game.from_bytes((tmp_path / f"match-{number:03d}.sgf").read_bytes())
        root = game.get_root()
        assert root.get(colours[0]) == "gtp:gnugo --mode gtp --level 0"
        assert root.get(colours[1]) == "random"
        assert "referee gnugo --mode gtp" in root.get("C")
        winner = "B" if colours[0] == "PB" else "W"
        assert root.get("RE").startswith(f"{winner}+")


def test_match_without_referee_counts_the_board() -> None:
    go = Go(size=5, komi=0.5, max_moves=60)
    result = play_match(go, make_agent("random", go, seed=1), make_agent("random", go, seed=2),
                        2, keep_records=True)
    assert result.scoring is None and result.games == 2
    assert all("PB[random]" in record and "C[" not in record for record in result.records)


def test_default_referee_is_gnugo_when_installed(gnugo: str, monkeypatch, tmp_path: Path) -> None:
    from engine.go_referee import make_referee

    monkeypatch.setenv("PATH", str(Path(gnugo).parent))
    referee = make_referee(None)
    try:
        assert isinstance(referee, GtpReferee) and referee.command == "gnugo --mode gtp"
    finally:
        referee.close()
    monkeypatch.setenv("PATH", str(tmp_path))  # no GNU Go here
    assert isinstance(make_referee(None), EstimateReferee)
    assert isinstance(make_referee("estimate"), EstimateReferee)


def test_counts_are_compared_by_winner_and_margin() -> None:
    from engine.go_referee import RefereedGame, same_count_text

    assert [same_count_text(t) for t in ("b+3.5", " W+7.0 ", "B+0", "Draw", "0", "W+R")] == [
        "B+3.5", "W+7", "0", "0", "0", "W+R"]
    refereed = RefereedGame(Outcome(Termination.SCORE, winner=0, margin=3.5), [], "B+3.5",
                            {"agrees": "B+3.5", "margin": "B+4.5", "winner": "W+3.5"})
    assert refereed.disagreements == {"margin": "B+4.5", "winner": "W+3.5"}


def test_a_checkpoints_ownership_head_as_referee(other_side_owner) -> None:
    """A head that gives every point to the side not to move: with black to move, the black
    stone in white's area is dead and white's wall lives (as the GTP test counts it)."""
    from engine.go_referee import make_referee

    owner = other_side_owner("endgame.dead_threshold=0.9")
    go = Go(size=9, komi=7.5)
    moves = [m for row in range(1, 10) for m in ("pass", f"E{row}")] + ["H7", "pass"]
    actions = [go.text_to_action(None, move) for move in moves]
    state = play_moves(go, moves)
    referee = make_referee(f"ckpt:{owner}", go)
    assert "dead at 0.9" in referee.description
    refereed = referee_game(referee, go, actions, state, Outcome(Termination.SCORE, winner=1, margin=1.0))
    assert [go.action_to_text(None, a) for a in refereed.dead] == ["H7"]
    assert refereed.outcome.winner == 1 and refereed.outcome.margin == 81 + 7.5  # every point white's
