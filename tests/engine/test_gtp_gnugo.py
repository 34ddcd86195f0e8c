"""Against a real program: the GTP client and agent driving GNU Go, and GNU Go's own
scores of finished games against our area scoring."""

from __future__ import annotations

import numpy as np
import pytest

from engine.gtp_client import GtpAgent, GtpClient, GtpError
from games.go import Go, vertex_to_point


def gnugo_board(client: GtpClient, size: int) -> np.ndarray:
    board = np.zeros(size * size, dtype=np.int8)
    for colour, value in (("black", 1), ("white", 2)):
        for vertex in client.send(f"list_stones {colour}").split():
            board[vertex_to_point(vertex, size)] = value
    return board.reshape(size, size)


def test_client_round_trip(gnugo: str) -> None:
    with GtpClient(f"{gnugo} --mode gtp") as client:
        assert client.send("protocol_version") == "2"
        assert "GNU Go" in client.send("name")
        client.send("boardsize 7")
        client.send("play black D4")
        board = client.send("showboard")
        assert board.count("\n") >= 8 and "X" in board  # multi-line response, read whole
        with pytest.raises(GtpError, match="failed 'play'"):
            client.send("play white D4")
        with pytest.raises(GtpError, match="unknown command"):
            client.send("no_such_command")
        assert client.send("list_stones black") == "D4"  # still in step after errors
    assert client.process.poll() is not None
    with pytest.raises(GtpError, match="cannot start"):
        GtpClient("/nonexistent/engine --mode gtp")


def test_gtp_agent_keeps_gnugo_in_sync_from_an_unknown_opening(gnugo: str) -> None:
    go = Go(size=9, komi=7.5)
    agent = GtpAgent(f"{gnugo} --mode gtp --level 0 --seed 3", go)
    rng = np.random.default_rng(5)
    state = go.initial_state()
    try:
        for _ in range(6):  # an opening the agent never saw played
            state = go.next_state(state, int(rng.choice(np.flatnonzero(go.legal_mask(state)[:-1]))))
        for ply in range(120):
            if go.is_over(state):
                break
            if ply % 2 == 0:
                action = agent.analyse(go, state).action  # legality checked by the agent
                assert go.legal_mask(state)[action]
                state = go.next_state(state, action)
                assert np.array_equal(gnugo_board(agent.client, 9), go.board(state)), ply
            else:
                points = np.flatnonzero(go.legal_mask(state)[:-1])
                action = int(rng.choice(points)) if len(points) else go.pass_action
                state = go.next_state(state, action)
        assert ply > 30
    finally:
        agent.close()


def play_out(client: GtpClient, go: Go, limit: int) -> np.ndarray | None:
    """GNU Go plays both sides to two passes; our rules check every move."""
    state, passes = go.initial_state(), 0
    for _ in range(limit):
        reply = client.send(f"genmove {'black' if go.to_play(state) == 0 else 'white'}")
        state = go.next_state(state, go.text_to_action(state, reply))
        passes = passes + 1 if reply.lower() == "pass" else 0
        if passes == 2:
            return state
    return None


def test_scores_of_finished_games_agree_with_gnugo_chinese_counting(gnugo: str) -> None:
    go = Go(size=9, komi=7.5, max_moves=400)
    compared = 0
    for seed in range(8):
        with GtpClient(f"{gnugo} --mode gtp --chinese-rules --level {seed % 3} "
                       f"--seed {seed}") as client:
            client.send("boardsize 9")
            client.send("komi 7.5")
            state = play_out(client, go, 300)
            assert state is not None and go.outcome(state) is not None
            if client.send("final_status_list dead").strip():
                continue  # GNU Go would remove stones that area counting keeps
            reply = client.send("final_score")
            ours = go.score(state)
            expected = "0" if ours == 0 else f"{'B' if ours > 0 else 'W'}+{abs(ours):.1f}"
            assert reply == expected, go.render(state)
            compared += 1
    assert compared >= 2


def test_arena_match_against_gnugo_through_a_player_spec(gnugo: str) -> None:
    from engine.agents import make_agent
    from engine.arena import play_match
    from games.go.sgf import read_sgf, replay

    go = Go(size=9, komi=7.5)
    external = make_agent(f"gtp:{gnugo} --mode gtp --level 0 --seed 1", go)
    try:
        result = play_match(go, external, make_agent("random", go, seed=1), 2,
                            keep_records=True)
    finally:
        external.close()
    assert result.games == 2 and len(result.records) == 2
    for record in result.records:  # complete games, every move legal under our rules
        state, played = replay(go, read_sgf(record))
        assert go.is_over(state) and len(played) > 20
