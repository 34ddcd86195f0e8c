"""Exact solvers behind the `perfect` player and the evaluations of small games.

* `MinimaxSolver`: full negamax with memoisation over any small `Game` (tic-tac-toe's 5,478
  positions solve in well under a second). Values are in {-1, 0, 1} for the player to move.
* Connect Four uses the bitboard alpha-beta solver in `games.connect4_solver`.

Both answer `move_values(state)` (the game-theoretic value of each legal move, NaN where
illegal) and `best(state, rng)` (a best move, ties broken at random, and the value).
"""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np

from games.base import Game, GameError, State, legal_actions


class Solver(Protocol):
    def move_values(self, state: State) -> np.ndarray: ...

    def best(self, state: State, rng: np.random.Generator) -> tuple[int, float]: ...


def _key(state: Any) -> bytes | Any:
    return state.tobytes() if isinstance(state, np.ndarray) else state


class MinimaxSolver:
    """Exact negamax over the game tree, memoised by state bytes."""

    def __init__(self, game: Game) -> None:
        self.game = game
        self._values: dict[Any, float] = {}

    def value(self, state: State) -> float:
        key = _key(state)
        cached = self._values.get(key)
        if cached is not None:
            return cached
        outcome = self.game.outcome(state)
        if outcome is not None:
            result = outcome.value(self.game.to_play(state))
        else:
            result = max(self._child_value(state, a) for a in legal_actions(self.game, state))
        self._values[key] = result
        return result

    def _child_value(self, state: State, action: int) -> float:
        child = self.game.next_state(state, int(action))
        value = self.value(child)
        same_player = self.game.to_play(child) == self.game.to_play(state)
        return value if same_player else -value

    def move_values(self, state: State) -> np.ndarray:
        values = np.full(self.game.num_actions, np.nan)
        for action in legal_actions(self.game, state):
            values[action] = self._child_value(state, int(action))
        return values

    def best(self, state: State, rng: np.random.Generator) -> tuple[int, float]:
        values = self.move_values(state)
        best_value = np.nanmax(values)
        choices = np.flatnonzero(values == best_value)
        return int(rng.choice(choices)), float(best_value)


class Connect4PerfectSolver:
    """Adapter from the bitboard solver to the `Solver` interface (outcome classes as values)."""

    def __init__(self) -> None:
        from games.connect4_solver import Connect4Solver

        self.solver = Connect4Solver()

    def move_values(self, state: State) -> np.ndarray:
        outcomes = np.asarray(self.solver.move_outcomes(state), dtype=np.float64)
        return np.where(outcomes < -1, np.nan, outcomes)

    def best(self, state: State, rng: np.random.Generator) -> tuple[int, float]:
        action = int(self.solver.best_action(state, rng))
        values = self.move_values(state)
        return action, float(values[action])


def make_solver(game: Game) -> Solver:
    if game.name == "tictactoe":
        return MinimaxSolver(game)
    if game.name == "connect4":
        return Connect4PerfectSolver()
    raise GameError(f"no perfect player for {game.name} (only tictactoe and connect4)")
