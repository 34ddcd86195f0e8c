"""Expansion and backup: make the round's new nodes and carry their values to the roots.

A value travels from a node to its parent with its sign flipped exactly where the two
nodes' players to move differ. Node statistics are kept from the node's own player's view,
edge statistics (in the parent's row) from the parent's player's view.
"""

from __future__ import annotations

from numba import njit

from mcts.qtransforms import masked_softmax

INVALID_STEP = -1
"""`expand_and_backup`'s return when a step produced a non-terminal state with no legal move."""


@njit(cache=True, nogil=True)
def backup(tree, b, node, value) -> None:
    """Add one visit of `value` (from `node`'s player's view) to `node` and its ancestors."""
    while True:
        tree.visits[b, node] += 1
        tree.value_sum[b, node] += value
        up = tree.parent[b, node]
        if up < 0:
            return
        if tree.to_play[b, up] != tree.to_play[b, node]:
            value = -value
        a = tree.action_from_parent[b, node]
        tree.children_visits[b, up, a] += 1
        tree.children_value_sum[b, up, a] += value
        node = up


@njit(cache=True, nogil=True)
def virtual_loss(tree, b, node, action, sign) -> None:
    """Add (sign 1) or remove (sign -1) a virtual loss on edge (node, action) and the path
    above it: one visit each, valued -1 by the player choosing each edge."""
    tree.children_visits[b, node, action] += sign
    tree.children_value_sum[b, node, action] -= sign
    while True:
        tree.visits[b, node] += sign
        up = tree.parent[b, node]
        if up < 0:
            return
        a = tree.action_from_parent[b, node]
        tree.children_visits[b, up, a] += sign
        tree.children_value_sum[b, up, a] -= sign
        if tree.to_play[b, up] == tree.to_play[b, node]:
            tree.value_sum[b, node] -= sign
        else:
            tree.value_sum[b, node] += sign
        node = up


@njit(cache=True, nogil=True)
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
    tree.children[b, node, :] = -1
    tree.children_visits[b, node, :] = 0
    tree.children_value_sum[b, node, :] = 0.0
    return node


@njit(cache=True, nogil=True)
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
    num_actions = tree.prior.shape[2]
    for k in range(num_new):
        if not new_terminal[k]:
            any_legal = False
            for a in range(num_actions):
                any_legal = any_legal or new_legal[k, a]
            if not any_legal:
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
            tree.legal[b, node, :] = False
            tree.prior[b, node, :] = 0.0
        else:
            value = values[j]
            tree.legal[b, node, :] = new_legal[k]
            masked_softmax(logits[j], new_legal[k], tree.prior[b, node])
            j += 1
        tree.raw_value[b, node] = value
        if store_states:
            node_states[b, node] = new_states[k]
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
        tree.legal[b, 0, :] = legal[b]
        tree.children[b, 0, :] = -1
        tree.children_visits[b, 0, :] = 0
        tree.children_value_sum[b, 0, :] = 0.0
        masked_softmax(logits[j], legal[b], tree.prior[b, 0])
        j += 1
