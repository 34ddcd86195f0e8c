"""Selection: walk every tree from its root to a leaf, with PUCT or the Gumbel rules.

One call of `select_leaves` handles all B trees of a round. Each tree yields
`leaves_per_round` leaves; a leaf is either

* a new edge `(parent node, action)` whose child must be made: the tree, parent and action
  go into the round's step batch (and, for array states, the parent's state is copied into
  the step buffer so the game step needs no gather), or
* a finished game already in the tree: its terminal value is backed up at once, no step;
* with several leaves per round, a new edge already chosen this round (a collision): the
  tree stops there and does the rest of its simulations in later rounds, so every
  simulation expands a node or revisits a finished game, and the trees stay exact.

With several leaves per round, each leaf's path carries a virtual loss until its value is
backed up (one visit and a value of -1 for the player choosing each edge), which steers the
next leaves of the same tree elsewhere.

PUCT (AlphaZero, with mctx's convention that N(s) counts the node's own evaluation):
`score(a) = Q(a) + c(s) * P(a) * sqrt(N(s)) / (1 + N(a))`, `c(s) = c_init + log((N(s) +
c_base + 1) / c_base)`, where an unvisited child's Q is the first-play urgency.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from numba import njit

from mcts.backup import backup, copy_row, virtual_loss
from mcts.gumbel import interior_action, root_action

PUCT = 0
"""`Params.algorithm` of AlphaZero's PUCT."""
GUMBEL = 1
"""`Params.algorithm` of the Gumbel root search."""
FPU_REDUCTION = 0
"""`Params.fpu_mode`: unvisited children are valued at the parent's value minus a reduction."""
FPU_LOSS = 1
"""`Params.fpu_mode`: unvisited children are valued as a loss (-1)."""


class Params(NamedTuple):
    """The scalar hyperparameters the kernels read (built from a `SearchConfig`)."""

    algorithm: int
    leaves_per_round: int
    c_init: float
    c_base: float
    fpu_mode: int
    fpu_reduction: float
    c_visit: float
    c_scale: float
    rescale_values: bool
    forced_playouts: float


class Slots(NamedTuple):
    """The leaves of one round, preallocated for B * leaves_per_round entries.

    Attributes:
        tree, parent, action: int64 `[M]` new edges to expand; entries `[:K]` are this
            round's step batch (K returned by `select_leaves`).
        node: int64 `[M]` the node index each new edge received (filled by the expansion).
    """

    tree: np.ndarray
    parent: np.ndarray
    action: np.ndarray
    node: np.ndarray


def make_slots(size: int) -> Slots:
    """Slots for up to `size` leaves per round."""
    return Slots(*(np.zeros(size, dtype=np.int64) for _ in Slots._fields))


@njit(cache=True, nogil=True, _nrt=False)
def puct_action(tree, b, node, prior, params) -> int:
    """The legal action with the best PUCT score at `node` of tree `b` (prior: float32 `[A]`)."""
    visits = tree.visits[b, node]
    c = params.c_init + math.log((visits + params.c_base + 1.0) / params.c_base)
    scale = c * math.sqrt(visits)
    if params.fpu_mode == FPU_LOSS:
        fpu = -1.0
    else:
        fpu = tree.value_sum[b, node] / max(visits, 1) - params.fpu_reduction
    child_visits = tree.children_visits[b, node]
    child_sums = tree.children_value_sum[b, node]
    actions = tree.legal_actions[b, node]
    best, best_score = -1, -math.inf
    for i in range(tree.num_legal[b, node]):  # ascending: ties go to the lowest action
        a = np.int64(actions[i])
        n = child_visits[a]
        if n > 0:
            score = child_sums[a] / n + scale * prior[a] / (1.0 + n)
        else:  # x / 1.0 == x exactly: the same score without a division
            score = fpu + scale * prior[a]
        if score > best_score:
            best, best_score = a, score
    return best


@njit(cache=True, nogil=True, _nrt=False)
def forced_action(tree, b, prior, forced_playouts) -> int:
    """KataGo's forced playouts at the root of tree `b`: the lowest legal action whose child
    has been visited but fewer than sqrt(k * P(a) * sum_b N(b)) times, or -1 if none.

    As in KataGo, only children with a visit take part: an unvisited child gets its first
    visit from PUCT (else every move of positive prior would be forced at once).
    """
    child_visits = tree.children_visits[b, 0]
    actions = tree.legal_actions[b, 0]
    total = 0
    for i in range(tree.num_legal[b, 0]):
        total += child_visits[np.int64(actions[i])]
    for i in range(tree.num_legal[b, 0]):
        a = np.int64(actions[i])
        n = child_visits[a]
        if n > 0 and float(n) * n < forced_playouts * prior[a] * total:  # n < sqrt(k P sum N)
            return a
    return -1


@njit(cache=True, nogil=True, _nrt=False)
def _descend(tree, root, params, b, scratch) -> tuple[int, int, int]:
    """Walk tree `b` down to a leaf: (node, action, child), child UNVISITED for a new edge."""
    node = 0
    while True:
        if params.algorithm == GUMBEL:
            if node == 0:
                a = root_action(tree, root, b, params.c_visit, params.c_scale,
                                params.rescale_values, scratch)
            else:
                a = interior_action(tree, b, node, params.c_visit, params.c_scale,
                                    params.rescale_values, scratch)
        elif node == 0:
            if params.forced_playouts > 0:
                a = forced_action(tree, b, root.prior[b], params.forced_playouts)
                if a < 0:
                    a = puct_action(tree, b, node, root.prior[b], params)
            else:
                a = puct_action(tree, b, node, root.prior[b], params)
        else:
            a = puct_action(tree, b, node, tree.prior[b, node], params)
        child = tree.children[b, node, a]
        if child < 0 or tree.terminal[b, child]:
            return node, a, child
        node = child


@njit(cache=True, nogil=True, _nrt=False)
def select_leaves(tree, root, params, leaves, remaining, slots, node_states, step_states,
                  gather, scratch, first, last) -> tuple[int, int]:
    """Select up to `leaves` leaves in each of trees `first..last-1`.

    Args:
        tree: the `Tree`; terminal revisits are backed up here, new edges get virtual loss
            when `leaves > 1`.
        root: the call's `RootData`.
        params: `Params`.
        leaves: leaves per tree and round (>= 1).
        remaining: int64 `[B]` simulations each tree still has to do; decremented here.
        slots: `Slots` with room for B * leaves entries.
        node_states: `[B, N, S]` per-node states (array states), or a dummy when not gathering.
        step_states: `[B * leaves, S]` receives the parents' states of the step batch.
        gather: copy the parents' states into `step_states`.
        scratch: float64 `[2, A]` work space.
        first, last: the range of trees to search this round.

    Returns:
        (K, left): the K new edges in `slots[:K]`, and the simulations the trees of the range
        still have to do after this round.
    """
    num_new = 0
    left = 0
    for b in range(first, last):
        start = num_new
        for _ in range(min(leaves, remaining[b])):
            node, a, child = _descend(tree, root, params, b, scratch)
            if child >= 0:  # a finished game: its value is known, back it up now
                backup(tree, b, child, tree.raw_value[b, child])
                remaining[b] -= 1
                continue
            if leaves > 1:
                pending = False
                for k in range(start, num_new):
                    pending = pending or (slots.parent[k] == node and slots.action[k] == a)
                if pending:  # a collision: leave the rest of this tree for the next round
                    break
                virtual_loss(tree, b, node, a, 1)
            slots.tree[num_new] = b
            slots.parent[num_new] = node
            slots.action[num_new] = a
            if gather:
                copy_row(step_states[num_new], node_states[b, node])
            num_new += 1
            remaining[b] -= 1
        left += remaining[b]
    return num_new, left
