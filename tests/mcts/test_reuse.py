"""Tree reuse: `advance` keeps the chosen child's subtree exactly, and later calls build on it."""

from __future__ import annotations

import numpy as np
import pytest
from mcts_toys import RandomTreeGame, ttt_object_step, ttt_state, ttt_step

from mcts import BatchSearch, SearchConfig, uniform_evaluator


def _subtree(search: BatchSearch, b: int, node: int) -> dict[tuple[int, ...], tuple]:
    """Statistics and state of every node under `node`, keyed by the actions leading there."""
    tree = search.tree
    found = {}
    stack = [((), node)]
    while stack:
        path, n = stack.pop()
        found[path] = (int(tree.visits[b, n]), float(tree.value_sum[b, n]),
                       float(tree.raw_value[b, n]), int(tree.to_play[b, n]),
                       bool(tree.terminal[b, n]), tree.children_visits[b, n].tolist(),
                       tree.children_value_sum[b, n].tolist(), tree.prior[b, n].tolist(),
                       tree.legal[b, n].tolist(), np.asarray(search.node_states[b, n]).tolist())
        for a in np.flatnonzero(tree.children[b, n] >= 0):
            stack.append((path + (int(a),), int(tree.children[b, n, a])))
    return found


def _random_search(config: SearchConfig, batch: int = 3):
    game = RandomTreeGame(num_actions=4, max_depth=12, seed=3, repeat_one_in=4)
    states, to_play, legal = game.roots(batch)
    search = BatchSearch(config, batch, 4)
    out = search.run(states, game.step, game.evaluate, root_to_play=to_play, root_legal=legal,
                     seeds=np.arange(batch))
    return game, search, out


@pytest.mark.parametrize("algorithm", ["puct", "gumbel"])
def test_advance_keeps_the_subtree_statistics(algorithm: str) -> None:
    _, search, out = _random_search(SearchConfig(num_simulations=120, algorithm=algorithm))
    actions = np.argmax(out.visit_counts, axis=1)
    before = [_subtree(search, b, int(search.tree.children[b, 0, actions[b]])) for b in range(3)]
    search.advance(actions)
    for b in range(3):
        after = _subtree(search, b, 0)
        assert after == before[b]
        assert search.tree.num_nodes[b] == len(after)
        assert search.tree.parent[b, 0] == -1
        # Compacted in expansion order: every parent precedes its children.
        n = search.tree.num_nodes[b]
        assert (search.tree.parent[b, 1:n] < np.arange(1, n)).all()


def test_reused_search_adds_simulations_to_the_kept_tree() -> None:
    game, search, out = _random_search(SearchConfig(num_simulations=80))
    actions = np.argmax(out.visit_counts, axis=1)
    kept = search.tree.children_visits[np.arange(3), 0, actions].copy()
    states = game.step(search.node_states[:, 0], actions)
    search.advance(actions)
    again = search.run(states.states, game.step, game.evaluate, root_to_play=states.to_play,
                       root_legal=states.legal, seeds=np.arange(3), num_simulations=30,
                       reuse=np.array([True, False, True]))
    visits = search.tree.visits[:, 0]
    assert visits[0] == kept[0] + 30 and visits[2] == kept[2] + 30
    assert visits[1] == 31  # not reused: a fresh tree
    assert (again.visit_counts.sum(axis=1) == visits - 1).all()


def test_chunked_search_equals_one_search() -> None:
    # Without noise PUCT depends on the tree alone, so 3 x 40 reused simulations = 120.
    config = SearchConfig(num_simulations=120, temperature=0.0)
    game, whole, out = _random_search(config)
    states, to_play, legal = game.roots(3)
    chunked = BatchSearch(SearchConfig(num_simulations=40, temperature=0.0), 3, 4)
    for i in range(3):
        part = chunked.run(states, game.step, game.evaluate, root_to_play=to_play,
                           root_legal=legal, seeds=np.arange(3), reuse=np.full(3, i > 0))
    np.testing.assert_array_equal(part.visit_counts, out.visit_counts)
    np.testing.assert_allclose(part.q_values, out.q_values, atol=1e-5)
    np.testing.assert_array_equal(chunked.tree.num_nodes, whole.tree.num_nodes)


def test_advance_to_an_unexpanded_or_finished_child_empties_the_tree() -> None:
    state = ttt_state("0 3 1 4")  # X to move; square 2 wins at once
    legal = state[:9] == 0
    search = BatchSearch(SearchConfig(num_simulations=200, temperature=0.0), 1, 9)
    out = search.run(state[None], ttt_step, uniform_evaluator(9), root_to_play=np.zeros(1, np.int8),
                     root_legal=legal[None], rng=np.random.default_rng(1))
    assert int(out.action[0]) == 2
    search.advance(np.array([2]))  # the winning move: a finished game
    assert search.tree.num_nodes[0] == 0
    search = BatchSearch(SearchConfig(num_simulations=3), 1, 9)
    out = search.run(state[None], ttt_step, uniform_evaluator(9), root_to_play=np.zeros(1, np.int8),
                     root_legal=legal[None], rng=np.random.default_rng(1))
    unvisited = int(np.flatnonzero(legal & (out.visit_counts[0] == 0))[0])
    search.advance(np.array([unvisited]))
    assert search.tree.num_nodes[0] == 0
    child = ttt_step(state[None], np.array([unvisited]))
    search.run(child.states, ttt_step, uniform_evaluator(9), root_to_play=child.to_play,
               root_legal=child.legal, rng=np.random.default_rng(1), reuse=np.array([True]))
    assert search.tree.visits[0, 0] == 4  # started afresh


def test_object_states_move_with_their_nodes() -> None:
    state = ttt_state("4")
    root = np.empty(1, dtype=object)
    root[0] = tuple(int(x) for x in state)
    search = BatchSearch(SearchConfig(num_simulations=60), 1, 9)
    out = search.run(root, ttt_object_step, uniform_evaluator(9),
                     root_to_play=np.ones(1, np.int8), root_legal=(state[:9] == 0)[None],
                     rng=np.random.default_rng(0))
    action = int(np.argmax(out.visit_counts[0]))
    search.advance(np.array([action]))
    tree = search.tree
    for node in range(1, tree.num_nodes[0]):
        parent = tree.parent[0, node]
        expected = ttt_object_step(search.node_states[0, parent:parent + 1],
                                   np.array([tree.action_from_parent[0, node]]))
        assert search.node_states[0, node] == expected.states[0]
    assert all(s is None for s in search.node_states[0, tree.num_nodes[0]:])


def test_bad_advance_input_is_rejected() -> None:
    search = BatchSearch(SearchConfig(num_simulations=4), 2, 3)
    with pytest.raises(ValueError, match="shape"):
        search.advance(np.array([0]))
    with pytest.raises(ValueError, match="ints"):
        search.advance(np.array([0.5, 1.0]))
