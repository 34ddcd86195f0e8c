"""Chess states as fixed-size int64 rows, and the batch rules as Numba kernels over them.

A state row holds everything the rules and the input planes need, so the search and
self-play step a batch `[B, S]` without Python objects (`Chess` wraps these kernels as its
`BatchGame` methods; `games.chess.state.ChessState` stays the single-state form, with a
parent chain and python-chess text). With T the game's `history`:

==================  ======================================================================
fields              content
==================  ======================================================================
0 - 7               header: `HISTORY` (T), `DRAW_RULES` (0/1), `MAX_MOVES` (half-moves,
                    `bitrules.NO_LIMIT` for none), `STATUS` (the position's termination
                    code, `bitrules.NOT_OVER` while the game goes on), `NUM_KEYS`
                    (repetition keys since the last irreversible move); 5 - 7 spare (0)
8 + 16 t            T bitboard positions (`games.chess.bitboard`), the current one (t = 0)
                    first, then its predecessors; all zeros before the start of the game
8 + 16 T + t        T repetition counts of those positions (1 = the first occurrence since
                    the last irreversible move; 0 = no position)
8 + 17 T + k        `KEY_CAPACITY` repetition keys (`movegen.repetition_key`) as a ring:
                    key number i (0 = the position after the last capture or pawn move)
                    at slot `i % KEY_CAPACITY`
==================  ======================================================================

The header makes the rows self-describing: the kernels take no game options, so the search
can call them from inside its own jitted loop (`mcts.fused`) for any `Chess` configuration.
With the draw rules on a game ends when the halfmove clock reaches 100, so the 101 keys
since the last irreversible move always fit; without them only the last 101 are counted.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from games.chess.actions import ACTION_FROM, ACTION_PROMOTION, ACTION_TO, NUM_ACTIONS
from games.chess.bitboard import (
    EP_SQUARE,
    HALFMOVE,
    KING,
    PAWN,
    POSITION_SIZE,
    TURN,
)
from games.chess.bitrules import CHECKMATE, NOT_OVER, move_action, termination
from games.chess.movegen import (
    CASTLING_MOVE,
    DOUBLE_PUSH,
    EN_PASSANT,
    MAX_MOVES,
    generate_moves,
    make_move,
    piece_on,
    repetition_key,
)
from games.chess.planes import encode_planes

HISTORY, DRAW_RULES, MAX_MOVES_FIELD, STATUS, NUM_KEYS = 0, 1, 2, 3, 4
"""Header fields (see the module docstring)."""
HEADER = 8
"""Fields before the first position."""
KEY_CAPACITY = 101
"""Repetition keys a row keeps: the positions of halfmove clocks 0 to 100."""
PLAYOUT_LIMIT = 1024
"""Half-moves after which a random playout stops and counts as a draw."""

_FROM = np.ascontiguousarray(ACTION_FROM, dtype=np.int64)
_TO = np.ascontiguousarray(ACTION_TO, dtype=np.int64)
_PROMOTION = np.ascontiguousarray(ACTION_PROMOTION, dtype=np.int64)


def state_size(history: int) -> int:
    """S, the length of a state row for `history` positions."""
    return HEADER + (POSITION_SIZE + 1) * history + KEY_CAPACITY


@njit(cache=True, nogil=True, inline="always")
def _reps_at(history: int) -> int:
    return HEADER + POSITION_SIZE * history


@njit(cache=True, nogil=True, inline="always")
def _keys_at(history: int) -> int:
    return HEADER + (POSITION_SIZE + 1) * history


@njit(cache=True, nogil=True)
def count_key(row: np.ndarray, key: int) -> int:
    """Occurrences of `key` among the row's stored repetition keys."""
    at = _keys_at(row[HISTORY])
    count = 0
    for k in range(min(row[NUM_KEYS], KEY_CAPACITY)):
        count += row[at + k] == key
    return count


@njit(cache=True, nogil=True)
def refresh_status(row: np.ndarray) -> None:
    """Recompute the row's `STATUS` from its position and repetition count."""
    moves = np.empty(MAX_MOVES, dtype=np.int32)
    pos = row[HEADER:HEADER + POSITION_SIZE]
    has_moves = generate_moves(pos, moves) > 0
    row[STATUS] = termination(pos, has_moves, row[_reps_at(row[HISTORY])],
                              row[DRAW_RULES] != 0, row[MAX_MOVES_FIELD])


@njit(cache=True, nogil=True)
def action_move(pos: np.ndarray, action: int) -> int:
    """The kernel move (`games.chess.movegen`) of the legal `action` in `pos`; the result is
    undefined for an action that is not legal there."""
    flip = 56 * pos[TURN]
    origin = _FROM[action] ^ flip
    to = _TO[action] ^ flip
    piece = piece_on(pos, origin)
    promotion = _PROMOTION[action] - 1 if _PROMOTION[action] else 0
    flag = 0
    if piece == PAWN:
        if to < 8 or to >= 56:
            promotion = promotion if promotion > 0 else 4
        elif to - origin == 16 or origin - to == 16:
            flag = DOUBLE_PUSH
        elif to == pos[EP_SQUARE] and (origin & 7) != (to & 7):
            flag = EN_PASSANT
    elif piece == KING and (to - origin == 2 or origin - to == 2):
        flag = CASTLING_MOVE
    return origin | to << 6 | promotion << 12 | flag << 15


@njit(cache=True, nogil=True)
def step_row(row: np.ndarray, move: int, out: np.ndarray) -> None:
    """Write the state after the legal kernel `move` of `row` into `out` (not `row`)."""
    history = row[HISTORY]
    reps, keys = _reps_at(history), _keys_at(history)
    out[:HEADER] = row[:HEADER]
    for t in range(history - 1, 0, -1):  # shift the past one place back
        start = HEADER + POSITION_SIZE * t
        out[start:start + POSITION_SIZE] = row[start - POSITION_SIZE:start]
        out[reps + t] = row[reps + t - 1]
    make_move(row[HEADER:HEADER + POSITION_SIZE], move, out[HEADER:HEADER + POSITION_SIZE])
    key = repetition_key(out[HEADER:HEADER + POSITION_SIZE])
    if out[HEADER + HALFMOVE] == 0:
        out[NUM_KEYS] = 1
        out[keys:keys + KEY_CAPACITY] = 0
        out[keys] = key
        out[reps] = 1
    else:
        count = row[NUM_KEYS]
        out[keys:keys + KEY_CAPACITY] = row[keys:keys + KEY_CAPACITY]
        out[keys + count % KEY_CAPACITY] = key
        out[NUM_KEYS] = count + 1
        out[reps] = count_key(out, key)
    refresh_status(out)


@njit(cache=True, nogil=True)
def replay(row: np.ndarray, actions: np.ndarray, moves: np.ndarray) -> int:
    """Play int64 `actions` `[n]` from `row`, writing their kernel moves into int32 `moves`
    `[n]`; return how many were legal where played (n unless one is not; the game's end is
    not checked, as `Chess.action_to_move` does not)."""
    current, spare = row.copy(), np.empty_like(row)
    legal = np.empty(MAX_MOVES, dtype=np.int32)
    for i in range(actions.shape[0]):
        pos = current[HEADER:HEADER + POSITION_SIZE]
        found = -1
        for k in range(generate_moves(pos, legal)):
            if move_action(legal[k], pos[TURN]) == actions[i]:
                found = legal[k]
                break
        if found < 0:
            return i
        moves[i] = found
        step_row(current, found, spare)
        current, spare = spare, current
    return actions.shape[0]


@njit(cache=True, nogil=True)
def batch_step(states: np.ndarray, actions: np.ndarray) -> np.ndarray:
    """`[B, S]` successors of `states` `[B, S]` under the legal int64 `actions` `[B]`."""
    out = np.empty_like(states)
    for b in range(states.shape[0]):
        move = action_move(states[b, HEADER:HEADER + POSITION_SIZE], actions[b])
        step_row(states[b], move, out[b])
    return out


@njit(cache=True, nogil=True)
def batch_legal_mask(states: np.ndarray) -> np.ndarray:
    """bool `[B, 4672]` legal actions of `[B, S]` states (none in a finished game)."""
    mask = np.zeros((states.shape[0], NUM_ACTIONS), dtype=np.bool_)
    moves = np.empty(MAX_MOVES, dtype=np.int32)
    for b in range(states.shape[0]):
        if states[b, STATUS] != NOT_OVER:
            continue
        pos = states[b, HEADER:HEADER + POSITION_SIZE]
        turn = pos[TURN]
        for i in range(generate_moves(pos, moves)):
            mask[b, move_action(moves[i], turn)] = True
    return mask


@njit(cache=True, nogil=True)
def batch_to_play(states: np.ndarray) -> np.ndarray:
    """int8 `[B]` player to move (0 White, 1 Black)."""
    out = np.empty(states.shape[0], dtype=np.int8)
    for b in range(states.shape[0]):
        out[b] = states[b, HEADER + TURN]
    return out


@njit(cache=True, nogil=True)
def batch_terminal(states: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(bool `[B]` finished, float32 `[B]` value for the player to move: -1 if mated)."""
    done = np.empty(states.shape[0], dtype=np.bool_)
    value = np.zeros(states.shape[0], dtype=np.float32)
    for b in range(states.shape[0]):
        done[b] = states[b, STATUS] != NOT_OVER
        if states[b, STATUS] == CHECKMATE:
            value[b] = -1.0
    return done, value


@njit(cache=True, nogil=True)
def batch_encode(states: np.ndarray) -> np.ndarray:
    """float32 `[B, 14 T + 7, 8, 8]` input planes (`games.chess.planes`) of `[B, S]` states."""
    history = states[0, HISTORY] if states.shape[0] else 1
    out = np.empty((states.shape[0], 14 * history + 7, 8, 8), dtype=np.float32)
    positions = np.empty((history, POSITION_SIZE), dtype=np.int64)
    present = np.empty(history, dtype=np.bool_)
    repetitions = np.empty(history, dtype=np.int64)
    reps = _reps_at(history)
    for b in range(states.shape[0]):
        for t in range(history):
            start = HEADER + POSITION_SIZE * t
            positions[t] = states[b, start:start + POSITION_SIZE]
            repetitions[t] = states[b, reps + t]
            present[t] = repetitions[t] > 0
        encode_planes(positions, present, repetitions, out[b])
    return out


@njit(cache=True, nogil=True, inline="always")
def _next_random(rng: np.uint64) -> np.uint64:
    """splitmix64 step."""
    rng += np.uint64(0x9E3779B97F4A7C15)
    z = rng
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


@njit(cache=True, nogil=True)
def batch_random_rollout(states: np.ndarray, seed: np.uint64) -> np.ndarray:
    """float32 `[B]`: one uniformly random playout from each state (at most `PLAYOUT_LIMIT`
    half-moves, then a draw), valued for the player to move in that state."""
    values = np.zeros(states.shape[0], dtype=np.float32)
    moves = np.empty(MAX_MOVES, dtype=np.int32)
    rng = np.uint64(seed)
    for b in range(states.shape[0]):
        row = states[b].copy()
        spare = np.empty_like(row)
        plies = 0
        while row[STATUS] == NOT_OVER and plies < PLAYOUT_LIMIT:
            n = generate_moves(row[HEADER:HEADER + POSITION_SIZE], moves)
            rng = _next_random(rng)
            step_row(row, moves[np.int64(rng % np.uint64(n))], spare)
            row, spare = spare, row
            plies += 1
        if row[STATUS] == CHECKMATE:  # the side to move at the end is mated
            values[b] = -1.0 if plies % 2 == 0 else 1.0
    return values


def size_check(states: np.ndarray, history: int) -> np.ndarray:
    """`states` as a C-contiguous int64 `[B, S]` array of `history`-position rows."""
    rows = np.ascontiguousarray(states, dtype=np.int64)
    if rows.ndim == 1:
        rows = rows[None]
    if rows.ndim != 2 or rows.shape[1] != state_size(history):
        raise ValueError(f"expected chess state rows of length {state_size(history)}, "
                         f"got shape {states.shape}")
    return rows


__all__ = [
    "DRAW_RULES", "HEADER", "HISTORY", "KEY_CAPACITY", "MAX_MOVES_FIELD", "NUM_KEYS", "STATUS",
    "action_move", "batch_encode", "batch_legal_mask", "batch_random_rollout", "batch_step",
    "batch_terminal", "batch_to_play", "count_key", "refresh_status", "replay", "size_check",
    "state_size", "step_row",
]
