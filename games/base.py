"""The `Game` protocol every board game (and every LLM task) satisfies, and its vocabulary.

A game is a set of pure functions over opaque *states*: the engine, the search and the
front ends never look inside a state, they only pass it back to the game. States are
immutable from the caller's point of view: `next_state` returns a new state.

Two layers:

* `Game`: one state at a time, with move text both ways, rendering and symmetries. Every
  game implements it (chess through python-chess, LLM tasks over text).
* `BatchGame`: games whose rules are Numba kernels also expose the same rules over a batch
  of states stored as one array `[B, *state_shape]`. The search and self-play use these to
  step hundreds of games per call. For such games the single-state API is a thin wrapper
  around the batch kernels, so the two can never disagree; `games.batched.KernelGame`
  writes both APIs once, and a game binds its kernels. `search_kernels` hands the same
  rules to a search as kernels of the states alone, which it can call from its own
  jitted loop.

Players are numbered 0 (moves first) and 1. Values are always in [-1, 1] and, unless stated
otherwise, from the point of view of the player to move.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple, Protocol, runtime_checkable

import numpy as np

Player = int
"""0 for the player who moves first, 1 for the other one (one-player games only use 0)."""

Action = int
"""An index into the game's action space, `0 <= action < num_actions`."""

State = Any
"""An opaque game state; only the game that made it looks inside."""

NO_PLAYER: Player = -1
"""Sentinel for "nobody" (the winner of a drawn game)."""


class Termination(enum.Enum):
    """Why a game ended."""

    LINE = "line"  # a player completed a winning line (tic-tac-toe, Connect Four)
    BOARD_FULL = "board_full"  # no empty cell left and no line: a draw
    CHECKMATE = "checkmate"
    STALEMATE = "stalemate"
    INSUFFICIENT_MATERIAL = "insufficient_material"
    SEVENTYFIVE_MOVES = "seventyfive_moves"
    FIVEFOLD_REPETITION = "fivefold_repetition"
    FIFTY_MOVES = "fifty_moves"
    THREEFOLD_REPETITION = "threefold_repetition"
    SCORE = "score"  # the game was scored (Go after two passes)
    RESIGNATION = "resignation"
    MAX_LENGTH = "max_length"  # the game hit its configured length limit
    VERIFIED = "verified"  # an LLM task's answer was judged by its verifier


@dataclass(frozen=True)
class Outcome:
    """How a finished game ended.

    Attributes:
        termination: why it ended.
        winner: the winning player, or `NO_PLAYER` for a draw (and for one-player games).
        reward: for one-player games, the terminal reward in [-1, 1]; `None` otherwise.
        margin: an optional score margin from the winner's point of view (Go's area score
            difference), informational only.
    """

    termination: Termination
    winner: Player = NO_PLAYER
    reward: float | None = None
    margin: float | None = None

    @property
    def is_draw(self) -> bool:
        return self.reward is None and self.winner == NO_PLAYER

    def value(self, player: Player) -> float:
        """The result in [-1, 1] from `player`'s point of view (1 win, 0 draw, -1 loss)."""
        if self.reward is not None:
            return float(self.reward)
        if self.winner == NO_PLAYER:
            return 0.0
        return 1.0 if self.winner == player else -1.0

    def result_string(self) -> str:
        """The result in the usual notation: '1-0', '0-1', '1/2-1/2', or the reward."""
        if self.reward is not None:
            return f"{self.reward:g}"
        return {0: "1-0", 1: "0-1"}.get(self.winner, "1/2-1/2")


class GameError(ValueError):
    """Base class for bad input given to a game."""


class MoveParseError(GameError):
    """A move text that the game cannot read at all (e.g. 'z9' in tic-tac-toe)."""


class IllegalMoveError(GameError):
    """A well-formed move that the rules forbid in this position."""


class GameOverError(GameError):
    """A move was asked for in a finished game."""


@runtime_checkable
class Game(Protocol):
    """The rules of one game, over opaque immutable states.

    Attributes:
        name: the registry name (`games.make(name)`).
        num_actions: size of the action space A; policies are vectors of length A.
        num_players: 1 or 2.
        observation_shape: `(C, H, W)` of `encode`'s output.
        num_symmetries: how many symmetries `apply_symmetry` knows (1 = identity only).
        record_extension: the file extension of `game_record`'s text (`txt`, `sgf`, `pgn`).
    """

    name: str
    num_actions: int
    num_players: int
    observation_shape: tuple[int, int, int]
    num_symmetries: int
    record_extension: str

    def initial_state(self) -> State: ...

    def legal_mask(self, state: State) -> np.ndarray:
        """bool `[A]`: True where the action is legal. All False in a finished game."""
        ...

    def next_state(self, state: State, action: Action) -> State:
        """The state after `action`. Raises `IllegalMoveError` or `GameOverError`."""
        ...

    def to_play(self, state: State) -> Player: ...

    def outcome(self, state: State) -> Outcome | None:
        """The outcome if the game is over, else None."""
        ...

    def encode(self, state: State) -> np.ndarray:
        """float32 `[C, H, W]` network input from the point of view of the player to move."""
        ...

    def apply_symmetry(
        self, k: int, observations: np.ndarray, policies: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Apply symmetry `k` (0 = identity) to encodings `[..., C, H, W]` and policies `[..., A]`."""
        ...

    def action_to_text(self, state: State, action: Action) -> str: ...

    def text_to_action(self, state: State, text: str) -> Action:
        """Parse a move. Raises `MoveParseError` (unreadable) or `IllegalMoveError`."""
        ...

    def render(self, state: State) -> str:
        """A human-readable drawing of the position (plain text, no colour codes)."""
        ...

    def game_record(self, actions: Sequence[Action], outcome: Outcome | None = None, *,
                    values: Sequence[float | None] | None = None) -> str:
        """The game from the initial state in the game's standard text form; `values` (one
        per move, the search's value for the player who made it) go where the format has
        room for comments (SGF, PGN) and are left out where it has none."""
        ...


class SearchKernels(NamedTuple):
    """A game's rules as Numba kernels over `[K, S]` states (one flat row per state), called
    with the states alone, so that a search can run its whole loop inside Numba.

    Each agrees with the `BatchGame` method of the same rules on the same states.

    Attributes:
        step: `(states [K, S], actions int64 [K]) -> states [K, S]` (`batch_step`).
        legal_mask: `states [K, S] -> bool [K, A]` (`batch_legal_mask`).
        to_play: `states [K, S] -> int8 [K]` (`batch_to_play`).
        terminal: `states [K, S] -> (bool [K], float32 [K])` (`batch_terminal`).
        rollout: `(states [K, S], seed uint64) -> float32 [K]`, the same playouts as
            `batch_random_rollout(states, seed)`.
    """

    step: Any
    legal_mask: Any
    to_play: Any
    terminal: Any
    rollout: Any


@runtime_checkable
class BatchGame(Game, Protocol):
    """A game whose rules are also available as batched (Numba) kernels.

    States are 1-D arrays of `state_shape` and `state_dtype`; a batch is `[B, *state_shape]`.
    All batch methods are pure: they return new arrays and never modify their inputs.
    """

    state_shape: tuple[int, ...]
    state_dtype: np.dtype

    def batch_initial(self, batch_size: int) -> np.ndarray:
        """`[B, *state_shape]` initial states."""
        ...

    def batch_stack(self, states: Sequence[State]) -> np.ndarray:
        """`[B, *state_shape]`: a batch of single states (as `initial_state` and
        `next_state` return them, or rows of another batch)."""
        ...

    def batch_legal_mask(self, states: np.ndarray) -> np.ndarray:
        """bool `[B, A]`."""
        ...

    def batch_step(self, states: np.ndarray, actions: np.ndarray) -> np.ndarray:
        """`[B, *state_shape]` successors. Actions must be legal (not checked: hot path)."""
        ...

    def batch_to_play(self, states: np.ndarray) -> np.ndarray:
        """int8 `[B]` player to move."""
        ...

    def batch_terminal(self, states: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(bool `[B]` finished, float32 `[B]` value for the player to move; 0 if unfinished)."""
        ...

    def batch_encode(self, states: np.ndarray) -> np.ndarray:
        """float32 `[B, C, H, W]`."""
        ...

    def batch_random_rollout(self, states: np.ndarray, seed: int) -> np.ndarray:
        """float32 `[B]`: the result of one uniformly random playout from each state, from
        the point of view of the player to move in that state."""
        ...

    def search_kernels(self) -> SearchKernels | None:
        """The rules as jitted kernels of the states alone (see `SearchKernels`), or None
        where the game has none (its batch methods are then the only way in)."""
        ...


@runtime_checkable
class TerritoryGame(Game, Protocol):
    """A game that ends by passing and is counted by area (Go). It declares per-point
    ownership targets, for which the engine builds an auxiliary ownership head, and what
    the engine needs to take dead stones off and to decide when a pass is safe.

    Points are the `H * W` cells of the encoding's planes (row-major); ownership and stones
    are from player 0's point of view. Ownership planes `[..., H, W]` transform under
    `apply_symmetry` as the encoding's planes do.

    Attributes:
        pass_action: the action that passes.
    """

    pass_action: Action

    def final_ownership(self, state: State, dead: Sequence[int] = ()) -> np.ndarray:
        """float32 `[H, W]`: the area owner of each point once the stones on `dead` are off
        the board: +1 player 0's (a stone or an empty region that reaches only player 0's
        stones), -1 player 1's, 0 neither (dame, including seki's shared liberties)."""
        ...

    def stones(self, state: State) -> np.ndarray:
        """int8 `[H, W]`: +1 a stone of player 0, -1 a stone of player 1, 0 empty."""
        ...

    def passes(self, state: State) -> int:
        """Consecutive passes just played (0, 1, or 2 once the game is over by passing)."""
        ...

    def score_without(self, state: State, dead: Sequence[int]) -> float:
        """Player 0's area minus player 1's (with komi) once the stones on `dead` are off."""
        ...


def legal_actions(game: Game, state: State) -> np.ndarray:
    """int64 indices of the legal actions, ascending."""
    return np.flatnonzero(game.legal_mask(state))


def play_moves(game: Game, moves: Sequence[str], state: State | None = None) -> State:
    """Replay move texts from `state` (default: the initial state); raises on the first bad one."""
    state = game.initial_state() if state is None else state
    for text in moves:
        state = game.next_state(state, game.text_to_action(state, text))
    return state
