"""Invariants of the trees the search builds on random games (hypothesis), and batch
independence: B searches together give what B searches one at a time give."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mcts_toys import RandomTreeGame

from mcts import BatchSearch, SearchConfig

configs = st.builds(
    SearchConfig,
    num_simulations=st.integers(1, 40),
    algorithm=st.sampled_from(["puct", "gumbel"]),
    fpu=st.sampled_from(["reduction", "loss"]),
    dirichlet_fraction=st.sampled_from([0.0, 0.25]),
    gumbel_num_considered=st.integers(1, 6),
    leaves_per_round=st.integers(1, 3),
)
games = st.builds(RandomTreeGame, num_actions=st.integers(2, 6), max_depth=st.integers(1, 7),
                  seed=st.integers(0, 2**31), repeat_one_in=st.integers(2, 5),
                  one_player=st.booleans())


def _search(game: RandomTreeGame, config: SearchConfig, batch: int, seeds, first_id: int = 1):
    states, to_play, legal = game.roots(batch, first_id)
    search = BatchSearch(config, batch, game.num_actions)
    out = search.run(states, game.step, game.evaluate, root_to_play=to_play, root_legal=legal,
                     seeds=np.asarray(seeds))
    return search, out


def check_tree(search: BatchSearch, game: RandomTreeGame, b: int, simulations: int) -> None:
    """Every structural and arithmetic invariant of tree b."""
    tree = search.tree
    n = int(tree.num_nodes[b])
    assert 1 <= n <= simulations + 1
    assert tree.visits[b, 0] == simulations + 1
    for node in range(n):
        visits = tree.visits[b, node]
        legal = tree.legal[b, node]
        kids = tree.children[b, node]
        child_visits = tree.children_visits[b, node]
        assert visits >= 1
        # Illegal actions are never expanded or visited.
        assert (kids[~legal] == -1).all() and (child_visits[~legal] == 0).all()
        assert ((kids >= 0) == (child_visits > 0)).all()
        if tree.terminal[b, node]:
            assert not legal.any() and (kids == -1).all()
            # A finished game contributes its exact result on every visit.
            assert np.isclose(tree.value_sum[b, node], visits * tree.raw_value[b, node])
            continue
        # A node's own evaluation counts once; every other visit went to one child.
        assert child_visits.sum() == visits - 1
        # Backup recursion: own value plus the children's sums, flipped where the player changes.
        total = float(tree.raw_value[b, node])
        for a in np.flatnonzero(kids >= 0):
            child = kids[a]
            assert tree.parent[b, child] == node and tree.action_from_parent[b, child] == a
            assert tree.visits[b, child] == child_visits[a]
            same = tree.to_play[b, child] == tree.to_play[b, node]
            seen_from_node = tree.value_sum[b, child] * (1 if same else -1)
            assert np.isclose(tree.children_value_sum[b, node, a], seen_from_node, atol=1e-4)
            total += seen_from_node
            # The stored state is the game's successor of the parent's state.
            expected = game.step(search.node_states[b, node][None], np.array([a]))
            np.testing.assert_array_equal(search.node_states[b, child], expected.states[0])
            assert tree.to_play[b, child] == expected.to_play[0]
            assert tree.terminal[b, child] == expected.terminal[0]
        assert np.isclose(tree.value_sum[b, node], total, atol=1e-4)
        q = tree.value_sum[b, node] / visits
        assert -1 - 1e-6 <= q <= 1 + 1e-6
    if n > 1:
        edges = tree.children_visits[b, :n] > 0
        q = tree.children_value_sum[b, :n][edges] / tree.children_visits[b, :n][edges]
        assert (np.abs(q) <= 1 + 1e-6).all()


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(game=games, config=configs, seed=st.integers(0, 2**40))
def test_tree_invariants_on_random_games(game: RandomTreeGame, config: SearchConfig,
                                         seed: int) -> None:
    search, out = _search(game, config, 3, [seed, seed + 1, seed + 2])
    for b in range(3):
        check_tree(search, game, b, config.num_simulations)
    assert (out.visit_counts.sum(axis=1) == config.num_simulations).all()
    legal = search.tree.legal[:, 0]
    assert not (out.visit_counts > 0)[~legal].any()
    assert legal[np.arange(3), out.action].all()
    np.testing.assert_allclose(out.policy_target.sum(axis=1), 1.0, atol=1e-5)
    assert (out.policy_target[~legal] == 0).all()
    assert (np.abs(out.root_value) <= 1 + 1e-6).all()


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(game=games, config=configs, seeds=st.lists(st.integers(0, 2**40), min_size=4,
                                                  max_size=4))
def test_batch_equals_searches_one_at_a_time(game: RandomTreeGame, config: SearchConfig,
                                             seeds: list[int]) -> None:
    _, together = _search(game, config, 4, seeds)
    for b in range(4):
        _, alone = _search(game, config, 1, [seeds[b]], first_id=1 + b)
        np.testing.assert_array_equal(together.visit_counts[b], alone.visit_counts[0])
        np.testing.assert_array_equal(together.action[b], alone.action[0])
        np.testing.assert_allclose(together.policy_target[b], alone.policy_target[0], atol=1e-6)
        np.testing.assert_allclose(together.q_values[b], alone.q_values[0], atol=1e-6)
        np.testing.assert_allclose(together.root_value[b], alone.root_value[0], atol=1e-6)
