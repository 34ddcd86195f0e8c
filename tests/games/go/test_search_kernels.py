"""Go's search kernels (`Go.search_kernels`) and the fused search over them: the same rules
as Go's methods, and the same search results as the search that steps Go in Python."""

from __future__ import annotations

import numpy as np
import pytest
from numba import njit

from engine.search_adapter import batch_game_rollout, batch_game_roots, batch_game_step
from games.go import Go
from games.go.layout import HASH
from mcts import BatchSearch, KernelStep, SearchConfig, rollout_evaluator, uniform_evaluator


def _positions(go: Go, batch: int, plies: int, seed: int) -> np.ndarray:
    """`[batch, state_size]` positions after `plies` uniformly random legal moves (some of
    them finished games), from a fixed seed."""
    rng = np.random.default_rng(seed)
    states = go.batch_initial(batch)
    for _ in range(plies):
        legal = go.batch_legal_mask(states)
        finished = ~legal.any(axis=1)
        legal[finished, go.pass_action] = True  # stepped below, then put back
        actions = np.where(legal, rng.random(legal.shape), -1.0).argmax(axis=1)
        states = np.where(finished[:, None], states, go.batch_step(states, actions))
    return states


@pytest.mark.parametrize("size", [5, 9])
def test_kernels_agree_with_the_methods(size: int) -> None:
    go = Go(size=size)
    kernels = go.search_kernels()
    assert kernels is Go(size=size).search_kernels()  # one set per configuration
    for plies in (0, 7, 2 * size * size // 3):
        states = _positions(go, 24, plies, seed=plies)
        legal = go.batch_legal_mask(states)
        np.testing.assert_array_equal(kernels.legal_mask(states), legal)
        np.testing.assert_array_equal(kernels.to_play(states), go.batch_to_play(states))
        for a, b in zip(kernels.terminal(states), go.batch_terminal(states)):
            np.testing.assert_array_equal(a, b)
        live = legal.any(axis=1)
        scores = np.random.default_rng(plies).random(legal[live].shape)
        actions = np.where(legal[live], scores, -1.0).argmax(axis=1)
        np.testing.assert_array_equal(kernels.step(states[live], actions),
                                      go.batch_step(states[live], actions))
        for seed in (0, 12345, 2**64 - 1):
            np.testing.assert_array_equal(kernels.rollout(states, np.uint64(seed)),
                                          go.batch_random_rollout(states, seed))


def test_other_rules_get_other_kernels() -> None:
    assert Go(size=9, komi=0.5).search_kernels() is not Go(size=9).search_kernels()
    small = Go(size=5, superko_window=8, history=1)
    states = _positions(small, 8, 10, seed=1)
    np.testing.assert_array_equal(small.search_kernels().legal_mask(states),
                                  small.batch_legal_mask(states))


def _search_both_ways(go: Go, evaluator, *, sims: int, batch: int, plies: int,
                      leaves: int = 1):
    """(fused output, Python-step output) of one search from the same roots and seeds: B
    positions after `plies` random moves, every other one then after a pass (where a pass
    ends the game, so that the trees hold finished games)."""
    fused_step, python_step = batch_game_step(go), batch_game_step(go, kernels=False)
    assert isinstance(fused_step, KernelStep) and not isinstance(python_step, KernelStep)
    roots = _positions(go, batch, plies, seed=batch)
    passed = np.arange(batch) % 2 == 1
    roots[passed] = go.batch_step(roots[passed], np.full(passed.sum(), go.pass_action))
    to_play, legal = batch_game_roots(go, roots)
    assert legal.any(axis=1).all()
    config = SearchConfig(num_simulations=sims, dirichlet_fraction=0.25,
                          leaves_per_round=leaves)
    seeds = np.arange(batch) + 100
    return [BatchSearch(config, batch, go.num_actions).run(
        roots, step, evaluator, root_to_play=to_play, root_legal=legal, seeds=seeds)
        for step in (fused_step, python_step)]


def _assert_same_search(fused, python) -> None:
    for name in ("action", "visit_counts", "root_value", "q_values", "policy_target"):
        np.testing.assert_array_equal(getattr(fused, name), getattr(python, name), err_msg=name)


@pytest.mark.parametrize(("size", "max_moves", "plies", "leaves"),
                         [(5, None, 20, 1), (5, None, 20, 3), (9, None, 6, 1), (9, 14, 6, 1)])
def test_fused_uniform_search_is_the_python_step_search(size: int, max_moves: int | None,
                                                         plies: int, leaves: int) -> None:
    go = Go(size=size, max_moves=max_moves)
    fused, python = _search_both_ways(go, uniform_evaluator(go.num_actions), sims=300,
                                      batch=6, plies=plies, leaves=leaves)
    assert (fused.visit_counts.sum(axis=1) == 300).all()
    if size == 5 or max_moves is not None:  # finished games were scored in the trees
        assert (fused.q_values != 0).any()
    _assert_same_search(fused, python)


_ROLLOUT_5 = Go(size=5).search_kernels().rollout


@njit(nogil=True)
def _rollout_by_position(states, seed):
    """Go 5x5 rollouts seeded by each state's position hash instead of `seed`, so that a
    state's value does not depend on when or in which batch it is evaluated."""
    out = np.empty(states.shape[0], np.float32)
    for k in range(states.shape[0]):
        position = states[k, HASH:HASH + 8].copy().view(np.uint64)[0]
        out[k] = _ROLLOUT_5(states[k:k + 1], position)[0]
    return out


def test_fused_rollout_search_is_the_python_step_search() -> None:
    go = Go(size=5)
    assert batch_game_rollout(go).kernel is _ROLLOUT_5
    evaluator = rollout_evaluator(go.num_actions, _rollout_by_position)
    fused, python = _search_both_ways(go, evaluator, sims=200, batch=4, plies=10)
    assert (fused.visit_counts.sum(axis=1) == 200).all()
    assert np.abs(fused.root_value).max() > 0  # the playouts were scored
    _assert_same_search(fused, python)
