"""Numba kernels of the exact Connect Four solver: bitboards, move ordering, alpha-beta.

The search follows the design Pascal Pons describes in "Solving Connect Four": negamax
with alpha-beta pruning over 64-bit bitboards, only moves that do not hand the opponent an
immediate win, moves ordered by the number of winning threats they create (centre first
among equals), a transposition table holding upper and lower bounds, and the exact score
found by a sequence of null-window searches.

Bitboard layout (`games.connect4_bitboard`, shared with `games.connect4`): bit
`column * 7 + row`, row 0 at the bottom; the 7th bit of each column is a sentinel that is always empty. A position is the
pair (stones of the player to move, mask of all stones) plus the number of moves played.

Scores are Pons': relative to the player to move, 0 for a draw, `(43 - n) // 2` for a win
with the next stone when `n` stones are on the board, one less per further own stone.

Transposition table: `keys` uint32 `[2 P]` and `values` uint16 `[2 P]`, `P` a prime above
2**17, as `P` buckets of two slots. The position key `stones + mask` fits in 49 bits, so
its bucket (the key modulo `P`) and its low 32 bits (the stored tag) identify it
uniquely. The low byte of a value is 0 for an empty slot, `1 .. 37` for an upper bound
`score - MIN_SCORE + 1`, `38 .. 74` for a lower bound `score - MIN_SCORE + 1 + BOUND_SPAN`;
the high byte holds the number of stones, which decides replacement (see `_store`).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from games.connect4_bitboard import (  # noqa: F401 (the solver takes them from here)
    BOARD_MASK,
    BOTTOM_MASK,
    BOTTOM_MASKS,
    CELLS,
    COLUMN_MASKS,
    HEIGHT,
    TOP_MASKS,
    WIDTH,
    has_four,
)

MIN_SCORE = -(CELLS // 2) + 3
"""-18: the worst score, losing to the opponent's 4th stone."""
MAX_SCORE = (CELLS + 1) // 2 - 3
"""18: the best score, winning with one's own 4th stone."""
BOUND_SPAN = MAX_SCORE - MIN_SCORE + 1
"""Offset that tells lower bounds from upper bounds in the transposition table."""

_U1 = np.uint64(1)
_U0 = np.uint64(0)
_S1 = np.uint64(1)
_S2 = np.uint64(2)
_S3 = np.uint64(3)
_SH = np.uint64(HEIGHT)  # down-right / up-left diagonal step
_SV = np.uint64(HEIGHT + 1)  # one column
_SD = np.uint64(HEIGHT + 2)  # up-right diagonal step
_SV2 = np.uint64(2 * (HEIGHT + 1))
_SV3 = np.uint64(3 * (HEIGHT + 1))
_SH2 = np.uint64(2 * HEIGHT)
_SH3 = np.uint64(3 * HEIGHT)
_SD2 = np.uint64(2 * (HEIGHT + 2))
_SD3 = np.uint64(3 * (HEIGHT + 2))

COLUMN_ORDER = np.array([3, 2, 4, 1, 5, 0, 6], dtype=np.int64)
"""Columns from the centre outwards: the order moves are tried in among equals."""

_M1 = np.uint64(0x5555555555555555)
_M2 = np.uint64(0x3333333333333333)
_M4 = np.uint64(0x0F0F0F0F0F0F0F0F)
_H01 = np.uint64(0x0101010101010101)
_S56 = np.uint64(56)


@njit(cache=True, nogil=True, inline="always")
def popcount(x: np.uint64) -> int:
    """Number of set bits of a uint64."""
    x = x - ((x >> _S1) & _M1)
    x = (x & _M2) + ((x >> _S2) & _M2)
    x = (x + (x >> np.uint64(4))) & _M4
    return int((x * _H01) >> _S56)


@njit(cache=True, nogil=True, inline="always")
def winning_cells(stones: np.uint64, mask: np.uint64) -> np.uint64:
    """Empty cells (reachable or not) that would complete a four for the owner of `stones`."""
    # vertical: three stones below
    r = (stones << _S1) & (stones << _S2) & (stones << _S3)
    # horizontal
    p = (stones << _SV) & (stones << _SV2)
    r |= p & (stones << _SV3)
    r |= p & (stones >> _SV)
    p = (stones >> _SV) & (stones >> _SV2)
    r |= p & (stones << _SV)
    r |= p & (stones >> _SV3)
    # diagonal going down to the right
    p = (stones << _SH) & (stones << _SH2)
    r |= p & (stones << _SH3)
    r |= p & (stones >> _SH)
    p = (stones >> _SH) & (stones >> _SH2)
    r |= p & (stones << _SH)
    r |= p & (stones >> _SH3)
    # diagonal going up to the right
    p = (stones << _SD) & (stones << _SD2)
    r |= p & (stones << _SD3)
    r |= p & (stones >> _SD)
    p = (stones >> _SD) & (stones >> _SD2)
    r |= p & (stones << _SD)
    r |= p & (stones >> _SD3)
    return r & (BOARD_MASK ^ mask)


@njit(cache=True, nogil=True, inline="always")
def playable(mask: np.uint64) -> np.uint64:
    """The cell each non-full column would receive next."""
    return (mask + BOTTOM_MASK) & BOARD_MASK


@njit(cache=True, nogil=True, inline="always")
def can_win_next(stones: np.uint64, mask: np.uint64) -> bool:
    """Whether the player to move has a move that completes a four."""
    return (winning_cells(stones, mask) & playable(mask)) != _U0


@njit(cache=True, nogil=True, inline="always")
def non_losing_moves(stones: np.uint64, mask: np.uint64) -> np.uint64:
    """Playable cells after which the opponent cannot win at once (the mover cannot win now).

    Empty when every move loses: two opponent threats to block, or only moves under one.
    """
    possible = playable(mask)
    opponent_wins = winning_cells(stones ^ mask, mask)
    forced = possible & opponent_wins
    if forced:
        if forced & (forced - _U1):
            return _U0
        possible = forced
    return possible & ~(opponent_wins >> _S1)


@njit(cache=True, nogil=True, inline="always")
def _half(x: int) -> int:
    """Integer division by 2 rounding toward zero (C's `/`), which the bounds rely on."""
    return -((-x) // 2) if x < 0 else x // 2


@njit(cache=True, nogil=True)
def negamax(stones, mask, moves, alpha, beta, keys, values, counter):
    """Score of a position where the mover cannot win at once, within `(alpha, beta)`.

    Args:
        stones, mask: uint64 bitboards of the position.
        moves: number of stones on the board.
        alpha, beta: the search window, `alpha < beta`. A result `<= alpha` is an upper
            bound of the score, `>= beta` a lower bound, in between exact.
        keys, values: the transposition table (see the module docstring).
        counter: int64 `[1]`, incremented once per node.

    Returns:
        The (bounded) score in Pons' convention.
    """
    counter[0] += 1
    possible = non_losing_moves(stones, mask)
    if possible == _U0:
        return -((CELLS - moves) // 2)
    if moves >= CELLS - 2:
        return 0
    lower = -((CELLS - 2 - moves) // 2)
    if alpha < lower:
        alpha = lower
        if alpha >= beta:
            return alpha
    upper = (CELLS - 1 - moves) // 2
    key = stones + mask
    tag = np.uint32(key & np.uint64(0xFFFFFFFF))
    slot = np.int64(key % np.uint64(keys.shape[0] // 2)) * 2
    stored = 0
    if keys[slot] == tag:
        stored = np.int64(values[slot] & np.uint16(0xFF))
    elif keys[slot + 1] == tag:
        stored = np.int64(values[slot + 1] & np.uint16(0xFF))
    if stored:
        if stored > BOUND_SPAN:
            lower = stored - BOUND_SPAN + MIN_SCORE - 1
            if alpha < lower:
                alpha = lower
                if alpha >= beta:
                    return alpha
        else:
            upper = min(upper, stored + MIN_SCORE - 1)
    if beta > upper:
        beta = upper
        if alpha >= beta:
            return beta

    # order moves by the number of threats they leave; a stable sort keeps centre first
    cand = np.empty(WIDTH, dtype=np.uint64)
    score = np.empty(WIDTH, dtype=np.int64)
    count = 0
    for i in range(WIDTH):
        move = possible & COLUMN_MASKS[COLUMN_ORDER[i]]
        if move:
            s = popcount(winning_cells(stones | move, mask))
            j = count
            while j > 0 and score[j - 1] < s:
                cand[j] = cand[j - 1]
                score[j] = score[j - 1]
                j -= 1
            cand[j] = move
            score[j] = s
            count += 1

    for i in range(count):
        child_mask = mask | cand[i]
        value = -negamax(stones ^ mask, child_mask, moves + 1, -beta, -alpha,
                         keys, values, counter)
        if value >= beta:
            _store(keys, values, slot, tag, moves, value - MIN_SCORE + 1 + BOUND_SPAN)
            return value
        alpha = max(alpha, value)
    _store(keys, values, slot, tag, moves, alpha - MIN_SCORE + 1)
    return alpha


@njit(cache=True, nogil=True, inline="always")
def _store(keys, values, slot, tag, moves, code):
    """Put a bound into the pair of slots `slot, slot + 1` (two-tier replacement).

    An entry already there for the position is overwritten. Otherwise the first slot
    takes the new entry if it is empty or holds a position with as many stones or more
    (those nearest the root are the most expensive to recompute); the second slot
    takes every other entry.
    """
    if keys[slot] != tag and (
        keys[slot + 1] == tag
        or (values[slot] != 0 and np.int64(values[slot] >> np.uint16(8)) < moves)
    ):
        slot += 1
    keys[slot] = tag
    values[slot] = np.uint16(code | (moves << 8))


@njit(cache=True, nogil=True)
def solve_window(stones, mask, moves, low, high, keys, values, counter):
    """Exact score of a non-terminal position, known to lie in `[low, high]`, clipped to it.

    A result equal to `low` (or `high`) means "at most `low`" (or "at least `high`"):
    `low=-1, high=1` gives the sign only (a weak solve). Uses null-window searches that
    bisect the interval, each probe moved out to half the best (or worst) score still
    possible: quick wins and losses are cheap to prove or refute.
    """
    if can_win_next(stones, mask):
        return min(high, (CELLS + 1 - moves) // 2)
    clip_low, clip_high = low, high
    low = max(low, -((CELLS - moves) // 2))
    high = min(high, (CELLS + 1 - moves) // 2)
    while low < high:
        med = low + _half(high - low)
        if med <= 0 and _half(low) < med:
            med = _half(low)
        elif med >= 0 and _half(high) > med:
            med = _half(high)
        r = negamax(stones, mask, moves, med, med + 1, keys, values, counter)
        if r <= med:
            high = r
        else:
            low = r
    return min(max(low, clip_low), clip_high)


@njit(cache=True, nogil=True)
def child_scores(stones, mask, moves, weak, wanted, keys, values, counter, out):
    """Score of each move for the mover into `out` (int64 `[7]`), for the columns where
    `wanted` (bool `[7]`) is set; full or unwanted columns are left untouched.

    A move that completes a four scores `(43 - moves) // 2`; any other move scores minus
    the opponent's score after it. With `weak`, scores are clipped to -1, 0, 1.
    """
    win_now = winning_cells(stones, mask)
    possible = playable(mask)
    for col in range(WIDTH):
        move = possible & COLUMN_MASKS[col]
        if move == _U0 or not wanted[col]:
            continue
        if move & win_now:
            value = (CELLS + 1 - moves) // 2
        elif moves + 1 == CELLS:
            value = 0
        else:
            low, high = (-1, 1) if weak else (MIN_SCORE - 1, MAX_SCORE + 1)
            value = -solve_window(stones ^ mask, mask | move, moves + 1, low, high,
                                  keys, values, counter)
        out[col] = min(max(value, -1), 1) if weak else value
