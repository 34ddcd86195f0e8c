"""Tree reuse: re-root each tree at one of its root's children, keeping that subtree.

Nodes are numbered in expansion order, so every node's index is larger than its parent's.
Hence the subtree of a child can be found in one ascending pass (a node belongs to it when
its parent does), and compacted to the front of the arrays in place: the i-th smallest
index of the subtree is at least i, so moving the nodes in ascending order never
overwrites a node that is still to be moved, and parents keep preceding their children.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def _move_node(tree, b, old, new, index) -> None:
    """Copy node `old` of tree `b` to slot `new`, renumbering its links with `index`."""
    tree.visits[b, new] = tree.visits[b, old]
    tree.value_sum[b, new] = tree.value_sum[b, old]
    tree.raw_value[b, new] = tree.raw_value[b, old]
    tree.to_play[b, new] = tree.to_play[b, old]
    tree.terminal[b, new] = tree.terminal[b, old]
    if new == 0:
        tree.parent[b, 0] = -1
        tree.action_from_parent[b, 0] = -1
    else:
        tree.parent[b, new] = index[tree.parent[b, old]]
        tree.action_from_parent[b, new] = tree.action_from_parent[b, old]
    tree.num_legal[b, new] = tree.num_legal[b, old]
    tree.legal_actions[b, new] = tree.legal_actions[b, old]
    for a in range(tree.prior.shape[2]):
        tree.prior[b, new, a] = tree.prior[b, old, a]
        tree.legal[b, new, a] = tree.legal[b, old, a]
        child = tree.children[b, old, a]
        tree.children[b, new, a] = index[child] if child >= 0 else -1
        tree.children_visits[b, new, a] = tree.children_visits[b, old, a]
        tree.children_value_sum[b, new, a] = tree.children_value_sum[b, old, a]


@njit(cache=True, nogil=True)
def reroot(tree, actions, order) -> None:
    """Make child `actions[b]` of each root the new root of tree b, keeping its subtree.

    Args:
        tree: the `Tree`, modified in place.
        actions: int64 `[B]` the move played from each root.
        order: int64 `[B, N]` receives, for each new node i, its old index (-1 past the end),
            so that per-node states can be moved the same way.

    A tree whose chosen child was never expanded, or is a finished game, becomes empty
    (`num_nodes` 0); so does an empty tree.
    """
    num_trees, capacity = tree.visits.shape
    index = np.full(capacity, -1, dtype=np.int64)
    for b in range(num_trees):
        order[b, :] = -1
        count = tree.num_nodes[b]
        start = -1
        if count > 0 and 0 <= actions[b] < tree.prior.shape[2]:
            start = tree.children[b, 0, actions[b]]
        if start < 0 or tree.terminal[b, start]:
            tree.num_nodes[b] = 0
            continue
        kept = 0
        for old in range(start, count):
            if old == start or (tree.parent[b, old] >= 0 and index[tree.parent[b, old]] >= 0):
                index[old] = kept
                order[b, kept] = old
                kept += 1
        for new in range(kept):
            _move_node(tree, b, order[b, new], new, index)
        for old in range(start, count):
            index[old] = -1
        tree.num_nodes[b] = kept


@njit(cache=True, nogil=True)
def move_array_states(node_states, order) -> None:
    """Apply `reroot`'s order to array states `[B, N, S]` (in place, ascending)."""
    for b in range(order.shape[0]):
        for new in range(order.shape[1]):
            old = order[b, new]
            if old < 0:
                break
            if old != new:
                node_states[b, new] = node_states[b, old]


def move_object_states(node_states: np.ndarray, order: np.ndarray) -> None:
    """Apply `reroot`'s order to object states `[B, N]`; slots past the end are cleared."""
    for b in range(order.shape[0]):
        keep = order[b][order[b] >= 0]
        node_states[b, : keep.size] = node_states[b, keep]
        node_states[b, keep.size:] = None
