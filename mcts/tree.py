"""The search tree: a struct of preallocated arrays for B trees of N nodes over A actions.

Node `ROOT_INDEX` (0) is the root; nodes are numbered in the order they were expanded, so
a tree after `s` simulations uses at most `s + 1` nodes. Arrays are indexed `[tree, node]`
or `[tree, node, action]`.

Two kinds of statistics are kept, and the kernels keep them in step:

* per node: `visits` and `value_sum`, from the point of view of the node's own player to
  move (the root's statistics include its own evaluation as one visit);
* per edge, in the parent's row: `children_visits` and `children_value_sum`, the same
  numbers seen from the *parent's* player to move. Selection reads one contiguous row per
  node instead of chasing A child indices, which is what makes it fast.

Each node also lists its legal actions in ascending order (`legal_actions[b, n,
:num_legal[b, n]]`), so that selection and expansion cost the number of legal moves, not
A: chess has 4,672 actions but a few dozen legal moves. The kernels keep every dense row
`[b, n, :]` at its empty value (prior 0, not legal, no child, no visit) outside the node's
listed actions, so a node's slot is cleared by walking its list, and whoever reads a whole
row sees the same numbers as with dense writes.

Memory: 17 bytes per (tree, node, action) and 24 per (tree, node); B = 256 trees of 801
nodes take 29 MB for Connect Four (A = 7), and 512 trees of 401 nodes 1.3 GB for 19x19
Go (A = 362). Edge value sums are float32 (exact for sums of results in {-1, 0, 1} up to
2^24 visits); node value sums are float64.

A backup carries a value from a leaf to the root and flips its sign exactly where the
player to move changes between a node and its parent. That one rule covers two-player
zero-sum games, one-player games (an LLM task: one player, a terminal reward) and games in
which a player moves twice in a row, with no special case anywhere.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

ROOT_INDEX = 0
"""Index of the root node in every tree."""
UNVISITED = -1
"""`children[b, n, a]` of an action whose child has not been expanded."""
NO_PARENT = -1
"""`parent[b, ROOT_INDEX]`: the root has none."""
NO_ACTION = -1
"""`action_from_parent[b, ROOT_INDEX]`."""
MAX_LEGAL = 512
"""Room in `legal_actions` per node when A is larger (chess: at most 218 legal moves)."""


class Tree(NamedTuple):
    """B trees with room for N nodes each over A actions; a tuple of arrays (Numba reads it).

    Attributes:
        visits: int32 `[B, N]` visits of each node (its own evaluation counts as one).
        value_sum: float64 `[B, N]` sum of the values backed up through the node, from the
            point of view of the node's player to move.
        raw_value: float32 `[B, N]` the evaluator's value of the node when it was expanded,
            or the game's terminal value for a finished game (node player's view).
        to_play: int8 `[B, N]` player to move at the node.
        terminal: bool `[B, N]` the node's state is a finished game (it has no children).
        parent: int32 `[B, N]` parent node, `NO_PARENT` for the root.
        action_from_parent: int32 `[B, N]` the action that led here, `NO_ACTION` for the root.
        prior: float32 `[B, N, A]` prior probabilities, softmax over the legal actions only.
        legal: bool `[B, N, A]` legal actions (all False at a finished game).
        children: int32 `[B, N, A]` child node index, or `UNVISITED`.
        children_visits: int32 `[B, N, A]` visits of each child (0 if unexpanded).
        children_value_sum: float32 `[B, N, A]` children's value sums from the parent's view.
        num_legal: int32 `[B, N]` legal actions of each node (0 at a finished game).
        legal_actions: int16 `[B, N, min(A, MAX_LEGAL)]` the node's legal actions, ascending.
        num_nodes: int32 `[B]` nodes in use in each tree (0: an empty tree).
    """

    visits: np.ndarray
    value_sum: np.ndarray
    raw_value: np.ndarray
    to_play: np.ndarray
    terminal: np.ndarray
    parent: np.ndarray
    action_from_parent: np.ndarray
    prior: np.ndarray
    legal: np.ndarray
    children: np.ndarray
    children_visits: np.ndarray
    children_value_sum: np.ndarray
    num_legal: np.ndarray
    legal_actions: np.ndarray
    num_nodes: np.ndarray

    @property
    def batch_size(self) -> int:
        """B, the number of trees."""
        return self.visits.shape[0]

    @property
    def capacity(self) -> int:
        """N, the nodes each tree has room for."""
        return self.visits.shape[1]

    @property
    def num_actions(self) -> int:
        """A, the size of the action space."""
        return self.prior.shape[2]


def allocate(batch_size: int, max_nodes: int, num_actions: int) -> Tree:
    """B empty trees (`num_nodes` 0) with room for `max_nodes` nodes over `num_actions` actions."""
    if batch_size < 1 or max_nodes < 1 or num_actions < 1:
        raise ValueError(f"tree dimensions must be >= 1, got B={batch_size}, N={max_nodes}, "
                         f"A={num_actions}")
    b, n, a = batch_size, max_nodes, num_actions
    # Zeroed arrays are mapped lazily: a tree pays for the pages its nodes touch, not for
    # its capacity (a time-limited search allocates for far more nodes than it reaches).
    return Tree(
        visits=np.zeros((b, n), dtype=np.int32),
        value_sum=np.zeros((b, n), dtype=np.float64),
        raw_value=np.zeros((b, n), dtype=np.float32),
        to_play=np.zeros((b, n), dtype=np.int8),
        terminal=np.zeros((b, n), dtype=np.bool_),
        parent=np.full((b, n), NO_PARENT, dtype=np.int32),
        action_from_parent=np.full((b, n), NO_ACTION, dtype=np.int32),
        prior=np.zeros((b, n, a), dtype=np.float32),
        legal=np.zeros((b, n, a), dtype=np.bool_),
        children=np.full((b, n, a), UNVISITED, dtype=np.int32),
        children_visits=np.zeros((b, n, a), dtype=np.int32),
        children_value_sum=np.zeros((b, n, a), dtype=np.float32),
        num_legal=np.zeros((b, n), dtype=np.int32),
        legal_actions=np.zeros((b, n, min(a, MAX_LEGAL)), dtype=np.int16),
        num_nodes=np.zeros(b, dtype=np.int32),
    )


def grow(tree: Tree, max_nodes: int) -> Tree:
    """`tree` itself if it has room for `max_nodes` nodes, else a larger copy of it."""
    if max_nodes <= tree.capacity:
        return tree
    bigger = allocate(tree.batch_size, max_nodes, tree.num_actions)
    n = tree.capacity
    for name in Tree._fields:
        if name == "num_nodes":
            bigger.num_nodes[:] = tree.num_nodes
        else:
            getattr(bigger, name)[:, :n] = getattr(tree, name)
    return bigger


def node_q_values(tree: Tree, b: int, node: int = ROOT_INDEX) -> np.ndarray:
    """float32 `[A]` Q of each child of `node` in tree `b`, from the node's player's point
    of view; NaN where the child has no visit."""
    visits = tree.children_visits[b, node]
    sums = tree.children_value_sum[b, node]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(visits > 0, sums / np.maximum(visits, 1), np.nan).astype(np.float32)


def principal_variation(tree: Tree, b: int, max_length: int = 64) -> list[int]:
    """The most visited line of tree `b` from its root (ties go to the lower action)."""
    line: list[int] = []
    node = ROOT_INDEX
    if tree.num_nodes[b] == 0:
        return line
    while len(line) < max_length:
        visits = tree.children_visits[b, node]
        if visits.max(initial=0) <= 0:
            break
        action = int(np.argmax(visits))
        line.append(action)
        node = int(tree.children[b, node, action])
        if node < 0 or tree.terminal[b, node]:
            break
    return line
