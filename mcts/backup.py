"""Expansion and backup: make the round's new nodes and carry their values to the roots.

A value travels from a node to its parent with its sign flipped exactly where the two
nodes' players to move differ. Node statistics are kept from the node's own player's view,
edge statistics (in the parent's row) from the parent's player's view.

The kernels that run once or more per simulation (here, in `selection` and in `gumbel`)
allocate nothing and are compiled without reference counting (`_nrt=False`): they only
borrow their callers' arrays, and Numba would otherwise update, atomically, the count of
every array each call is given (fifteen for a `Tree`) and every row view it takes, which
cost more than the search itself (measured in docs/measurements.md).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

INVALID_STEP = -1
"""`expand_and_backup`'s return when a step produced a non-terminal state with no legal move
(or more than the tree's `legal_actions` can list)."""


@njit(cache=True, nogil=True, _nrt=False)
def copy_row(dst, src) -> None:
    """`dst[:] = src` for two 1-D arrays of one length, as a plain loop: Numba compiles
    the loop to a vectorised copy, while its slice assignment walks the elements one by one
    (10x slower on a 1.6 kB Go state)."""
    for i in range(dst.shape[0]):
        dst[i] = src[i]


@njit(cache=True, nogil=True, _nrt=False)
def backup(tree, b, node, value) -> None:
    """Add one visit of `value` (from `node`'s player's view) to `node` and its ancestors."""
    visits, value_sum, parent, to_play = tree.visits, tree.value_sum, tree.parent, tree.to_play
    from_parent = tree.action_from_parent
    children_visits, children_value_sum = tree.children_visits, tree.children_value_sum
    while True:
        visits[b, node] += 1
        value_sum[b, node] += value
        up = parent[b, node]
        if up < 0:
            return
        if to_play[b, up] != to_play[b, node]:
            value = -value
        a = from_parent[b, node]
        children_visits[b, up, a] += 1
        children_value_sum[b, up, a] += value
        node = up


@njit(cache=True, nogil=True, _nrt=False)
def virtual_loss(tree, b, node, action, sign) -> None:
    """Add (sign 1) or remove (sign -1) a virtual loss on edge (node, action) and the path
    above it: one visit each, valued -1 by the player choosing each edge."""
    visits, value_sum, parent, to_play = tree.visits, tree.value_sum, tree.parent, tree.to_play
    from_parent = tree.action_from_parent
    children_visits, children_value_sum = tree.children_visits, tree.children_value_sum
    children_visits[b, node, action] += sign
    children_value_sum[b, node, action] -= sign
    while True:
        visits[b, node] += sign
        up = parent[b, node]
        if up < 0:
            return
        a = from_parent[b, node]
        children_visits[b, up, a] += sign
        children_value_sum[b, up, a] -= sign
        if to_play[b, up] == to_play[b, node]:
            value_sum[b, node] -= sign
        else:
            value_sum[b, node] += sign
        node = up


@njit(cache=True, nogil=True, _nrt=False)
def _new_node(tree, b, parent, action, to_play, terminal) -> int:
    node = tree.num_nodes[b]
    tree.num_nodes[b] = node + 1
    tree.parent[b, node] = parent
    tree.action_from_parent[b, node] = action
    tree.children[b, parent, action] = node
    tree.to_play[b, node] = to_play
    tree.terminal[b, node] = terminal
    tree.visits[b, node] = 0
    tree.value_sum[b, node] = 0.0
    clear_row(tree, b, node)
    return node


@njit(cache=True, nogil=True, _nrt=False)
def clear_row(tree, b, node) -> None:
    """Empty the action rows of slot `node` (only its listed actions can be set)."""
    actions = tree.legal_actions[b, node]
    prior, legal, children = tree.prior[b, node], tree.legal[b, node], tree.children[b, node]
    visits, sums = tree.children_visits[b, node], tree.children_value_sum[b, node]
    for i in range(tree.num_legal[b, node]):
        a = actions[i]
        prior[a] = 0.0
        legal[a] = False
        children[a] = -1
        visits[a] = 0
        sums[a] = 0.0
    tree.num_legal[b, node] = 0


@njit(cache=True, nogil=True, _nrt=False)
def _count_legal(legal) -> int:
    """True entries of a bool `[A]` row (whole words of 8 False skipped when A % 8 == 0)."""
    num_actions = legal.shape[0]
    count = 0
    if num_actions % 8 != 0:
        for a in range(num_actions):
            count += legal[a]
        return count
    words = legal.view(np.uint64)
    for w in range(num_actions // 8):
        if words[w] != 0:
            for a in range(w * 8, w * 8 + 8):
                count += legal[a]
    return count


@njit(cache=True, nogil=True, _nrt=False)
def _list_legal(legal, out) -> int:
    """Write the True entries of a bool `[A]` row into `out`, ascending; return how many
    (whole words of 8 False skipped when A % 8 == 0)."""
    num_actions = legal.shape[0]
    room = out.shape[0]
    count = 0
    if num_actions % 8 != 0:
        for a in range(num_actions):
            if legal[a]:
                if count == room:
                    raise ValueError("more legal actions than the tree can list (MAX_LEGAL)")
                out[count] = a
                count += 1
        return count
    words = legal.view(np.uint64)
    for w in range(num_actions // 8):
        if words[w] == 0:
            continue
        for a in range(w * 8, w * 8 + 8):
            if legal[a]:
                if count == room:
                    raise ValueError("more legal actions than the tree can list (MAX_LEGAL)")
                out[count] = a
                count += 1
    return count


@njit(cache=True, nogil=True, _nrt=False)
def set_legal(tree, b, node, legal, logits) -> None:
    """List the legal actions (bool `[A]`) of an empty slot `node` and set its prior to
    their softmax of `logits` (float32 `[A]`), as `masked_softmax` computes it."""
    actions, is_legal = tree.legal_actions[b, node], tree.legal[b, node]
    prior = tree.prior[b, node]
    count = _list_legal(legal, actions)
    tree.num_legal[b, node] = count
    best = -math.inf
    lowest = math.inf
    for i in range(count):
        a = actions[i]
        is_legal[a] = True
        best = max(best, logits[a])
        lowest = min(lowest, logits[a])
    if best == lowest and math.isfinite(best):
        # Equal finite logits (a uniform evaluator): every weight is exp(0) = 1 exactly and
        # their sum is `count`, so the general loops below would store float32(1 / count).
        uniform = np.float32(1.0 / count)
        for i in range(count):
            prior[actions[i]] = uniform
        return
    total = 0.0
    for i in range(count):
        a = actions[i]
        weight = math.exp(logits[a] - best)
        prior[a] = weight
        total += weight
    for i in range(count):
        a = actions[i]
        prior[a] = prior[a] / total


@njit(cache=True, nogil=True, _nrt=False)
def expand_and_backup(tree, slots, num_new, new_to_play, new_legal, new_terminal,
                      terminal_value, logits, values, node_states, new_states, store_states,
                      virtual) -> int:
    """Create the nodes of the round's step batch and back their values up.

    Args:
        tree, slots: as filled by `select_leaves`; `slots.node[:K]` receives the new nodes.
        num_new: K returned by `select_leaves`.
        new_to_play: int8 `[K]`; new_legal: bool `[K, A]`; new_terminal: bool `[K]`;
        terminal_value: float32 `[K]` (game result for the new state's player to move).
        logits: float32 `[K', A]`, values: float32 `[K']`: the evaluator's output for the
            K' non-terminal new states, in step-batch order.
        node_states: `[B, N, S]` per-node states; new_states `[K, S]` the step's states;
            stored when `store_states`.
        virtual: remove the leaves' virtual losses first.

    Returns:
        0, or `INVALID_STEP` (and nothing is expanded) when a new state is not terminal but
        has no legal action.
    """
    room = tree.legal_actions.shape[2]
    for k in range(num_new):
        if not new_terminal[k]:
            count = _count_legal(new_legal[k])
            if count == 0 or count > room:
                return INVALID_STEP
    j = 0
    for k in range(num_new):
        b, parent, action = slots.tree[k], slots.parent[k], slots.action[k]
        terminal = new_terminal[k]
        if virtual:
            virtual_loss(tree, b, parent, action, -1)
        node = _new_node(tree, b, parent, action, new_to_play[k], terminal)
        if terminal:
            value = terminal_value[k]
        else:
            value = values[j]
            set_legal(tree, b, node, new_legal[k], logits[j])
            j += 1
        tree.raw_value[b, node] = value
        if store_states:
            copy_row(node_states[b, node], new_states[k])
        slots.node[k] = node
        backup(tree, b, node, value)
    return 0


@njit(cache=True, nogil=True)
def init_roots(tree, fresh, to_play, legal, logits, values) -> None:
    """Make node 0 of every tree with `fresh[b]` a newly evaluated root with one visit.

    Args:
        fresh: bool `[B]`; to_play: int8 `[B]`; legal: bool `[B, A]`.
        logits: float32 `[F, A]` and values: float32 `[F]` of the F fresh roots, in order.
    """
    j = 0
    for b in range(fresh.shape[0]):
        if not fresh[b]:
            continue
        tree.num_nodes[b] = 1
        tree.visits[b, 0] = 1
        tree.value_sum[b, 0] = values[j]
        tree.raw_value[b, 0] = values[j]
        tree.to_play[b, 0] = to_play[b]
        tree.terminal[b, 0] = False
        tree.parent[b, 0] = -1
        tree.action_from_parent[b, 0] = -1
        clear_row(tree, b, 0)
        set_legal(tree, b, 0, legal[b], logits[j])
        j += 1
