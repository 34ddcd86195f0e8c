"""The search's contracts: what `step` and `evaluate` look like, and what a search returns.

The search knows no game and no network. It is handed two functions:

* `step(states, actions) -> StepResult`: the successors of K states under K actions, with
  what the search needs to know of them. States are a `[K, *state_shape]` array for games
  with array states, an object array `[K]` otherwise (python-chess boards, LLM texts).
  Actions are int64 `[K]`. It must not modify its inputs.
* `evaluate(states) -> (prior_logits, value)`: float32 `[K, A]` logits (illegal actions
  are masked by the search) and float32 `[K]` values in [-1, 1] for the player to move.
  The search only ever passes states of unfinished games.

A step may also be a `KernelStep`: the same rules as Numba kernels, which the search can
call from inside its own jitted loop (see `mcts.fused`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np


class StepResult(NamedTuple):
    """What `step(states, actions)` returns for a batch of K transitions.

    Attributes:
        states: `[K, *state_shape]` array, or object array `[K]`: the new states.
        to_play: int8 `[K]` the player to move in each new state.
        legal: bool `[K, A]` the legal actions there (ignored where terminal).
        terminal: bool `[K]` the new state is a finished game.
        terminal_value: float32 `[K]` the game's result for the player to move in the new
            state, in [-1, 1]; ignored where not terminal.
    """

    states: Any
    to_play: np.ndarray
    legal: np.ndarray
    terminal: np.ndarray
    terminal_value: np.ndarray


StepFn = Callable[[Any, np.ndarray], StepResult]
"""`step(states [K, ...], actions int64 [K]) -> StepResult`."""

EvaluateFn = Callable[[Any], tuple[np.ndarray, np.ndarray]]
"""`evaluate(states [K, ...]) -> (prior logits float32 [K, A], value float32 [K])`, the value
for the player to move in each state."""


class SearchOutput(NamedTuple):
    """The result of `BatchSearch.run` for B roots.

    Attributes:
        action: int64 `[B]` the move to play. PUCT: sampled from visits^(1/temperature)
            (the most visited at temperature 0; with forced playouts, the pruned visits);
            Gumbel: the sequential-halving winner.
        visit_counts: int32 `[B, A]` visits of the root's children (all of the tree's
            visits, including those kept by tree reuse).
        policy_target: float32 `[B, A]` the training target: the visit distribution (PUCT;
            with forced playouts, after `mcts.roots.prune_forced_playouts`) or the improved
            policy softmax(logits + sigma(completed Q)) (Gumbel).
        root_value: float32 `[B]` the search's value of the root for its player to move
            (the mean of every value backed up through the root, its own evaluation included).
        q_values: float32 `[B, A]` the root children's Q from the root player's point of
            view; 0 where a child has no visit (check `visit_counts`).
        prior: float32 `[B, A]` the root prior probabilities, after masking the illegal
            actions and before any noise.
        raw_value: float32 `[B]` the evaluator's value of each root.
    """

    action: np.ndarray
    visit_counts: np.ndarray
    policy_target: np.ndarray
    root_value: np.ndarray
    q_values: np.ndarray
    prior: np.ndarray
    raw_value: np.ndarray


class KernelStep(NamedTuple):
    """A game's rules as Numba batch kernels over `[K, S]` states (one row per state).

    Calling it is an ordinary `step` function; given to `BatchSearch.run` together with a
    kernel evaluator (`uniform_evaluator`, or `rollout_evaluator` over a Numba rollout), the
    whole search runs inside one jitted loop with no Python work per round.

    Attributes:
        step: `(states [K, S], actions int64 [K]) -> states [K, S]`.
        legal_mask: `states [K, S] -> bool [K, A]`.
        to_play: `states [K, S] -> int8 [K]`.
        terminal: `states [K, S] -> (bool [K] finished, float32 [K] value for the player to move)`.
    """

    step: Any
    legal_mask: Any
    to_play: Any
    terminal: Any

    def __call__(self, states: np.ndarray, actions: np.ndarray) -> StepResult:
        successors = self.step(states, actions)
        done, value = self.terminal(successors)
        return StepResult(successors, self.to_play(successors), self.legal_mask(successors),
                          done, value)
