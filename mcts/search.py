"""The batched search driver: B trees searched together, the game and the network injected.

Per simulation round the driver makes one jitted selection over all trees, one call of the
injected `step` on the selected leaves' parent states, one call of the injected `evaluate`
on the new non-terminal states, and one jitted expansion + backup. Per-node game states are
kept by the driver: an array `[B, N, *state_shape]` for games with array states (Numba
kernels), an object array `[B, N]` otherwise (python-chess boards, LLM texts).
"""

from __future__ import annotations

from typing import Any, Callable, NamedTuple

import numpy as np

from mcts import kernels
from mcts.config import SearchConfig
from mcts.gumbel import completed_q, considered_visit_table, improved_policy, sigma
from mcts.reuse import move_states, reroot
from mcts.tree import Tree, allocate, grow, principal_variation


class StepResult(NamedTuple):
    """What `step(states, actions)` returns for a batch of B transitions."""

    states: Any  # [B, ...] array, or object array [B]
    to_play: np.ndarray  # int8 [B]
    legal: np.ndarray  # bool [B, A]
    terminal: np.ndarray  # bool [B]
    terminal_value: np.ndarray  # float32 [B], for the player to move in the new state


StepFn = Callable[[Any, np.ndarray], StepResult]
EvaluateFn = Callable[[Any], tuple[np.ndarray, np.ndarray]]
"""states [B] -> (prior logits float32 [B, A], value float32 [B] for the player to move)."""


class SearchOutput(NamedTuple):
    action: np.ndarray  # int64 [B]: the move to play
    visit_counts: np.ndarray  # int32 [B, A]: root children's visits
    policy_target: np.ndarray  # float32 [B, A]: visit distribution (PUCT) / improved policy (Gumbel)
    root_value: np.ndarray  # float32 [B]: search value of the root, player to move's view
    q_values: np.ndarray  # float32 [B, A]: root children's Q, root player's view (0 if unvisited)
    prior: np.ndarray  # float32 [B, A]: root prior probabilities (before noise)
    raw_value: np.ndarray  # float32 [B]: the evaluator's value of the root


def uniform_evaluator(num_actions: int) -> EvaluateFn:
    """Uniform prior logits and value 0: the pure search, at no cost."""

    def evaluate(states: Any) -> tuple[np.ndarray, np.ndarray]:
        n = len(states)
        return np.zeros((n, num_actions), dtype=np.float32), np.zeros(n, dtype=np.float32)

    return evaluate


def rollout_evaluator(num_actions: int, random_rollout: Callable[[Any, int], np.ndarray],
                      seed: int = 0) -> EvaluateFn:
    """Uniform prior, value = one random playout (`random_rollout(states, seed)`), as in
    classic MCTS; the seed advances on every call."""
    counter = [seed]

    def evaluate(states: Any) -> tuple[np.ndarray, np.ndarray]:
        counter[0] += 1
        values = np.asarray(random_rollout(states, counter[0]), dtype=np.float32)
        return np.zeros((len(states), num_actions), dtype=np.float32), values

    return evaluate


class BatchSearch:
    """B concurrent searches over preallocated array trees.

    Args:
        config: the search's hyperparameters.
        batch_size: B, the number of trees searched together.
        num_actions: A, the size of the action space.
        max_nodes: nodes per tree (default: the simulations + 1; grown when needed).
    """

    def __init__(self, config: SearchConfig, batch_size: int, num_actions: int,
                 max_nodes: int | None = None) -> None:
        if batch_size < 1 or num_actions < 1:
            raise ValueError("batch_size and num_actions must be >= 1")
        self.config = config
        self.batch_size = batch_size
        self.num_actions = num_actions
        capacity = max_nodes or config.num_simulations * config.leaves_per_round + 1
        self.tree: Tree = allocate(batch_size, capacity, num_actions)
        self.node_states: np.ndarray | None = None
        self.root_prior = np.zeros((batch_size, num_actions), dtype=np.float32)
        self.gumbel = np.zeros((batch_size, num_actions), dtype=np.float32)
        self.root_log_prior = np.zeros((batch_size, num_actions), dtype=np.float32)
        self._tables: dict[int, np.ndarray] = {}

    # ------------------------------------------------------------------------------------
    def run(self, root_states: Any, step: StepFn, evaluate: EvaluateFn, *,
            root_to_play: np.ndarray, root_legal: np.ndarray, rng: np.random.Generator | None = None,
            seeds: np.ndarray | None = None, num_simulations: int | None = None,
            reuse: np.ndarray | None = None) -> SearchOutput:
        """Search every root; return the moves and training targets.

        Args:
            root_states: [B, ...] states (array or object array).
            step, evaluate: the injected game transition and evaluator (see module docs).
            root_to_play: int8 [B]. root_legal: bool [B, A] (each row needs a legal action).
            rng: draws one seed per tree (noise, sampling); or give `seeds` (int64 [B]).
            num_simulations: overrides the config for this call.
            reuse: bool [B]: keep tree b (advanced with `advance`) and add simulations to it.
        """
        cfg = self.config
        sims = cfg.num_simulations if num_simulations is None else int(num_simulations)
        root_legal = np.asarray(root_legal, dtype=np.bool_)
        b_size = self.batch_size
        if root_legal.shape != (b_size, self.num_actions):
            raise ValueError(f"root_legal must be [{b_size}, {self.num_actions}], "
                             f"got {root_legal.shape}")
        if not root_legal.any(axis=1).all():
            raise ValueError("every root needs at least one legal action (is a game over?)")
        if seeds is None:
            rng = rng if rng is not None else np.random.default_rng()
            seeds = rng.integers(0, 2**31 - 1, size=b_size)
        seeds = np.asarray(seeds, dtype=np.int64)
        tree = self.tree
        fresh = np.ones(b_size, dtype=np.bool_)
        if reuse is not None:
            fresh = ~(np.asarray(reuse, dtype=np.bool_) & (tree.num_nodes > 0))
        self._ensure_capacity(sims, fresh)
        tree = self.tree
        self._store_roots(root_states, fresh)
        if fresh.any():
            index = np.flatnonzero(fresh)
            logits, values = evaluate(_take(root_states, index))
            all_logits = np.zeros((b_size, self.num_actions), dtype=np.float32)
            all_values = np.zeros(b_size, dtype=np.float32)
            all_logits[index] = logits
            all_values[index] = values
            kernels.init_roots(*tree[:-1], tree.num_nodes, fresh,
                               np.asarray(root_to_play, dtype=np.int8), root_legal,
                               all_logits, all_values)
        kernels.root_noise(tree.prior, tree.legal, seeds, cfg.dirichlet_alpha,
                           cfg.dirichlet_fraction if cfg.algorithm == "puct" else 0.0,
                           cfg.gumbel_scale, self.root_prior, self.gumbel)
        self.root_log_prior = np.log(tree.prior[:, 0] + 1e-12).astype(np.float32)
        table, rows = self._considered(sims, tree)
        self._simulate(sims, step, evaluate, table, rows)
        return self._summarize(seeds, table, rows)

    def _ensure_capacity(self, sims: int, fresh: np.ndarray) -> None:
        used = np.where(fresh, 0, self.tree.num_nodes)
        needed = int(used.max()) + sims * self.config.leaves_per_round + 1
        if needed > self.tree.capacity:
            self.tree = grow(self.tree, needed)
            if self.node_states is not None:
                old = self.node_states
                bigger = np.empty((old.shape[0], needed, *old.shape[2:]), dtype=old.dtype)
                bigger[:, : old.shape[1]] = old
                self.node_states = bigger

    def _store_roots(self, root_states: Any, fresh: np.ndarray) -> None:
        capacity = self.tree.capacity
        if isinstance(root_states, np.ndarray) and root_states.dtype != object:
            shape = (self.batch_size, capacity, *root_states.shape[1:])
            if (self.node_states is None or self.node_states.shape != shape
                    or self.node_states.dtype != root_states.dtype):
                self.node_states = np.zeros(shape, dtype=root_states.dtype)
                fresh[:] = True
        elif self.node_states is None or self.node_states.dtype != object or \
                self.node_states.shape[1] != capacity:
            self.node_states = np.empty((self.batch_size, capacity), dtype=object)
            fresh[:] = True
        for b in np.flatnonzero(fresh):
            self.node_states[b, 0] = root_states[b]

    def _considered(self, sims: int, tree: Tree) -> tuple[np.ndarray, np.ndarray]:
        """Gumbel's halving table for this budget and each tree's number of considered actions."""
        cfg = self.config
        if cfg.algorithm != "gumbel":
            return np.zeros((1, 1), dtype=np.int32), np.zeros(self.batch_size, dtype=np.int64)
        table = self._tables.get(sims)
        if table is None:
            table = considered_visit_table(cfg.gumbel_num_considered, sims)
            self._tables[sims] = table
        legal_count = tree.legal[:, 0].sum(axis=1)
        return table, np.minimum(legal_count, cfg.gumbel_num_considered).astype(np.int64)

    def _simulate(self, sims: int, step: StepFn, evaluate: EvaluateFn, table: np.ndarray,
                  rows: np.ndarray) -> None:
        cfg = self.config
        tree = self.tree
        leaves = cfg.leaves_per_round if cfg.algorithm == "puct" else 1
        slots_max = self.batch_size * leaves
        out_tree = np.empty(slots_max, dtype=np.int64)
        out_parent = np.empty(slots_max, dtype=np.int64)
        out_action = np.empty(slots_max, dtype=np.int64)
        out_child = np.empty(slots_max, dtype=np.int64)
        out_node = np.empty(slots_max, dtype=np.int64)
        active = np.ones(self.batch_size, dtype=np.bool_)
        algorithm = kernels.GUMBEL if cfg.algorithm == "gumbel" else kernels.PUCT
        fpu = kernels.FPU_LOSS if cfg.fpu == "loss" else kernels.FPU_REDUCTION
        rounds = -(-sims // leaves)
        for round_index in range(rounds):
            per_tree = min(leaves, sims - round_index * leaves)
            filled = kernels.select_leaves(
                tree.visits, tree.value_sum, tree.raw_value, tree.to_play, tree.terminal,
                tree.parent, tree.prior, tree.legal, tree.children, tree.num_nodes, active,
                self.root_prior, self.gumbel, self.root_log_prior, table, rows, algorithm,
                per_tree, cfg.c_init, cfg.c_base, fpu, cfg.fpu_reduction, cfg.c_visit,
                cfg.c_scale, out_tree, out_parent, out_action, out_child)
            s_tree, s_parent = out_tree[:filled], out_parent[:filled]
            s_action, s_child = out_action[:filled], out_child[:filled]
            new = np.flatnonzero(s_child == -1)
            new_to_play = np.zeros(filled, dtype=np.int8)
            new_legal = np.zeros((filled, self.num_actions), dtype=np.bool_)
            new_terminal = np.zeros(filled, dtype=np.bool_)
            new_logits = np.zeros((filled, self.num_actions), dtype=np.float32)
            new_values = np.zeros(filled, dtype=np.float32)
            result = None
            if new.size:
                parents = self.node_states[s_tree[new], s_parent[new]]
                result = step(parents, s_action[new])
                new_to_play[new] = result.to_play
                new_legal[new] = result.legal
                new_terminal[new] = result.terminal
                new_values[new] = result.terminal_value
                alive = np.flatnonzero(~np.asarray(result.terminal, dtype=np.bool_))
                if alive.size:
                    logits, values = evaluate(_take(result.states, alive))
                    new_logits[new[alive]] = logits
                    new_values[new[alive]] = values
            kernels.expand_and_backup(
                tree.visits, tree.value_sum, tree.raw_value, tree.to_play, tree.terminal,
                tree.parent, tree.action_from_parent, tree.prior, tree.legal, tree.children,
                tree.num_nodes, s_tree, s_parent, s_action, s_child, new_to_play, new_legal,
                new_terminal, new_logits, new_values, leaves > 1, out_node[:filled])
            if result is not None:
                self.node_states[s_tree[new], out_node[new]] = result.states

    def _summarize(self, seeds: np.ndarray, table: np.ndarray, rows: np.ndarray) -> SearchOutput:
        tree, cfg = self.tree, self.config
        kids = tree.children[:, 0]
        b_index = np.arange(self.batch_size)[:, None]
        safe = np.maximum(kids, 0)
        visits = np.where(kids >= 0, tree.visits[b_index, safe], 0).astype(np.int32)
        sums = tree.value_sum[b_index, safe]
        same = tree.to_play[b_index, safe] == tree.to_play[:, :1]
        q = np.where(visits > 0, sums / np.maximum(visits, 1), 0.0)
        q = np.where(same, q, -q).astype(np.float32)
        root_value = (tree.value_sum[:, 0] / np.maximum(tree.visits[:, 0], 1)).astype(np.float32)
        prior = tree.prior[:, 0].copy()
        legal = tree.legal[:, 0]
        if cfg.algorithm == "gumbel":
            policy, action = _gumbel_targets(q, visits, prior, legal, tree.raw_value[:, 0],
                                             self.gumbel, self.root_log_prior, cfg.c_visit,
                                             cfg.c_scale)
        else:
            total = visits.sum(axis=1, keepdims=True)
            policy = (visits / np.maximum(total, 1)).astype(np.float32)
            action = _sample_by_temperature(visits, cfg.temperature, seeds)
        return SearchOutput(action, visits, policy, root_value, q, prior,
                            tree.raw_value[:, 0].copy())

    # ------------------------------------------------------------------------------------
    def advance(self, actions: np.ndarray) -> None:
        """Tree reuse: make each tree's child `actions[b]` its new root, keeping its subtree."""
        tree = self.tree
        order = np.empty((self.batch_size, tree.capacity), dtype=np.int32)
        reroot(*tree[:-1], tree.num_nodes, np.asarray(actions, dtype=np.int64), order)
        if self.node_states is not None:
            move_states(self.node_states, order)

    def reset(self, trees: np.ndarray | None = None) -> None:
        """Forget trees (all, or those where `trees` is True)."""
        if trees is None:
            self.tree.num_nodes[:] = 0
        else:
            self.tree.num_nodes[np.asarray(trees, dtype=np.bool_)] = 0

    def principal_variation(self, b: int) -> list[int]:
        return principal_variation(self.tree, b)


def _take(states: Any, index: np.ndarray) -> Any:
    return states[index]


def _sample_by_temperature(visits: np.ndarray, temperature: float, seeds: np.ndarray) -> np.ndarray:
    """The most visited action (T = 0) or a sample from N^(1/T), from each tree's seed."""
    if temperature == 0:
        return visits.argmax(axis=1).astype(np.int64)
    actions = np.empty(len(visits), dtype=np.int64)
    for b, row in enumerate(visits):
        weights = row.astype(np.float64) ** (1.0 / temperature)
        generator = np.random.default_rng([int(seeds[b]), 7])
        actions[b] = generator.choice(len(row), p=weights / weights.sum())
    return actions


def _gumbel_targets(q, visits, prior, legal, raw_value, gumbel, log_prior, c_visit, c_scale):
    """Improved policy softmax(logits + sigma(completed Q)) and the halving winner per tree."""
    policy = np.zeros_like(prior)
    action = np.zeros(len(q), dtype=np.int64)
    for b in range(len(q)):
        completed = completed_q(q[b], visits[b], prior[b], legal[b], float(raw_value[b]))
        transformed = sigma(completed, visits[b], c_visit, c_scale)
        policy[b] = improved_policy(log_prior[b], transformed, legal[b])
        most = visits[b][legal[b]].max()
        score = np.where(legal[b] & (visits[b] == most), gumbel[b] + log_prior[b] + transformed,
                         -np.inf)
        action[b] = int(np.argmax(score))
    return policy, action
