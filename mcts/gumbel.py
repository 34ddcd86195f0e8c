"""Gumbel root search pieces: the sequential-halving schedule, completed Q, improved policy.

Sequential halving (Karnin et al. 2013) as used by Gumbel AlphaZero: the m considered root
actions (the Gumbel-top-m of `g + logits`) each get visits in rounds; after each round the
worse half is dropped, until the budget is spent. The schedule is precomputed as a table:
`table[m, k]` is the visit count an action must have to be eligible at simulation k, and
at each root selection the eligible action with the best `g + logits + sigma(completed_q)`
is visited. Completed Q fills unvisited actions with a mix of the network value and the
visited Q values, so every action has a value and the improved policy
`softmax(logits + sigma(completed_q))` is defined everywhere.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

NEG_INF = -1e30


def considered_visit_sequence(num_considered: int, num_simulations: int) -> np.ndarray:
    """For simulation k, the visit count an action must have to be selected (int32 [S])."""
    if num_considered <= 1:
        return np.arange(num_simulations, dtype=np.int32)
    rounds = int(math.ceil(math.log2(num_considered)))
    sequence: list[int] = []
    visits = [0] * num_considered
    considered = num_considered
    while len(sequence) < num_simulations:
        extra = max(1, int(num_simulations / (rounds * considered)))
        for _ in range(extra):
            sequence.extend(visits[:considered])
            for i in range(considered):
                visits[i] += 1
        considered = max(2, considered // 2)
    return np.asarray(sequence[:num_simulations], dtype=np.int32)


def considered_visit_table(max_considered: int, num_simulations: int) -> np.ndarray:
    """int32 [max_considered + 1, num_simulations]; row m is the schedule for m actions."""
    return np.stack([considered_visit_sequence(m, num_simulations)
                     for m in range(max_considered + 1)])


@njit(cache=True, nogil=True)
def completed_q(q: np.ndarray, visits: np.ndarray, prior: np.ndarray, legal: np.ndarray,
                raw_value: float) -> np.ndarray:
    """Q of visited actions, the mixed value elsewhere, rescaled to [0, 1] over legal actions.

    Args:
        q: float32 [A] Q of each child from the node's player's point of view.
        visits: int32 [A]. prior: float32 [A] probabilities. legal: bool [A].
        raw_value: the network's value of the node.
    """
    num_actions = q.shape[0]
    total_visits = 0.0
    visited_prior = 0.0
    weighted_q = 0.0
    for a in range(num_actions):
        if visits[a] > 0:
            total_visits += visits[a]
            visited_prior += prior[a]
            weighted_q += prior[a] * q[a]
    mixed = raw_value
    if total_visits > 0 and visited_prior > 0:
        mixed = (raw_value + total_visits * weighted_q / visited_prior) / (total_visits + 1.0)
    out = np.empty(num_actions, dtype=np.float32)
    low, high = 1e30, -1e30
    for a in range(num_actions):
        out[a] = q[a] if visits[a] > 0 else mixed
        if legal[a]:
            low = min(low, out[a])
            high = max(high, out[a])
    scale = max(high - low, 1e-8)
    for a in range(num_actions):
        out[a] = (out[a] - low) / scale if legal[a] else 0.0
    return out


@njit(cache=True, nogil=True)
def sigma(completed: np.ndarray, visits: np.ndarray, c_visit: float, c_scale: float) -> np.ndarray:
    """The monotone transform of completed Q added to the logits: (c_visit + max N) * c_scale * q."""
    max_visits = 0
    for a in range(visits.shape[0]):
        max_visits = max(max_visits, visits[a])
    return ((c_visit + max_visits) * c_scale * completed).astype(np.float32)


@njit(cache=True, nogil=True)
def improved_policy(logits: np.ndarray, transformed_q: np.ndarray, legal: np.ndarray) -> np.ndarray:
    """softmax(logits + sigma(completed Q)) over the legal actions (float32 [A])."""
    num_actions = logits.shape[0]
    scores = np.full(num_actions, NEG_INF, dtype=np.float64)
    best = NEG_INF
    for a in range(num_actions):
        if legal[a]:
            scores[a] = logits[a] + transformed_q[a]
            best = max(best, scores[a])
    out = np.zeros(num_actions, dtype=np.float32)
    total = 0.0
    for a in range(num_actions):
        if legal[a]:
            total += math.exp(scores[a] - best)
    for a in range(num_actions):
        if legal[a]:
            out[a] = math.exp(scores[a] - best) / total
    return out
