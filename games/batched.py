"""`KernelGame`: the `BatchGame` and `Game` APIs over a game's Numba kernels, written once.

A game whose rules are batched kernels subclasses `KernelGame`, sets its constants and
binds its kernels; the batch API (validated arrays in, kernels called) and the single-state
API (a state as a batch of one) come from here, so the two can never disagree::

    class TicTacToe(KernelGame):
        name, title = "tictactoe", "tic-tac-toe"
        ...
        kernels = Kernels.named_in(globals())  # batch_initial, batch_legal_mask, ...

`kernels` binds each hook below to the module's kernel of the conventional name (see
`Kernels`), and `search_kernels` hands the same kernels to a search; a game whose kernels
take its own tables (Go: board size, neighbours) writes the hooks as methods instead, and
its `search_kernels` binds its tables into kernels of the states alone. The hooks get batches already checked and made contiguous:

* `_initial(batch_size) -> [B, *state_shape]`;
* `_legal(rows) -> bool [B, A]`, all False in a finished game;
* `_step(rows, actions: int64 [B]) -> [B, *state_shape]`;
* `_to_play(rows) -> int8 [B]`;
* `_terminal(rows) -> (bool [B], float32 [B] value for the player to move)`;
* `_encode(rows) -> float32 [B, C, H, W]`;
* `_rollout(rows, seed: uint64) -> float32 [B]`;
* optionally `_bulk(num_playouts, seed: uint64) -> int64 [4]` for `bulk_playouts`.

A subclass still writes what only it knows: move text, rendering, records, symmetries,
and `_illegal_message` (why a move is illegal); `outcome` if a game can end other than by
the last mover's win or a draw.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any

import numpy as np
from numba import njit

from games.base import (
    NO_PLAYER,
    Action,
    GameError,
    GameOverError,
    IllegalMoveError,
    Outcome,
    Player,
    SearchKernels,
    Termination,
)
from games.prng import seed_to_u64


@njit(cache=True, nogil=True, inline="always")
def tally_playout(counts: np.ndarray, result: float, plies: int) -> None:
    """Add one playout from the initial state to the int64 `[4]` counts that `bulk_playouts`
    kernels return: first-player wins, draws, second-player wins, plies. `result` is from
    the first player's point of view."""
    if result > 0:
        counts[0] += 1
    elif result < 0:
        counts[2] += 1
    else:
        counts[1] += 1
    counts[3] += plies


@dataclass(frozen=True)
class Kernels:
    """A game's batched kernels; each becomes the `KernelGame` hook of the same name with a
    leading underscore (`legal` -> `_legal`)."""

    initial: Callable[..., Any]
    legal: Callable[..., Any]
    step: Callable[..., Any]
    to_play: Callable[..., Any]
    terminal: Callable[..., Any]
    encode: Callable[..., Any]
    rollout: Callable[..., Any]
    bulk: Callable[..., Any] | None = None

    @classmethod
    def named_in(cls, namespace: Mapping[str, Any]) -> Kernels:
        """The kernels a module defines under the conventional names: `batch_initial`,
        `batch_legal_mask`, `batch_step`, `batch_to_play`, `batch_terminal`,
        `batch_encode`, `batch_random_rollout` and, optionally, `bulk_playouts`."""
        return cls(namespace["batch_initial"], namespace["batch_legal_mask"],
                   namespace["batch_step"], namespace["batch_to_play"],
                   namespace["batch_terminal"], namespace["batch_encode"],
                   namespace["batch_random_rollout"], namespace.get("bulk_playouts"))


class KernelGame:
    """Base of the games whose rules are Numba kernels (see the module docstring).

    Attributes:
        title: the game's name in messages ("tic-tac-toe").
        state_shape: the shape of one state; a batch is `[B, *state_shape]`.
        state_dtype: the states' dtype; integer batches of other dtypes are converted.
        kernels: the module kernels bound to the hooks, if the game does not write them.
    """

    name: str
    title: str
    num_actions: int
    num_players = 2
    observation_shape: tuple[int, int, int]
    num_symmetries: int
    state_shape: tuple[int, ...]
    state_dtype: np.dtype

    kernels: Kernels | None = None

    # Kernel hooks: bound from `kernels`, or written by the game.
    _initial: Any
    _legal: Any
    _step: Any
    _to_play: Any
    _terminal: Any
    _encode: Any
    _rollout: Any
    _bulk: Any = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        kernels = cls.__dict__.get("kernels")
        if kernels is not None:
            for item in fields(kernels):
                kernel = getattr(kernels, item.name)
                if kernel is not None:
                    setattr(cls, f"_{item.name}", staticmethod(kernel))

    # --- batch API ----------------------------------------------------------------------
    def batch_initial(self, batch_size: int) -> np.ndarray:
        return self._initial(int(batch_size))

    def batch_legal_mask(self, states: np.ndarray) -> np.ndarray:
        return self._legal(self._rows(states))

    def batch_step(self, states: np.ndarray, actions: np.ndarray) -> np.ndarray:
        return self._step(self._rows(states), np.ascontiguousarray(actions, dtype=np.int64))

    def batch_to_play(self, states: np.ndarray) -> np.ndarray:
        return self._to_play(self._rows(states))

    def batch_terminal(self, states: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return self._terminal(self._rows(states))

    def batch_encode(self, states: np.ndarray) -> np.ndarray:
        return self._encode(self._rows(states))

    def batch_random_rollout(self, states: np.ndarray, seed: int) -> np.ndarray:
        return self._rollout(self._rows(states), seed_to_u64(seed))

    def bulk_playouts(self, num_playouts: int, seed: int) -> Any:
        """Fused random playouts from the initial state, nothing stored per game: int64 `[4]`
        first-player wins, draws, second-player wins, plies (see the game's kernel)."""
        if self._bulk is None:
            raise NotImplementedError(f"{self.title} has no fused playout kernel")
        return self._bulk(int(num_playouts), seed_to_u64(seed))

    def search_kernels(self) -> SearchKernels | None:
        """The bound module kernels (see `SearchKernels`); None for a game that writes its
        hooks as methods, unless it overrides this."""
        k = self.kernels
        if k is None:
            return None
        return SearchKernels(k.step, k.legal, k.to_play, k.terminal, k.rollout)

    # --- single-state API (a batch of one) ------------------------------------------------
    def initial_state(self) -> np.ndarray:
        return self._initial(1)[0]

    def legal_mask(self, state: np.ndarray) -> np.ndarray:
        return self._legal(self._one(state))[0]

    def next_state(self, state: np.ndarray, action: Action) -> np.ndarray:
        """The state after `action`. Raises `GameOverError` in a finished game and
        `IllegalMoveError` for an illegal move or an action outside `0..A-1`."""
        row = self._one(state)
        action = self._playable(row, action)
        return self._step(row, np.array([action], dtype=np.int64))[0]

    def to_play(self, state: np.ndarray) -> Player:
        return int(self._to_play(self._one(state))[0])

    def outcome(self, state: np.ndarray) -> Outcome | None:
        """None while the game goes on. A finished game with value -1 for the player to move
        was won by the other one with a line (`LINE`); any other finish is a draw
        (`BOARD_FULL`). Games that end otherwise override this."""
        row = self._one(state)
        done, value = self._terminal(row)
        if not done[0]:
            return None
        if value[0] < 0:
            return Outcome(Termination.LINE, winner=1 - int(self._to_play(row)[0]))
        return Outcome(Termination.BOARD_FULL, winner=NO_PLAYER)

    def encode(self, state: np.ndarray) -> np.ndarray:
        return self._encode(self._one(state))[0]

    def action_to_text(self, state: np.ndarray, action: Action) -> str:
        raise NotImplementedError

    # --- for subclasses ---------------------------------------------------------------------
    def _illegal_message(self, state: np.ndarray, action: Action) -> str:
        """Why the action index `action` may not be played in the unfinished `state`."""
        return f"{self.action_to_text(state, action)} is illegal here"

    def _finished(self, row: np.ndarray) -> bool:
        """Whether the state `row` (`[1, *state_shape]`) is finished; a game may answer
        faster than its terminal kernel."""
        return bool(self._terminal(row)[0][0])

    def _action(self, action: Action) -> int:
        """`action` as an int; raises `IllegalMoveError` for anything but an index 0..A-1."""
        if isinstance(action, bool) or not isinstance(action, (int, np.integer)):
            raise IllegalMoveError(f"a {self.title} action is an index 0-{self.num_actions - 1}, "
                                   f"got {action!r}")
        if not 0 <= int(action) < self.num_actions:
            raise IllegalMoveError(f"action {int(action)} is not an index "
                                   f"0-{self.num_actions - 1}")
        return int(action)

    def _playable(self, row: np.ndarray, action: Action) -> Action:
        """`action` as an int if it may be played in the state `row` (`[1, *state_shape]`);
        raises `IllegalMoveError` or `GameOverError`."""
        action = self._action(action)
        if self._finished(row):
            raise GameOverError(f"the game is over; {self.action_to_text(row[0], action)} "
                                "cannot be played")
        if not self._legal(row)[0, action]:
            raise IllegalMoveError(self._illegal_message(row[0], action))
        return action

    def _replayed(self, actions: Sequence[Action]) -> np.ndarray:
        """The state after `actions` from the initial state; raises on an illegal one."""
        state = self.initial_state()
        for action in actions:
            state = self.next_state(state, action)
        return state

    def _rows(self, states: np.ndarray) -> np.ndarray:
        """A batch as a contiguous `[B, *state_shape]` array of `state_dtype`; anything but
        an integer array of that shape is rejected with a `GameError`."""
        array = np.asarray(states)
        if array.ndim != len(self.state_shape) + 1 or array.shape[1:] != self.state_shape \
                or array.dtype.kind not in "iu":
            shape = ", ".join(map(str, self.state_shape))
            raise GameError(f"a batch of {self.title} states is an integer array [B, {shape}], "
                            f"got {array.dtype} {array.shape}")
        return np.ascontiguousarray(array, dtype=self.state_dtype)

    def _one(self, state: np.ndarray) -> np.ndarray:
        """A single state as a batch of one, `[1, *state_shape]`."""
        array = np.asarray(state)
        if array.shape != self.state_shape or array.dtype.kind not in "iu":
            raise GameError(f"a {self.title} state is an integer array of shape "
                            f"{self.state_shape}, got {array.dtype} {array.shape}")
        return np.ascontiguousarray(array, dtype=self.state_dtype).reshape(1, *self.state_shape)
