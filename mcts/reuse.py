"""Tree reuse: re-root a tree at a child, keeping that child's subtree and its statistics."""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def reroot(visits, value_sum, raw_value, to_play, terminal, parent, action_from_parent, prior,
           legal, children, num_nodes, actions, order) -> None:
    """Move the subtree under `children[b, 0, actions[b]]` to the front of tree b.

    `order[b, i]` receives the old index of new node i (-1 past the end), so the caller can
    move the per-node states the same way. Trees whose child was never expanded, or is a
    finished game, become empty (num_nodes = 0).
    """
    num_trees, capacity = visits.shape
    for b in range(num_trees):
        order[b, :] = -1
        start = children[b, 0, actions[b]] if num_nodes[b] > 0 else -1
        if start < 0 or terminal[b, start]:
            num_nodes[b] = 0
            continue
        # Breadth-first order from the new root; parents always precede their children.
        new_index = np.full(capacity, -1, dtype=np.int32)
        order[b, 0] = start
        new_index[start] = 0
        count, head = 1, 0
        while head < count:
            old = order[b, head]
            head += 1
            for a in range(children.shape[2]):
                kid = children[b, old, a]
                if kid >= 0:
                    order[b, count] = kid
                    new_index[kid] = count
                    count += 1
        # Gather into fresh copies, then write back (new and old slots overlap).
        v = visits[b, order[b, :count]].copy()
        s = value_sum[b, order[b, :count]].copy()
        r = raw_value[b, order[b, :count]].copy()
        t = to_play[b, order[b, :count]].copy()
        term = terminal[b, order[b, :count]].copy()
        act = action_from_parent[b, order[b, :count]].copy()
        par = parent[b, order[b, :count]].copy()
        pri = prior[b][order[b, :count]].copy()
        leg = legal[b][order[b, :count]].copy()
        kids = children[b][order[b, :count]].copy()
        for i in range(count):
            visits[b, i] = v[i]
            value_sum[b, i] = s[i]
            raw_value[b, i] = r[i]
            to_play[b, i] = t[i]
            terminal[b, i] = term[i]
            parent[b, i] = new_index[par[i]] if i > 0 else -1
            action_from_parent[b, i] = act[i] if i > 0 else -1
            prior[b, i] = pri[i]
            legal[b, i] = leg[i]
            for a in range(children.shape[2]):
                kid = kids[i, a]
                children[b, i, a] = new_index[kid] if kid >= 0 else -1
        num_nodes[b] = count


def move_states(node_states: np.ndarray, order: np.ndarray) -> None:
    """Apply a re-rooting's node order to the per-node states `[B, N, ...]` (or object [B, N])."""
    for b in range(order.shape[0]):
        keep = order[b][order[b] >= 0]
        if keep.size:
            node_states[b, : keep.size] = node_states[b, keep]
