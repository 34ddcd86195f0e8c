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
                  max_considered, root, total_alpha, shaped, root_temperature) -> None:
    """Fill the call's `RootData` from the trees' roots.

    Args:
        tree: the `Tree`, roots initialised.
        seeds: uint64 `[B]` one seed per tree.
        dirichlet_alpha, dirichlet_fraction: PUCT root noise (fraction 0: none drawn).
        gumbel_scale: scale of the Gumbel draws (0: none drawn, all zero).
        max_considered: Gumbel's k; each root considers min(k, its legal actions).
        root: `RootData` whose arrays (except the table) are written here.
        total_alpha, shaped: the noise's total concentration (0: `dirichlet_alpha` per legal
            move) and whether it is shaped (see `dirichlet_alphas`).
        root_temperature: softmax temperature of the PUCT root prior, applied before noise.
    """
    num_trees, num_actions = root.prior.shape
    noise = np.empty(num_actions, dtype=np.float64)
    alphas = np.empty(num_actions, dtype=np.float64)
    per_move = total_alpha == 0 and not shaped
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
        if root_temperature != 1.0:
            temper_prior(root.prior[b], actions, legal_count, root_temperature)
        if dirichlet_fraction > 0:
            if not per_move:
                concentration = total_alpha if total_alpha > 0 else dirichlet_alpha * legal_count
                dirichlet_alphas(root.prior[b], actions, legal_count, concentration, shaped,
                                 alphas)
            total = 0.0
            for i in range(legal_count):
                a = np.int64(actions[i])
                state, noise[a] = gamma(state, dirichlet_alpha if per_move else alphas[a])
                total += noise[a]
            if total > 0:
                for i in range(legal_count):
                    a = np.int64(actions[i])
                    root.prior[b, a] = ((1.0 - dirichlet_fraction) * root.prior[b, a]
                                        + dirichlet_fraction * noise[a] / total)
        if gumbel_scale > 0:
            # Action a takes the stream's draw number a, legal or not, so that a draw does
            # not depend on the other actions' legality; only the legal ones are computed.
            for i in range(legal_count):
                a = np.int64(actions[i])
                _, g = gumbel(skip(state, a))
                root.gumbel[b, a] = gumbel_scale * g


@njit(cache=True, nogil=True)
def temper_prior(prior, actions, legal_count, temperature) -> None:
    """Replace the legal entries of `prior` (float `[A]`) by prior^(1/T) / sum, the softmax
    of the logits divided by T (T > 1 flattens, as KataGo's root policy temperature)."""
    top = 0.0
    for i in range(legal_count):
        top = max(top, prior[np.int64(actions[i])])
    if top <= 0:
        return
    total = 0.0
    for i in range(legal_count):
        a = np.int64(actions[i])
        # Relative to the largest entry, so that a small T cannot overflow.
        p = prior[a]
        prior[a] = math.exp(math.log(p / top) / temperature) if p > 0 else 0.0
        total += prior[a]
    for i in range(legal_count):
        a = np.int64(actions[i])
        prior[a] = prior[a] / total


@njit(cache=True, nogil=True)
def dirichlet_alphas(prior, actions, legal_count, total_alpha, shaped, out) -> None:
    """Per-move concentrations of the root noise, written at the legal entries of `out`.

    Unshaped: `total_alpha` split evenly. Shaped (KataGo's g170 runs): half of it split
    evenly, half in proportion to max(0, l(a) - mean l) where l(a) = log(min(0.01, P(a))),
    so that moves whose prior stands out from the mass of hopeless ones (even at 0.1%) are
    noised far more often than a uniform split would. When no move stands out (a flat
    prior), all of it is split evenly.

    Args:
        prior: float `[A]` the root prior (zero at illegal actions).
        actions: the legal actions, `legal_count` of them.
        total_alpha: the sum of the concentrations.
        shaped: shape half of the total by the prior.
        out: float64 `[A]`.
    """
    uniform_share = 1.0 / legal_count
    above_sum = 0.0
    if shaped:
        mean = 0.0
        for i in range(legal_count):
            a = np.int64(actions[i])
            out[a] = math.log(min(0.01, prior[a]) + 1e-20)
            mean += out[a]
        mean /= legal_count
        for i in range(legal_count):
            a = np.int64(actions[i])
            out[a] = max(0.0, out[a] - mean)
            above_sum += out[a]
    for i in range(legal_count):
        a = np.int64(actions[i])
        if above_sum > 0:
            out[a] = total_alpha * 0.5 * (out[a] / above_sum + uniform_share)
        else:
            out[a] = total_alpha * uniform_share


@njit(cache=True, nogil=True)
def prune_forced_playouts(visits, q, prior, root_visits, forced_playouts, c_init, c_base,
                          out) -> None:
    """KataGo's policy target pruning: take back the forced playouts the target should not see.

    For each root, c* is the most visited child (the lowest action among ties). Every other
    visited child c gives back up to sqrt(k * P(c) * sum_b N(b)) visits, but only as many as
    keep its PUCT score Q(c) + scale * P(c) / (1 + n) at or below c*'s, with scale = c(s) *
    sqrt(N(s)) as in the search; the result is rounded up, and a child left with a single
    visit (or none) is dropped.

    Args:
        visits: int32 `[B, A]` root children's visits; q: float `[B, A]` their Q from the
            root player's view; prior: float `[B, A]` the root prior the search used (with
            noise and temperature); root_visits: int `[B]` N(s) of each root.
        forced_playouts: k; c_init, c_base: the search's PUCT constants.
        out: int32 `[B, A]` the pruned visits.
    """
    num_trees, num_actions = visits.shape
    for b in range(num_trees):
        total = 0
        best = 0
        for a in range(num_actions):
            out[b, a] = visits[b, a]
            total += visits[b, a]
            if visits[b, a] > visits[b, best]:
                best = a
        if visits[b, best] == 0:
            continue
        parent = root_visits[b]
        scale = (c_init + math.log((parent + c_base + 1.0) / c_base)) * math.sqrt(parent)
        best_score = q[b, best] + scale * prior[b, best] / (1.0 + visits[b, best])
        for a in range(num_actions):
            n = visits[b, a]
            if a == best or n == 0:
                continue
            kept = n - math.sqrt(forced_playouts * prior[b, a] * total)
            gap = best_score - q[b, a]
            if gap <= 0:  # already at or above c* by value alone: keep every visit
                kept = n
            elif prior[b, a] > 0:
                # The fewest visits at which its score stays <= c*'s: scale * P / gap - 1.
                kept = max(kept, scale * prior[b, a] / gap - 1.0)
            kept = min(float(n), math.ceil(kept))
            out[b, a] = np.int32(kept) if kept > 1 else 0


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
