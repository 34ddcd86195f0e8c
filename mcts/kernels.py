"""Jitted kernels over the tree arrays: root set-up, selection, expansion + backup, summary.

Each kernel loops over the B trees itself, so the Python driver makes a handful of calls per
simulation round whatever B is. Random numbers come from per-tree seeds (`np.random.seed`
inside a kernel seeds Numba's own generator), so a tree's search does not depend on which
other trees share its batch.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from mcts.gumbel import NEG_INF, completed_q, improved_policy, sigma

PUCT = 0
GUMBEL = 1
FPU_REDUCTION = 0
FPU_LOSS = 1
DUPLICATE = -2  # a leaf slot that repeated another slot's (node, action) this round


@njit(cache=True, nogil=True)
def masked_softmax(logits: np.ndarray, legal: np.ndarray, out: np.ndarray) -> None:
    """out[a] = softmax over legal actions of logits (0 where illegal)."""
    best = NEG_INF
    for a in range(logits.shape[0]):
        if legal[a] and logits[a] > best:
            best = logits[a]
    total = 0.0
    for a in range(logits.shape[0]):
        if legal[a]:
            total += math.exp(logits[a] - best)
    for a in range(logits.shape[0]):
        out[a] = math.exp(logits[a] - best) / total if legal[a] else 0.0


@njit(cache=True, nogil=True)
def init_roots(visits, value_sum, raw_value, to_play, terminal, parent, action_from_parent,
               prior, legal, children, num_nodes, fresh, root_to_play, root_legal,
               root_logits, root_values) -> None:
    """Make node 0 of every tree with fresh[b] a newly evaluated root (one visit)."""
    for b in range(fresh.shape[0]):
        if not fresh[b]:
            continue
        num_nodes[b] = 1
        visits[b, 0] = 1
        value_sum[b, 0] = root_values[b]
        raw_value[b, 0] = root_values[b]
        to_play[b, 0] = root_to_play[b]
        terminal[b, 0] = False
        parent[b, 0] = -1
        action_from_parent[b, 0] = -1
        legal[b, 0, :] = root_legal[b]
        children[b, 0, :] = -1
        masked_softmax(root_logits[b], root_legal[b], prior[b, 0])


@njit(cache=True, nogil=True)
def root_noise(prior, legal, seeds, dirichlet_alpha, dirichlet_fraction, gumbel_scale,
               root_prior, gumbel) -> None:
    """Per tree: the root prior mixed with Dirichlet noise, and Gumbel(0, scale) draws."""
    for b in range(seeds.shape[0]):
        np.random.seed(seeds[b])
        num_actions = prior.shape[2]
        total = 0.0
        noise = np.zeros(num_actions)
        if dirichlet_fraction > 0:
            for a in range(num_actions):
                if legal[b, 0, a]:
                    noise[a] = np.random.gamma(dirichlet_alpha, 1.0)
                    total += noise[a]
        for a in range(num_actions):
            p = prior[b, 0, a]
            if dirichlet_fraction > 0 and total > 0:
                p = (1 - dirichlet_fraction) * p + dirichlet_fraction * noise[a] / total
            root_prior[b, a] = p
            u = np.random.random()
            gumbel[b, a] = -gumbel_scale * math.log(-math.log(max(u, 1e-300)) + 1e-300)


@njit(cache=True, nogil=True, inline="always")
def _child_q(visits, value_sum, to_play, b, node, child) -> float:
    """Q of `child` from the point of view of the player to move at `node`."""
    q = value_sum[b, child] / visits[b, child]
    return q if to_play[b, child] == to_play[b, node] else -q


@njit(cache=True, nogil=True)
def _node_q_and_visits(visits, value_sum, to_play, children, b, node, q, n) -> None:
    for a in range(children.shape[2]):
        child = children[b, node, a]
        if child >= 0 and visits[b, child] > 0:
            n[a] = visits[b, child]
            q[a] = _child_q(visits, value_sum, to_play, b, node, child)
        else:
            n[a] = 0
            q[a] = 0.0


@njit(cache=True, nogil=True)
def _puct_action(visits, value_sum, to_play, prior, legal, children, b, node, node_prior,
                 c_init, c_base, fpu_mode, fpu_reduction) -> int:
    parent_visits = visits[b, node]
    c = c_init + math.log((parent_visits + c_base + 1.0) / c_base)
    scale = c * math.sqrt(parent_visits)
    if fpu_mode == FPU_LOSS:
        fpu = -1.0
    else:
        fpu = value_sum[b, node] / max(parent_visits, 1) - fpu_reduction
    best, best_score = -1, -1e300
    for a in range(children.shape[2]):
        if not legal[b, node, a]:
            continue
        child = children[b, node, a]
        if child >= 0 and visits[b, child] > 0:
            n = visits[b, child]
            q = _child_q(visits, value_sum, to_play, b, node, child)
        else:
            n = 0
            q = fpu
        score = q + scale * node_prior[a] / (1.0 + n)
        if score > best_score:
            best, best_score = a, score
    return best


@njit(cache=True, nogil=True)
def _gumbel_root_action(visits, value_sum, raw_value, to_play, prior, legal, children, b,
                        gumbel, root_log_prior, considered_visit, c_visit, c_scale) -> int:
    num_actions = children.shape[2]
    q = np.zeros(num_actions, dtype=np.float32)
    n = np.zeros(num_actions, dtype=np.int32)
    _node_q_and_visits(visits, value_sum, to_play, children, b, 0, q, n)
    completed = completed_q(q, n, prior[b, 0], legal[b, 0], raw_value[b, 0])
    transformed = sigma(completed, n, c_visit, c_scale)
    best, best_score = -1, -1e300
    for a in range(num_actions):
        if not legal[b, 0, a] or n[a] != considered_visit:
            continue
        score = gumbel[b, a] + root_log_prior[b, a] + transformed[a]
        if score > best_score:
            best, best_score = a, score
    if best < 0:  # no action at the scheduled count (cannot happen with a consistent table)
        for a in range(num_actions):
            if legal[b, 0, a]:
                score = gumbel[b, a] + root_log_prior[b, a] + transformed[a] - n[a]
                if score > best_score:
                    best, best_score = a, score
    return best


@njit(cache=True, nogil=True)
def _gumbel_interior_action(visits, value_sum, raw_value, to_play, prior, legal, children, b,
                            node, c_visit, c_scale) -> int:
    """Deterministic interior choice: argmax(improved policy - N(a) / (1 + sum N))."""
    num_actions = children.shape[2]
    q = np.zeros(num_actions, dtype=np.float32)
    n = np.zeros(num_actions, dtype=np.int32)
    _node_q_and_visits(visits, value_sum, to_play, children, b, node, q, n)
    completed = completed_q(q, n, prior[b, node], legal[b, node], raw_value[b, node])
    transformed = sigma(completed, n, c_visit, c_scale)
    log_prior = np.empty(num_actions, dtype=np.float32)
    for a in range(num_actions):
        log_prior[a] = math.log(prior[b, node, a] + 1e-12)
    policy = improved_policy(log_prior, transformed, legal[b, node])
    total = 0
    for a in range(num_actions):
        total += n[a]
    best, best_score = -1, -1e300
    for a in range(num_actions):
        if legal[b, node, a]:
            score = policy[a] - n[a] / (1.0 + total)
            if score > best_score:
                best, best_score = a, score
    return best


@njit(cache=True, nogil=True)
def _apply_virtual_loss(visits, value_sum, to_play, parent, b, node, sign) -> None:
    """Add (sign=1) or remove (sign=-1) one virtual loss on the path from `node` to the root."""
    while node >= 0:
        visits[b, node] += sign
        up = parent[b, node]
        if up >= 0:
            # Make the node look worse to the player choosing it at its parent.
            delta = -1.0 if to_play[b, node] == to_play[b, up] else 1.0
            value_sum[b, node] += sign * delta
        node = up


@njit(cache=True, nogil=True)
def select_leaves(visits, value_sum, raw_value, to_play, terminal, parent, prior, legal,
                  children, num_nodes, active, root_prior, gumbel, root_log_prior,
                  considered_table, considered_rows, algorithm, leaves_per_round, c_init,
                  c_base, fpu_mode, fpu_reduction, c_visit, c_scale, out_tree, out_parent,
                  out_action, out_child) -> int:
    """Pick up to `leaves_per_round` leaves in each active tree; return how many slots were filled.

    A slot gets (tree, parent node, action, existing child). The child is UNVISITED (-1) for
    a new node to expand, a node index for a terminal node to back up again, or DUPLICATE.
    """
    slots = 0
    for b in range(visits.shape[0]):
        if not active[b]:
            continue
        for k in range(leaves_per_round):
            node = 0
            while True:
                if algorithm == GUMBEL and node == 0:
                    simulation = visits[b, 0] - 1
                    row = considered_table[considered_rows[b]]
                    visit_target = row[min(simulation, row.shape[0] - 1)]
                    a = _gumbel_root_action(visits, value_sum, raw_value, to_play, prior, legal,
                                            children, b, gumbel, root_log_prior, visit_target,
                                            c_visit, c_scale)
                elif algorithm == GUMBEL:
                    a = _gumbel_interior_action(visits, value_sum, raw_value, to_play, prior,
                                                legal, children, b, node, c_visit, c_scale)
                else:
                    node_prior = root_prior[b] if node == 0 else prior[b, node]
                    a = _puct_action(visits, value_sum, to_play, prior, legal, children, b, node,
                                     node_prior, c_init, c_base, fpu_mode, fpu_reduction)
                child = children[b, node, a]
                if child < 0 or terminal[b, child]:
                    break
                node = child
            out_tree[slots] = b
            out_parent[slots] = node
            out_action[slots] = a
            out_child[slots] = child
            if leaves_per_round > 1:
                for j in range(slots - k, slots):
                    if (child < 0 and out_child[j] < 0 and out_parent[j] == node
                            and out_action[j] == a):
                        out_child[slots] = DUPLICATE
                if out_child[slots] != DUPLICATE:
                    _apply_virtual_loss(visits, value_sum, to_play, parent, b, node, 1)
            slots += 1
    return slots


@njit(cache=True, nogil=True)
def expand_and_backup(visits, value_sum, raw_value, to_play, terminal, parent,
                      action_from_parent, prior, legal, children, num_nodes, slot_tree,
                      slot_parent, slot_action, slot_child, new_to_play, new_legal,
                      new_terminal, new_logits, new_values, virtual_loss, out_node) -> None:
    """Create the new nodes of the filled slots and back their values up to the roots.

    `new_*` arrays are indexed by slot; `new_values` is for the new node's player to move.
    `out_node[slot]` receives the node index backed up from (-1 for duplicates).
    """
    for s in range(slot_tree.shape[0]):
        b = slot_tree[s]
        child = slot_child[s]
        if child == DUPLICATE:
            out_node[s] = -1
            continue
        if virtual_loss:
            _apply_virtual_loss(visits, value_sum, to_play, parent, b, slot_parent[s], -1)
        if child >= 0:
            leaf = child
            value = raw_value[b, leaf]
        else:
            leaf = num_nodes[b]
            num_nodes[b] += 1
            p, a = slot_parent[s], slot_action[s]
            parent[b, leaf] = p
            action_from_parent[b, leaf] = a
            children[b, p, a] = leaf
            to_play[b, leaf] = new_to_play[s]
            terminal[b, leaf] = new_terminal[s]
            raw_value[b, leaf] = new_values[s]
            visits[b, leaf] = 0
            value_sum[b, leaf] = 0.0
            children[b, leaf, :] = -1
            if new_terminal[s]:
                legal[b, leaf, :] = False
                prior[b, leaf, :] = 0.0
            else:
                legal[b, leaf, :] = new_legal[s]
                masked_softmax(new_logits[s], new_legal[s], prior[b, leaf])
            value = new_values[s]
        out_node[s] = leaf
        node = leaf
        while node >= 0:
            visits[b, node] += 1
            value_sum[b, node] += value
            up = parent[b, node]
            if up >= 0 and to_play[b, up] != to_play[b, node]:
                value = -value
            node = up
