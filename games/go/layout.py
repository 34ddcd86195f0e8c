"""Where each field lives in a Go state, and the constant tables the kernels share.

A Go state is one flat `uint8` array, so a batch is `[B, state_size]` and the search can keep
one per tree node. Fields, in order (all integers little-endian):

====================  ===========  ====================================================
offset                bytes        field
====================  ===========  ====================================================
0                     1            player to move: 0 black, 1 white
1                     1            consecutive passes (0, 1, 2; 2 ends the game)
2                     2            simple-ko point + 1 (0 = no ko point)
4                     2            moves played (plays and passes)
6                     2            positions recorded in the hash ring (see below)
8                     8            Zobrist hash of the current position
16                    8 * K        hash ring: the hashes of the last K positions, the
                                   current one included; position i lies at i mod K
16 + 8K               N            board: 0 empty, 1 black, 2 white; point = row*size+col
16 + 8K + N           H * N        earlier boards for the encoding, most recent first
====================  ===========  ====================================================

N = size * size, K = `superko_window`, H = `history`. The total is rounded up to a
multiple of 8 so that the hash ring of every row of a batch stays 8-byte aligned.

Points are numbered `row * size + col` with row 0 the *top* row (GTP row `size`) and
column 0 the A column, so a point's index is its place in a row-major `[size, size]` image.
Action `N` is a pass.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

HEADER_BYTES = 16
TO_PLAY = 0
PASSES = 1
KO = 2
MOVES = 4
POSITIONS = 6
HASH = 8

EMPTY, BLACK, WHITE = 0, 1, 2
"""Board values; a player's stone colour is `player + 1`."""

MIN_SIZE, MAX_SIZE = 5, 19
MAX_RECORDED = 65_000
"""Counters are uint16: games (and hash rings) must stay below this length."""

_ZOBRIST_SEED = 0x5EED_60
ZOBRIST = np.random.default_rng(_ZOBRIST_SEED).integers(
    1, np.iinfo(np.uint64).max, size=(MAX_SIZE * MAX_SIZE, 3), dtype=np.uint64, endpoint=True
)
"""uint64 `[361, 3]`: key of (point, colour); column 0 (empty) is unused. Fixed across runs."""
ZOBRIST[:, EMPTY] = 0


@dataclass(frozen=True)
class Layout:
    """Byte offsets of one Go configuration's state.

    Attributes:
        size: board side (5 to 19).
        window: K, positions kept in the hash ring for positional superko.
        history: H, earlier boards kept for the network's encoding.
    """

    size: int
    window: int
    history: int

    @property
    def points(self) -> int:
        return self.size * self.size

    @property
    def board(self) -> int:
        return HEADER_BYTES + 8 * self.window

    @property
    def earlier(self) -> int:
        return self.board + self.points

    @property
    def state_size(self) -> int:
        end = self.earlier + self.history * self.points
        return (end + 7) // 8 * 8


def neighbour_tables(size: int) -> tuple[np.ndarray, np.ndarray]:
    """Orthogonal and diagonal neighbours of every point.

    Returns:
        (int32 `[N, 4]` orthogonal neighbours, int32 `[N, 4]` diagonal neighbours), each row
        padded with -1 after the neighbours that exist.
    """
    n = size * size
    orth = np.full((n, 4), -1, dtype=np.int32)
    diag = np.full((n, 4), -1, dtype=np.int32)
    for p in range(n):
        r, c = divmod(p, size)
        for table, steps in ((orth, ((-1, 0), (1, 0), (0, -1), (0, 1))),
                             (diag, ((-1, -1), (-1, 1), (1, -1), (1, 1)))):
            k = 0
            for dr, dc in steps:
                rr, cc = r + dr, c + dc
                if 0 <= rr < size and 0 <= cc < size:
                    table[p, k] = rr * size + cc
                    k += 1
    return orth, diag
