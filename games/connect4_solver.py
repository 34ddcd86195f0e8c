"""Exact Connect Four solver: scores of positions and of every move, and a perfect player.

    >>> solver = Connect4Solver(table_size=1 << 17)
    >>> solver.solve_moves("2252576253462244111563365343671351441")
    -1
    >>> state = state_from_moves("44444422222")  # column 4 full; the second player to move
    >>> solver.move_outcomes(state)  # 1 win, 0 draw, -1 loss, -2 full column
    array([-1, -1,  1, -2, -1, -1, -1], dtype=int8)
    >>> solver.best_action(state)  # 0-based: column 3 in Pons' digits
    2

A state is uint64 `[3]`: stones of the player to move, mask of all stones, moves played,
the layout of `games.connect4` (bit `column * 7 + row`, row 0 at the bottom). Moves in
text are Pascal Pons' digit strings, `'1'` the leftmost column.

Scores follow Pons' convention, relative to the player to move: 0 a draw, positive a win,
`(43 - n) // 2` for winning with the next stone when `n` stones are on the board and one
less for each further stone of one's own it takes; negative a loss likewise. The search
itself is in `games.connect4_search`; the shipped per-move outcome table of Pons' test
positions and its loader are in `games.connect4_data`.
"""

from __future__ import annotations

import numpy as np

from games.base import GameOverError, IllegalMoveError, MoveParseError
from games.connect4_data import load_move_outcomes
from games.connect4_search import (
    BOTTOM_MASKS,
    CELLS,
    COLUMN_MASKS,
    COLUMN_ORDER,
    HEIGHT,
    MAX_SCORE,
    MIN_SCORE,
    TOP_MASKS,
    WIDTH,
    child_scores,
    has_four,
    popcount,
    solve_window,
)

ILLEGAL = -2
"""`move_outcomes` value of a full column."""
ILLEGAL_SCORE = -100
"""`move_scores` value of a full column (below every real score)."""
WIN, DRAW, LOSS = 1, 0, -1
"""Outcome classes, from the point of view of the player making the move."""
DEFAULT_TABLE_SIZE = 1 << 23
"""Default number of transposition-table entries (6 bytes each, about 50 MB)."""
MEMO_MAX_MOVES = 16
"""Per-move scores of positions with at most this many stones are remembered: opening
positions recur from game to game and cost seconds to minutes each to solve."""
MEMO_SIZE = 1 << 16
"""Positions remembered at most (the memory is emptied when full)."""
_UNSOLVED = -101
_MIN_BUCKETS = (1 << 17) + 1
"""Fewest table buckets for which a bucket and a 32-bit tag identify a position."""


def state_from_moves(moves: str) -> np.ndarray:
    """The state after a sequence of Pons digits ('1' to '7' from left to right).

    Args:
        moves: the columns played, e.g. '4453'; may be empty.

    Returns:
        uint64 `[3]`: stones of the player to move, mask of all stones, moves played.

    Raises:
        MoveParseError: a character other than the digits 1 to 7.
        IllegalMoveError: a stone dropped into a full column.
        GameOverError: a move after a four was completed.
    """
    if not isinstance(moves, str):
        raise MoveParseError(f"moves must be a string of digits 1-7, got {type(moves).__name__}")
    stones = mask = 0
    for ply, char in enumerate(moves):
        if char not in "1234567":
            raise MoveParseError(f"move {ply + 1} of {moves!r} is {char!r}, not a column 1-7")
        col = int(char) - 1
        if mask & int(TOP_MASKS[col]):
            raise IllegalMoveError(f"move {ply + 1} of {moves!r}: column {char} is full")
        if has_four(np.uint64(stones ^ mask)):
            raise GameOverError(f"move {ply + 1} of {moves!r} comes after a completed four")
        move = (mask + int(BOTTOM_MASKS[col])) & int(COLUMN_MASKS[col])
        stones, mask = stones ^ mask, mask | move
    return np.array([stones, mask, len(moves)], dtype=np.uint64)


def check_state(state: np.ndarray) -> tuple[np.uint64, np.uint64, int]:
    """Validate a state and return (stones of the mover, mask, moves played).

    Raises:
        ValueError: not three uint64 values describing a reachable arrangement.
        GameOverError: the previous move completed a four, or the board is full.
    """
    array = np.asarray(state)
    if array.shape != (3,) or array.dtype.kind not in "ui":
        raise ValueError(f"a Connect Four state is uint64 [3], got {array.dtype} {array.shape}")
    stones, mask, moves = np.uint64(array[0]), np.uint64(array[1]), int(array[2])
    if stones & ~mask:
        raise ValueError("stones of the player to move lie outside the mask")
    for col in range(WIDTH):
        column = int(mask) >> (col * (HEIGHT + 1)) & ((1 << (HEIGHT + 1)) - 1)
        if column & (column + 1) or column >> HEIGHT:
            raise ValueError(f"column {col + 1} of the mask is not filled from the bottom")
    if popcount(mask) != moves or popcount(stones) != moves // 2:
        raise ValueError(f"stone counts do not match {moves} moves played")
    if has_four(stones):
        raise ValueError("the player to move already has four in a row")
    if has_four(stones ^ mask):
        raise GameOverError("the game is over: the previous move completed a four")
    if moves == CELLS:
        raise GameOverError("the game is over: the board is full")
    return stones, mask, moves


def _next_prime(n: int) -> int:
    n = max(n, 2)
    while any(n % d == 0 for d in range(2, int(n**0.5) + 1)):
        n += 1
    return n


class Connect4Solver:
    """Exact solver with a transposition table kept across positions.

    Entries stay valid from one position to the next (they describe positions, not
    searches), so solving related positions with one solver gets faster as it warms up.
    The per-move scores of opening positions (at most `MEMO_MAX_MOVES` stones) are also
    remembered outright, so a perfect player pays for each opening only once.

    Args:
        table_size: transposition-table entries (6 bytes each), two per bucket; the
            number of buckets is rounded up to a prime of at least 2**17.
    """

    def __init__(self, table_size: int = DEFAULT_TABLE_SIZE) -> None:
        if table_size < 1:
            raise ValueError(f"table_size must be positive, got {table_size}")
        buckets = _next_prime(max(int(table_size) // 2, _MIN_BUCKETS))
        self.table_size = 2 * buckets
        self._keys = np.zeros(self.table_size, dtype=np.uint32)
        self._values = np.zeros(self.table_size, dtype=np.uint16)
        self._counter = np.zeros(1, dtype=np.int64)
        self._memo: dict[tuple[int, int, bool], np.ndarray] = {}

    @property
    def nodes(self) -> int:
        """Search nodes visited since construction (or `reset`)."""
        return int(self._counter[0])

    def reset(self) -> None:
        """Empty the transposition table and zero the node count."""
        self._keys[:] = 0
        self._values[:] = 0
        self._counter[0] = 0
        self._memo.clear()

    def solve(self, position: int, mask: int, moves: int, *, weak: bool = False) -> int:
        """Exact score of a position (or with `weak`, its sign: 1, 0 or -1).

        Args:
            position: bitboard of the stones of the player to move.
            mask: bitboard of all stones.
            moves: stones on the board.
            weak: only decide win, draw or loss (much faster).

        Raises:
            ValueError: an impossible position. GameOverError: a finished one.
        """
        stones, mask_, n = check_state(np.array([position, mask, moves], dtype=np.uint64))
        low, high = (-1, 1) if weak else (MIN_SCORE, MAX_SCORE)
        return int(solve_window(stones, mask_, n, low, high,
                                self._keys, self._values, self._counter))

    def solve_moves(self, moves: str, *, weak: bool = False) -> int:
        """`solve` of the position after a Pons digit string such as '4453'."""
        stones, mask, n = (int(x) for x in state_from_moves(moves))
        return self.solve(stones, mask, n, weak=weak)

    def move_scores(self, state: np.ndarray, *, weak: bool = False,
                    columns: np.ndarray | None = None) -> np.ndarray:
        """Score of each column for the player to move, `ILLEGAL_SCORE` where full.

        Args:
            state: uint64 `[3]` (see the module docstring).
            weak: clip scores to their signs (much faster).
            columns: bool `[7]`, only score these columns (the others read
                `ILLEGAL_SCORE`); default all.

        Returns:
            int64 `[7]`: the mover's score after playing each column (a move completing a
            four scores `(43 - n) // 2`).
        """
        stones, mask, n = check_state(state)
        wanted = np.ones(WIDTH, dtype=np.bool_) if columns is None else np.asarray(columns)
        if wanted.shape != (WIDTH,) or wanted.dtype != np.bool_:
            raise ValueError(f"columns must be bool [7], got {wanted.dtype} {wanted.shape}")
        memo_key = (int(stones), int(mask), weak)
        known = self._memo.get(memo_key)
        if known is None:
            known = np.full(WIDTH, _UNSOLVED, dtype=np.int64)
        need = wanted & (known == _UNSOLVED)
        if need.any():
            out = np.full(WIDTH, ILLEGAL_SCORE, dtype=np.int64)
            child_scores(stones, mask, n, weak, need, self._keys, self._values, self._counter, out)
            known = np.where(need, out, known)
            if n <= MEMO_MAX_MOVES:
                if len(self._memo) >= MEMO_SIZE:
                    self._memo.clear()
                self._memo[memo_key] = known
        return np.where(wanted, known, ILLEGAL_SCORE)

    def move_outcomes(self, state: np.ndarray) -> np.ndarray:
        """int8 `[7]`: `WIN`, `DRAW` or `LOSS` for the mover after each column, `ILLEGAL`
        for a full one. A move completing a four is a `WIN`."""
        scores = self.move_scores(state, weak=True)
        return np.where(scores == ILLEGAL_SCORE, ILLEGAL, np.sign(scores)).astype(np.int8)

    def best_action(self, state: np.ndarray, rng: np.random.Generator | None = None) -> int:
        """A column with the best outcome class, then the best exact score.

        Among moves of the best class, exact scores decide: the fastest win, or the
        longest resistance when every move loses (all draws score 0). Remaining ties go
        to `rng` uniformly when given, else to the column nearest the centre.
        """
        outcomes = self.move_outcomes(state)
        best = outcomes.max()
        candidates = np.flatnonzero(outcomes == best)
        if best != DRAW and candidates.size > 1:
            scores = self.move_scores(state, columns=outcomes == best)
            top = scores[candidates].max()
            candidates = candidates[scores[candidates] == top]
        if rng is not None:
            return int(rng.choice(candidates))
        return int(next(c for c in COLUMN_ORDER if c in candidates))


__all__ = [
    "DEFAULT_TABLE_SIZE",
    "DRAW",
    "ILLEGAL",
    "ILLEGAL_SCORE",
    "LOSS",
    "WIN",
    "Connect4Solver",
    "check_state",
    "load_move_outcomes",
    "state_from_moves",
]
