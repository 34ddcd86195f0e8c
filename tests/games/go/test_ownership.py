"""Go's ownership targets (`TerritoryGame.final_ownership`): a hand-counted final board, the
count they add up to, dead stones taken off, and the eight symmetries."""

from __future__ import annotations

import numpy as np
import pytest

from games import make
from games.base import TerritoryGame
from games.go import Go

# Black owns the two left columns, white the rest; C1 touches both colours (dame).
FINAL = """
. X O . .
X X O . .
. X O O O
X X O . O
. X . O .
"""
HAND_OWNERSHIP = np.array([
    [1, 1, -1, -1, -1],
    [1, 1, -1, -1, -1],
    [1, 1, -1, -1, -1],
    [1, 1, -1, -1, -1],
    [1, 1, 0, -1, -1],
], dtype=np.float32)


def test_only_go_declares_ownership_targets() -> None:
    assert isinstance(Go(size=5), TerritoryGame)
    for name in ("tictactoe", "connect4", "chess"):
        assert not isinstance(make(name), TerritoryGame)


def test_final_ownership_of_a_hand_counted_board() -> None:
    go = Go(size=5, komi=0.5)
    state = go.from_text(FINAL)
    owner = go.final_ownership(state)
    assert owner.dtype == np.float32 and owner.shape == (5, 5)
    np.testing.assert_array_equal(owner, HAND_OWNERSHIP)
    # Area counting: black 10, white 14, one dame; the sum minus komi is the score.
    assert owner.sum() - go.komi == go.score(state) == 10 - 14 - 0.5


def test_dead_stones_are_off_before_counting() -> None:
    go = Go(size=5, komi=0.5)
    state = go.from_text(FINAL.replace("X X O . .", "X X O X .", 1))  # a black stone at D4
    dead = [go.text_to_action(None, "D4")]
    with_stone = go.final_ownership(state)
    assert with_stone[1, 3] == 1 and with_stone[0, 3] == 0  # counted alive, it spoils the area
    np.testing.assert_array_equal(go.final_ownership(state, dead), HAND_OWNERSHIP)
    assert go.score_without(state, dead) == go.final_ownership(state, dead).sum() - go.komi


@pytest.mark.parametrize("k", range(8))
def test_ownership_moves_with_the_board_under_every_symmetry(k: int) -> None:
    go = Go(size=5, komi=0.5)
    state = go.from_text(FINAL)
    policy = np.zeros((1, go.num_actions), dtype=np.float32)
    # The board's own transformation: the encoding's stone planes under symmetry k ...
    planes, _ = go.apply_symmetry(k, go.encode(state)[None], policy)
    own, other = planes[0, 0], planes[0, 1]  # black to move: own = black
    moved = go.from_text("\n".join(" ".join("X" if own[r, c] else "O" if other[r, c] else "."
                                            for c in range(5)) for r in range(5)))
    # ... counted, equals the count of the board moved as an ownership plane.
    target, _ = go.apply_symmetry(k, go.final_ownership(state)[None, None], policy)
    np.testing.assert_array_equal(target[0, 0], go.final_ownership(moved))
