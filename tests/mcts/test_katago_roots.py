"""KataGo's root tricks (forced playouts with target pruning, shaped noise, root policy
temperature), checked against hand-computed cases."""

from __future__ import annotations

import math

import numpy as np
import pytest
from mcts_toys import run_bandit

from mcts import SearchConfig
from mcts.roots import dirichlet_alphas, prune_forced_playouts, temper_prior


def _prune(visits, q, prior, root_visits, k=2.0, c_init=1.0, c_base=1e12):
    visits = np.asarray(visits, dtype=np.int32)
    out = np.empty_like(visits)
    prune_forced_playouts(visits, np.asarray(q, dtype=np.float32),
                          np.asarray(prior, dtype=np.float32),
                          np.asarray(root_visits, dtype=np.int32), k, c_init, c_base, out)
    return out


def test_pruning_by_hand() -> None:
    # c_base huge: c(s) = c_init = 1, so with N(s) = 16 the PUCT scale is 4. Children: 18 visits.
    # c* = action 0: 0.5 + 4 * 0.4 / 11 = 0.64545.
    # Action 1: forced sqrt(2 * 0.3 * 18) = 3.29, 4 - 3.29 = 0.71; but its score stays <= c*'s
    #   only from n >= 4 * 0.3 / (0.64545 - 0.2) - 1 = 1.69: ceil -> 2.
    # Action 2: 3 - sqrt(7.2) = 0.32, the score bound 0.8 / 0.24545 - 1 = 2.26: ceil -> 3 (kept).
    # Action 3: a single visit, dropped.
    # Second tree: the other child's value alone beats c*'s score, so it keeps every visit.
    visits = [[10, 4, 3, 1], [5, 4, 0, 0]]
    q = [[0.5, 0.2, 0.4, -0.5], [0.0, 0.9, 0.0, 0.0]]
    prior = [[0.4, 0.3, 0.2, 0.1], [0.5, 0.5, 0.0, 0.0]]
    out = _prune(visits, q, prior, [16, 10])
    assert out.tolist() == [[10, 2, 3, 0], [5, 4, 0, 0]]


def test_pruning_takes_back_forced_visits_when_the_score_allows() -> None:
    # Q far below c*: the bound does not bind; 9 - sqrt(2 * 0.5 * 25) = 4 visits stay.
    out = _prune([[16, 9]], [[0.5, -1.0]], [[0.5, 0.5]], [26])
    assert out.tolist() == [[16, 4]]
    # Ties for the most visits: the lowest action is c* and keeps its visits (were action 1
    # c*, action 0's better Q would keep all of its visits).
    out = _prune([[3, 3]], [[0.0, -1.0]], [[0.5, 0.5]], [7], c_init=0.0)
    assert out.tolist() == [[3, 0]]
    # Equal values and priors: any reduction would lift its score above c*'s, so none.
    out = _prune([[3, 3]], [[0.0, 0.0]], [[0.5, 0.5]], [7], c_init=0.0)
    assert out.tolist() == [[3, 3]]


def _bandit(forced: float, sims: int = 20):
    # Arm 0: prior 0.9, a certain loss; arm 1: prior 0.1, a certain win. c(s) ~ 0, so PUCT
    # follows Q (and the first-play urgency) alone.
    config = SearchConfig(num_simulations=sims, c_init=0.0, c_base=1e12, temperature=0.0,
                          forced_playouts=forced)
    _, out = run_bandit(np.array([-1.0, 1.0]), config, logits=np.log([0.9, 0.1]))
    return out


def test_forced_playouts_give_a_bad_high_prior_move_exactly_its_forced_visits() -> None:
    # Arm 0 gets the first visit (equal urgencies, lowest action), then is forced whenever
    # n0 < sqrt(2 * 0.9 * T) with T the children's visits so far: at T = 1 (n0 -> 2) and
    # T = 3, 6, 9, 14 (n0 -> 3, 4, 5, 6); PUCT sends every other simulation to arm 1.
    out = _bandit(2.0)
    assert out.visit_counts[0].tolist() == [6, 14]
    assert math.sqrt(2 * 0.9 * 19) <= 6 < math.sqrt(2 * 0.9 * 20) + 1
    # The target gives the forced visits back: 6 - sqrt(2 * 0.9 * 20) = 0, pruned to nothing.
    assert out.policy_target[0].tolist() == [0.0, 1.0]
    assert int(out.action[0]) == 1
    # Without forcing, arm 0 keeps its single first visit.
    assert _bandit(0.0).visit_counts[0].tolist() == [1, 19]


def test_dirichlet_alphas_by_hand() -> None:
    out = np.full(6, -7.0)
    actions = np.arange(5, dtype=np.int16)
    prior = np.array([0.5, 0.3, 0.15, 0.05, 0.0, 0.0])
    dirichlet_alphas(prior, actions, 5, 10.0, False, out)
    assert out.tolist() == [2.0] * 5 + [-7.0]  # even split; the illegal entry untouched
    # Shaped: the four priors above 1% share log(0.01); the zero prior sits 33.2 below
    # the mean, so the shaped half goes to the four: 0.5 * (1/4 + 1/5) = 0.225 of 10 each.
    dirichlet_alphas(prior, actions, 5, 10.0, True, out)
    np.testing.assert_allclose(out[:5], [2.25, 2.25, 2.25, 2.25, 1.0], rtol=1e-9)
    # Graded: log-priors log(0.01) + (0, -3, -6): mean -3, above it only the first (by 3):
    # shares 0.5 * (1 + 1/3), 0.5 / 3, 0.5 / 3 of a total of 6.
    prior = np.array([0.9, 0.01 * math.exp(-3), 0.01 * math.exp(-6)])
    out = np.empty(3)
    dirichlet_alphas(prior, np.arange(3, dtype=np.int16), 3, 6.0, True, out)
    np.testing.assert_allclose(out, [4.0, 1.0, 1.0], rtol=1e-9)
    # A flat prior: nothing stands out, all of it is split evenly.
    dirichlet_alphas(np.full(3, 1 / 3), np.arange(3, dtype=np.int16), 3, 6.0, True, out)
    np.testing.assert_allclose(out, [2.0, 2.0, 2.0])


def test_root_policy_temperature_by_hand() -> None:
    prior = np.array([0.5, 0.25, 0.25, 0.0], dtype=np.float32)
    temper_prior(prior, np.arange(3, dtype=np.int16), 3, 2.0)
    # sqrt(0.5) / (sqrt(0.5) + 2 sqrt(0.25)) = sqrt(2) - 1.
    np.testing.assert_allclose(prior, [math.sqrt(2) - 1, 1 - math.sqrt(0.5),
                                       1 - math.sqrt(0.5), 0.0], rtol=1e-6)


def test_temperature_and_shaped_noise_change_the_search_and_stay_seeded() -> None:
    arms = np.array([0.1, -0.4, 0.8, 0.3, -1.0, 0.5], dtype=np.float32)
    logits = np.array([3.0, 0.0, -1.0, 0.5, 0.0, -2.0])
    base = SearchConfig(num_simulations=64, dirichlet_fraction=0.25, temperature=0.0)
    tricks = SearchConfig(num_simulations=64, dirichlet_fraction=0.25, temperature=0.0,
                          dirichlet_total_alpha=10.83, dirichlet_shaped=True,
                          root_policy_temperature=1.5)
    plain = run_bandit(arms, base, logits=logits, seed=3)[1].visit_counts
    first = run_bandit(arms, tricks, logits=logits, seed=3)[1].visit_counts
    again = run_bandit(arms, tricks, logits=logits, seed=3)[1].visit_counts
    assert (first == again).all() and first.sum() == 64
    assert not (first == plain).all()


@pytest.mark.parametrize("values, message", [
    ({"forced_playouts": -1.0}, "forced_playouts must be >= 0"),
    ({"dirichlet_total_alpha": float("nan")}, "dirichlet_total_alpha must be >= 0"),
    ({"dirichlet_shaped": 1}, "dirichlet_shaped must be a bool"),
    ({"root_policy_temperature": 0.0}, "root_policy_temperature must be > 0"),
    ({"algorithm": "gumbel", "forced_playouts": 2.0}, "applies to the puct root only"),
])
def test_bad_settings_are_refused(values, message) -> None:
    with pytest.raises(ValueError, match=message):
        SearchConfig(**values)
