"""Bandits whose right answer is known exactly: one move, then a known result per arm."""

from __future__ import annotations

import numpy as np
import pytest
from mcts_toys import run_bandit

from mcts import BatchSearch, SearchConfig, StepResult

ARMS = np.array([0.1, -0.4, 0.8, 0.3, -1.0, 0.5], dtype=np.float32)
BEST = int(np.argmax(ARMS))


@pytest.mark.parametrize("two_player", [True, False])
def test_puct_concentrates_visits_on_the_best_arm(two_player: bool) -> None:
    config = SearchConfig(num_simulations=400, temperature=0.0)
    _, out = run_bandit(ARMS, config, two_player=two_player)
    visits = out.visit_counts[0]
    assert visits.sum() == 400
    assert int(out.action[0]) == BEST
    assert visits[BEST] > 0.5 * visits.sum()
    # Every visited arm's Q is its exact value, from the root player's point of view.
    visited = visits > 0
    np.testing.assert_allclose(out.q_values[0][visited], ARMS[visited], atol=1e-6)
    np.testing.assert_allclose(out.policy_target[0], visits / visits.sum(), atol=1e-6)
    # Root value: the mean of its own evaluation (0) and every backed-up arm value.
    expected = float((visits * ARMS).sum()) / (visits.sum() + 1)
    assert out.root_value[0] == pytest.approx(expected, abs=1e-5)


def test_puct_never_visits_illegal_arms() -> None:
    legal = np.array([True, True, False, True, False, True])
    _, out = run_bandit(ARMS, SearchConfig(num_simulations=100, temperature=0.0), legal=legal)
    assert out.visit_counts[0][~legal].sum() == 0
    assert int(out.action[0]) == 5  # the best legal arm (0.5)
    assert out.prior[0][~legal].sum() == 0
    np.testing.assert_allclose(out.prior[0][legal], 0.25)


def test_gumbel_improved_policy_favours_better_arms() -> None:
    logits = np.log(np.array([0.3, 0.2, 0.1, 0.2, 0.1, 0.1]))
    config = SearchConfig(num_simulations=64, algorithm="gumbel", gumbel_scale=0.0)
    _, out = run_bandit(ARMS, config, logits=logits)
    prior = out.prior[0]
    policy = out.policy_target[0]
    assert policy.sum() == pytest.approx(1.0, abs=1e-5)
    # Every arm is visited (6 arms < 16 considered), so completed Q = the arm values and the
    # policy moves mass towards the arms in the order of their values.
    assert (out.visit_counts[0] > 0).all()
    ratio = policy / prior
    order = np.argsort(ARMS)
    assert np.all(np.diff(ratio[order]) > 0)
    assert policy[BEST] > prior[BEST]
    assert policy[4] < prior[4]
    assert int(out.action[0]) == BEST


@pytest.mark.parametrize("rescale", [True, False])
def test_gumbel_improved_policy_matches_the_paper_formula(rescale: bool) -> None:
    # Independent recomputation: sigma = (c_visit + max N) * c_scale * completed Q, the
    # completed Q min-max rescaled to [0, 1] unless rescale_values is off.
    logits = np.array([0.5, 0.0, -0.5, 0.2, 0.0, 0.1])
    config = SearchConfig(num_simulations=24, algorithm="gumbel", gumbel_scale=0.0,
                          c_visit=50.0, c_scale=0.1, rescale_values=rescale)
    _, out = run_bandit(ARMS, config, logits=logits)
    visits = out.visit_counts[0].astype(np.float64)
    prior = np.exp(logits) / np.exp(logits).sum()
    visited = visits > 0
    q = np.where(visited, ARMS, 0.0)
    mixed = (0.0 + visits.sum() * (prior[visited] * q[visited]).sum() / prior[visited].sum()) \
        / (visits.sum() + 1)
    completed = np.where(visited, q, mixed)
    if rescale:
        completed = (completed - completed.min()) / (completed.max() - completed.min())
    scores = logits + (50.0 + visits.max()) * 0.1 * completed
    expected = np.exp(scores - scores.max()) / np.exp(scores - scores.max()).sum()
    np.testing.assert_allclose(out.policy_target[0], expected, rtol=1e-4, atol=1e-6)


def test_unrescaled_values_move_the_policy_by_their_differences() -> None:
    # Arms worth 0.50 and 0.51: min-max rescaling turns that hundredth into a full
    # (c_visit + max N) * c_scale = 52 * 0.03 = 1.56 nats; without it the shift is 0.0156.
    arms = np.array([0.50, 0.51], dtype=np.float32)
    for rescale, shift in ((True, 1.56), (False, 0.0156)):
        config = SearchConfig(num_simulations=4, algorithm="gumbel", gumbel_scale=0.0,
                              c_visit=50.0, c_scale=0.03, rescale_values=rescale)
        _, out = run_bandit(arms, config, two_player=False)
        assert out.visit_counts[0].tolist() == [2, 2]
        policy = out.policy_target[0]
        assert np.log(policy[1] / policy[0]) == pytest.approx(shift, rel=1e-3)


@pytest.mark.parametrize("sims, arms", [(2, 2), (4, 4), (16, 16), (16, 8), (5, 3)])
def test_gumbel_small_budgets_pick_the_best_arm(sims: int, arms: int) -> None:
    rng = np.random.default_rng(sims * 100 + arms)
    for trial in range(5):
        values = rng.uniform(-1, 1, size=arms).astype(np.float32)
        config = SearchConfig(num_simulations=sims, algorithm="gumbel", gumbel_scale=0.0)
        _, out = run_bandit(values, config, seed=trial)
        assert out.visit_counts[0].sum() == sims
        assert int(out.action[0]) == int(np.argmax(values)), (values, out.visit_counts[0])


def test_gumbel_visits_only_the_considered_arms() -> None:
    values = np.linspace(-1, 1, 10).astype(np.float32)
    config = SearchConfig(num_simulations=40, algorithm="gumbel", gumbel_num_considered=4)
    for seed in range(5):
        _, out = run_bandit(values, config, seed=seed)
        assert np.count_nonzero(out.visit_counts[0]) == 4
        assert out.visit_counts[0].sum() == 40


def test_gumbel_noise_comes_from_the_seed() -> None:
    config = SearchConfig(num_simulations=8, algorithm="gumbel", gumbel_num_considered=2)
    values = np.zeros(12, dtype=np.float32)
    picks = {tuple(np.flatnonzero(run_bandit(values, config, seed=s)[1].visit_counts[0]))
             for s in range(12)}
    assert len(picks) > 3  # different seeds consider different pairs of arms
    again = {tuple(np.flatnonzero(run_bandit(values, config, seed=s)[1].visit_counts[0]))
             for s in range(12)}
    assert picks == again


def test_dirichlet_noise_spreads_visits_and_depends_on_the_seed() -> None:
    values = np.zeros(8, dtype=np.float32)
    plain = SearchConfig(num_simulations=200, temperature=0.0)
    noisy = SearchConfig(num_simulations=200, temperature=0.0, dirichlet_fraction=0.75,
                         dirichlet_alpha=0.3)
    _, base = run_bandit(values, plain)
    assert base.visit_counts[0].max() - base.visit_counts[0].min() <= 1
    spreads = [run_bandit(values, noisy, seed=s)[1].visit_counts[0] for s in range(4)]
    assert any(v.max() - v.min() > 10 for v in spreads)
    np.testing.assert_array_equal(spreads[0], run_bandit(values, noisy, seed=0)[1].visit_counts[0])
    # The reported prior is the one before noise.
    np.testing.assert_allclose(run_bandit(values, noisy, seed=1)[1].prior[0], 1 / 8)


def test_temperature_sampling_follows_visit_counts() -> None:
    values = np.array([0.2, 0.0, -0.2], dtype=np.float32)
    config = SearchConfig(num_simulations=60, temperature=1.0)
    picks = np.array([int(run_bandit(values, config, seed=s)[1].action[0]) for s in range(400)])
    _, out = run_bandit(values, config)
    expected = out.visit_counts[0] / out.visit_counts[0].sum()
    observed = np.bincount(picks, minlength=3) / picks.size
    np.testing.assert_allclose(observed, expected, atol=0.08)


def test_gumbel_interior_visits_follow_the_deterministic_rule() -> None:
    # The root has one legal move, to X (opponent to move); X's four moves end the game with
    # known results for X's player. X's visits must follow argmax(pi' - N / (1 + sum N)),
    # replayed here in numpy from the paper's formulas.
    x_logits = np.array([0.3, -0.2, 0.0, 0.6], dtype=np.float32)
    x_raw = -0.1
    results = np.array([0.4, -0.5, 0.9, -0.9], dtype=np.float32)  # for X's player
    sims, c_visit, c_scale = 25, 50.0, 0.1

    def step(states, actions):
        at_root = np.asarray(states) == 0
        return StepResult(np.where(at_root, 1, 2), np.where(at_root, 1, 0).astype(np.int8),
                          np.tile(at_root[:, None], (1, 4)), ~at_root,
                          np.where(at_root, 0.0, -results[actions]).astype(np.float32))

    def evaluate(states):
        n = len(states)
        return np.tile(x_logits, (n, 1)), np.full(n, x_raw, dtype=np.float32)

    config = SearchConfig(num_simulations=sims, algorithm="gumbel", c_visit=c_visit,
                          c_scale=c_scale)
    search = BatchSearch(config, 1, 4)
    search.run(np.zeros(1, np.int64), step, evaluate, root_to_play=np.zeros(1, np.int8),
               root_legal=np.array([[True, False, False, False]]), seeds=[0])
    x = search.tree.children[0, 0, 0]
    prior = np.exp(x_logits - x_logits.max())
    prior /= prior.sum()
    visits = np.zeros(4)
    for _ in range(sims - 1):  # the first simulation expands X itself
        visited = visits > 0
        q = np.where(visited, results, 0.0)
        mixed = x_raw
        if visited.any():
            mixed = (x_raw + visits.sum() * (prior * q)[visited].sum() / prior[visited].sum()) \
                / (visits.sum() + 1)
        completed = np.where(visited, q, mixed)
        completed = (completed - completed.min()) / max(completed.max() - completed.min(), 1e-8)
        scores = np.log(prior) + (c_visit + visits.max()) * c_scale * completed
        improved = np.exp(scores - scores.max()) / np.exp(scores - scores.max()).sum()
        visits[np.argmax(improved - visits / (1 + visits.sum()))] += 1
    np.testing.assert_array_equal(search.tree.children_visits[0, x], visits)
