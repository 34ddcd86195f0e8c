"""Tic-tac-toe: batched Numba kernels and the `TicTacToe` game over them.

    >>> from games import play_moves
    >>> game = TicTacToe()
    >>> state = play_moves(game, ["b2", "a1", "c3"])
    >>> print(game.render(state))
    3 . . X
    2 . X .
    1 O . .
      a b c

Squares and actions: files a-c are the columns from left to right, ranks 1-3 the rows from
the bottom up, and square `<file><rank>` is action `3 * (rank - 1) + file_index`::

    rank 3 |  6  7  8        a3 b3 c3
    rank 2 |  3  4  5        a2 b2 c2
    rank 1 |  0  1  2        a1 b1 c1
              a  b  c

State: int8 `[10]`. Entries 0..8 are the squares in action order (0 empty, 1 an X of the
first player, 2 an O of the second player); entry 9 is the player to move (0 or 1).
The game is over when the player who just moved has three in a row (a loss, -1, for the
player to move) or when all nine squares are filled (a draw).

Encoding (float32 `[3, 3, 3]`, image row 0 = rank 3, column 0 = file a): plane 0 the marks
of the player to move, plane 1 the opponent's marks, plane 2 all ones.

Symmetries: the 8 of the square, `k = 0..7`: `k % 4` quarter turns counter-clockwise of
the image (`np.rot90`), then, for `k >= 4`, a left-right mirror. Policies are permuted by
the same map of squares.
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

SQUARES = 9
TO_MOVE = 9
"""Index of the player-to-move entry of a state."""
LINES = np.array([0b000000111, 0b000111000, 0b111000000,  # ranks
                  0b001001001, 0b010010010, 0b100100100,  # files
                  0b100010001, 0b001010100],  # diagonals a1-c3 and c1-a3
                 dtype=np.int64)
"""int64 `[8]`: the eight lines as 9-bit masks over the actions."""
_FULL = (1 << SQUARES) - 1


# --- kernels -------------------------------------------------------------------------------
@njit(cache=True, nogil=True, inline="always")
def has_line(marks: int) -> bool:
    """Whether a 9-bit mask of one player's marks contains a full line."""
    for k in range(8):
        if (marks & LINES[k]) == LINES[k]:
            return True
    return False


@njit(cache=True, nogil=True, inline="always")
def _masks(state: np.ndarray) -> tuple[int, int]:
    """(9-bit marks of the player to move, of the opponent) of one int8 `[10]` state."""
    me = state[TO_MOVE] + 1
    own = 0
    other = 0
    for a in range(SQUARES):
        if state[a] == me:
            own |= 1 << a
        elif state[a] != 0:
            other |= 1 << a
    return own, other


@njit(cache=True, nogil=True)
def batch_initial(batch_size: int) -> np.ndarray:
    """int8 `[B, 10]` empty boards, X to move."""
    return np.zeros((batch_size, SQUARES + 1), dtype=np.int8)


@njit(cache=True, nogil=True)
def batch_terminal(states: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(bool `[B]` finished, float32 `[B]` value for the player to move) of int8 `[B, 10]`."""
    n = states.shape[0]
    done = np.zeros(n, dtype=np.bool_)
    value = np.zeros(n, dtype=np.float32)
    for i in range(n):
        own, other = _masks(states[i])
        if has_line(other):
            done[i] = True
            value[i] = -1.0
        elif (own | other) == _FULL:
            done[i] = True
    return done, value


@njit(cache=True, nogil=True)
def batch_legal_mask(states: np.ndarray) -> np.ndarray:
    """bool `[B, 9]`: the empty squares, all False in a finished game."""
    n = states.shape[0]
    legal = np.zeros((n, SQUARES), dtype=np.bool_)
    for i in range(n):
        _, other = _masks(states[i])
        if has_line(other):
            continue
        for a in range(SQUARES):
            legal[i, a] = states[i, a] == 0
    return legal


@njit(cache=True, nogil=True)
def batch_step(states: np.ndarray, actions: np.ndarray) -> np.ndarray:
    """int8 `[B, 10]` successors of `[B, 10]` states under int64 `[B]` legal actions."""
    out = states.copy()
    for i in range(states.shape[0]):
        out[i, actions[i]] = states[i, TO_MOVE] + 1
        out[i, TO_MOVE] = 1 - states[i, TO_MOVE]
    return out


@njit(cache=True, nogil=True)
def batch_to_play(states: np.ndarray) -> np.ndarray:
    """int8 `[B]`: the player to move (0 = X, 1 = O)."""
    return states[:, TO_MOVE].copy()


@njit(cache=True, nogil=True)
def batch_encode(states: np.ndarray) -> np.ndarray:
    """float32 `[B, 3, 3, 3]`: own marks, opponent marks, ones; image row 0 = rank 3."""
    n = states.shape[0]
    out = np.zeros((n, 3, 3, 3), dtype=np.float32)
    for i in range(n):
        me = states[i, TO_MOVE] + 1
        for a in range(SQUARES):
            h = 2 - a // 3
            w = a % 3
            if states[i, a] == me:
                out[i, 0, h, w] = 1.0
            elif states[i, a] != 0:
                out[i, 1, h, w] = 1.0
            out[i, 2, h, w] = 1.0
    return out


@njit(cache=True, nogil=True, inline="always")
def _playout(rng: np.uint64, own: int, other: int) -> tuple[np.uint64, float, int]:
    """Random playout from an unfinished position given as 9-bit masks (player to move,
    opponent): (rng, result for the player to move at the start, plies played)."""
    sign = 1.0
    plies = 0
    while True:
        empty = _FULL & ~(own | other)
        free = 0
        for a in range(SQUARES):
            free += (empty >> a) & 1
        rng, bits = next_u64(rng)
        pick = below(bits, free)
        a = 0
        while True:
            if (empty >> a) & 1:
                if pick == 0:
                    break
                pick -= 1
            a += 1
        own |= 1 << a
        plies += 1
        if has_line(own):
            return rng, sign, plies
        if (own | other) == _FULL:
            return rng, 0.0, plies
        own, other = other, own
        sign = -sign


@njit(cache=True, nogil=True)
def batch_random_rollout(states: np.ndarray, seed: np.uint64) -> np.ndarray:
    """float32 `[B]`: one uniformly random playout from each int8 `[B, 10]` state, scored for
    the player to move there (a finished state scores its terminal value)."""
    n = states.shape[0]
    out = np.zeros(n, dtype=np.float32)
    for i in range(n):
        own, other = _masks(states[i])
        if has_line(other):
            out[i] = -1.0
        elif (own | other) != _FULL:
            _, result, _ = _playout(stream(seed, i), own, other)
            out[i] = result
    return out


@njit(cache=True, nogil=True)
def bulk_playouts(num_playouts: int, seed: np.uint64) -> np.ndarray:
    """Fused random playouts from the empty board, nothing stored per game.

    Returns:
        int64 `[4]`: wins of X (the first player), draws, wins of O, total plies played.
    """
    counts = np.zeros(4, dtype=np.int64)
    for i in range(num_playouts):
        _, result, plies = _playout(stream(seed, i), 0, 0)
        if result > 0:
            counts[0] += 1
        elif result < 0:
            counts[2] += 1
        else:
            counts[1] += 1
        counts[3] += plies
    return counts


# --- symmetries ------------------------------------------------------------------------------
def _transform_image(k: int, images: np.ndarray) -> np.ndarray:
    """Dihedral map `k` on the last two axes of `[..., 3, 3]` images."""
    out = np.rot90(images, k % 4, axes=(-2, -1))
    if k >= 4:
        out = out[..., ::-1]
    return np.ascontiguousarray(out)


def _policy_to_image(policies: np.ndarray) -> np.ndarray:
    """`[..., 9]` in action order -> `[..., 3, 3]` in image order (row 0 = rank 3)."""
    return policies.reshape(*policies.shape[:-1], 3, 3)[..., ::-1, :]


def _image_to_policy(images: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(images[..., ::-1, :]).reshape(*images.shape[:-2], SQUARES)


# --- the game --------------------------------------------------------------------------------
class TicTacToe:
    """Tic-tac-toe over the kernels above; states are int8 `[10]` (see the module doc)."""

    name = "tictactoe"
    num_actions = SQUARES
    num_players = 2
    observation_shape = (3, 3, 3)
    num_symmetries = 8
    state_shape = (SQUARES + 1,)
    state_dtype = np.dtype(np.int8)

    def __repr__(self) -> str:
        return "TicTacToe()"

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
        """int64 `[4]`: X wins, draws, O wins, plies (see the kernel)."""
        return bulk_playouts(int(num_playouts), seed_to_u64(seed))

    @staticmethod
    def _rows(states: np.ndarray) -> np.ndarray:
        """A batch as contiguous int8 `[B, 10]`; anything else is rejected."""
        array = np.asarray(states)
        if array.ndim != 2 or array.shape[1] != SQUARES + 1 or array.dtype.kind not in "iu":
            raise GameError(f"a batch of tic-tac-toe states is an integer array [B, 10], got "
                            f"{array.dtype} {array.shape}")
        return np.ascontiguousarray(array, dtype=np.int8)

    # --- single-state API (wrappers over the kernels) ----------------------------------
    def initial_state(self) -> np.ndarray:
        return batch_initial(1)[0]

    def legal_mask(self, state: np.ndarray) -> np.ndarray:
        return batch_legal_mask(self._one(state))[0]

    def next_state(self, state: np.ndarray, action: Action) -> np.ndarray:
        row = self._one(state)
        square = self._square(action)
        if batch_terminal(row)[0][0]:
            raise GameOverError(f"the game is over; no move on {_square_name(square)}")
        if not batch_legal_mask(row)[0, square]:
            raise IllegalMoveError(f"{_square_name(square)} is occupied")
        return batch_step(row, np.array([square], dtype=np.int64))[0]

    def to_play(self, state: np.ndarray) -> Player:
        return int(batch_to_play(self._one(state))[0])

    def outcome(self, state: np.ndarray) -> Outcome | None:
        row = self._one(state)
        done, value = batch_terminal(row)
        if not done[0]:
            return None
        if value[0] < 0:
            return Outcome(Termination.LINE, winner=1 - int(row[0, TO_MOVE]))
        return Outcome(Termination.BOARD_FULL, winner=NO_PLAYER)

    def encode(self, state: np.ndarray) -> np.ndarray:
        return batch_encode(self._one(state))[0]

    def apply_symmetry(self, k: int, observations: np.ndarray, policies: np.ndarray
                       ) -> tuple[np.ndarray, np.ndarray]:
        """Symmetry `k` (0..7, see the module doc) of encodings `[..., 3, 3, 3]` and
        policies `[..., 9]`."""
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 0 <= k < 8:
            raise GameError(f"tic-tac-toe has symmetries 0 to 7, not {k!r}")
        observations, policies = np.asarray(observations), np.asarray(policies)
        if observations.shape[-3:] != self.observation_shape or policies.shape[-1] != SQUARES:
            raise GameError(f"expected encodings [..., 3, 3, 3] and policies [..., 9], got "
                            f"{observations.shape} and {policies.shape}")
        k = int(k)
        return (_transform_image(k, observations),
                _image_to_policy(_transform_image(k, _policy_to_image(policies))))

    def action_to_text(self, state: np.ndarray, action: Action) -> str:
        return _square_name(self._square(action))

    def text_to_action(self, state: np.ndarray, text: str) -> Action:
        """Parse a square `a1`..`c3` (any case). Raises `MoveParseError` for anything else,
        `GameOverError` in a finished game, `IllegalMoveError` for an occupied square."""
        move = text.strip().lower() if isinstance(text, str) else None
        if move is None or len(move) != 2 or move[0] not in "abc" or move[1] not in "123":
            raise MoveParseError(f"{text!r} is not a square: type a file a-c and a rank 1-3, "
                                 "e.g. b2")
        square = 3 * (int(move[1]) - 1) + "abc".index(move[0])
        row = self._one(state)
        if batch_terminal(row)[0][0]:
            raise GameOverError("the game is over")
        if not batch_legal_mask(row)[0, square]:
            raise IllegalMoveError(f"{move} is occupied")
        return square

    def board(self, state: np.ndarray) -> np.ndarray:
        """int8 `[3, 3]` indexed `[rank - 1, file]`: 0 empty, 1 X, 2 O."""
        return self._one(state)[0, :SQUARES].reshape(3, 3).copy()

    def render(self, state: np.ndarray) -> str:
        """Ranks 3 to 1 from the top, X for the first player, O for the second, files under."""
        grid = self.board(state)
        lines = [f"{r + 1} " + " ".join(".XO"[v] for v in grid[r]) for r in (2, 1, 0)]
        lines.append("  a b c")
        return "\n".join(lines)

    def game_record(self, actions: Sequence[Action], outcome: Outcome | None = None) -> str:
        """The squares separated by spaces (e.g. `'b2 a1 c3'`), followed by the result
        (`1-0`, `0-1`, `1/2-1/2`) when an outcome is given. Illegal sequences raise."""
        state = self.initial_state()
        for action in actions:
            state = self.next_state(state, action)
        record = " ".join(_square_name(int(a)) for a in actions)
        if outcome is not None:
            record = f"{record} {outcome.result_string()}".lstrip()
        return record

    # --- validation ------------------------------------------------------------------------
    @staticmethod
    def _one(state: np.ndarray) -> np.ndarray:
        """A single state as a batch of one, int8 `[1, 10]`."""
        array = np.asarray(state)
        if array.shape != (SQUARES + 1,) or array.dtype.kind not in "iu":
            raise GameError(f"a tic-tac-toe state is an integer array of shape (10,), got "
                            f"{array.dtype} {array.shape}")
        return np.ascontiguousarray(array, dtype=np.int8).reshape(1, SQUARES + 1)

    @staticmethod
    def _square(action: Action) -> int:
        if isinstance(action, bool) or not isinstance(action, (int, np.integer)):
            raise IllegalMoveError(f"a tic-tac-toe action is a square index 0-8, got {action!r}")
        if not 0 <= int(action) < SQUARES:
            raise IllegalMoveError(f"action {int(action)} is not a square index 0-8")
        return int(action)


def _square_name(square: int) -> str:
    """`'a1'`..`'c3'` for square indices 0..8."""
    return "abc"[square % 3] + str(square // 3 + 1)
