"""`BatchSearch`: B trees searched together, the game and the evaluator injected.

Per simulation round the driver makes one jitted selection over all trees (which also
backs up revisited finished games and copies the selected parents' states into a step
buffer), one call of `step` on the K new edges, one call of `evaluate` on the new states
that are not finished games, and one jitted expansion + backup. The Python work per round
does not grow with B. When the step is a `KernelStep` and the evaluator needs no network,
the rounds run inside one jitted call instead (`mcts.fused`).

The driver keeps every node's game state: an array `[B, N, S]` when the roots are a
numeric array `[B, *state_shape]` (S = prod(state_shape)), an object array `[B, N]`
otherwise.

    >>> import numpy as np
    >>> from mcts import BatchSearch, SearchConfig, StepResult, uniform_evaluator
    >>> def step(states, actions):  # a one-move game: action a is worth a / 2 to the mover
    ...     k = len(actions)
    ...     return StepResult(actions.copy(), np.ones(k, np.int8), np.ones((k, 3), bool),
    ...                       np.ones(k, bool), -actions.astype(np.float32) / 2)
    >>> search = BatchSearch(SearchConfig(num_simulations=30, temperature=0), 1, 3)
    >>> out = search.run(np.zeros(1, np.int64), step, uniform_evaluator(3),
    ...                  root_to_play=np.zeros(1, np.int8), root_legal=np.ones((1, 3), bool),
    ...                  rng=np.random.default_rng(0))
    >>> int(out.action[0])
    2
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba.extending import is_jitted

from mcts.backup import INVALID_STEP, expand_and_backup, init_roots
from mcts.base import EvaluateFn, KernelStep, SearchOutput, StepFn
from mcts.config import SearchConfig
from mcts.evaluators import RolloutEvaluator, UniformEvaluator, no_rollout
from mcts.fused import run_simulations
from mcts.gumbel import RootData, considered_visit_table, root_targets
from mcts.reuse import move_array_states, move_object_states, reroot
from mcts.rng import seeds_from
from mcts.roots import prepare_roots, prune_forced_playouts, puct_targets, root_statistics
from mcts.selection import FPU_LOSS, FPU_REDUCTION, GUMBEL, PUCT, Params, make_slots, select_leaves
from mcts.tree import MAX_LEGAL, Tree, allocate, grow, principal_variation

CACHE_BUDGET = 2 << 20
"""Bytes of tree a jitted search keeps hot at once (it searches that many trees together)."""
TOUCHED_ACTIONS = 32
"""Actions per node a chunk's cache budget counts when A is above `MAX_LEGAL`."""


class BatchSearch:
    """B concurrent searches over preallocated array trees.

    Args:
        config: the search's hyperparameters.
        batch_size: B, the number of trees searched together.
        num_actions: A, the size of the action space.
        max_nodes: nodes per tree to allocate (default `config.num_simulations + 1`); the
            trees grow when a call needs more (a larger budget, or tree reuse).
    """

    def __init__(self, config: SearchConfig, batch_size: int, num_actions: int,
                 max_nodes: int | None = None) -> None:
        if not isinstance(config, SearchConfig):
            raise TypeError(f"config must be a SearchConfig, got {type(config).__name__}")
        if int(batch_size) < 1 or int(num_actions) < 1:
            raise ValueError(f"batch_size and num_actions must be >= 1, got {batch_size}, "
                             f"{num_actions}")
        capacity = config.num_simulations + 1 if max_nodes is None else int(max_nodes)
        if capacity < 2:
            raise ValueError(f"max_nodes must be >= 2, got {max_nodes}")
        self.config = config
        self.batch_size = int(batch_size)
        self.num_actions = int(num_actions)
        self.tree: Tree = allocate(self.batch_size, capacity, self.num_actions)
        self.node_states: np.ndarray | None = None  # [B, N, S] numbers or [B, N] objects
        self._state_shape: tuple[int, ...] | None = None  # None: object states
        self._params = Params(
            algorithm=GUMBEL if config.algorithm == "gumbel" else PUCT,
            leaves_per_round=config.leaves_per_round, c_init=float(config.c_init),
            c_base=float(config.c_base),
            fpu_mode=FPU_LOSS if config.fpu == "loss" else FPU_REDUCTION,
            fpu_reduction=float(config.fpu_reduction), c_visit=float(config.c_visit),
            c_scale=float(config.c_scale), rescale_values=bool(config.rescale_values),
            forced_playouts=float(config.forced_playouts))
        slots = self.batch_size * config.leaves_per_round
        self._slots = make_slots(slots)
        self._scratch = np.zeros((2, self.num_actions), dtype=np.float64)
        self._zero_logits = np.zeros((slots, self.num_actions), dtype=np.float32)
        self._step_states: np.ndarray | None = None

    # --- the search ------------------------------------------------------------------------
    def run(self, root_states: Any, step: StepFn, evaluate: EvaluateFn, *,
            root_to_play: np.ndarray, root_legal: np.ndarray,
            rng: np.random.Generator | None = None, seeds: np.ndarray | None = None,
            num_simulations: int | None = None, reuse: np.ndarray | None = None) -> SearchOutput:
        """Search from every root; return the moves, the training targets and statistics.

        Args:
            root_states: `[B, *state_shape]` numeric array, or B objects (list, object array).
            step: the game's transition (see `mcts.base`), or a `KernelStep`.
            evaluate: the evaluator (see `mcts.base`); it sees only unfinished games.
            root_to_play: int8 `[B]` player to move at each root.
            root_legal: bool `[B, A]` legal actions at each root (each row needs one).
            rng: draws one seed per tree (noise, move sampling). Or give `seeds`.
            seeds: int `[B]` explicit per-tree seeds: tree b's search depends on seeds[b]
                alone (with a deterministic evaluator), whatever else is in the batch.
            num_simulations: this call's simulations per tree (default: the config's).
            reuse: bool `[B]`: True where tree b was advanced with `advance` to a root that
                is `root_states[b]` (or searched from it before): keep its statistics and
                add the simulations. Elsewhere a fresh tree is started.
        """
        sims = self.config.num_simulations if num_simulations is None else num_simulations
        if isinstance(sims, bool) or int(sims) != sims or int(sims) < 1:
            raise ValueError(f"num_simulations must be an int >= 1, got {num_simulations!r}")
        sims = int(sims)
        to_play, legal = self._check_roots(root_to_play, root_legal)
        seeds = self._seeds(rng, seeds)
        fresh = np.ones(self.batch_size, dtype=np.bool_)
        if reuse is not None:
            reuse = np.asarray(reuse, dtype=np.bool_)
            if reuse.shape != (self.batch_size,):
                raise ValueError(f"reuse must have shape ({self.batch_size},), got {reuse.shape}")
            fresh = ~(reuse & (self.tree.num_nodes > 0))
        fresh = self._prepare_storage(root_states, fresh, sims)
        self._init_fresh_roots(root_states, evaluate, fresh, to_play, legal)
        root = self._root_data(seeds, sims)
        fused = self._fused_kernels(step, evaluate)
        if fused is not None:
            status = run_simulations(self.tree, root, self._params, self._slots,
                                     self.node_states, self._step_states, self._scratch, sims,
                                     self.config.leaves_per_round, self._chunk(), *fused,
                                     self._zero_logits)
            if status == INVALID_STEP:
                raise ValueError("step returned an unfinished state with no legal action")
        else:
            self._simulate(step, evaluate, root, sims)
        return self._outputs(root, seeds)

    def advance(self, actions: np.ndarray) -> None:
        """Tree reuse: re-root each tree at its root's child `actions[b]`, keeping that
        child's subtree, statistics and states (compacted to the front of the arrays).

        A tree whose child was never expanded (or is a finished game) becomes empty, and
        the next `run` starts it afresh whatever `reuse` says.

        Args:
            actions: int `[B]` the move played in each game.
        """
        actions = np.asarray(actions)
        if actions.shape != (self.batch_size,) or not np.issubdtype(actions.dtype, np.integer):
            raise ValueError(f"actions must be ints of shape ({self.batch_size},), got "
                             f"{actions.dtype} {actions.shape}")
        order = np.empty((self.batch_size, self.tree.capacity), dtype=np.int64)
        reroot(self.tree, actions.astype(np.int64), order)
        if self.node_states is None:
            return
        if self._state_shape is None:
            move_object_states(self.node_states, order)
        else:
            move_array_states(self.node_states, order)

    def reset(self, trees: np.ndarray | None = None) -> None:
        """Forget all trees, or those where `trees` (bool `[B]`) is True."""
        if trees is None:
            self.tree.num_nodes[:] = 0
        else:
            self.tree.num_nodes[np.asarray(trees, dtype=np.bool_)] = 0

    def principal_variation(self, b: int, max_length: int = 64) -> list[int]:
        """The most visited line from the root of tree `b`."""
        return principal_variation(self.tree, b, max_length)

    pv = principal_variation

    # --- set-up ------------------------------------------------------------------------------
    def _check_roots(self, root_to_play: Any, root_legal: Any) -> tuple[np.ndarray, np.ndarray]:
        b, a = self.batch_size, self.num_actions
        legal = np.ascontiguousarray(root_legal, dtype=np.bool_)
        if legal.shape != (b, a):
            raise ValueError(f"root_legal must have shape ({b}, {a}), got {legal.shape}")
        if not legal.any(axis=1).all():
            empty = np.flatnonzero(~legal.any(axis=1))
            raise ValueError(f"roots {empty.tolist()} have no legal action (finished games "
                             "cannot be searched)")
        to_play = np.ascontiguousarray(root_to_play, dtype=np.int8)
        if to_play.shape != (b,):
            raise ValueError(f"root_to_play must have shape ({b},), got {to_play.shape}")
        return to_play, legal

    def _seeds(self, rng: np.random.Generator | None, seeds: Any) -> np.ndarray:
        if seeds is not None:
            seeds = np.asarray(seeds)
            if seeds.shape != (self.batch_size,) or not np.issubdtype(seeds.dtype, np.integer):
                raise ValueError(f"seeds must be ints of shape ({self.batch_size},)")
            return seeds.astype(np.int64).astype(np.uint64)
        if not isinstance(rng, np.random.Generator):
            raise TypeError("give rng (a numpy Generator) or seeds")
        return seeds_from(rng, self.batch_size)

    def _prepare_storage(self, root_states: Any, fresh: np.ndarray, sims: int) -> np.ndarray:
        """Allocate or grow the trees and the state store; return the updated `fresh`."""
        numeric = isinstance(root_states, np.ndarray) and root_states.dtype != object
        if numeric:
            if root_states.shape[:1] != (self.batch_size,):
                raise ValueError(f"root_states must have {self.batch_size} rows, got shape "
                                 f"{root_states.shape}")
            shape, dtype = root_states.shape[1:], root_states.dtype
            if (self._state_shape != shape or self.node_states is None
                    or self.node_states.dtype != dtype):
                fresh = np.ones(self.batch_size, dtype=np.bool_)
                self._state_shape = shape
                self.node_states = None
        else:
            if len(root_states) != self.batch_size:
                raise ValueError(f"root_states must hold {self.batch_size} states, got "
                                 f"{len(root_states)}")
            if self._state_shape is not None or self.node_states is None:
                fresh = np.ones(self.batch_size, dtype=np.bool_)
                self._state_shape = None
                self.node_states = None
        used = np.where(fresh, 1, self.tree.num_nodes)
        needed = int(used.max()) + sims
        self.tree = grow(self.tree, needed)
        capacity = self.tree.capacity
        if self.node_states is None:
            if numeric:
                width = int(np.prod(self._state_shape, dtype=np.int64))
                self.node_states = np.zeros((self.batch_size, capacity, width), dtype=dtype)
            else:
                self.node_states = np.empty((self.batch_size, capacity), dtype=object)
        elif self.node_states.shape[1] < capacity:
            old = self.node_states
            if numeric:
                bigger = np.zeros((self.batch_size, capacity, old.shape[2]), dtype=old.dtype)
            else:
                bigger = np.empty((self.batch_size, capacity), dtype=object)
            bigger[:, : old.shape[1]] = old
            self.node_states = bigger
        if numeric:
            rows = self._slots.tree.shape[0]
            width = self.node_states.shape[2]
            if self._step_states is None or self._step_states.shape != (rows, width) \
                    or self._step_states.dtype != dtype:
                self._step_states = np.zeros((rows, width), dtype=dtype)
        else:
            self._step_states = np.zeros((1, 1), dtype=np.uint8)  # unused by object states
        return fresh

    def _init_fresh_roots(self, root_states: Any, evaluate: EvaluateFn, fresh: np.ndarray,
                          to_play: np.ndarray, legal: np.ndarray) -> None:
        index = np.flatnonzero(fresh)
        if index.size == 0:
            return
        states = _take(root_states, index, self._state_shape is None)
        logits, values = _check_evaluation(evaluate(states), index.size, self.num_actions)
        init_roots(self.tree, fresh, to_play, legal, logits, values)
        if self._state_shape is None:
            for i in index:
                self.node_states[i, 0] = root_states[i]
        else:
            self.node_states[index, 0] = np.asarray(states).reshape(index.size, -1)

    def _root_data(self, seeds: np.ndarray, sims: int) -> RootData:
        cfg, b, a = self.config, self.batch_size, self.num_actions
        gumbel = cfg.algorithm == "gumbel"
        root = RootData(
            prior=np.empty((b, a), dtype=np.float32),
            log_prior=np.empty((b, a), dtype=np.float32),
            gumbel=np.empty((b, a), dtype=np.float32),
            base_visits=np.empty((b, a), dtype=np.int32),
            num_considered=np.empty(b, dtype=np.int64),
            table=(considered_visit_table(cfg.gumbel_num_considered, sims) if gumbel
                   else np.zeros((1, 1), dtype=np.int32)))
        prepare_roots(self.tree, seeds, float(cfg.dirichlet_alpha),
                      0.0 if gumbel else float(cfg.dirichlet_fraction),
                      float(cfg.gumbel_scale) if gumbel else 0.0, cfg.gumbel_num_considered,
                      root, float(cfg.dirichlet_total_alpha), bool(cfg.dirichlet_shaped),
                      float(cfg.root_policy_temperature))
        return root

    def _chunk(self) -> int:
        """Trees per chunk of a jitted search: as many as fit in `CACHE_BUDGET` bytes."""
        # A node's search touches its legal actions only: with a large action space, the
        # rows of a few dozen of them.
        width = self.num_actions if self.num_actions <= MAX_LEGAL else TOUCHED_ACTIONS
        per_tree = self.tree.capacity * (width * 17 + 32)
        return max(1, min(self.batch_size, CACHE_BUDGET // per_tree))

    def _fused_kernels(self, step: Any, evaluate: Any) -> tuple | None:
        """The kernels of a fully jitted search, or None when a round needs Python."""
        if self._state_shape is None or len(self._state_shape) != 1:
            return None
        if not isinstance(step, KernelStep) or not all(is_jitted(f) for f in step):
            return None
        if isinstance(evaluate, UniformEvaluator):
            rollout, seed = no_rollout, np.uint64(0)
        elif isinstance(evaluate, RolloutEvaluator) and evaluate.kernel is not None:
            rollout, seed = evaluate.kernel, evaluate.next_seed()
        else:
            return None
        if evaluate.num_actions != self.num_actions:
            raise ValueError(f"the evaluator has {evaluate.num_actions} actions, the search "
                             f"{self.num_actions}")
        return (*step, rollout, seed)

    # --- the rounds ----------------------------------------------------------------------------
    def _simulate(self, step: StepFn, evaluate: EvaluateFn, root: RootData, sims: int) -> None:
        leaves = self.config.leaves_per_round
        slots, tree = self._slots, self.tree
        numeric = self._state_shape is not None
        # The kernels take an array of states; object states are moved in Python instead.
        kernel_states = self.node_states if numeric else np.zeros((1, 1, 1), dtype=np.uint8)
        remaining = np.full(self.batch_size, sims, dtype=np.int64)
        left = 1
        while left > 0:
            num_new, left = select_leaves(tree, root, self._params, leaves, remaining, slots,
                                          kernel_states, self._step_states, numeric,
                                          self._scratch, 0, self.batch_size)
            if num_new == 0:
                continue
            if numeric:
                parents = self._step_states[:num_new].reshape((num_new, *self._state_shape))
            else:
                parents = self.node_states[slots.tree[:num_new], slots.parent[:num_new]]
            result = step(parents, slots.action[:num_new].copy())
            to_play, legal, finished, terminal_value = _check_step(result, num_new,
                                                                    self.num_actions)
            if finished.any():
                alive = np.flatnonzero(~finished)
                states = _take(result.states, alive, not numeric) if alive.size else None
            else:
                alive, states = None, result.states
            if states is not None:
                count = num_new if alive is None else alive.size
                logits, values = _check_evaluation(evaluate(states), count, self.num_actions)
            else:
                logits = self._zero_logits[:0]
                values = np.zeros(0, dtype=np.float32)
            if numeric:
                new_states = np.ascontiguousarray(result.states,
                                                  dtype=self.node_states.dtype)
                new_states = new_states.reshape(num_new, -1)
            else:
                new_states = kernel_states[0]
            status = expand_and_backup(tree, slots, num_new, to_play, legal, finished,
                                       terminal_value, logits, values, kernel_states,
                                       new_states, numeric, leaves > 1)
            if status == INVALID_STEP:
                raise ValueError("step returned an unfinished state with no legal action")
            if not numeric:
                self.node_states[slots.tree[:num_new], slots.node[:num_new]] = \
                    _object_array(result.states, num_new)

    def _outputs(self, root: RootData, seeds: np.ndarray) -> SearchOutput:
        b, a = self.batch_size, self.num_actions
        visits = np.empty((b, a), dtype=np.int32)
        q = np.empty((b, a), dtype=np.float32)
        value = np.empty(b, dtype=np.float32)
        raw = np.empty(b, dtype=np.float32)
        prior = np.empty((b, a), dtype=np.float32)
        root_statistics(self.tree, visits, q, value, raw, prior)
        policy = np.empty((b, a), dtype=np.float32)
        action = np.empty(b, dtype=np.int64)
        if self.config.algorithm == "gumbel":
            root_targets(self.tree, root, float(self.config.c_visit),
                         float(self.config.c_scale), bool(self.config.rescale_values),
                         policy, action)
        else:
            counted = visits
            if self.config.forced_playouts > 0:
                # The target and the move come from the pruned counts, as in KataGo: the
                # forced visits of a bad move neither teach nor choose it.
                counted = np.empty_like(visits)
                prune_forced_playouts(visits, q, root.prior, self.tree.visits[:, 0],
                                      float(self.config.forced_playouts),
                                      float(self.config.c_init), float(self.config.c_base),
                                      counted)
            puct_targets(counted, seeds, float(self.config.temperature), policy, action)
        return SearchOutput(action, visits, policy, value, q, prior, raw)


def _take(states: Any, index: np.ndarray, objects: bool) -> Any:
    """states[index] for an array, or an object array of the chosen items."""
    if isinstance(states, np.ndarray):
        return states[index]
    if objects:
        return _object_array([states[i] for i in index], index.size)
    return np.asarray(states)[index]


def _object_array(items: Any, size: int) -> np.ndarray:
    """An object array `[size]` holding `items` as they are (never split into sub-arrays)."""
    if isinstance(items, np.ndarray) and items.dtype == object and items.shape == (size,):
        return items
    if len(items) != size:
        raise ValueError(f"step returned {len(items)} states, expected {size}")
    out = np.empty(size, dtype=object)
    for i, item in enumerate(items):
        out[i] = item
    return out


def _check_step(result: Any, count: int, num_actions: int) -> tuple[np.ndarray, ...]:
    """The step's arrays in the kernels' dtypes, after checking their shapes."""
    to_play = np.ascontiguousarray(result.to_play, dtype=np.int8)
    legal = np.ascontiguousarray(result.legal, dtype=np.bool_)
    finished = np.ascontiguousarray(result.terminal, dtype=np.bool_)
    value = np.ascontiguousarray(result.terminal_value, dtype=np.float32)
    if (to_play.shape != (count,) or legal.shape != (count, num_actions)
            or finished.shape != (count,) or value.shape != (count,)):
        raise ValueError(
            f"step returned to_play {to_play.shape}, legal {legal.shape}, terminal "
            f"{finished.shape}, terminal_value {value.shape}; expected ({count},), "
            f"({count}, {num_actions}), ({count},), ({count},)")
    return to_play, legal, finished, value


def _check_evaluation(output: Any, count: int, num_actions: int) -> tuple[np.ndarray, np.ndarray]:
    """The evaluator's (logits float32 [K, A], values float32 [K]) after checking shapes."""
    try:
        logits, values = output
    except (TypeError, ValueError):
        raise ValueError("evaluate must return (prior_logits [K, A], value [K])") from None
    logits = np.ascontiguousarray(logits, dtype=np.float32)
    values = np.ascontiguousarray(values, dtype=np.float32)
    if logits.shape != (count, num_actions) or values.shape != (count,):
        raise ValueError(f"evaluate returned logits {logits.shape} and values {values.shape}; "
                         f"expected ({count}, {num_actions}) and ({count},)")
    if not np.isfinite(values).all():
        raise ValueError("evaluate returned a value that is not finite")
    return logits, values
