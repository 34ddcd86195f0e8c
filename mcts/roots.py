"""The roots of a search call: noise before the simulations, statistics and targets after.

Each tree's random numbers come from its own seed (see `mcts.rng`): the Dirichlet and Gumbel
draws from its noise stream, the sampled move from its action stream. A tree's result thus
depends on its seed alone, whatever else shares the batch.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from mcts.rng import ACTION_STREAM, NOISE_STREAM, gamma, gumbel, skip, tree_stream, uniform


@njit(cache=True, nogil=True)
def prepare_roots(tree, seeds, dirichlet_alpha, dirichlet_fraction, gumbel_scale,
                  max_considered, root) -> None:
    """Fill the call's `RootData` from the trees' roots.

    Args:
        tree: the `Tree`, roots initialised.
        seeds: uint64 `[B]` one seed per tree.
        dirichlet_alpha, dirichlet_fraction: PUCT root noise (fraction 0: none drawn).
        gumbel_scale: scale of the Gumbel draws (0: none drawn, all zero).
        max_considered: Gumbel's k; each root considers min(k, its legal actions).
        root: `RootData` whose arrays (except the table) are written here.
    """
    num_trees, num_actions = root.prior.shape
    noise = np.empty(num_actions, dtype=np.float64)
    for b in range(num_trees):
        state = tree_stream(seeds[b], NOISE_STREAM)
        actions = tree.legal_actions[b, 0]
        legal_count = tree.num_legal[b, 0]
        root.prior[b] = tree.prior[b, 0]  # 0 at illegal actions, as the tree keeps them
        root.base_visits[b] = tree.children_visits[b, 0]
        root.log_prior[b] = -math.inf
        root.gumbel[b] = 0.0
        for i in range(legal_count):
            a = np.int64(actions[i])
            p = tree.prior[b, 0, a]
            if p > 0:
                root.log_prior[b, a] = math.log(p)
        root.num_considered[b] = min(max_considered, legal_count)
        if dirichlet_fraction > 0:
            total = 0.0
            for i in range(legal_count):
                a = np.int64(actions[i])
                state, noise[a] = gamma(state, dirichlet_alpha)
                total += noise[a]
            if total > 0:
                for i in range(legal_count):
                    a = np.int64(actions[i])
                    root.prior[b, a] = ((1.0 - dirichlet_fraction) * tree.prior[b, 0, a]
                                        + dirichlet_fraction * noise[a] / total)
        if gumbel_scale > 0:
            # Action a takes the stream's draw number a, legal or not, so that a draw does
            # not depend on the other actions' legality; only the legal ones are computed.
            for i in range(legal_count):
                a = np.int64(actions[i])
                _, g = gumbel(skip(state, a))
                root.gumbel[b, a] = gumbel_scale * g


@njit(cache=True, nogil=True)
def root_statistics(tree, visits_out, q_out, value_out, raw_out, prior_out) -> None:
    """Copy out the roots' children visits (int32 `[B, A]`), their Q from the root player's
    view (float32 `[B, A]`, 0 where unvisited), the search value and the raw value of each
    root (float32 `[B]`) and the root priors (float32 `[B, A]`, before noise)."""
    num_trees, num_actions = visits_out.shape
    for b in range(num_trees):
        value_out[b] = tree.value_sum[b, 0] / max(tree.visits[b, 0], 1)
        raw_out[b] = tree.raw_value[b, 0]
        for a in range(num_actions):
            n = tree.children_visits[b, 0, a]
            visits_out[b, a] = n
            q_out[b, a] = tree.children_value_sum[b, 0, a] / n if n > 0 else 0.0
            prior_out[b, a] = tree.prior[b, 0, a]


@njit(cache=True, nogil=True)
def puct_targets(visits, seeds, temperature, policy_out, action_out) -> None:
    """Visit distributions (float32 `[B, A]`) and moves (int64 `[B]`) sampled from
    visits^(1/temperature) with each tree's action stream; temperature 0 takes the most
    visited move (the lowest action among ties)."""
    num_trees, num_actions = visits.shape
    weights = np.empty(num_actions, dtype=np.float64)
    for b in range(num_trees):
        total = 0
        most = 0
        best = 0
        for a in range(num_actions):
            total += visits[b, a]
            if visits[b, a] > most:
                most = visits[b, a]
                best = a
        for a in range(num_actions):
            policy_out[b, a] = visits[b, a] / total if total > 0 else 0.0
        if temperature == 0 or most == 0:
            action_out[b] = best
            continue
        weight_sum = 0.0
        for a in range(num_actions):
            n = visits[b, a]
            weights[a] = math.exp(math.log(n / most) / temperature) if n > 0 else 0.0
            weight_sum += weights[a]
        _, u = uniform(tree_stream(seeds[b], ACTION_STREAM))
        threshold = u * weight_sum
        chosen = best
        cumulative = 0.0
        for a in range(num_actions):
            if weights[a] > 0:
                cumulative += weights[a]
                chosen = a
                if cumulative >= threshold:
                    break
        action_out[b] = chosen
