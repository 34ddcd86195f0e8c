"""The end of Go games (`engine.endgame`): dead stones from ownership and the count without
them (against hand counts and GNU Go's), and the pass rules on hand-made search results."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from engine.agents import SearchAgent
from engine.config import EndgameConfig
from engine.endgame import (
    apply_pass_rules,
    choose_move,
    dead_points,
    own_eyes,
    ownership_score,
    pass_context,
)
from engine.gtp_client import GtpClient
from games import play_moves
from games.go import Go

# Black holds column D, white column E; a black stone (H7) in white's area and a white one
# (B5) in black's. Counted with both off: black 9 + 27, white 9 + 36, komi 7.5: W+16.5.
WALLS = [m for r in range(1, 10) for m in (f"D{r}", f"E{r}")]
INVADERS = ["H7", "B5"]


def walls_position(go: Go) -> np.ndarray:
    state = go.initial_state()
    black = [go.text_to_action(None, v) for v in WALLS[::2] + ["H7"]]
    white = [go.text_to_action(None, v) for v in WALLS[1::2] + ["B5"]]
    return go.setup(state, black=black, white=white, to_play=0)


def sides_ownership(go: Go) -> np.ndarray:
    """Black owns columns A-D, white E-J (black's view), as a settled net would say."""
    owner = np.where(np.arange(go.size) < 4, 0.9, -0.9).astype(np.float32)
    return np.tile(owner, (go.size, 1))


def gnugo_count(gnugo: str, go: Go, plays: list[tuple[str, str]]) -> tuple[str, set[str]]:
    """GNU Go's `final_score` and `final_status_list dead` after the plays (Chinese rules)."""
    with GtpClient(f"{gnugo} --mode gtp --chinese-rules") as client:
        client.send(f"boardsize {go.size}")
        client.send(f"komi {go.komi:g}")
        for colour, vertex in plays:
            client.send(f"play {colour} {vertex}")
        # Counting reads the whole board: give it time on a busy machine.
        return (client.send("final_score", timeout=300),
                set(client.send("final_status_list dead", timeout=300).split()))


def test_dead_points_by_threshold() -> None:
    stones = np.array([1, 1, -1, -1, 0])
    ownership = np.array([-0.9, -0.3, 0.6, -1.0, -1.0])
    assert dead_points(stones, ownership, 0.5).tolist() == [0, 2]
    assert dead_points(stones, ownership, 0.95).tolist() == []


def test_invaders_are_dead_and_the_count_agrees_with_gnugo(gnugo: str) -> None:
    go = Go(size=9, komi=7.5)
    state = walls_position(go)
    score, dead = ownership_score(go, state, sides_ownership(go), threshold=0.5)
    assert sorted(go.action_to_text(None, p) for p in dead) == sorted(INVADERS)
    assert score == 36 - 45 - 7.5
    assert go.score(state) == 10 - 10 - 7.5  # Tromp-Taylor: invaders alive, both areas dame
    plays = [("black", v) for v in WALLS[::2] + ["H7"]] + [("white", v) for v in WALLS[1::2] + ["B5"]]
    final_score, gnugo_dead = gnugo_count(gnugo, go, plays)
    assert final_score == "W+16.5" and gnugo_dead == set(INVADERS)


def test_a_real_game_counted_from_playout_ownership_agrees_with_gnugo(gnugo: str) -> None:
    # The game of tests/engine/test_go_referee.py: 18 dead stones; GNU Go counts B+73.5.
    from tests.engine.test_go_referee import GAME

    go = Go(size=9, komi=7.5)
    state = play_moves(go, GAME)
    # An ownership map of our own: random playouts from this open board, far softer than a
    # trained head (the dead stones' points go to the other colour at 0.01 to 0.57), hence
    # the threshold just above 0: the majority owner, as `Go.dead_stones` counts.
    ownership = go.ownership(state, playouts=400, seed=0)
    score, dead = ownership_score(go, state, ownership, threshold=1e-3)
    colours = ("black", "white")
    plays = [(colours[i % 2], move) for i, move in enumerate(GAME)]
    final_score, gnugo_dead = gnugo_count(gnugo, go, plays)
    assert final_score == f"B+{score:g}" == "B+73.5"
    assert {go.action_to_text(None, p) for p in dead} == gnugo_dead


# --- pass rules -------------------------------------------------------------------------

def favour(go: Go, action: int, second: int) -> np.ndarray:
    """Search weights (visit shares) that prefer `action`, then `second`."""
    weights = np.zeros(go.num_actions, dtype=np.float32)
    weights[action], weights[second] = 0.7, 0.2
    return weights


def test_an_unsettled_board_after_a_pass_is_played_on_only_where_a_move_wins() -> None:
    go = Go(size=9, komi=7.5)
    state = play_moves(go, ["E5", "C3", "G7", "pass"])  # white passed; black to move
    config = EndgameConfig()
    unsettled = np.full((9, 9), 0.2, dtype=np.float32)
    ctx = pass_context(go, state, go.legal_mask(state), unsettled, config.dead_threshold)
    assert ctx.opponent_passed and ctx.pass_wins is False  # 2 - 1 - 7.5: black behind
    c7 = go.text_to_action(None, "C7")
    weights = favour(go, go.pass_action, c7)
    assert choose_move(go.pass_action, weights, 0.1, ctx, config) == c7
    # Losing either way: no stone thrown in because the head is unsure; the search's own
    # non-pass choice is overruled too.
    assert choose_move(go.pass_action, weights, -0.3, ctx, config) == go.pass_action
    assert choose_move(c7, favour(go, c7, go.pass_action), -0.3, ctx, config) == go.pass_action
    # White (to move after black's pass) leads by 6.5 as the board stands: it passes back
    # however unsettled the head calls the board and whatever a move is worth.
    answer = play_moves(go, ["E5", "C3", "G7", "pass", "pass"])
    ctx = pass_context(go, answer, go.legal_mask(answer), unsettled, config.dead_threshold)
    assert ctx.pass_wins is True
    assert choose_move(c7, favour(go, c7, go.pass_action), 0.9, ctx, config) == go.pass_action


def test_pass_in_a_finished_position_that_passing_wins() -> None:
    go = Go(size=9, komi=7.5)
    walls = go.setup(go.initial_state(), black=[go.text_to_action(None, v) for v in WALLS[::2]],
                     white=[go.text_to_action(None, v) for v in WALLS[1::2]], to_play=1)
    state = go.next_state(go.replace(walls, to_play=0), go.pass_action)  # black passed
    white_view = -sides_ownership(go) / 0.9  # settled: every point +-1
    config = EndgameConfig()
    ctx = pass_context(go, state, go.legal_mask(state), white_view, config.dead_threshold)
    assert ctx.opponent_passed and ctx.pass_wins  # W+16.5 with nothing dead
    g3 = go.text_to_action(None, "G3")
    # Even where the search prefers another move, the settled winning position passes.
    assert choose_move(g3, favour(go, g3, go.pass_action), 0.9, ctx, config) == go.pass_action
    # Passing first (black not having passed) is allowed once all is settled.
    first = go.replace(walls, to_play=1)
    ctx = pass_context(go, first, go.legal_mask(first), white_view, config.dead_threshold)
    weights = favour(go, go.pass_action, g3)
    assert choose_move(go.pass_action, weights, 0.9, ctx, config) == go.pass_action


def test_play_on_after_a_pass_when_passing_back_loses_and_a_move_wins() -> None:
    go = Go(size=9, komi=7.5)
    walls = go.setup(go.initial_state(), black=[go.text_to_action(None, v) for v in WALLS[::2]],
                     white=[go.text_to_action(None, v) for v in WALLS[1::2]], to_play=1)
    state = go.next_state(walls, go.pass_action)  # white passed, black to move
    black_view = sides_ownership(go) / 0.9  # black to move, losing by 16.5 if it passes
    config = EndgameConfig()
    ctx = pass_context(go, state, go.legal_mask(state), black_view, config.dead_threshold)
    assert ctx.pass_wins is False
    g3 = go.text_to_action(None, "G3")
    weights = favour(go, go.pass_action, g3)
    assert choose_move(go.pass_action, weights, 0.4, ctx, config) == g3  # a move wins
    assert choose_move(go.pass_action, weights, -0.6, ctx, config) == go.pass_action


@pytest.mark.parametrize("with_ownership", [False, True])
def test_no_early_pass_even_when_the_visits_favour_it(with_ownership: bool) -> None:
    go = Go(size=9, komi=7.5)
    states = [play_moves(go, moves) for moves in ([], ["E5"], ["E5", "D4", "C3"])]
    legal = np.stack([go.legal_mask(s) for s in states])
    c7 = go.text_to_action(None, "C7")
    weights = np.stack([favour(go, go.pass_action, c7)] * 3)  # a hand-made search result
    actions = np.full(3, go.pass_action)

    def settled_ownership(batch: np.ndarray) -> np.ndarray:
        return np.full((len(batch), 9, 9), 0.95, dtype=np.float32)  # even when "settled"

    chosen = apply_pass_rules(go, states, actions, weights, legal, [0.2] * 3,
                              settled_ownership if with_ownership else None, EndgameConfig())
    assert chosen.tolist() == ([go.pass_action] * 3 if with_ownership else [c7] * 3)
    # Early means empty *and* unsettled: an empty board whose every point a net calls
    # settled is no longer early; without ownership every empty point is unsettled.
    off = apply_pass_rules(go, states, actions, weights, legal, [0.2] * 3, None,
                           EndgameConfig(friendly_pass=False))
    assert off.tolist() == [go.pass_action] * 3


# Black's eyes: A1 (corner), C1 and E1 (edge), B2, D2, F2 and C3 (centre; C3 with one white
# stone on a diagonal). False eyes: G1 (edge, a white diagonal) and G3 (centre, two).
EYES_DIAGRAM = """
    . . . . . . . . .
    . . . . . . . . .
    . . . . . . . . .
    . . . . . . . . .
    . . . . . . . . .
    . . X O . O X O .
    . X . X . X . X .
    X . X . X . X O .
    . X . X . X . X .
"""


def test_own_eyes_in_the_corner_on_the_edge_and_in_the_centre() -> None:
    go = Go(size=9, komi=7.5)
    state = go.from_text(EYES_DIAGRAM)
    stones = go.stones(state)
    black = {go.action_to_text(None, int(p)) for p in np.flatnonzero(own_eyes(stones, 1))}
    assert black == {"A1", "C1", "E1", "B2", "D2", "F2", "C3"}
    assert not own_eyes(stones, -1).any()
    assert own_eyes(-stones, -1).tolist() == own_eyes(stones, 1).tolist()


def test_a_move_into_ones_own_eye_is_never_played() -> None:
    go = Go(size=9, komi=7.5)
    state = go.from_text(EYES_DIAGRAM)  # black to move
    config = EndgameConfig()
    settled = np.full((9, 9), 0.95, dtype=np.float32)
    ctx = pass_context(go, state, go.legal_mask(state), settled, config.dead_threshold)
    c3, g3, e1 = (go.text_to_action(None, v) for v in ("C3", "G3", "E1"))
    # Filling C3 counts as a pass, which a settled board allows.
    assert choose_move(c3, favour(go, c3, g3), 0.1, ctx, config) == go.pass_action
    assert choose_move(g3, favour(go, g3, c3), 0.1, ctx, config) == g3  # a false eye
    # Where a pass is refused (an unsettled board), the move played instead is no eye.
    unsettled = np.full((9, 9), 0.2, dtype=np.float32)
    ctx = pass_context(go, state, go.legal_mask(state), unsettled, config.dead_threshold)
    weights = np.zeros(go.num_actions, dtype=np.float32)
    weights[[c3, e1, g3]] = 0.5, 0.3, 0.1
    assert choose_move(c3, weights, 0.1, ctx, config) == g3
    off = EndgameConfig(friendly_pass=False)
    assert choose_move(c3, weights, 0.1, ctx, off) == c3


def test_pass_when_it_is_the_only_legal_move() -> None:
    go = Go(size=9, komi=7.5)
    state = go.initial_state()
    legal = np.zeros(go.num_actions, dtype=bool)
    legal[go.pass_action] = True
    ctx = pass_context(go, state, legal, None, 0.5)
    weights = np.ones(go.num_actions, dtype=np.float32)
    assert choose_move(go.pass_action, weights, None, ctx, EndgameConfig()) == go.pass_action


def test_the_agent_does_not_pass_early_even_if_its_policy_says_so() -> None:
    go = Go(size=9, komi=7.5)

    def pass_loving(states: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        logits = np.zeros((len(states), go.num_actions), dtype=np.float32)
        logits[:, go.pass_action] = 5.0
        logits[:, go.text_to_action(None, "E5")] = 1.0
        return logits, np.zeros(len(states), dtype=np.float32)

    state = go.initial_state()
    plain = SearchAgent(go, pass_loving, 0)
    assert plain.analyse(go, state).action == go.pass_action  # without the rules: pass
    ruled = SearchAgent(go, pass_loving, 0, endgame=EndgameConfig())
    assert go.action_to_text(state, ruled.analyse(go, state).action) == "E5"
    searched = SearchAgent(go, pass_loving, 8, endgame=EndgameConfig())
    assert searched.analyse(go, state).action != go.pass_action


def test_the_ownership_referee_counts_the_walls_as_gnugo_does() -> None:
    from engine.go_referee import OwnershipReferee, referee_game

    go = Go(size=9, komi=7.5)
    state = go.next_state(go.next_state(walls_position(go), go.pass_action), go.pass_action)
    on_board = go.outcome(state)
    assert on_board is not None and on_board.winner == 1 and on_board.margin == 7.5

    def agent_ownership(game: Go, position: np.ndarray) -> np.ndarray:
        """As an agent answers: for the player to move, row by row."""
        black = sides_ownership(game).reshape(-1)
        return black if game.to_play(position) == 0 else -black

    refereed = referee_game(OwnershipReferee(agent_ownership, 0.5), go, [], state, on_board)
    assert sorted(go.action_to_text(None, p) for p in refereed.dead) == sorted(INVADERS)
    assert refereed.outcome.winner == 1 and refereed.outcome.margin == 16.5  # W+16.5
    blind = referee_game(OwnershipReferee(lambda game, position: None, 0.5), go, [], state,
                         on_board)
    assert blind.dead == [] and blind.outcome.margin == 7.5  # no head: the board as it stands


# --- dead stones of finished games ------------------------------------------------------

COUNTED_GAMES = Path(__file__).parent / "data" / "gnugo_counted_games.json"


def test_final_score_equals_gnugos_on_finished_games_with_dead_stones() -> None:
    """60 games of GNU Go against itself (scripts/gnugo_counted_games.py), counted by GNU Go:
    `move37 gtp`'s `final_score` and `final_status_list dead` (playouts) match on every one."""
    from engine.agents import make_agent
    from engine.gtp import GtpEngine

    data = json.loads(COUNTED_GAMES.read_text())
    games = data["games"]
    assert len(games) == 60 and sum(bool(game["dead"]) for game in games) >= 50
    gtp = GtpEngine(lambda game: make_agent("random", game), komi=data["komi"])
    disagreements = []
    for number, game in enumerate(games):
        gtp.handle("clear_board")
        for move_number, vertex in enumerate(game["moves"]):
            assert gtp.handle(f"play {'bw'[move_number % 2]} {vertex}") == "= \n\n"
        dead = sorted(gtp.handle("final_status_list dead")[2:-2].split())
        score = gtp.handle("final_score")[2:-2]
        if score != game["gnugo_score"] or dead != sorted(game["dead"]):
            disagreements.append((number, score, game["gnugo_score"], dead, game["dead"]))
    assert not disagreements


# A seki in the top-left corner: black B9-A8-B8 (eye A9) and white C8-F8, D9, F9 (eye E9)
# share C9, and whoever fills it is captured. Hand count, C9 neutral: black 59 (the seki
# group and its eye among them), white 21 (columns A-B from row 7 down, the seki group and
# its eye), komi 7.5: B+30.5. Random playouts that fill C9 would give one of the groups away
# (the filling chain has 4 stones for black, 7 for white).
SEKI_DIAGRAM = """
    . X . O . O X X X
    X X O O O O X . X
    O O X X X X X X X
    O O X X X X X X X
    . O X X . X X X X
    O O X X X X X X X
    . O X X X X X . X
    O O X X X X X X X
    . O X X X X X X X
"""
SEKI_STONES = {"B9", "A8", "B8", "C8", "D8", "E8", "F8", "D9", "F9"}


def seki_plays() -> list[tuple[str, str]]:
    rows = [line.replace(" ", "") for line in SEKI_DIAGRAM.strip().splitlines()]
    return [("black" if ch == "X" else "white", f"{'ABCDEFGHJ'[col]}{9 - row}")
            for row, line in enumerate(rows) for col, ch in enumerate(line) if ch in "XO"]


def test_stones_in_seki_are_alive_and_the_count_agrees_with_gnugo(gnugo: str) -> None:
    from engine.agents import make_agent
    from engine.gtp import GtpEngine

    go = Go(size=9, komi=7.5)
    owner = go.ownership(go.from_text(SEKI_DIAGRAM), playouts=400, seed=0).reshape(9, 9)
    assert owner[0, :5].tolist() == [1, 1, 0, -1, -1]  # A9 B9 | C9 neutral | D9 E9
    gtp = GtpEngine(lambda game: make_agent("random", game), komi=7.5)
    for colour, vertex in seki_plays():
        assert gtp.handle(f"play {colour} {vertex}") == "= \n\n"
    assert gtp.handle("final_status_list dead") == "= \n\n"
    assert gtp.handle("final_score") == "= B+30.5\n\n"
    with GtpClient(f"{gnugo} --mode gtp --chinese-rules") as client:
        client.send("boardsize 9")
        client.send("komi 7.5")
        for colour, vertex in seki_plays():
            client.send(f"play {colour} {vertex}")
        assert client.send("final_score", timeout=300) == "B+30.5"
        assert set(client.send("final_status_list seki", timeout=300).split()) == SEKI_STONES


def test_the_one_point_eye_test_agrees_with_the_board_test() -> None:
    from engine.endgame import fills_own_eye

    go = Go(size=9, komi=7.5)
    for to_play in (0, 1):
        state = go.from_text(EYES_DIAGRAM, to_play=to_play)
        eyes = own_eyes(go.stones(state), 1 if to_play == 0 else -1)
        assert [fills_own_eye(go, state, p) for p in range(81)] == eyes.tolist()
        assert not fills_own_eye(go, state, go.pass_action)
