"""Ready-made evaluators that need no network: uniform, and random rollouts.

Both return uniform prior logits. Both are ordinary `evaluate` callables; they are also
recognised by `BatchSearch`, which runs the whole search in one jitted loop when the step
is a `KernelStep` and the rollout (if any) is a Numba kernel.

    >>> import numpy as np
    >>> logits, values = uniform_evaluator(3)(np.zeros((2, 4)))
    >>> logits.shape, values.tolist()
    ((2, 3), [0.0, 0.0])
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from numba import njit
from numba.extending import is_jitted

from mcts.rng import mix


class UniformEvaluator:
    """Prior logits 0 and value 0 for every state: the search alone, at no cost.

    Args:
        num_actions: A, the width of the logits.
    """

    def __init__(self, num_actions: int) -> None:
        if num_actions < 1:
            raise ValueError(f"num_actions must be >= 1, got {num_actions}")
        self.num_actions = int(num_actions)

    def __call__(self, states: Any) -> tuple[np.ndarray, np.ndarray]:
        n = len(states)
        return np.zeros((n, self.num_actions), dtype=np.float32), np.zeros(n, dtype=np.float32)

    def __repr__(self) -> str:
        return f"uniform_evaluator({self.num_actions})"


class RolloutEvaluator:
    """Uniform prior logits; the value is the result of one random playout from each state.

    Args:
        num_actions: A, the width of the logits.
        random_rollout: `random_rollout(states, seed) -> float32 [K]`, each playout's result
            for the player to move in its state (a game's `batch_random_rollout`). A Numba
            kernel is given a uint64 seed, a Python function an int.
        seed: the first call's seed; every call (and every round of a jitted search) uses
            a new one derived from it.
    """

    def __init__(self, num_actions: int, random_rollout: Callable[[Any, Any], np.ndarray],
                 seed: int = 0) -> None:
        if num_actions < 1:
            raise ValueError(f"num_actions must be >= 1, got {num_actions}")
        if not callable(random_rollout):
            raise TypeError("random_rollout must be callable: (states, seed) -> values [K]")
        self.num_actions = int(num_actions)
        self.random_rollout = random_rollout
        self.kernel = random_rollout if is_jitted(random_rollout) else None
        self._seed = np.uint64(int(seed) & 0xFFFF_FFFF_FFFF_FFFF)
        self._calls = 0

    def next_seed(self) -> np.uint64:
        """A fresh uint64 seed (the call counter mixed into the base seed)."""
        self._calls += 1
        with np.errstate(over="ignore"):
            counter = self._seed + np.uint64(self._calls) * np.uint64(0x9E3779B97F4A7C15)
        return np.uint64(mix(counter))

    def __call__(self, states: Any) -> tuple[np.ndarray, np.ndarray]:
        n = len(states)
        seed = self.next_seed()
        values = self.random_rollout(states, seed if self.kernel is not None else int(seed))
        values = np.asarray(values, dtype=np.float32)
        if values.shape != (n,):
            raise ValueError(f"random_rollout returned shape {values.shape}, expected ({n},)")
        return np.zeros((n, self.num_actions), dtype=np.float32), values

    def __repr__(self) -> str:
        return f"rollout_evaluator({self.num_actions}, {self.random_rollout!r})"


def uniform_evaluator(num_actions: int) -> UniformEvaluator:
    """An evaluator with uniform prior logits and value 0 (see `UniformEvaluator`)."""
    return UniformEvaluator(num_actions)


def rollout_evaluator(num_actions: int, random_rollout: Callable[[Any, Any], np.ndarray],
                      seed: int = 0) -> RolloutEvaluator:
    """An evaluator that values each state by one random playout (see `RolloutEvaluator`)."""
    return RolloutEvaluator(num_actions, random_rollout, seed)


@njit(cache=True, nogil=True)
def no_rollout(states: np.ndarray, seed: np.uint64) -> np.ndarray:
    """float32 `[K]` zeros: the value of the uniform evaluator, as a kernel."""
    return np.zeros(states.shape[0], dtype=np.float32)
