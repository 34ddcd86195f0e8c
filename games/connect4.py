"""Connect Four on bitboards: batched Numba kernels and the `ConnectFour` game over them.

    >>> from games import play_moves
    >>> game = ConnectFour()
    >>> state = play_moves(game, "4453")
    >>> game.to_play(state), game.game_record([3, 3, 4, 2])
    (0, '4453')

Board: 7 columns x 6 rows, stones drop to the lowest empty cell. Actions 0..6 are the
columns from left to right; move text is `'1'`..`'7'` (Pascal Pons' notation, so a game
record such as `'4453'` is a line of his test files).

Bitboard layout (Pons'; `games.connect4_solver` relies on it): cell (column c, row r),
row 0 at the bottom, is bit `c * 7 + r`. The seventh bit of each column (`c * 7 + 6`) is a
sentinel that is always 0, so shifts never carry a line across columns::

     6 13 20 27 34 41 48   <- sentinels
     5 12 19 26 33 40 47
     4 11 18 25 32 39 46
     3 10 17 24 31 38 45
     2  9 16 23 30 37 44
     1  8 15 22 29 36 43
     0  7 14 21 28 35 42

State: uint64 `[3]` = `[stones of the player to move, mask of all stones, moves played]`.
The player to move is `moves % 2` (player 0 moves first and plays X). A stone in column
c is Pons' `stones ^= mask; mask |= mask + bottom(c)`: the carry of the addition lands on
the column's lowest empty cell, and the new player to move owns the old mask's other
stones. The game is over when the player who just moved (`stones ^ mask`) has four in a
row, a loss (-1) for the player to move, or when the board is full (a draw).

Encoding (float32 `[3, 6, 7]`, image row 0 = the top row of the board):
plane 0 the stones of the player to move, plane 1 the opponent's stones, plane 2 all ones
(marks the board inside the zero padding of convolutions).

Symmetries: 0 identity, 1 the left-right mirror (columns c <-> 6 - c).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numba import njit

from games.base import (
    NO_PLAYER,
    Action,
    GameError,
    GameOverError,
    IllegalMoveError,
    MoveParseError,
    Outcome,
    Player,
    Termination,
)
from games.prng import below, next_u64, seed_to_u64, stream

WIDTH = 7
HEIGHT = 6
CELLS = WIDTH * HEIGHT
_U = np.uint64
BOTTOM_MASKS = np.array([1 << (7 * c) for c in range(WIDTH)], dtype=np.uint64)
"""uint64 `[7]`: the bottom cell of each column."""
TOP_MASKS = np.array([1 << (7 * c + HEIGHT - 1) for c in range(WIDTH)], dtype=np.uint64)
"""uint64 `[7]`: the top cell of each column."""
COLUMN_MASKS = np.array([((1 << HEIGHT) - 1) << (7 * c) for c in range(WIDTH)], dtype=np.uint64)
"""uint64 `[7]`: the six cells of each column."""
BOARD_MASK = _U(sum(((1 << HEIGHT) - 1) << (7 * c) for c in range(WIDTH)))
"""uint64: all 42 cells (the mask of a full board)."""
_ZERO = _U(0)
_ONE = _U(1)
_S1, _S2, _S6, _S7, _S8 = _U(1), _U(2), _U(6), _U(7), _U(8)
_S12, _S14, _S16 = _U(12), _U(14), _U(16)
STONES, MASK, MOVES = 0, 1, 2
"""Indices of the three fields of a state."""


# --- kernels -------------------------------------------------------------------------------
@njit(cache=True, nogil=True, inline="always")
def has_four(stones: np.uint64) -> bool:
    """Whether the stones (a bitboard) contain four in a row in any direction."""
    m = stones & (stones >> _S7)  # horizontal
    if (m & (m >> _S14)) != _ZERO:
        return True
    m = stones & (stones >> _S6)  # diagonal going down to the right
    if (m & (m >> _S12)) != _ZERO:
        return True
    m = stones & (stones >> _S8)  # diagonal going up to the right
    if (m & (m >> _S16)) != _ZERO:
        return True
    m = stones & (stones >> _S1)  # vertical
    return (m & (m >> _S2)) != _ZERO


@njit(cache=True, nogil=True, inline="always")
def _play(stones: np.uint64, mask: np.uint64, column: int) -> tuple[np.uint64, np.uint64]:
    """(stones of the new player to move, new mask) after a stone in `column`."""
    return stones ^ mask, mask | (mask + BOTTOM_MASKS[column])


@njit(cache=True, nogil=True)
def batch_initial(batch_size: int) -> np.ndarray:
    """uint64 `[B, 3]` empty boards."""
    return np.zeros((batch_size, 3), dtype=np.uint64)


@njit(cache=True, nogil=True)
def batch_terminal(states: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(bool `[B]` finished, float32 `[B]` value for the player to move) of uint64 `[B, 3]`."""
    n = states.shape[0]
    done = np.zeros(n, dtype=np.bool_)
    value = np.zeros(n, dtype=np.float32)
    for i in range(n):
        if has_four(states[i, STONES] ^ states[i, MASK]):
            done[i] = True
            value[i] = -1.0
        elif states[i, MASK] == BOARD_MASK:
            done[i] = True
    return done, value


@njit(cache=True, nogil=True)
def batch_legal_mask(states: np.ndarray) -> np.ndarray:
    """bool `[B, 7]`: the columns that are not full, all False in a finished game."""
    n = states.shape[0]
    legal = np.zeros((n, WIDTH), dtype=np.bool_)
    for i in range(n):
        mask = states[i, MASK]
        if has_four(states[i, STONES] ^ mask):
            continue
        for c in range(WIDTH):
            legal[i, c] = (mask & TOP_MASKS[c]) == _ZERO
    return legal


@njit(cache=True, nogil=True)
def batch_step(states: np.ndarray, actions: np.ndarray) -> np.ndarray:
    """uint64 `[B, 3]` successors of `[B, 3]` states under int64 `[B]` legal columns."""
    n = states.shape[0]
    out = np.empty((n, 3), dtype=np.uint64)
    for i in range(n):
        stones, mask = _play(states[i, STONES], states[i, MASK], actions[i])
        out[i, STONES] = stones
        out[i, MASK] = mask
        out[i, MOVES] = states[i, MOVES] + _ONE
    return out


@njit(cache=True, nogil=True)
def batch_to_play(states: np.ndarray) -> np.ndarray:
    """int8 `[B]`: the player to move (0 first, 1 second)."""
    n = states.shape[0]
    out = np.empty(n, dtype=np.int8)
    for i in range(n):
        out[i] = np.int8(states[i, MOVES] & _ONE)
    return out


@njit(cache=True, nogil=True)
def batch_encode(states: np.ndarray) -> np.ndarray:
    """float32 `[B, 3, 6, 7]`: own stones, opponent stones, ones; image row 0 = top row."""
    n = states.shape[0]
    out = np.zeros((n, 3, HEIGHT, WIDTH), dtype=np.float32)
    for i in range(n):
        own = states[i, STONES]
        other = own ^ states[i, MASK]
        for c in range(WIDTH):
            for r in range(HEIGHT):
                bit = _ONE << _U(7 * c + r)
                h = HEIGHT - 1 - r
                if own & bit:
                    out[i, 0, h, c] = 1.0
                elif other & bit:
                    out[i, 1, h, c] = 1.0
                out[i, 2, h, c] = 1.0
    return out


@njit(cache=True, nogil=True, inline="always")
def _random_column(rng: np.uint64, mask: np.uint64) -> tuple[np.uint64, int]:
    """A uniformly random non-full column (rejection sampling; some column must be free)."""
    while True:
        rng, bits = next_u64(rng)
        c = below(bits, WIDTH)
        if (mask & TOP_MASKS[c]) == _ZERO:
            return rng, c


@njit(cache=True, nogil=True, inline="always")
def _playout(rng: np.uint64, stones: np.uint64, mask: np.uint64
             ) -> tuple[np.uint64, float, int]:
    """Random playout from an unfinished position: (rng, result for the player to move at
    the start, plies played)."""
    sign = 1.0  # +1 while the start player is the one about to move
    plies = 0
    while True:
        rng, c = _random_column(rng, mask)
        mover = stones | ((mask + BOTTOM_MASKS[c]) & COLUMN_MASKS[c])
        stones, mask = _play(stones, mask, c)
        plies += 1
        if has_four(mover):
            return rng, sign, plies
        if mask == BOARD_MASK:
            return rng, 0.0, plies
        sign = -sign


@njit(cache=True, nogil=True)
def batch_random_rollout(states: np.ndarray, seed: np.uint64) -> np.ndarray:
    """float32 `[B]`: one uniformly random playout from each uint64 `[B, 3]` state, scored
    for the player to move there (a finished state scores its terminal value)."""
    n = states.shape[0]
    out = np.zeros(n, dtype=np.float32)
    for i in range(n):
        stones, mask = states[i, STONES], states[i, MASK]
        if has_four(stones ^ mask):
            out[i] = -1.0
        elif mask != BOARD_MASK:
            _, result, _ = _playout(stream(seed, i), stones, mask)
            out[i] = result
    return out


@njit(cache=True, nogil=True)
def bulk_playouts(num_playouts: int, seed: np.uint64) -> np.ndarray:
    """Fused random playouts from the empty board, nothing stored per game.

    Returns:
        int64 `[4]`: wins of the first player, draws, wins of the second player, and the
        total number of plies played.
    """
    counts = np.zeros(4, dtype=np.int64)
    for i in range(num_playouts):
        _, result, plies = _playout(stream(seed, i), _ZERO, _ZERO)
        # The first player moves first, so the result is already from its point of view.
        if result > 0:
            counts[0] += 1
        elif result < 0:
            counts[2] += 1
        else:
            counts[1] += 1
        counts[3] += plies
    return counts


# --- the game --------------------------------------------------------------------------------
class ConnectFour:
    """Connect Four (7 x 6) over the kernels above; states are uint64 `[3]` bitboards."""

    name = "connect4"
    num_actions = WIDTH
    num_players = 2
    observation_shape = (3, HEIGHT, WIDTH)
    num_symmetries = 2
    state_shape = (3,)
    state_dtype = np.dtype(np.uint64)

    def __repr__(self) -> str:
        return "ConnectFour()"

    # --- batch API ----------------------------------------------------------------------
    def batch_initial(self, batch_size: int) -> np.ndarray:
        return batch_initial(int(batch_size))

    def batch_stack(self, states: Sequence[np.ndarray]) -> np.ndarray:
        return np.stack(states)

    def batch_legal_mask(self, states: np.ndarray) -> np.ndarray:
        return batch_legal_mask(self._rows(states))

    def batch_step(self, states: np.ndarray, actions: np.ndarray) -> np.ndarray:
        return batch_step(self._rows(states), np.ascontiguousarray(actions, dtype=np.int64))

    def batch_to_play(self, states: np.ndarray) -> np.ndarray:
        return batch_to_play(self._rows(states))

    def batch_terminal(self, states: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return batch_terminal(self._rows(states))

    def batch_encode(self, states: np.ndarray) -> np.ndarray:
        return batch_encode(self._rows(states))

    def batch_random_rollout(self, states: np.ndarray, seed: int) -> np.ndarray:
        return batch_random_rollout(self._rows(states), seed_to_u64(seed))

    def bulk_playouts(self, num_playouts: int, seed: int) -> np.ndarray:
        """int64 `[4]`: first-player wins, draws, second-player wins, plies (see kernel)."""
        return bulk_playouts(int(num_playouts), seed_to_u64(seed))

    @staticmethod
    def _rows(states: np.ndarray) -> np.ndarray:
        """A batch as contiguous uint64 `[B, 3]`; anything else is rejected."""
        array = np.asarray(states)
        if array.ndim != 2 or array.shape[1] != 3 or array.dtype.kind not in "iu":
            raise GameError(f"a batch of Connect Four states is an integer array [B, 3], got "
                            f"{array.dtype} {array.shape}")
        return np.ascontiguousarray(array, dtype=np.uint64)

    # --- single-state API (wrappers over the kernels) ----------------------------------
    def initial_state(self) -> np.ndarray:
        return batch_initial(1)[0]

    def legal_mask(self, state: np.ndarray) -> np.ndarray:
        return batch_legal_mask(self._one(state))[0]

    def next_state(self, state: np.ndarray, action: Action) -> np.ndarray:
        row = self._one(state)
        column = self._column(action)
        if batch_terminal(row)[0][0]:
            raise GameOverError(f"the game is over; no move in column {column + 1}")
        if not batch_legal_mask(row)[0, column]:
            raise IllegalMoveError(f"column {column + 1} is full")
        return batch_step(row, np.array([column], dtype=np.int64))[0]

    def to_play(self, state: np.ndarray) -> Player:
        return int(batch_to_play(self._one(state))[0])

    def outcome(self, state: np.ndarray) -> Outcome | None:
        row = self._one(state)
        done, value = batch_terminal(row)
        if not done[0]:
            return None
        if value[0] < 0:
            return Outcome(Termination.LINE, winner=1 - int(batch_to_play(row)[0]))
        return Outcome(Termination.BOARD_FULL, winner=NO_PLAYER)

    def encode(self, state: np.ndarray) -> np.ndarray:
        return batch_encode(self._one(state))[0]

    def apply_symmetry(self, k: int, observations: np.ndarray, policies: np.ndarray
                       ) -> tuple[np.ndarray, np.ndarray]:
        """Symmetry `k` of encodings `[..., 3, 6, 7]` and policies `[..., 7]`: k=1 mirrors
        the board left-right and reverses the columns of the policy."""
        if k not in (0, 1):
            raise GameError(f"Connect Four has symmetries 0 and 1, not {k!r}")
        observations, policies = np.asarray(observations), np.asarray(policies)
        if observations.shape[-3:] != self.observation_shape or policies.shape[-1] != WIDTH:
            raise GameError(f"expected encodings [..., 3, 6, 7] and policies [..., 7], got "
                            f"{observations.shape} and {policies.shape}")
        if k == 0:
            return observations.copy(), policies.copy()
        return (np.ascontiguousarray(observations[..., ::-1]),
                np.ascontiguousarray(policies[..., ::-1]))

    def action_to_text(self, state: np.ndarray, action: Action) -> str:
        return str(self._column(action) + 1)

    def text_to_action(self, state: np.ndarray, text: str) -> Action:
        """Parse a column `'1'`..`'7'`. Raises `MoveParseError` for anything else,
        `GameOverError` in a finished game, `IllegalMoveError` for a full column."""
        move = text.strip() if isinstance(text, str) else text
        if not isinstance(move, str) or len(move) != 1 or move not in "1234567":
            raise MoveParseError(f"{text!r} is not a column: type a digit from 1 to 7")
        column = int(move) - 1
        row = self._one(state)
        if batch_terminal(row)[0][0]:
            raise GameOverError("the game is over")
        if not batch_legal_mask(row)[0, column]:
            raise IllegalMoveError(f"column {move} is full")
        return column

    def board(self, state: np.ndarray) -> np.ndarray:
        """int8 `[6, 7]` indexed `[row, column]`, row 0 at the bottom: 0 empty, 1 a stone
        of the first player (X), 2 of the second (O)."""
        stones, mask, moves = (int(x) for x in self._one(state)[0])
        first = stones if moves % 2 == 0 else stones ^ mask
        out = np.zeros((HEIGHT, WIDTH), dtype=np.int8)
        for c in range(WIDTH):
            for r in range(HEIGHT):
                bit = 1 << (7 * c + r)
                if mask & bit:
                    out[r, c] = 1 if first & bit else 2
        return out

    def render(self, state: np.ndarray) -> str:
        """Rows from the top, X for the first player, O for the second, column numbers under."""
        grid = self.board(state)
        lines = [" ".join(".XO"[v] for v in grid[r]) for r in range(HEIGHT - 1, -1, -1)]
        lines.append(" ".join(str(c + 1) for c in range(WIDTH)))
        return "\n".join(lines)

    def game_record(self, actions: Sequence[Action], outcome: Outcome | None = None) -> str:
        """Pons' digit string (e.g. `'4453'`), followed by ` 1-0` etc. when an outcome is
        given. The moves are replayed, so an illegal sequence raises."""
        state = self.initial_state()
        for action in actions:
            state = self.next_state(state, action)
        record = "".join(str(int(a) + 1) for a in actions)
        return f"{record} {outcome.result_string()}" if outcome is not None else record

    # --- validation ------------------------------------------------------------------------
    @staticmethod
    def _one(state: np.ndarray) -> np.ndarray:
        """A single state as a batch of one, uint64 `[1, 3]`."""
        array = np.asarray(state)
        if array.shape != (3,) or array.dtype.kind not in "iu":
            raise GameError(f"a Connect Four state is an integer array of shape (3,), got "
                            f"{array.dtype} {array.shape}")
        return np.ascontiguousarray(array, dtype=np.uint64).reshape(1, 3)

    @staticmethod
    def _column(action: Action) -> int:
        if isinstance(action, bool) or not isinstance(action, (int, np.integer)):
            raise IllegalMoveError(f"a Connect Four action is a column index 0-6, got {action!r}")
        if not 0 <= int(action) < WIDTH:
            raise IllegalMoveError(f"action {int(action)} is not a column index 0-6")
        return int(action)
