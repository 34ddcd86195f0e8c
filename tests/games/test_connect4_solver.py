"""The exact Connect Four solver against Pascal Pons' solved positions and a plain minimax.

Pons' sets give one exact score per position; the per-move scores and outcome classes are
checked against `connect4_reference`, an unpruned minimax that shares no code with the
solver, on positions small enough for it.
"""

from __future__ import annotations

import doctest
import random
from pathlib import Path

import connect4_reference as reference
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import games.connect4_solver as solver_module
from games.base import GameOverError, IllegalMoveError, MoveParseError
from games.connect4_data import read_pons_set
from games.connect4_search import BOARD_MASK
from games.connect4_solver import (
    ILLEGAL,
    ILLEGAL_SCORE,
    Connect4Solver,
    check_state,
    state_from_moves,
)


def read_set(shared_benchmarks: Path, name: str) -> list[tuple[str, int]]:
    return read_pons_set(shared_benchmarks / "connect4" / name)


@pytest.fixture(scope="module")
def solver() -> Connect4Solver:
    return Connect4Solver()


def sample(entries: list, k: int, seed: int) -> list:
    return random.Random(seed).sample(entries, k) if k < len(entries) else entries


# ---------------------------------------------------------------- Pons' exact scores

@pytest.mark.parametrize("name, k", [("Test_L3_R1", 1000), ("Test_L2_R1", 1000),
                                     ("Test_L1_R1", 1000), ("Test_L2_R2", 1000),
                                     ("Test_L1_R2", 8)])
def test_exact_scores_match_pons(shared_benchmarks, solver, name, k) -> None:
    entries = sample(read_set(shared_benchmarks, name), k, seed=37)
    wrong = [(m, s, solver.solve_moves(m)) for m, s in entries if solver.solve_moves(m) != s]
    assert not wrong, f"{len(wrong)}/{len(entries)} wrong in {name}, e.g. {wrong[:3]}"


@pytest.mark.slow
@pytest.mark.parametrize("name, k", [("Test_L1_R2", 1000),
                                     ("Test_L1_R3", 6)])
def test_exact_scores_match_pons_slow(shared_benchmarks, solver, name, k) -> None:
    entries = sample(read_set(shared_benchmarks, name), k, seed=38)
    wrong = [(m, s) for m, s in entries if solver.solve_moves(m) != s]
    assert not wrong, f"{len(wrong)}/{len(entries)} wrong in {name}, e.g. {wrong[:3]}"


@pytest.mark.parametrize("name", ["Test_L3_R1", "Test_L2_R1", "Test_L2_R2", "Test_L1_R1"])
def test_weak_solve_gives_the_sign(shared_benchmarks, solver, name) -> None:
    entries = sample(read_set(shared_benchmarks, name), 100, seed=39)
    wrong = [(m, s) for m, s in entries if solver.solve_moves(m, weak=True) != np.sign(s)]
    assert not wrong


def test_a_fresh_small_table_gives_the_same_scores(shared_benchmarks) -> None:
    small = Connect4Solver(table_size=1)  # rounded up to the smallest safe prime
    assert small.table_size > 1 << 17
    entries = sample(read_set(shared_benchmarks, "Test_L2_R2"), 20, seed=40)
    assert [small.solve_moves(m) for m, _ in entries] == [s for _, s in entries]
    assert small.nodes > 0
    small.reset()
    assert small.nodes == 0


# ---------------------------------------------------------------- every move, vs minimax

def near_end_positions(shared_benchmarks: Path, max_empty: int) -> list[str]:
    return [m for m, _ in read_set(shared_benchmarks, "Test_L3_R1") if 42 - len(m) <= max_empty]


def test_move_scores_match_minimax_on_pons_endgames(shared_benchmarks, solver) -> None:
    positions = near_end_positions(shared_benchmarks, max_empty=10)
    assert len(positions) > 500
    for moves in positions:
        expected = reference.move_scores(reference.columns_from_moves(moves))
        state = state_from_moves(moves)
        scores = solver.move_scores(state)
        assert scores.tolist() == [ILLEGAL_SCORE if e is None else e for e in expected], moves
        outcomes = solver.move_outcomes(state)
        assert outcomes.tolist() == [ILLEGAL if e is None else int(np.sign(e)) for e in expected]


def random_position(seed: int, plies: int) -> str:
    """A random game of `plies` moves in which nobody has completed a four."""
    rng = random.Random(seed)
    moves = ""
    while len(moves) < plies:
        cols = reference.columns_from_moves(moves)
        player = len(moves) % 2
        options = [c for c in range(7) if len(cols[c]) < 6
                   and not reference.completes_four(cols, c, player)]
        if not options:
            return moves
        moves += str(rng.choice(options) + 1)
    return moves


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), plies=st.integers(31, 41))
def test_move_scores_match_minimax_on_random_positions(seed, plies) -> None:
    moves = random_position(seed, plies)
    cols = reference.columns_from_moves(moves)
    if len(moves) < 30 or all(len(c) == 6 for c in cols):
        return  # the random game got stuck early; nothing small to check
    solver = Connect4Solver(table_size=1)
    expected = reference.move_scores(cols)
    state = state_from_moves(moves)
    assert solver.move_scores(state).tolist() == [
        ILLEGAL_SCORE if e is None else e for e in expected]
    assert solver.move_scores(state, weak=True).tolist() == [
        ILLEGAL_SCORE if e is None else int(np.sign(e)) for e in expected]
    assert solver.solve(*(int(x) for x in state)) == reference.position_score(cols)


def test_best_action_takes_the_fastest_win_then_the_centre(solver) -> None:
    state = state_from_moves("44444422222")
    scores = solver.move_scores(state)
    assert solver.best_action(state) == int(np.argmax(scores)) == 2
    # the first player has 2-3-4 on the bottom row: columns 1 and 5 both win at once
    state = state_from_moves("223347")
    assert solver.move_outcomes(state)[[0, 4]].tolist() == [1, 1]
    assert solver.best_action(state) == 4
    picks = {solver.best_action(state, np.random.default_rng(s)) for s in range(20)}
    assert picks == {0, 4}


def test_best_action_in_a_lost_position_delays_the_loss(shared_benchmarks, solver) -> None:
    lost = [m for m, s in read_set(shared_benchmarks, "Test_L2_R1") if s < -3][:20]
    for moves in lost:
        state = state_from_moves(moves)
        scores = solver.move_scores(state)
        assert scores[solver.best_action(state)] == scores.max() == solver.solve_moves(moves)


def test_an_immediate_win_is_a_win_with_the_top_score(solver) -> None:
    # the first player has the bottom of columns 1-3 and the second player the row above
    state = state_from_moves("112233")
    only_four = np.arange(7) == 3
    assert solver.move_scores(state, weak=True, columns=only_four)[3] == 1
    assert solver.move_scores(state, columns=only_four)[3] == (43 - 6) // 2
    assert solver.solve_moves("112233") == 18


# ---------------------------------------------------------------- input checks

def test_state_from_moves_builds_the_shared_layout() -> None:
    stones, mask, moves = (int(x) for x in state_from_moves("4453"))
    # columns 4, 4, 5, 3 (0-based 3, 3, 4, 2): bits 21, 22, 28, 14
    assert mask == (1 << 21) | (1 << 22) | (1 << 28) | (1 << 14)
    assert stones == (1 << 21) | (1 << 28)  # first player's stones, first player to move
    assert moves == 4
    assert state_from_moves("").tolist() == [0, 0, 0]


@pytest.mark.parametrize("moves, error", [
    ("4480", MoveParseError), ("44a", MoveParseError), ("0", MoveParseError),
    ("1111111", IllegalMoveError), ("12121212", GameOverError), (4453, MoveParseError),
])
def test_bad_move_strings_are_rejected(moves, error) -> None:
    with pytest.raises(error):
        state_from_moves(moves)
    with pytest.raises(error):
        Connect4Solver(table_size=1).solve_moves(moves)


DRAWN_FULL_BOARD = "441365675334466335442232661515577771217122"
"""A game that fills the board with no four (found by random play)."""


def test_a_finished_game_cannot_be_solved() -> None:
    solver = Connect4Solver(table_size=1)
    with pytest.raises(GameOverError):
        solver.solve_moves("1212121")
    with pytest.raises(GameOverError):
        solver.move_outcomes(state_from_moves("1212121"))
    full = state_from_moves(DRAWN_FULL_BOARD)
    assert int(full[1]) == int(BOARD_MASK) and int(full[2]) == 42
    with pytest.raises(GameOverError):
        check_state(full)
    with pytest.raises(IllegalMoveError):
        state_from_moves(DRAWN_FULL_BOARD + "1")


@pytest.mark.parametrize("state", [
    np.array([1, 0, 1], dtype=np.uint64),  # a stone outside the mask
    np.array([0, 2, 1], dtype=np.uint64),  # a floating stone
    np.array([0, 1, 2], dtype=np.uint64),  # wrong move count
    np.array([1, 1, 1], dtype=np.uint64),  # the mover owns the only stone
    np.array([0, 1 << 6, 1], dtype=np.uint64),  # a sentinel bit
    np.zeros(2, dtype=np.uint64),
    np.array([0.0, 0.0, 0.0]),
])
def test_impossible_states_are_rejected(state) -> None:
    with pytest.raises(ValueError):
        check_state(state)


def test_bad_solver_arguments() -> None:
    with pytest.raises(ValueError):
        Connect4Solver(table_size=0)
    with pytest.raises(ValueError):
        Connect4Solver(table_size=1).move_scores(state_from_moves("4"), columns=np.ones(6, bool))


def test_module_docstring_examples() -> None:
    assert doctest.testmod(solver_module, raise_on_error=True).attempted >= 4


def test_states_match_the_connect_four_game(shared_benchmarks) -> None:
    from games import make, play_moves

    game = make("connect4")
    for moves, _ in read_set(shared_benchmarks, "Test_L2_R1")[:50]:
        state = play_moves(game, list(moves))
        assert np.array_equal(np.asarray(state, dtype=np.uint64), state_from_moves(moves))


def test_opening_positions_are_remembered() -> None:
    solver = Connect4Solver(table_size=1)
    state = state_from_moves("5512243243536")  # 13 stones: within the remembered openings
    first = solver.move_scores(state, columns=np.arange(7) < 3)
    nodes = solver.nodes
    assert nodes > 0
    scores = solver.move_scores(state)  # only columns 4-7 are new
    assert (scores[:3] == first[:3]).all() and (first[3:] == ILLEGAL_SCORE).all()
    after = solver.nodes
    assert (solver.move_scores(state) == scores).all()
    assert solver.move_outcomes(state).tolist() == np.sign(scores).tolist()
    assert solver.nodes > after  # the weak scores were not remembered yet
    settled = solver.nodes
    solver.move_outcomes(state)
    solver.move_scores(state)
    assert solver.nodes == settled
    fresh = Connect4Solver(table_size=1)
    assert (fresh.move_scores(state) == scores).all()
