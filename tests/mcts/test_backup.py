"""Backups on a hand-made tree: one-player games, a player moving twice, and the sign rule.

The tree (values are for the player to move at the node)::

    root (player 0, evaluator 0.2)
     |-- action 0 -> A (player 0 moves again, evaluator 0.5)
     |      |-- action 0 -> C (terminal, player 1 to move, value +1: player 1 won)
     |      '-- action 1 -> D (terminal, draw)
     '-- action 1 -> B (terminal, player 1 to move, value -1: player 0 won)

In the one-player version everybody is player 0 and the terminal values are rewards for
player 0: C is -1, D is 0, B is +1 (the same outcomes as above, seen by player 0).
"""

from __future__ import annotations

import numpy as np
import pytest

from mcts import BatchSearch, SearchConfig, StepResult

ROOT, A, B, C, D = 0, 1, 2, 3, 4


def _game(one_player: bool):
    # state -> {action: (next state, to_play, terminal, terminal value)}
    p1 = 0 if one_player else 1
    moves = {
        ROOT: {0: (A, 0, False, 0.0), 1: (B, p1, True, 1.0 if one_player else -1.0)},
        A: {0: (C, p1, True, -1.0 if one_player else 1.0), 1: (D, p1, True, 0.0)},
    }
    raw = {ROOT: 0.2, A: 0.5}

    def step(states, actions):
        rows = [moves[int(s)][int(a)] for s, a in zip(states, actions)]
        legal = np.array([[not r[2]] * 2 for r in rows], dtype=bool)
        return StepResult(np.array([r[0] for r in rows]), np.array([r[1] for r in rows], np.int8),
                          legal, np.array([r[2] for r in rows]),
                          np.array([r[3] for r in rows], np.float32))

    def evaluate(states):
        return np.zeros((len(states), 2), np.float32), np.array([raw[int(s)] for s in states],
                                                                np.float32)

    return step, evaluate


@pytest.mark.parametrize("one_player", [False, True])
@pytest.mark.parametrize("sims", [1, 2, 3, 7, 30])
def test_root_value_is_the_hand_computed_sum(one_player: bool, sims: int) -> None:
    step, evaluate = _game(one_player)
    search = BatchSearch(SearchConfig(num_simulations=sims, fpu="loss"), 1, 2)
    out = search.run(np.array([ROOT]), step, evaluate, root_to_play=np.zeros(1, np.int8),
                     root_legal=np.ones((1, 2), bool), rng=np.random.default_rng(0))
    tree = search.tree
    n_b = int(out.visit_counts[0, 1])
    a_node = tree.children[0, 0, 0]
    n_a = int(out.visit_counts[0, 0])
    n_c = n_d = 0
    if a_node >= 0:
        n_c = int(tree.children_visits[0, a_node, 0])
        n_d = int(tree.children_visits[0, a_node, 1])
    assert n_a + n_b == sims and (n_a == 0 or n_c + n_d == n_a - 1)
    # Seen by player 0 in both versions: B is a win, C a loss, D a draw, A worth 0.5.
    value_a = (0.5 if n_a else 0.0) - n_c
    assert tree.value_sum[0, 0] == pytest.approx(0.2 + n_b + value_a, abs=1e-6)
    assert out.root_value[0] == pytest.approx((0.2 + n_b + value_a) / (sims + 1), abs=1e-6)
    if n_a:
        assert tree.value_sum[0, a_node] == pytest.approx(value_a, abs=1e-6)
        assert out.q_values[0, 0] == pytest.approx(value_a / n_a, abs=1e-6)
    if n_b:
        assert out.q_values[0, 1] == pytest.approx(1.0)
    # With enough simulations the search prefers the sure win B to A (at best 0.5).
    if sims >= 30:
        assert n_b > n_a


def test_two_player_terminal_node_keeps_its_own_point_of_view() -> None:
    step, evaluate = _game(one_player=False)
    search = BatchSearch(SearchConfig(num_simulations=5), 1, 2)
    search.run(np.array([ROOT]), step, evaluate, root_to_play=np.zeros(1, np.int8),
               root_legal=np.ones((1, 2), bool), rng=np.random.default_rng(0))
    tree = search.tree
    b_node = tree.children[0, 0, 1]
    assert b_node >= 0 and tree.terminal[0, b_node] and tree.to_play[0, b_node] == 1
    # Player 1 lost at B: its own statistics say -1 per visit, the root's edge says +1.
    assert tree.value_sum[0, b_node] == -tree.visits[0, b_node]
    assert tree.children_value_sum[0, 0, 1] == tree.visits[0, b_node]
