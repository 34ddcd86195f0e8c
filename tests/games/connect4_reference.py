"""A slow, obviously correct Connect Four scorer to check the bitboard solver against.

Plain minimax over a list-of-columns board, memoised, with no pruning, no bitboards and no
move ordering: nothing in common with `games.connect4_search` but the rules and Pons'
score convention. Usable on positions with about a dozen empty cells or fewer.
"""

from __future__ import annotations

from functools import cache

Columns = tuple[tuple[int, ...], ...]
"""Seven columns, each the players (0 first, 1 second) of its stones from the bottom."""

WIDTH, HEIGHT = 7, 6


def columns_from_moves(moves: str) -> Columns:
    """The board after a Pons digit string (no legality checks beyond a full column)."""
    cols: list[list[int]] = [[] for _ in range(WIDTH)]
    for ply, digit in enumerate(moves):
        cols[int(digit) - 1].append(ply % 2)
        assert len(cols[int(digit) - 1]) <= HEIGHT
    return tuple(tuple(c) for c in cols)


def completes_four(cols: Columns, col: int, player: int) -> bool:
    """Whether `player` dropping a stone in `col` makes four in a row."""
    row = len(cols[col])

    def owner(c: int, r: int) -> int:
        return cols[c][r] if 0 <= c < WIDTH and 0 <= r < len(cols[c]) else -1

    for dc, dr in ((1, 0), (0, 1), (1, 1), (1, -1)):
        run = 1
        for sign in (1, -1):
            c, r = col + sign * dc, row + sign * dr
            while owner(c, r) == player:
                run += 1
                c, r = c + sign * dc, r + sign * dr
        if run >= 4:
            return True
    return False


def move_scores(cols: Columns) -> list[int | None]:
    """Pons score of each column for the player to move (None for a full column)."""
    stones = sum(len(c) for c in cols)
    player = stones % 2
    scores: list[int | None] = []
    for col in range(WIDTH):
        if len(cols[col]) == HEIGHT:
            scores.append(None)
        elif completes_four(cols, col, player):
            scores.append((WIDTH * HEIGHT + 1 - stones) // 2)
        else:
            child = cols[:col] + (cols[col] + (player,),) + cols[col + 1:]
            scores.append(-position_score(child))
    return scores


@cache
def position_score(cols: Columns) -> int:
    """Pons score of a position for the player to move (0 when the board is full)."""
    if sum(len(c) for c in cols) == WIDTH * HEIGHT:
        return 0
    return max(s for s in move_scores(cols) if s is not None)
