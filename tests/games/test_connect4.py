"""Connect Four against Pons' benchmark positions and an independent grid implementation.

The reference board here is a plain grid with its own list of the 69 winning lines; it
shares nothing with `games.connect4` but the documented state layout (bit `7 * column +
row`, `[stones of the player to move, mask, moves]`).
"""

from __future__ import annotations

from fractions import Fraction
from functools import cache

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from games import (
    GameOverError,
    IllegalMoveError,
    MoveParseError,
    Termination,
    play_moves,
)
from games.connect4 import ConnectFour

GAME = ConnectFour()
LINES = [
    frozenset((c + i * dc, r + i * dr) for i in range(4))
    for r in range(6) for c in range(7) for dc, dr in ((1, 0), (0, 1), (1, 1), (1, -1))
    if all(0 <= c + i * dc < 7 and 0 <= r + i * dr < 6 for i in range(4))
]


LINES_THROUGH = {(c, r): [line for line in LINES if (c, r) in line]
                 for c in range(7) for r in range(6)}


def has_four(cells: set[tuple[int, int]]) -> bool:
    return any(line <= cells for line in LINES)


class RefBoard:
    """Plain grid: `cells[(column, row)] = player`, row 0 at the bottom."""

    def __init__(self, moves: str = "") -> None:
        self.cells: dict[tuple[int, int], int] = {}
        self.heights = [0] * 7
        self.ply = 0
        self.winner: int | None = None
        for move in moves:
            self.play(int(move) - 1)

    def legal(self) -> list[int]:
        if self.finished():
            return []
        return [c for c in range(7) if self.heights[c] < 6]

    def finished(self) -> bool:
        return self.winner is not None or self.ply == 42

    def play(self, column: int) -> None:
        assert column in self.legal()
        player = self.ply % 2
        self.cells[(column, self.heights[column])] = player
        cell = (column, self.heights[column])
        self.heights[column] += 1
        self.ply += 1
        if any(all(self.cells.get(c) == player for c in line) for line in LINES_THROUGH[cell]):
            self.winner = player

    def state(self) -> np.ndarray:
        me = self.ply % 2
        stones = sum(1 << (7 * c + r) for (c, r), p in self.cells.items() if p == me)
        mask = sum(1 << (7 * c + r) for c, r in self.cells)
        return np.array([stones, mask, self.ply], dtype=np.uint64)

    def grid(self) -> np.ndarray:
        out = np.zeros((6, 7), dtype=np.int8)
        for (c, r), p in self.cells.items():
            out[r, c] = p + 1
        return out

    def encoding(self) -> np.ndarray:
        me = self.ply % 2
        out = np.zeros((3, 6, 7), dtype=np.float32)
        for (c, r), p in self.cells.items():
            out[0 if p == me else 1, 5 - r, c] = 1.0
        out[2] = 1.0
        return out


def pons_lines(directory) -> list[tuple[str, int]]:
    lines = []
    for path in sorted(directory.glob("Test_*")):
        for text in path.read_text().splitlines():
            moves, score = text.split()
            lines.append((moves, int(score)))
    return lines


def test_pons_positions_replay_with_the_right_side_to_move(shared_benchmarks) -> None:
    lines = pons_lines(shared_benchmarks / "connect4")
    assert len(lines) == 6000
    finals = []
    for moves, score in lines:
        state = play_moves(GAME, moves)  # raises on a full column or a move after a four
        assert GAME.outcome(state) is None
        assert GAME.to_play(state) == len(moves) % 2
        if score > 0:
            assert GAME.legal_mask(state).any()
        finals.append(state)
    for (moves, _), state in zip(lines[::50], finals[::50]):
        reference = RefBoard(moves)
        np.testing.assert_array_equal(state, reference.state())
        np.testing.assert_array_equal(GAME.board(state), reference.grid())
    # The side to move never has an immediate win in these files: no child is a won game.
    states = np.stack(finals)
    legal = GAME.batch_legal_mask(states)
    for column in range(7):
        rows = np.flatnonzero(legal[:, column])
        children = GAME.batch_step(states[rows], np.full(rows.size, column))
        done, value = GAME.batch_terminal(children)
        assert not (value < 0).any()
        full = sum(1 << (7 * c + r) for c in range(7) for r in range(6))
        assert (children[done, 1] == full).all()  # only a filled board ends these games


HAND_WINS = [
    # (moves, winner, the winning cells (column, row), 0-based)
    ("1122334", 0, {(0, 0), (1, 0), (2, 0), (3, 0)}),  # horizontal, bottom-left corner
    ("7766554", 0, {(3, 0), (4, 0), (5, 0), (6, 0)}),  # horizontal, bottom-right corner
    ("1212121", 0, {(0, 0), (0, 1), (0, 2), (0, 3)}),  # vertical, left edge
    ("7177172727", 1, {(6, 2), (6, 3), (6, 4), (6, 5)}),  # vertical, right edge to the top
    ("3425354565", 1, {(4, 0), (4, 1), (4, 2), (4, 3)}),  # vertical, by the second player
    ("12234334744", 0, {(0, 0), (1, 1), (2, 2), (3, 3)}),  # / from the bottom-left corner
    ("712234334744", 1, {(0, 0), (1, 1), (2, 2), (3, 3)}),  # the same, second player
    ("76654554344", 0, {(3, 3), (4, 2), (5, 1), (6, 0)}),  # \ to the bottom-right corner
    ("573246776667276574455", 0, {(3, 2), (4, 3), (5, 4), (6, 5)}),  # / to top-right corner
    ("12172271112447441323323", 0, {(0, 5), (1, 4), (2, 3), (3, 2)}),  # \ from top-left
    ("4763634747557636577461424165355", 0, {(3, 5), (4, 5), (5, 5), (6, 5)}),  # top row
    ("11115122714743333326634222647544", 1, {(0, 5), (1, 5), (2, 5), (3, 5)}),  # top row
]


@pytest.mark.parametrize("moves, winner, line", HAND_WINS)
def test_hand_built_wins_are_detected_on_the_last_move(moves, winner, line) -> None:
    reference = RefBoard(moves)
    assert reference.winner == winner
    assert line <= {cell for cell, p in reference.cells.items() if p == winner}
    assert line in LINES
    state = play_moves(GAME, moves[:-1])
    assert GAME.outcome(state) is None
    state = GAME.next_state(state, int(moves[-1]) - 1)
    outcome = GAME.outcome(state)
    assert outcome.termination is Termination.LINE and outcome.winner == winner
    assert not GAME.legal_mask(state).any()
    done, value = GAME.batch_terminal(state[None])
    assert done[0] and value[0] == -1.0
    with pytest.raises(GameOverError):
        GAME.next_state(state, 0)


def test_fours_on_arbitrary_bitboards_match_the_line_list() -> None:
    # Every one of the 69 lines alone, then random stone sets (including near-lines that
    # would wrap across a column boundary), checked against the geometric definition.
    rng = np.random.default_rng(5)
    sets = [set(line) for line in LINES]
    cells = [(c, r) for c in range(7) for r in range(6)]
    for density in (0.2, 0.3, 0.4):
        for _ in range(3000):
            sets.append({cell for cell in cells if rng.random() < density})
    states = np.zeros((len(sets), 3), dtype=np.uint64)
    for i, chosen in enumerate(sets):  # all stones belong to the player who just moved
        states[i, 1] = sum(1 << (7 * c + r) for c, r in chosen)
        states[i, 2] = len(chosen)
    done, value = GAME.batch_terminal(states)
    expected = np.array([has_four(chosen) for chosen in sets])
    assert expected[: len(LINES)].all() and 0 < expected.sum() < len(sets)
    np.testing.assert_array_equal(done, expected)
    np.testing.assert_array_equal(value, np.where(expected, -1.0, 0.0))


def _draw_grid() -> dict[tuple[int, int], int]:
    """A full board with no four: columns alternate XXXOOO and OOOXXX (bottom up)."""
    return {(c, r): (0 if (r < 3) == (c % 2 == 0) else 1) for c in range(7) for r in range(6)}


def _order_for(grid: dict[tuple[int, int], int]) -> str | None:
    """A legal alternating move order that fills `grid`, by depth-first search."""
    heights = [0] * 7

    def search(ply: int) -> str | None:
        if ply == 42:
            return ""
        for c in range(7):
            if heights[c] < 6 and grid[(c, heights[c])] == ply % 2:
                heights[c] += 1
                rest = search(ply + 1)
                heights[c] -= 1
                if rest is not None:
                    return str(c + 1) + rest
        return None

    return search(0)


def test_full_board_without_a_four_is_a_draw() -> None:
    grid = _draw_grid()
    for player in (0, 1):
        assert not has_four({cell for cell, p in grid.items() if p == player})
    moves = _order_for(grid)
    assert moves is not None and len(moves) == 42
    state = GAME.initial_state()
    for move in moves:
        assert GAME.outcome(state) is None
        state = GAME.next_state(state, int(move) - 1)
    outcome = GAME.outcome(state)
    assert outcome.termination is Termination.BOARD_FULL and outcome.is_draw
    assert outcome.result_string() == "1/2-1/2"
    assert not GAME.legal_mask(state).any()
    np.testing.assert_array_equal(GAME.board(state), RefBoard(moves).grid())
    assert GAME.render(state).splitlines()[0] == "O X O X O X O"
    assert GAME.batch_random_rollout(state[None], 0)[0] == 0.0


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_batch_single_and_reference_agree_on_random_games(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 64
    batch = GAME.batch_initial(n)
    singles = [GAME.initial_state() for _ in range(n)]
    boards = [RefBoard() for _ in range(n)]
    for _ in range(43):
        legal = GAME.batch_legal_mask(batch)
        done, value = GAME.batch_terminal(batch)
        np.testing.assert_array_equal(GAME.batch_encode(batch),
                                      np.stack([b.encoding() for b in boards]))
        np.testing.assert_array_equal(GAME.batch_to_play(batch), [b.ply % 2 for b in boards])
        actions = np.zeros(n, dtype=np.int64)
        for i, board in enumerate(boards):
            assert list(np.flatnonzero(legal[i])) == board.legal()
            assert done[i] == board.finished()
            assert value[i] == (-1.0 if board.winner is not None else 0.0)
            outcome = GAME.outcome(singles[i])
            assert (outcome is None) == (not board.finished())
            if board.winner is not None:
                assert outcome.winner == board.winner
            if legal[i].any():
                actions[i] = rng.choice(np.flatnonzero(legal[i]))
        live = legal.any(axis=1)
        if not live.any():
            break
        batch = np.where(live[:, None], GAME.batch_step(batch, actions), batch)
        for i in np.flatnonzero(live):
            before = singles[i].copy()
            child = GAME.next_state(singles[i], int(actions[i]))
            assert np.array_equal(singles[i], before)  # inputs are never modified
            singles[i] = child
            boards[i].play(int(actions[i]))
        np.testing.assert_array_equal(batch, np.stack(singles))
        np.testing.assert_array_equal(batch, np.stack([b.state() for b in boards]))


@settings(max_examples=30, deadline=None)
@given(moves=st.lists(st.integers(0, 6), max_size=30))
def test_mirror_symmetry_maps_encodings_and_policies(moves: list[int]) -> None:
    state, mirrored = GAME.initial_state(), GAME.initial_state()
    for column in moves:
        if not GAME.legal_mask(state)[column]:
            continue
        state = GAME.next_state(state, column)
        mirrored = GAME.next_state(mirrored, 6 - column)
    legal = GAME.legal_mask(state).astype(np.float32)
    obs, policy = GAME.apply_symmetry(1, GAME.encode(state), legal)
    np.testing.assert_array_equal(obs, GAME.encode(mirrored))
    np.testing.assert_array_equal(policy > 0, GAME.legal_mask(mirrored))
    assert (GAME.outcome(state) is None) == (GAME.outcome(mirrored) is None)
    same_obs, same_policy = GAME.apply_symmetry(0, GAME.encode(state), legal)
    np.testing.assert_array_equal(same_obs, GAME.encode(state))
    np.testing.assert_array_equal(same_policy, legal)


@cache
def _random_play_value(moves: str) -> Fraction:
    board = RefBoard(moves)
    if board.winner is not None:
        return Fraction(-1)
    legal = board.legal()
    if not legal:
        return Fraction(0)
    return -sum(_random_play_value(moves + str(c + 1)) for c in legal) / len(legal)


def test_rollouts_match_the_exact_random_play_expectation(shared_benchmarks) -> None:
    lines = pons_lines(shared_benchmarks / "connect4")
    endgames = [moves for moves, _ in lines if len(moves) >= 34][:4]
    n = 20000
    for moves in endgames:
        state = play_moves(GAME, moves)
        results = GAME.batch_random_rollout(np.repeat(state[None], n, axis=0), seed=3)
        assert set(np.unique(results)) <= {-1.0, 0.0, 1.0}
        expected = float(_random_play_value(moves))
        assert abs(results.mean() - expected) < 4.5 / np.sqrt(n), moves
    first = GAME.batch_random_rollout(GAME.batch_initial(100), seed=9)
    np.testing.assert_array_equal(first, GAME.batch_random_rollout(GAME.batch_initial(100), 9))
    assert not np.array_equal(first, GAME.batch_random_rollout(GAME.batch_initial(100), 10))


def test_bulk_playouts_count_every_game() -> None:
    first, draws, second, plies = GAME.bulk_playouts(100_000, seed=1)
    assert first + draws + second == 100_000
    # Random play: games last 7 to 42 plies and the first player wins more often.
    assert 7 * 100_000 < plies < 42 * 100_000 and first > second
    rollouts = GAME.batch_random_rollout(GAME.batch_initial(100_000), seed=2)
    assert abs(rollouts.mean() - (first - second) / 100_000) < 6 / np.sqrt(100_000)


def test_move_text_errors_and_records() -> None:
    state = GAME.initial_state()
    assert [GAME.action_to_text(state, a) for a in range(7)] == list("1234567")
    assert GAME.text_to_action(state, " 7 ") == 6
    for bad in ["", "0", "8", "a", "12", "-1", "four"]:
        with pytest.raises(MoveParseError):
            GAME.text_to_action(state, bad)
    full = play_moves(GAME, "444444")
    with pytest.raises(IllegalMoveError, match="full"):
        GAME.text_to_action(full, "4")
    with pytest.raises(IllegalMoveError, match="column 4 is full"):
        GAME.next_state(full, 3)
    assert GAME.game_record([3, 3, 4, 2]) == "4453"
    with pytest.raises(IllegalMoveError):
        GAME.game_record([0] * 7)
    won = play_moves(GAME, "1122334")
    assert GAME.game_record([0, 0, 1, 1, 2, 2, 3], GAME.outcome(won)) == "1122334 1-0"
    with pytest.raises(ValueError):
        GAME.apply_symmetry(2, np.zeros((3, 6, 7)), np.zeros(7))


def test_render() -> None:
    state = play_moves(GAME, "4453")
    assert GAME.render(state) == "\n".join(
        [". . . . . . ."] * 4 + [". . . O . . .", ". . O X X . .", "1 2 3 4 5 6 7"])
