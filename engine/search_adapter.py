"""Glue between a `BatchGame` and `mcts`: the search's `step` function, root facts, rollouts.

`mcts` knows no game; a game knows no search. This module turns a game's batch methods into
what `BatchSearch.run` takes:

    >>> import games
    >>> from mcts import BatchSearch, SearchConfig, uniform_evaluator
    >>> game = games.make("tictactoe")
    >>> states = game.batch_initial(2)
    >>> to_play, legal = batch_game_roots(game, states)
    >>> search = BatchSearch(SearchConfig(num_simulations=16), 2, game.num_actions)
    >>> out = search.run(states, batch_game_step(game), uniform_evaluator(9),
    ...                  root_to_play=to_play, root_legal=legal, seeds=[1, 2])
    >>> out.visit_counts.sum(axis=1).tolist()
    [16, 16]

Where the game hands out its rules as Numba kernels of the states alone
(`BatchGame.search_kernels`: tic-tac-toe and Connect Four their module kernels, Go kernels
bound to its board size and rules), `batch_game_step` returns them as an `mcts.KernelStep`,
after checking on a few positions that they agree with the game's own methods; the search
can then run a uniform or rollout search without leaving Numba. Any other game gets a
Python function over its batch methods.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba.extending import is_jitted

from games.base import SearchKernels
from mcts import KernelStep, RolloutEvaluator, StepResult, rollout_evaluator
from mcts.base import StepFn


def batch_game_step(game: Any, *, kernels: bool = True) -> StepFn:
    """The search's `step` over a `BatchGame`: `(states [K, *S], actions [K]) -> StepResult`.

    Args:
        game: a `BatchGame`.
        kernels: allow the game's Numba kernels (`KernelStep`) when they are available and
            agree with the game's methods; False always gives the Python function.
    """
    python_step = _python_step(game)
    found = _search_kernels(game) if kernels else None
    if found is not None:
        kernel_step = KernelStep(found.step, found.legal_mask, found.to_play, found.terminal)
        if _steps_agree(game, kernel_step, python_step):
            return kernel_step
    return python_step


def batch_game_roots(game: Any, states: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(to_play int8 `[B]`, legal bool `[B, A]`) of B root states, as `run` takes them."""
    return (np.ascontiguousarray(game.batch_to_play(states), dtype=np.int8),
            np.ascontiguousarray(game.batch_legal_mask(states), dtype=np.bool_))


def batch_game_rollout(game: Any, seed: int = 0) -> RolloutEvaluator:
    """An evaluator valuing each state by one random playout (the game's
    `batch_random_rollout`); the game's rollout kernel when it has one that agrees."""
    found = _search_kernels(game)
    if found is not None:
        states = _sample_states(game)
        try:
            same = np.array_equal(found.rollout(states, np.uint64(12345)),
                                  game.batch_random_rollout(states, 12345))
        except Exception:  # noqa: BLE001 - a kernel of another signature: use the method
            same = False
        if same:
            return rollout_evaluator(game.num_actions, found.rollout, seed)
    return rollout_evaluator(game.num_actions, game.batch_random_rollout, seed)


def _python_step(game: Any) -> StepFn:
    def step(states: np.ndarray, actions: np.ndarray) -> StepResult:
        successors = game.batch_step(states, actions)
        finished, value = game.batch_terminal(successors)
        return StepResult(successors, game.batch_to_play(successors),
                          game.batch_legal_mask(successors), finished, value)

    return step


def _search_kernels(game: Any) -> SearchKernels | None:
    """The game's `search_kernels()`, if every one is a Numba kernel."""
    found = game.search_kernels()
    return found if found is not None and all(is_jitted(f) for f in found) else None


def _sample_states(game: Any, plies: int = 6, batch: int = 8) -> np.ndarray:
    """Unfinished positions `[K, S]` reached by deterministic pseudo-random play from the
    initial state (K <= batch; the initial state at least)."""
    rng = np.random.default_rng(0)
    states = np.ascontiguousarray(game.batch_initial(batch)).reshape(batch, -1)
    for _ in range(plies):
        legal = game.batch_legal_mask(states)
        scores = np.where(legal, rng.random(legal.shape), -1.0)
        successors = np.ascontiguousarray(
            game.batch_step(states, scores.argmax(axis=1).astype(np.int64))).reshape(batch, -1)
        finished, _ = game.batch_terminal(successors)
        if finished.any():
            break
        states = successors
    return states


def _steps_agree(game: Any, kernel_step: KernelStep, python_step: StepFn) -> bool:
    """Whether the kernels compute what the game's methods compute, on sample positions."""
    states = _sample_states(game)
    legal = game.batch_legal_mask(states)
    if not legal.any(axis=1).all():
        return False
    actions = legal.argmax(axis=1).astype(np.int64)
    try:
        ours = kernel_step(states, actions)
    except Exception:  # noqa: BLE001 - kernels of another signature: use the methods
        return False
    theirs = python_step(states, actions)
    return all(np.array_equal(np.asarray(a).reshape(len(actions), -1) if i == 0 else a,
                              np.asarray(b).reshape(len(actions), -1) if i == 0 else b)
               for i, (a, b) in enumerate(zip(ours, theirs)))
