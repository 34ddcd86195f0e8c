"""Go rules on hand-built positions whose answers are known: captures, snapback, suicide,
ko, positional superko, seki, area scoring with komi, game end, GTP vertices."""

from __future__ import annotations

import numpy as np
import pytest

from games.base import GameOverError, IllegalMoveError, MoveParseError, Termination
from games.go import Go, point_to_vertex, vertex_to_point


def play(go: Go, state: np.ndarray, *moves: str) -> np.ndarray:
    for text in moves:
        state = go.next_state(state, go.text_to_action(state, text))
    return state


def stone(go: Go, state: np.ndarray, vertex: str) -> int:
    return int(go.board(state).reshape(-1)[vertex_to_point(vertex, go.size)])


def test_vertices_follow_gtp() -> None:
    assert vertex_to_point("A1", 9) == 72 and vertex_to_point("j9", 9) == 8
    assert vertex_to_point("T19", 19) == 18 and vertex_to_point("PASS", 19) == 361
    assert point_to_vertex(72, 9) == "A1" and point_to_vertex(81, 9) == "pass"
    assert [point_to_vertex(vertex_to_point(v, 13), 13) for v in ("H8", "J8", "N13")] == [
        "H8", "J8", "N13"]
    for bad in ("I5", "K10", "A0", "Z3", "", "D"):
        with pytest.raises(MoveParseError):
            vertex_to_point(bad, 9)


def test_single_capture() -> None:
    go = Go(size=5)
    state = go.from_text("""
        . . . . .
        . . X . .
        . X O X .
        . . . . .
        . . . . .""")
    after = play(go, state, "C2")
    assert stone(go, after, "C3") == 0 and stone(go, after, "C2") == 1
    assert go.board(after).sum() == 4  # four black stones, no white


def test_capture_of_two_groups_and_of_a_chain_at_once() -> None:
    go = Go(size=5)
    state = go.from_text("""
        X O . O X
        . X . X .
        . . . . .
        O O X . .
        X X . . .""")
    after = play(go, state, "C5")  # black captures two separate white stones
    assert stone(go, after, "B5") == 0 and stone(go, after, "D5") == 0
    after = play(go, after, "C1")  # white captures the two-stone chain A1-B1
    assert stone(go, after, "A1") == 0 and stone(go, after, "B1") == 0
    assert stone(go, after, "A2") == 2 and stone(go, after, "C1") == 2
    assert (go.board(after) == 1).sum() == 6 and (go.board(after) == 2).sum() == 3


def test_snapback() -> None:
    go = Go(size=5)
    state = go.from_text("""
        . . . . .
        . . . . .
        X X . . .
        O O X . .
        . . O . .""")
    state = play(go, state, "B1")  # throw-in: white's A2-B2 now in atari at A1
    state = play(go, state, "A1")  # white captures the throw-in ...
    assert stone(go, state, "B1") == 0 and go.ko_point(state) == -1
    state = play(go, state, "B1")  # ... and black takes back three stones
    for vertex in ("A1", "A2", "B2"):
        assert stone(go, state, vertex) == 0
    assert stone(go, state, "B1") == 1 and stone(go, state, "C1") == 2


def test_suicide_is_illegal_single_and_multi_stone() -> None:
    go = Go(size=5)
    state = go.from_text("""
        . O . . .
        O . . . .
        . . . . .
        . . . . .
        . . . . .""")
    a5 = vertex_to_point("A5", 5)
    assert not go.legal_mask(state)[a5]
    with pytest.raises(IllegalMoveError, match="suicide"):
        go.next_state(state, a5)
    assert go.legal_mask(go.replace(state, to_play=1))[a5]  # white may fill its own eye

    state = go.from_text("""
        X O . . .
        . O . . .
        O . . . .
        . . . . .
        . . . . .""")
    a4 = vertex_to_point("A4", 5)
    assert not go.legal_mask(state)[a4]
    assert go.why_illegal(state, a4) == "suicide"


def test_capture_that_looks_like_suicide_is_legal() -> None:
    go = Go(size=5)
    state = go.from_text("""
        . O X . .
        O X . . .
        X . . . .
        . . . . .
        . . . . .""")
    after = play(go, state, "A5")
    assert stone(go, after, "B5") == 0 and stone(go, after, "A4") == 0
    assert stone(go, after, "A5") == 1


KO = """
    . X O . .
    X O . O .
    . X O . .
    . . . . .
    . . . . ."""


def test_simple_ko_forbids_the_immediate_retake_only() -> None:
    go = Go(size=5)
    state = play(go, go.from_text(KO), "C4")  # black takes the ko
    b4 = vertex_to_point("B4", 5)
    assert stone(go, state, "B4") == 0 and go.ko_point(state) == b4
    assert not go.legal_mask(state)[b4]
    assert go.why_illegal(state, b4) == "ko"
    planes = go.encode(state)
    assert planes[-2].reshape(-1)[b4] == 1.0  # the "may not play here" plane shows the ko
    state = play(go, state, "E1", "E2")  # a ko threat and its answer
    state = play(go, state, "B4")  # now white may retake
    assert stone(go, state, "C4") == 0 and go.ko_point(state) == vertex_to_point("C4", 5)


def triple_ko_board(go: Go) -> np.ndarray:
    """Three independent kos on 13x13 (rows 2, 6, 10 from the top). Kos 1 and 2 have a white
    stone to capture; ko 3 a black one."""
    black, white = [], []
    for index, r in enumerate((2, 6, 10)):
        c = 2
        black += [r * 13 + c - 1, (r - 1) * 13 + c, (r + 1) * 13 + c]
        white += [(r - 1) * 13 + c + 1, (r + 1) * 13 + c + 1, r * 13 + c + 2]
        (white if index < 2 else black).append(r * 13 + c + (0 if index < 2 else 1))
    return go.setup(go.initial_state(), black=black, white=white, to_play=0)


def triple_ko_cycle() -> list[int]:
    take_black = [r * 13 + 3 for r in (2, 6, 10)]  # black captures by playing column 3
    take_white = [r * 13 + 2 for r in (2, 6, 10)]  # white captures by playing column 2
    return [take_black[0], take_white[2], take_black[1], take_white[0], take_black[2],
            take_white[1]]


def test_triple_ko_cycle_is_stopped_by_positional_superko() -> None:
    go = Go(size=13)
    state = triple_ko_board(go)
    start_hash = go.position_hash(state)
    moves = triple_ko_cycle()
    for action in moves[:5]:
        assert go.legal_mask(state)[action], go.render(state)
        state = go.next_state(state, action)
    last = moves[5]
    assert go.ko_point(state) != last  # simple ko alone would allow it
    assert not go.legal_mask(state)[last]
    assert "superko" in go.why_illegal(state, last)
    # Playing it anyway (the batch step does not check) recreates the starting position.
    again = go.batch_step(state[None], np.array([last]))[0]
    assert go.position_hash(again) == start_hash
    assert np.array_equal(go.board(again), go.board(triple_ko_board(go)))


@pytest.mark.parametrize("window, repeat_allowed", [(5, True), (6, False)])
def test_superko_window_covers_exactly_the_last_positions(window: int, repeat_allowed: bool
                                                          ) -> None:
    go = Go(size=13, superko_window=window)
    state = triple_ko_board(go)
    moves = triple_ko_cycle()
    for action in moves[:5]:
        state = go.next_state(state, action)
    assert go.legal_mask(state)[moves[5]] == repeat_allowed


SEKI = """
    . X X O .
    X X . O O
    X X X O O
    X X X O O
    X X X O O"""


def test_seki_stays_on_the_board_and_shared_liberty_is_neutral() -> None:
    go = Go(size=5, komi=7.5)
    state = go.from_text(SEKI)
    # Filling the shared liberty is legal but puts the filler's group in atari: seki.
    c4 = vertex_to_point("C4", 5)
    assert go.legal_mask(state)[c4]
    after = play(go, state, "C4")
    a5 = vertex_to_point("A5", 5)
    assert go.legal_mask(after)[a5]  # white can now capture all of black
    assert (go.board(play(go, after, "A5")) == 1).sum() == 0
    # Left alone and scored: black 13 stones + A5, white 9 stones + E5, C4 neutral.
    done = play(go, state, "pass", "pass")
    outcome = go.outcome(done)
    assert outcome.termination == Termination.SCORE
    assert go.score(done) == pytest.approx(14 - 10 - 7.5)
    assert outcome.winner == 1 and outcome.margin == pytest.approx(3.5)


def test_area_score_with_komi_and_a_stone_left_in_enemy_area() -> None:
    go = Go(size=5, komi=7.5)
    state = go.from_text("""
        . X O . .
        . X O . .
        O X O . .
        . X O . .
        . X O . .""")
    # Black: 5 stones. White: 6 stones (the one on A3 is not removed: no dead-stone
    # removal under Tromp-Taylor counting) + 10 points on the right = 16. The four empty
    # points of column A touch both colours: neutral.
    assert go.score(state) == pytest.approx(5 - 16 - 7.5)
    finished = play(go, state, "pass", "pass")
    done, value = go.batch_terminal(finished[None])
    assert go.to_play(finished) == 0 and done[0] and value[0] == -1.0  # black lost
    go_even = Go(size=5, komi=-11.0)
    assert go_even.outcome(play(go_even, go_even.from_text("""
        . X O . .
        . X O . .
        O X O . .
        . X O . .
        . X O . ."""), "pass", "pass")).is_draw


def test_two_passes_end_the_game_and_a_play_resets_the_count() -> None:
    go = Go(size=5)
    state = play(go, go.initial_state(), "pass", "C3", "pass")
    assert go.outcome(state) is None and go.passes(state) == 1
    state = play(go, state, "pass")
    outcome = go.outcome(state)
    assert outcome.termination == Termination.SCORE
    assert outcome.winner == 1 and outcome.margin == pytest.approx(25 + 7.5)  # white C3
    assert not go.legal_mask(state).any()
    with pytest.raises(GameOverError):
        go.next_state(state, 0)


def test_max_length_ends_and_scores_the_game() -> None:
    go = Go(size=5, max_moves=3, komi=0.5)
    state = play(go, go.initial_state(), "C3", "D3", "B3")
    outcome = go.outcome(state)
    assert outcome.termination == Termination.MAX_LENGTH
    # Black 2 stones, white 1, the empty region touches both: 2 - 1 - 0.5.
    assert go.score(state) == pytest.approx(0.5)
    assert outcome.winner == 0 and outcome.margin == pytest.approx(0.5)


def test_bad_constructor_arguments_are_rejected() -> None:
    for kwargs in ({"size": 4}, {"size": 21}, {"komi": float("nan")}, {"max_moves": 0},
                   {"superko_window": 10_000}, {"history": -1}):
        with pytest.raises(ValueError):
            Go(**kwargs)
    with pytest.raises(ValueError):
        Go(size=5).batch_legal_mask(np.zeros((2, 7), dtype=np.uint8))
