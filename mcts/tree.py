"""The search tree: a struct of preallocated arrays for B trees of N nodes over A actions.

Node 0 is the root; node i is the i-th node expanded. Every array is indexed `[tree, node]`
or `[tree, node, action]`. Values are stored from the point of view of the node's own
player to move, so a backup flips the sign exactly where the player changes, which covers
two-player zero-sum games, one-player games and games where a player moves twice alike.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

ROOT_INDEX = 0
"""Index of the root node in every tree."""
UNVISITED = -1
"""`children[b, n, a]` for an action not yet expanded."""
NO_PARENT = -1
"""`parent[b, 0]`: the root has none."""
NO_ACTION = -1
"""`action_from_parent[b, 0]`."""


class Tree(NamedTuple):
    """Arrays of B trees with room for N nodes each (shapes in brackets)."""

    visits: np.ndarray  # int32 [B, N]: visit count (a node's own evaluation counts once)
    value_sum: np.ndarray  # float64 [B, N]: sum of backed-up values, node player's view
    raw_value: np.ndarray  # float32 [B, N]: network (or terminal) value at expansion
    to_play: np.ndarray  # int8 [B, N]: player to move at the node
    terminal: np.ndarray  # bool [B, N]: the node's state is a finished game
    parent: np.ndarray  # int32 [B, N]: NO_PARENT for the root
    action_from_parent: np.ndarray  # int32 [B, N]
    prior: np.ndarray  # float32 [B, N, A]: legal-masked prior probabilities
    legal: np.ndarray  # bool [B, N, A]
    children: np.ndarray  # int32 [B, N, A]: child node index or UNVISITED
    num_nodes: np.ndarray  # int32 [B]: nodes in use

    @property
    def batch_size(self) -> int:
        return self.visits.shape[0]

    @property
    def capacity(self) -> int:
        return self.visits.shape[1]

    @property
    def num_actions(self) -> int:
        return self.prior.shape[2]


def allocate(batch_size: int, max_nodes: int, num_actions: int) -> Tree:
    """Empty trees (num_nodes = 0)."""
    b, n, a = batch_size, max_nodes, num_actions
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
        num_nodes=np.zeros(b, dtype=np.int32),
    )


def grow(tree: Tree, max_nodes: int) -> Tree:
    """A copy of `tree` with room for `max_nodes` nodes per tree (contents kept)."""
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


def child_visits(tree: Tree, b: int, node: int = ROOT_INDEX) -> np.ndarray:
    """int32 [A] visits of each child of `node` in tree `b` (0 where unexpanded)."""
    kids = tree.children[b, node]
    return np.where(kids >= 0, tree.visits[b, np.maximum(kids, 0)], 0).astype(np.int32)


def principal_variation(tree: Tree, b: int, max_length: int = 64) -> list[int]:
    """The most-visited line from the root of tree `b`."""
    line: list[int] = []
    node = ROOT_INDEX
    while len(line) < max_length and tree.num_nodes[b] > 0:
        visits = child_visits(tree, b, node)
        if visits.max() <= 0:
            break
        action = int(np.argmax(visits))
        line.append(action)
        node = int(tree.children[b, node, action])
        if tree.terminal[b, node]:
            break
    return line
