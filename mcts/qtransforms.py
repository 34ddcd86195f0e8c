"""Value transforms of Gumbel search: completed Q, the sigma transform, the improved policy.

Gumbel AlphaZero (Danihelka et al., ICLR 2022, appendix D) needs a value for *every* action,
visited or not. Completed Q takes the visited children's Q and fills the others with the
mixed value, an interpolation of the node's raw value and the prior-weighted Q of the
visited children. The completed values are rescaled to [0, 1] over the legal actions and
scaled by `sigma(q) = (c_visit + max_b N(b)) * c_scale * q`, so that the improved policy
`softmax(logits + sigma(completed Q))` leans on Q more as the visits grow.

Since the prior is stored as probabilities `p = softmax(logits)`, the improved policy is
computed as `p * exp(sigma(q))`, normalised: the same distribution without a logarithm.
All functions work on one node's rows and write into caller-provided buffers.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

_TINY = 1e-30
_EPSILON = 1e-8


@njit(cache=True, nogil=True, inline="always")
def legal_max(values: np.ndarray, legal: np.ndarray) -> float:
    """The largest of `values` `[A]` at the legal actions (bool `[A]`); -inf if none is."""
    best = -math.inf
    for a in range(values.shape[0]):
        if legal[a] and values[a] > best:
            best = values[a]
    return best


@njit(cache=True, nogil=True)
def masked_softmax(logits: np.ndarray, legal: np.ndarray, out: np.ndarray) -> None:
    """Softmax over the legal actions.

    Args:
        logits: float32 `[A]`.
        legal: bool `[A]`, at least one True.
        out: float32 `[A]` receives the probabilities, 0 at illegal actions.
    """
    best = legal_max(logits, legal)
    total = 0.0
    for a in range(logits.shape[0]):
        weight = math.exp(logits[a] - best) if legal[a] else 0.0
        out[a] = weight
        total += weight
    for a in range(logits.shape[0]):
        out[a] = out[a] / total


@njit(cache=True, nogil=True)
def mixed_value(raw_value: float, visits: np.ndarray, value_sums: np.ndarray,
                prior: np.ndarray) -> float:
    """The node's raw value mixed with the prior-weighted Q of its visited children.

    `(raw_value + sum_b N(b) * sum_{a visited} p(a) q(a) / sum_{a visited} p(a)) / (1 + sum_b N(b))`.

    Args:
        raw_value: the evaluator's value of the node (its player's view).
        visits: int32 `[A]` children's visits.
        value_sums: float32 `[A]` children's value sums from the node's player's view.
        prior: float32 `[A]` prior probabilities.
    """
    total_visits = 0.0
    visited_prior = 0.0
    weighted_q = 0.0
    for a in range(visits.shape[0]):
        n = visits[a]
        if n > 0:
            p = max(float(prior[a]), _TINY)
            total_visits += n
            visited_prior += p
            weighted_q += p * value_sums[a] / n
    if total_visits == 0.0:
        return raw_value
    return (raw_value + total_visits * weighted_q / visited_prior) / (total_visits + 1.0)


@njit(cache=True, nogil=True)
def completed_q(raw_value: float, visits: np.ndarray, value_sums: np.ndarray, prior: np.ndarray,
                legal: np.ndarray, out: np.ndarray, rescale: bool = True) -> None:
    """Completed Q rescaled to [0, 1] over the legal actions (the min-max of the completed values).

    Args:
        raw_value, visits, value_sums, prior: as in `mixed_value`.
        legal: bool `[A]`.
        out: float64 `[A]` receives the rescaled completed Q (0 at illegal actions).
        rescale: False leaves the completed Q in the value's units (no min-max).
    """
    mixed = mixed_value(raw_value, visits, value_sums, prior)
    low, high = math.inf, -math.inf
    for a in range(visits.shape[0]):
        q = value_sums[a] / visits[a] if visits[a] > 0 else mixed
        out[a] = q
        if legal[a]:
            low = min(low, q)
            high = max(high, q)
    scale = max(high - low, _EPSILON) if rescale else 1.0
    shift = low if rescale else 0.0
    for a in range(visits.shape[0]):
        out[a] = (out[a] - shift) / scale if legal[a] else 0.0


@njit(cache=True, nogil=True)
def sigma_scale(visits: np.ndarray, c_visit: float, c_scale: float) -> float:
    """The factor `(c_visit + max_b N(b)) * c_scale` of the sigma transform (visits int32 `[A]`)."""
    most = 0
    for a in range(visits.shape[0]):
        most = max(most, visits[a])
    return (c_visit + most) * c_scale


@njit(cache=True, nogil=True)
def improved_policy(prior: np.ndarray, legal: np.ndarray, transformed_q: np.ndarray,
                    out: np.ndarray) -> None:
    """softmax(logits + sigma(completed Q)) over the legal actions, written into `out`.

    Args:
        prior: float32 `[A]` prior probabilities (softmax of the logits over the legal actions).
        legal: bool `[A]`.
        transformed_q: float64 `[A]` sigma(completed Q).
        out: float32 or float64 `[A]` receives the policy (0 at illegal actions).
    """
    best = legal_max(transformed_q, legal)
    total = 0.0
    for a in range(prior.shape[0]):
        weight = 0.0
        if legal[a]:
            weight = prior[a] * math.exp(transformed_q[a] - best)
        out[a] = weight
        total += weight
    if total <= 0.0:  # every legal prior underflowed to 0: fall back to sigma alone
        for a in range(prior.shape[0]):
            out[a] = math.exp(transformed_q[a] - best) if legal[a] else 0.0
            total += out[a]
    for a in range(prior.shape[0]):
        out[a] = out[a] / total
