"""The search's parts against independent references: the halving schedule, the Q
transforms (numpy, from the paper's formulas), the random streams (moments), the config."""

from __future__ import annotations

import math

import numpy as np
import pytest
from numba import njit

from mcts import SearchConfig, considered_visit_sequence, considered_visit_table
from mcts.qtransforms import completed_q, improved_policy, masked_softmax, mixed_value, sigma_scale
from mcts.rng import gamma, gumbel, tree_stream, uniform


# --- sequential halving --------------------------------------------------------------------
@pytest.mark.parametrize("m, sims, expected", [
    (4, 8, [0, 0, 0, 0, 1, 1, 2, 2]),
    (2, 5, [0, 0, 1, 1, 2]),
    (3, 5, [0, 0, 0, 1, 1]),
    (16, 2, [0, 0]),
    (1, 4, [0, 1, 2, 3]),
    (8, 16, [0] * 8 + [1] * 4 + [2, 2, 3, 3]),
])
def test_halving_schedule_by_hand(m: int, sims: int, expected: list[int]) -> None:
    assert considered_visit_sequence(m, sims).tolist() == expected


@pytest.mark.parametrize("m", [1, 2, 3, 5, 8, 16, 32])
@pytest.mark.parametrize("sims", [1, 2, 7, 16, 50, 200])
def test_halving_schedule_is_playable_and_keeps_the_best(m: int, sims: int) -> None:
    # Replay the schedule with action i better than action i + 1: some action always has the
    # required count, the counts never favour a worse action, and the best gets the most.
    counts = [0] * m
    for target in considered_visit_sequence(m, sims):
        candidates = [i for i in range(m) if counts[i] == target]
        assert candidates, (m, sims, counts, target)
        counts[candidates[0]] += 1
    assert sum(counts) == sims
    assert counts == sorted(counts, reverse=True)
    table = considered_visit_table(m, sims)
    assert table.shape == (m + 1, sims)
    assert table[m].tolist() == considered_visit_sequence(m, sims).tolist()


# --- Q transforms ----------------------------------------------------------------------------
def _reference_completed(raw, visits, sums, prior, legal):
    visited = visits > 0
    q = np.where(visited, sums / np.maximum(visits, 1), 0.0)
    if visited.any():
        p = np.maximum(prior, 1e-30)
        weighted = (p[visited] * q[visited]).sum() / p[visited].sum()
        mixed = (raw + visits.sum() * weighted) / (visits.sum() + 1)
    else:
        mixed = raw
    completed = np.where(visited, q, mixed)
    low, high = completed[legal].min(), completed[legal].max()
    return np.where(legal, (completed - low) / max(high - low, 1e-8), 0.0), mixed


def test_q_transforms_match_a_numpy_reference() -> None:
    rng = np.random.default_rng(0)
    for _ in range(200):
        a = int(rng.integers(1, 12))
        legal = rng.random(a) < 0.8
        legal[rng.integers(a)] = True
        visits = np.where(legal & (rng.random(a) < 0.6), rng.integers(1, 30, a), 0).astype(np.int32)
        q = rng.uniform(-1, 1, a)
        sums = (q * visits).astype(np.float32)
        logits = rng.normal(size=a).astype(np.float32)
        prior = np.zeros(a, dtype=np.float32)
        masked_softmax(logits, legal, prior)
        expected_prior = np.where(legal, np.exp(logits - logits[legal].max()), 0)
        np.testing.assert_allclose(prior, expected_prior / expected_prior.sum(), rtol=1e-5)
        raw = float(rng.uniform(-1, 1))
        expected, mixed = _reference_completed(raw, visits, sums, prior, legal)
        assert mixed_value(raw, visits, sums, prior) == pytest.approx(mixed, abs=1e-6)
        out = np.zeros(a)
        completed_q(raw, visits, sums, prior, legal, out)
        np.testing.assert_allclose(out, expected, atol=1e-5)
        unscaled = np.zeros(a)
        completed_q(raw, visits, sums, prior, legal, unscaled, False)
        completed = np.where(visits > 0, sums / np.maximum(visits, 1), mixed)
        np.testing.assert_allclose(unscaled, np.where(legal, completed, 0.0), atol=1e-5)
        c_visit, c_scale = float(rng.uniform(0, 60)), float(rng.uniform(0, 2))
        scale = sigma_scale(visits, c_visit, c_scale)
        assert scale == pytest.approx((c_visit + visits.max()) * c_scale)
        policy = np.zeros(a)
        improved_policy(prior, legal, out * scale, policy)
        scores = np.where(legal, np.log(np.maximum(prior, 1e-38)) + out * scale, -np.inf)
        reference = np.exp(scores - scores.max())
        np.testing.assert_allclose(policy, reference / reference.sum(), rtol=1e-4, atol=1e-7)


# --- random streams --------------------------------------------------------------------------
@njit(cache=True)
def _draws(kind: int, count: int, alpha: float) -> np.ndarray:
    state = tree_stream(np.uint64(12345), 1)
    out = np.empty(count)
    for i in range(count):
        if kind == 0:
            state, out[i] = uniform(state)
        elif kind == 1:
            state, out[i] = gamma(state, alpha)
        else:
            state, out[i] = gumbel(state)
    return out


def test_random_streams_have_the_right_moments() -> None:
    u = _draws(0, 40000, 0.0)
    assert 0 < u.min() and u.max() < 1
    assert u.mean() == pytest.approx(0.5, abs=0.01) and u.var() == pytest.approx(1 / 12, abs=0.003)
    for alpha in (0.03, 0.3, 1.0, 2.5):
        g = _draws(1, 40000, alpha)
        assert (g >= 0).all()
        assert abs(g.mean() - alpha) < 4 * math.sqrt(alpha / g.size)  # four standard errors
        assert g.var() == pytest.approx(alpha, rel=0.15)
    w = _draws(2, 40000, 0.0)
    assert w.mean() == pytest.approx(0.5772, abs=0.03)
    assert w.var() == pytest.approx(math.pi**2 / 6, rel=0.05)


def test_streams_differ_by_seed_and_purpose() -> None:
    assert tree_stream(np.uint64(1), 1) != tree_stream(np.uint64(2), 1)
    assert tree_stream(np.uint64(1), 1) != tree_stream(np.uint64(1), 2)


# --- config ----------------------------------------------------------------------------------
@pytest.mark.parametrize("field, value", [
    ("num_simulations", 0), ("num_simulations", 2.5), ("algorithm", "mcts"), ("fpu", "win"),
    ("c_init", -1.0), ("c_base", 0.0), ("dirichlet_alpha", 0.0), ("dirichlet_fraction", 1.5),
    ("temperature", -0.1), ("gumbel_num_considered", 0), ("gumbel_scale", -1.0),
    ("c_visit", float("nan")), ("c_scale", -0.5), ("leaves_per_round", 0),
    ("fpu_reduction", float("inf")), ("leaves_per_round", True),
])
def test_config_rejects_bad_values(field: str, value: object) -> None:
    with pytest.raises(ValueError, match=field):
        SearchConfig(**{field: value})


def test_config_defaults_and_integers() -> None:
    config = SearchConfig(num_simulations=np.int64(32))
    assert config.algorithm == "puct" and config.c_visit == 50.0 and config.c_scale == 1.0
    with pytest.raises(AttributeError):
        config.num_simulations = 3  # type: ignore[misc]


def test_equal_logits_give_the_softmax_uniform_prior_exactly() -> None:
    """The equal-logits shortcut of `set_legal` stores what the softmax loops would."""
    from mcts.backup import set_legal
    from mcts.tree import allocate

    for num_actions, legal_at in ((7, [0, 3, 6]), (16, [1, 2, 5, 9, 15]), (82, range(0, 82, 3))):
        legal = np.zeros(num_actions, dtype=np.bool_)
        legal[list(legal_at)] = True
        count = int(legal.sum())
        for logits in (np.zeros(num_actions, np.float32), np.full(num_actions, 2.5, np.float32)):
            tree = allocate(1, 2, num_actions)
            set_legal(tree, 0, 1, legal, logits)
            # exp(0) = 1 for each legal action, a float64 sum of `count`, stored as float32.
            expected = np.where(legal, np.float32(np.float32(1.0) / np.float64(count)), 0)
            assert np.array_equal(tree.prior[0, 1], expected.astype(np.float32))
            assert list(tree.legal_actions[0, 1, :count]) == list(legal_at)
            assert tree.num_legal[0, 1] == count
        # Unequal logits still take the softmax.
        tree = allocate(1, 2, num_actions)
        logits = np.arange(num_actions, dtype=np.float32) / 10
        set_legal(tree, 0, 1, legal, logits)
        weights = np.exp(logits[legal].astype(np.float64) - logits[legal].max())
        assert np.allclose(tree.prior[0, 1][legal], weights / weights.sum(), atol=1e-7)
