"""Tic-tac-toe against an independent plain-Python solver written here.

The oracle knows nothing of `games.tictactoe` except the documented state layout (squares
in action order, 1 = X, 2 = O, then the player to move): it has its own lines, its own
move generation and its own minimax over every reachable position.
"""

from __future__ import annotations

from fractions import Fraction
from functools import cache

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from games import (
    IllegalMoveError,
    MoveParseError,
    Termination,
    make,
    play_moves,
)
from games.tictactoe import TicTacToe

GAME = TicTacToe()

# --- the independent oracle: boards are tuples of 9 cells ' ', 'X', 'O' indexed by
# (file, rank) -> file + 3 * rank, lines found by walking the grid.
COORDS = [(f, r) for r in range(3) for f in range(3)]


def _lines() -> list[tuple[int, int, int]]:
    found = set()
    for f0, r0 in COORDS:
        for df, dr in ((1, 0), (0, 1), (1, 1), (1, -1)):
            cells = [(f0 + i * df, r0 + i * dr) for i in range(3)]
            if all(0 <= f < 3 and 0 <= r < 3 for f, r in cells):
                found.add(tuple(f + 3 * r for f, r in cells))
    return sorted(found)


ORACLE_LINES = _lines()


def oracle_winner(board: tuple[str, ...]) -> str | None:
    for a, b, c in ORACLE_LINES:
        if board[a] != " " and board[a] == board[b] == board[c]:
            return board[a]
    return None


def oracle_to_move(board: tuple[str, ...]) -> str:
    return "X" if board.count("X") == board.count("O") else "O"


def oracle_moves(board: tuple[str, ...]) -> list[int]:
    if oracle_winner(board) is not None:
        return []
    return [i for i, cell in enumerate(board) if cell == " "]


@cache
def oracle_value(board: tuple[str, ...]) -> int:
    """Negamax value for the player to move."""
    if oracle_winner(board) is not None:
        return -1
    moves = oracle_moves(board)
    if not moves:
        return 0
    me = oracle_to_move(board)
    return max(-oracle_value(board[:m] + (me,) + board[m + 1:]) for m in moves)


@cache
def oracle_random_result(board: tuple[str, ...]) -> Fraction:
    """Expected result of uniformly random play, for the player to move."""
    if oracle_winner(board) is not None:
        return Fraction(-1)
    moves = oracle_moves(board)
    if not moves:
        return Fraction(0)
    me = oracle_to_move(board)
    return -sum(oracle_random_result(board[:m] + (me,) + board[m + 1:]) for m in moves) / len(
        moves)


def oracle_reachable() -> set[tuple[str, ...]]:
    seen, frontier = set(), [(" ",) * 9]
    while frontier:
        board = frontier.pop()
        if board in seen:
            continue
        seen.add(board)
        me = oracle_to_move(board)
        frontier.extend(board[:m] + (me,) + board[m + 1:] for m in oracle_moves(board))
    return seen


def as_board(state: np.ndarray) -> tuple[str, ...]:
    return tuple(" XO"[int(v)] for v in state[:9])


@pytest.fixture(scope="module")
def reachable() -> dict[tuple[str, ...], np.ndarray]:
    """Every position reachable through our interface, keyed by the oracle's board."""
    found: dict[tuple[str, ...], np.ndarray] = {}
    frontier = [GAME.initial_state()]
    while frontier:
        state = frontier.pop()
        key = as_board(state)
        if key in found:
            continue
        found[key] = state
        legal = np.flatnonzero(GAME.legal_mask(state))
        frontier.extend(GAME.next_state(state, int(a)) for a in legal)
    return found


def test_reachable_positions_match_the_oracle(reachable) -> None:
    assert len(reachable) == 5478
    assert set(reachable) == oracle_reachable()


def test_rules_agree_with_the_oracle_on_every_position(reachable) -> None:
    terminal = {"X": 0, "O": 0, "draw": 0}
    for board, state in reachable.items():
        assert GAME.to_play(state) == (0 if oracle_to_move(board) == "X" else 1)
        assert list(np.flatnonzero(GAME.legal_mask(state))) == oracle_moves(board)
        outcome, winner = GAME.outcome(state), oracle_winner(board)
        if winner is not None:
            assert outcome.termination is Termination.LINE
            assert outcome.winner == "XO".index(winner)
            terminal[winner] += 1
        elif " " not in board:
            assert outcome.termination is Termination.BOARD_FULL and outcome.is_draw
            terminal["draw"] += 1
        else:
            assert outcome is None
    # The well-known census of finished games of tic-tac-toe.
    assert terminal == {"X": 626, "O": 316, "draw": 16}


def test_minimax_through_the_interface_equals_the_oracle(reachable) -> None:
    values: dict[bytes, int] = {}

    def value(state: np.ndarray) -> int:
        key = state.tobytes()
        if key not in values:
            outcome = GAME.outcome(state)
            if outcome is not None:
                values[key] = int(outcome.value(GAME.to_play(state)))
            else:
                values[key] = max(-value(GAME.next_state(state, int(a)))
                                  for a in np.flatnonzero(GAME.legal_mask(state)))
        return values[key]

    for board, state in reachable.items():
        assert value(state) == oracle_value(board), board
    assert oracle_value((" ",) * 9) == 0


def test_batch_kernels_agree_on_all_positions(reachable) -> None:
    boards = list(reachable)
    states = np.stack([reachable[b] for b in boards])
    done, value = GAME.batch_terminal(states)
    legal = GAME.batch_legal_mask(states)
    encoded = GAME.batch_encode(states)
    to_play = GAME.batch_to_play(states)
    assert states.dtype == np.int8 and states.shape == (5478, 10)
    assert legal.shape == (5478, 9) and encoded.shape == (5478, 3, 3, 3)
    for i, board in enumerate(boards):
        over = oracle_winner(board) is not None or " " not in board
        assert done[i] == over
        assert value[i] == (-1.0 if oracle_winner(board) else 0.0)
        me = oracle_to_move(board)
        assert to_play[i] == "XO".index(me)
        for square, cell in enumerate(board):
            f, r = COORDS[square]
            # image row 0 is rank 3, column 0 is file a
            assert encoded[i, 0, 2 - r, f] == (cell == me)
            assert encoded[i, 1, 2 - r, f] == (cell not in (" ", me))
        assert np.all(encoded[i, 2] == 1.0)


def _dihedral_maps() -> list[tuple[int, ...]]:
    """The 8 symmetries of the square as permutations of squares, from coordinates."""
    maps = set()
    for transform in (lambda f, r: (f, r), lambda f, r: (2 - r, f), lambda f, r: (2 - f, 2 - r),
                      lambda f, r: (r, 2 - f)):
        for mirror in (False, True):
            perm = []
            for f, r in COORDS:
                g, s = transform(f, r)
                perm.append((2 - g if mirror else g) + 3 * s)
            maps.add(tuple(perm))
    return sorted(maps)


def _square_map(k: int) -> tuple[int, ...]:
    """Where symmetry `k` sends each square, read off from one-hot policies."""
    dummy = np.zeros((9, 3, 3, 3), dtype=np.float32)
    _, moved = GAME.apply_symmetry(k, dummy, np.eye(9, dtype=np.float32))
    return tuple(int(np.argmax(row)) for row in moved)


def test_symmetries_are_the_eight_maps_of_the_square() -> None:
    maps = [_square_map(k) for k in range(GAME.num_symmetries)]
    assert maps[0] == tuple(range(9))
    assert sorted(maps) == _dihedral_maps()


def test_symmetries_keep_positions_legal_and_values_equal(reachable) -> None:
    boards = list(reachable)
    states = np.stack([reachable[b] for b in boards])
    encoded = GAME.batch_encode(states)
    legal = GAME.batch_legal_mask(states).astype(np.float32)
    for k in range(8):
        square_map = _square_map(k)
        obs, policy = GAME.apply_symmetry(k, encoded, legal)
        images = []
        for board in boards:
            image = [" "] * 9
            for square, cell in enumerate(board):
                image[square_map[square]] = cell
            image_board = tuple(image)
            assert image_board in reachable
            assert oracle_value(image_board) == oracle_value(board)
            images.append(reachable[image_board])
        np.testing.assert_array_equal(GAME.batch_encode(np.stack(images)), obs)
        np.testing.assert_array_equal(GAME.batch_legal_mask(np.stack(images)), policy > 0)


def _oracle_step(board: tuple[str, ...], move: int) -> tuple[str, ...]:
    return board[:move] + (oracle_to_move(board),) + board[move + 1:]


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_batch_single_and_oracle_agree_on_random_games(seed: int) -> None:
    rng = np.random.default_rng(seed)
    batch = GAME.batch_initial(64)
    singles = [GAME.initial_state() for _ in range(64)]
    boards = [(" ",) * 9 for _ in range(64)]
    for _ in range(9):
        legal = GAME.batch_legal_mask(batch)
        done, _ = GAME.batch_terminal(batch)
        actions = np.zeros(64, dtype=np.int64)
        for i in range(64):
            assert list(np.flatnonzero(legal[i])) == oracle_moves(boards[i])
            assert done[i] == (GAME.outcome(singles[i]) is not None)
            np.testing.assert_array_equal(batch[i], singles[i])
            if legal[i].any():
                actions[i] = rng.choice(np.flatnonzero(legal[i]))
        live = legal.any(axis=1)
        stepped = GAME.batch_step(batch, actions)
        batch = np.where(live[:, None], stepped, batch)
        for i in np.flatnonzero(live):
            before = singles[i].copy()
            child = GAME.next_state(singles[i], int(actions[i]))
            np.testing.assert_array_equal(singles[i], before)  # inputs are never modified
            singles[i] = child
            boards[i] = _oracle_step(boards[i], int(actions[i]))
            assert as_board(child) == boards[i]
            np.testing.assert_array_equal(batch[i], child)
    done, value = GAME.batch_terminal(batch)
    for i in range(64):
        winner = oracle_winner(boards[i])
        assert done[i] == (winner is not None or " " not in boards[i])
        assert value[i] == (-1.0 if winner else 0.0)


def test_rollouts_match_the_exact_random_play_expectation() -> None:
    positions = [[], ["b2"], ["a1", "b2", "c3"], ["a1", "a2", "b1", "b2"]]
    n = 20000
    for moves in positions:
        state = play_moves(GAME, moves)
        board = as_board(state)
        results = GAME.batch_random_rollout(np.repeat(state[None], n, axis=0), seed=7)
        assert results.dtype == np.float32 and set(np.unique(results)) <= {-1.0, 0.0, 1.0}
        expected = float(oracle_random_result(board))
        assert abs(results.mean() - expected) < 4.5 / np.sqrt(n), moves
    again = GAME.batch_random_rollout(np.repeat(GAME.initial_state()[None], 50, axis=0), 3)
    same = GAME.batch_random_rollout(np.repeat(GAME.initial_state()[None], 50, axis=0), 3)
    np.testing.assert_array_equal(again, same)


def test_rollout_of_finished_and_forced_positions() -> None:
    won = play_moves(GAME, ["a1", "a2", "b1", "b2", "c1"])
    full = play_moves(GAME, ["a1", "b2", "c3", "b1", "b3", "a3", "c1", "c2", "a2"])
    one_left = play_moves(GAME, ["a1", "b2", "c3", "b1", "b3", "a3", "c1", "c2"])
    assert GAME.outcome(full).is_draw
    states = np.stack([won, full, one_left])
    np.testing.assert_array_equal(GAME.batch_random_rollout(states, 1), [-1.0, 0.0, 0.0])


def test_bulk_playouts_match_the_exact_probabilities() -> None:
    n = 200_000
    x_wins, draws, o_wins, plies = GAME.bulk_playouts(n, seed=11)
    assert x_wins + draws + o_wins == n
    # Exact probabilities of uniformly random play, from the oracle's own recursion.
    expected = float(oracle_random_result((" ",) * 9))
    assert abs((x_wins - o_wins) / n - expected) < 4.5 * 0.9 / np.sqrt(n)
    assert 5 * n <= plies <= 9 * n


def test_move_text_and_errors() -> None:
    state = GAME.initial_state()
    assert [GAME.action_to_text(state, a) for a in range(9)] == [
        "a1", "b1", "c1", "a2", "b2", "c2", "a3", "b3", "c3"]
    assert GAME.text_to_action(state, " B3 ") == 7
    for bad in ["", "d1", "a4", "a0", "11", "b", "b22", "pass"]:
        with pytest.raises(MoveParseError):
            GAME.text_to_action(state, bad)
    state = play_moves(GAME, ["b2"])
    with pytest.raises(IllegalMoveError, match="b2"):
        GAME.text_to_action(state, "b2")
    with pytest.raises(IllegalMoveError, match="b2 is occupied"):
        GAME.next_state(state, 4)
    won = play_moves(GAME, ["a1", "a2", "b1", "b2", "c1"])
    assert GAME.outcome(won).winner == 0 and GAME.outcome(won).result_string() == "1-0"


def test_states_are_not_modified_and_bad_states_are_rejected() -> None:
    state = GAME.initial_state()
    before = state.copy()
    child = GAME.next_state(state, 4)
    np.testing.assert_array_equal(state, before)
    assert child[4] == 1 and child[9] == 1
    with pytest.raises(ValueError):
        GAME.apply_symmetry(8, np.zeros((3, 3, 3)), np.zeros(9))


def test_render_and_record() -> None:
    moves = ["b2", "a1", "c3", "a3", "a2"]
    state = play_moves(GAME, moves)
    assert GAME.render(state) == "3 O . X\n2 X X .\n1 O . .\n  a b c"
    actions = [GAME.text_to_action(GAME.initial_state(), m) for m in moves[:1]]
    assert GAME.game_record(actions) == "b2"
    full = [4, 0, 8, 6, 3]
    assert GAME.game_record(full) == "b2 a1 c3 a3 a2"
    assert make("tic-tac-toe").name == "tictactoe"
