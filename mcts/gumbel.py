"""Gumbel root search: Gumbel-top-k, sequential halving, and the deterministic interior rule.

Gumbel AlphaZero (Danihelka et al., ICLR 2022), as in mctx's `gumbel_muzero_policy`:

* At the root, each legal action gets a Gumbel draw `g(a)`; the `m` actions with the best
  `g(a) + logits(a)` are the candidates (sampling without replacement, Gumbel-top-k).
* Sequential halving (Karnin et al., 2013) spends the budget in rounds: every remaining
  candidate gets the same number of visits, then the worse half by
  `g + logits + sigma(completed Q)` is dropped. The schedule is a table: at the root's
  k-th simulation, only actions with exactly `table[m, k]` visits may be chosen, and among
  those the best score wins. The first m simulations thereby visit the top-m actions.
* The move played is the candidate with the most visits and the best score; the training
  target is the improved policy `softmax(logits + sigma(completed Q))`.
* Below the root the choice is deterministic: `argmax(pi'(a) - N(a) / (1 + sum_b N(b)))`,
  with `pi'` the node's improved policy, so visit frequencies track `pi'`.

When a tree is reused, the root's earlier visits are a baseline: the halving schedule
counts only the visits of the current call.
"""

from __future__ import annotations

import functools
import math
from typing import NamedTuple

import numpy as np
from numba import njit

from mcts.qtransforms import _EPSILON, _TINY

LOW_LOGIT = -1e9
"""Floor of `g + logits + sigma(q)`, so that an action of prior 0 stays comparable (as mctx)."""


class RootData(NamedTuple):
    """Per-call data of the B roots (a tuple of arrays the kernels read).

    Attributes:
        prior: float32 `[B, A]` root prior used by PUCT (with Dirichlet noise when enabled).
        log_prior: float32 `[B, A]` log of the clean root prior (-inf at illegal actions).
        gumbel: float32 `[B, A]` Gumbel draws times `gumbel_scale`.
        base_visits: int32 `[B, A]` root children's visits when the call began (tree reuse).
        num_considered: int64 `[B]` Gumbel candidates m of each root, min(k, legal actions).
        table: int32 `[k + 1, S]` the halving schedule for this call's S simulations.
    """

    prior: np.ndarray
    log_prior: np.ndarray
    gumbel: np.ndarray
    base_visits: np.ndarray
    num_considered: np.ndarray
    table: np.ndarray


def considered_visit_sequence(num_considered: int, num_simulations: int) -> np.ndarray:
    """int32 `[num_simulations]`: the visit count an action must have to be chosen at each
    root simulation, when `num_considered` actions take part in sequential halving.

    Each phase gives every remaining candidate `max(1, S // (ceil(log2 m) * remaining))`
    more visits, then halves the candidates (never below two).
    """
    if num_simulations < 0 or num_considered < 0:
        raise ValueError("num_considered and num_simulations must be >= 0")
    if num_considered <= 1:
        return np.arange(num_simulations, dtype=np.int32)
    phases = math.ceil(math.log2(num_considered))
    sequence: list[int] = []
    remaining = num_considered
    done = 0  # visits each remaining candidate has so far
    while len(sequence) < num_simulations:
        extra = max(1, num_simulations // (phases * remaining))
        for visit in range(done, done + extra):
            sequence.extend([visit] * remaining)
        done += extra
        remaining = max(2, remaining // 2)
    return np.asarray(sequence[:num_simulations], dtype=np.int32)


@functools.lru_cache(maxsize=64)
def considered_visit_table(max_considered: int, num_simulations: int) -> np.ndarray:
    """int32 `[max_considered + 1, num_simulations]`; row m is the schedule for m candidates."""
    table = np.stack([considered_visit_sequence(m, num_simulations)
                      for m in range(max_considered + 1)])
    table.setflags(write=False)
    return table


@njit(cache=True, nogil=True, _nrt=False)
def _transformed_q(tree, b, node, c_visit, c_scale, rescale, out) -> None:
    """sigma(completed Q) of `node`'s actions into float64 `[A]` `out`, at the node's
    listed (legal) actions only; the rest of `out` is left as it was. With `rescale` the
    completed Q is first mapped to [0, 1] by its min and max over the legal actions.

    `qtransforms.completed_q` times `qtransforms.sigma_scale`, with the same numbers: the
    sums run over the actions in ascending order and skip only terms that are zero, and
    the min and max run over the legal actions anyway.
    """
    visits = tree.children_visits[b, node]
    sums = tree.children_value_sum[b, node]
    prior = tree.prior[b, node]
    actions = tree.legal_actions[b, node]
    count = tree.num_legal[b, node]
    total_visits, visited_prior, weighted_q, most = 0.0, 0.0, 0.0, 0
    for i in range(count):
        a = np.int64(actions[i])
        n = visits[a]
        most = max(most, n)
        if n > 0:
            p = max(float(prior[a]), _TINY)
            total_visits += n
            visited_prior += p
            weighted_q += p * sums[a] / n
    mixed = tree.raw_value[b, node]
    if total_visits > 0.0:
        mixed = (mixed + total_visits * weighted_q / visited_prior) / (total_visits + 1.0)
    low, high = math.inf, -math.inf
    for i in range(count):
        a = np.int64(actions[i])
        q = sums[a] / visits[a] if visits[a] > 0 else mixed
        out[a] = q
        low = min(low, q)
        high = max(high, q)
    scale = max(high - low, _EPSILON) if rescale else 1.0
    shift = low if rescale else 0.0
    factor = (c_visit + most) * c_scale
    for i in range(count):
        a = np.int64(actions[i])
        out[a] = (out[a] - shift) / scale * factor


@njit(cache=True, nogil=True, _nrt=False)
def _improved_policy(tree, b, node, transformed_q, out) -> None:
    """`qtransforms.improved_policy` of `node` at its listed actions only (the rest of
    `out` is left as it was)."""
    prior = tree.prior[b, node]
    actions = tree.legal_actions[b, node]
    count = tree.num_legal[b, node]
    best = -math.inf
    for i in range(count):
        best = max(best, transformed_q[np.int64(actions[i])])
    total = 0.0
    for i in range(count):
        a = np.int64(actions[i])
        out[a] = prior[a] * math.exp(transformed_q[a] - best)
        total += out[a]
    if total <= 0.0:
        for i in range(count):
            a = np.int64(actions[i])
            out[a] = math.exp(transformed_q[a] - best)
            total += out[a]
    for i in range(count):
        a = np.int64(actions[i])
        out[a] = out[a] / total


@njit(cache=True, nogil=True, _nrt=False)
def root_action(tree, root, b, c_visit, c_scale, rescale, scratch) -> int:
    """The root action of tree `b` under sequential halving (scratch: float64 `[2, A]`)."""
    sigma_q = scratch[0]
    _transformed_q(tree, b, 0, c_visit, c_scale, rescale, sigma_q)
    visits = tree.children_visits[b, 0]
    actions = tree.legal_actions[b, 0]
    count = tree.num_legal[b, 0]
    done = 0
    for i in range(count):  # illegal actions have no visits, before or now
        a = np.int64(actions[i])
        done += visits[a] - root.base_visits[b, a]
    table = root.table
    considered = table[root.num_considered[b], min(done, table.shape[1] - 1)]
    best, best_score = -1, -math.inf
    fallback, fallback_visits, fallback_score = -1, 1 << 30, -math.inf
    for i in range(count):
        a = np.int64(actions[i])
        score = max(LOW_LOGIT, root.gumbel[b, a] + root.log_prior[b, a] + sigma_q[a])
        n = visits[a] - root.base_visits[b, a]
        if n == considered and score > best_score:
            best, best_score = a, score
        if n < fallback_visits or (n == fallback_visits and score > fallback_score):
            fallback, fallback_visits, fallback_score = a, n, score
    return best if best >= 0 else fallback


@njit(cache=True, nogil=True, _nrt=False)
def interior_action(tree, b, node, c_visit, c_scale, rescale, scratch) -> int:
    """Deterministic interior choice argmax(pi'(a) - N(a) / (1 + sum N)) (scratch `[2, A]`)."""
    sigma_q, policy = scratch[0], scratch[1]
    _transformed_q(tree, b, node, c_visit, c_scale, rescale, sigma_q)
    _improved_policy(tree, b, node, sigma_q, policy)
    visits = tree.children_visits[b, node]
    actions = tree.legal_actions[b, node]
    count = tree.num_legal[b, node]
    total = 0
    for i in range(count):
        total += visits[np.int64(actions[i])]
    best, best_score = -1, -math.inf
    for i in range(count):
        a = np.int64(actions[i])
        score = policy[a] - visits[a] / (1.0 + total)
        if score > best_score:
            best, best_score = a, score
    return best


@njit(cache=True, nogil=True)
def root_targets(tree, root, c_visit, c_scale, rescale, policy_out, action_out) -> None:
    """Improved policy (float32 `[B, A]`) and the halving winner (int64 `[B]`) of every root."""
    num_trees, num_actions = policy_out.shape
    scratch = np.empty((2, num_actions), dtype=np.float64)
    for b in range(num_trees):
        sigma_q, policy = scratch[0], scratch[1]
        _transformed_q(tree, b, 0, c_visit, c_scale, rescale, sigma_q)
        _improved_policy(tree, b, 0, sigma_q, policy)
        actions = tree.legal_actions[b, 0]
        count = tree.num_legal[b, 0]
        policy_out[b, :] = 0.0
        most = -1
        for i in range(count):
            a = np.int64(actions[i])
            policy_out[b, a] = policy[a]
            most = max(most, tree.children_visits[b, 0, a] - root.base_visits[b, a])
        best, best_score = -1, -math.inf
        for i in range(count):
            a = np.int64(actions[i])
            n = tree.children_visits[b, 0, a] - root.base_visits[b, a]
            if n == most:
                score = max(LOW_LOGIT, root.gumbel[b, a] + root.log_prior[b, a] + sigma_q[a])
                if score > best_score:
                    best, best_score = a, score
        action_out[b] = best
