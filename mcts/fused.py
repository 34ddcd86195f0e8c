"""The whole simulation loop in one jitted call, for games whose rules are Numba kernels.

When the step is a `KernelStep` and the evaluator needs no network (uniform, or a Numba
rollout), nothing in a round needs Python: selection, the game step, the rollouts and the
backup all run inside `run_simulations`, which the game's kernels are passed to as
arguments. Numba compiles it once per game and process (a function that takes other
functions as arguments cannot be cached on disk), in a second or two; the kernels it calls
are cached as usual.

Since no network wants big batches here, the trees are searched a few at a time (`chunk`
trees for the whole budget, then the next few): the nodes of a handful of trees stay in
the CPU's cache, where rounds over all B trees would stream every tree through memory on
every round. A tree's search does not depend on the chunking, except through the rollout
seeds.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from mcts.backup import expand_and_backup
from mcts.rng import mix
from mcts.selection import select_leaves

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


@njit(nogil=True)
def run_simulations(tree, root, params, slots, node_states, step_states, scratch,
                    num_simulations, leaves, chunk, step, legal_mask, to_play, terminal,
                    rollout, seed, logits) -> int:
    """Run `num_simulations` simulations in every tree; return 0, or `INVALID_STEP`.

    Args:
        tree, root, params, slots, scratch: as for `select_leaves`.
        node_states: `[B, N, S]` per-node states; step_states: `[B * leaves, S]` buffer.
        num_simulations: simulations per tree; leaves: leaves per tree and round.
        chunk: trees searched together (>= 1).
        step, legal_mask, to_play, terminal: the game's kernels (see `KernelStep`).
        rollout: `(states [K, S], seed uint64) -> float32 [K]` values of non-terminal states.
        seed: uint64 base seed of the rollouts (round r uses a seed derived from it and r).
        logits: float32 `[B * leaves, A]` zeros, the uniform prior logits.
    """
    remaining = np.full(tree.visits.shape[0], num_simulations, dtype=np.int64)
    round_index = 0
    virtual = leaves > 1
    # One function, not a helper per round: every call of a jitted function updates the
    # reference counts of each array it is given (a `Tree` holds fifteen), atomically,
    # which cost more than the round's own work when a round is one simulation.
    for first in range(0, tree.visits.shape[0], chunk):
        last = min(first + chunk, tree.visits.shape[0])
        left = 1
        while left > 0:
            num_new, left = select_leaves(tree, root, params, leaves, remaining, slots,
                                          node_states, step_states, True, scratch, first, last)
            if num_new > 0:
                # Step the round's K new edges, roll out the unfinished successors, expand,
                # back up.
                successors = step(step_states[:num_new], slots.action[:num_new])
                finished, terminal_value = terminal(successors)
                alive = 0
                for k in range(num_new):
                    alive += not finished[k]
                unfinished = successors
                if alive < num_new:
                    unfinished = np.empty((alive, successors.shape[1]), dtype=successors.dtype)
                    j = 0
                    for k in range(num_new):
                        if not finished[k]:
                            unfinished[j] = successors[k]
                            j += 1
                values = rollout(unfinished, mix(seed + np.uint64(round_index) * _GOLDEN))
                status = expand_and_backup(tree, slots, num_new, to_play(successors),
                                           legal_mask(successors), finished, terminal_value,
                                           logits[:alive], values, node_states, successors,
                                           True, virtual)
                if status != 0:
                    return status
            round_index += 1
    return 0
