"""Chess bitboards for Numba kernels: the position array, attack tables and attack kernels.

A position is an int64 array `[POSITION_SIZE]` (16 fields, see the field indices below):
six piece-type bitboards (pawns, knights, bishops, rooks, queens, kings, both colours), the
two colour bitboards, the side to move (0 White, 1 Black), the castling rights (bits
`WHITE_KING_SIDE`, `WHITE_QUEEN_SIDE`, `BLACK_KING_SIDE`, `BLACK_QUEEN_SIDE`), the en passant
square (-1 for none; set after every double push, as python-chess does, whether or not a
capture is possible), the halfmove clock, the fullmove number and a Zobrist hash.

Squares are python-chess's: a1 = 0, h1 = 7, a8 = 56; bit `s` of a bitboard is square `s`.
Bitboards are int64 (h8 is the sign bit), so a right shift is arithmetic: `shift_down`
masks it. The hash covers the pieces, the side to move and the castling rights but not the
en passant square; `games.chess.movegen.repetition_key` adds it when a capture is legal
(FIDE article 9.2, python-chess's transposition key).

Sliding attacks are "classical": a ray from the square up to and including the first
blocker, found with a bit scan (the LLVM `cttz` / `ctlz` intrinsics).
"""

from __future__ import annotations

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.extending import intrinsic

Square = int
"""0..63, a1 = 0, h8 = 63."""
Bitboard = int
"""A set of squares as a 64-bit integer (int64 in kernels)."""

PAWN, KNIGHT, BISHOP, ROOK, QUEEN, KING = range(6)
"""Piece-type indices (python-chess's piece types minus one) and their bitboard fields."""
WHITE_OCC, BLACK_OCC = 6, 7
"""Fields of the colour bitboards: `WHITE_OCC + colour`."""
TURN, CASTLING, EP_SQUARE, HALFMOVE, FULLMOVE, HASH = 8, 9, 10, 11, 12, 13
"""Fields of the side to move, castling rights, en passant square, clocks and hash."""
POSITION_SIZE = 16
"""Length of a position array (fields 14 and 15 are spare, kept 0)."""

WHITE, BLACK = 0, 1
WHITE_KING_SIDE, WHITE_QUEEN_SIDE, BLACK_KING_SIDE, BLACK_QUEEN_SIDE = 1, 2, 4, 8
"""Castling-right bits."""

NO_SQUARE = -1


def _as_int64(values: list[int]) -> np.ndarray:
    """Python ints in [0, 2**64) as int64 bit patterns."""
    return np.array(values, dtype=np.uint64).view(np.int64)


# --- bit tricks ----------------------------------------------------------------------------
@intrinsic
def lsb(typingctx, x):  # type: ignore[no-untyped-def]
    """Index of the lowest set bit of an int64 (64 for 0)."""
    sig = types.int64(types.int64)

    def codegen(context, builder, signature, args):  # type: ignore[no-untyped-def]
        return builder.cttz(args[0], ir.Constant(ir.IntType(1), 0))

    return sig, codegen


@intrinsic
def leading_zeros(typingctx, x):  # type: ignore[no-untyped-def]
    """Number of leading zero bits of an int64 (64 for 0)."""
    sig = types.int64(types.int64)

    def codegen(context, builder, signature, args):  # type: ignore[no-untyped-def]
        return builder.ctlz(args[0], ir.Constant(ir.IntType(1), 0))

    return sig, codegen


@intrinsic
def popcount(typingctx, x):  # type: ignore[no-untyped-def]
    """Number of set bits of an int64."""
    sig = types.int64(types.int64)

    def codegen(context, builder, signature, args):  # type: ignore[no-untyped-def]
        return builder.ctpop(args[0])

    return sig, codegen


@njit(cache=True, nogil=True, inline="always")
def msb(x: int) -> int:
    """Index of the highest set bit of a non-zero int64."""
    return 63 - leading_zeros(x)


@njit(cache=True, nogil=True, inline="always")
def shift_down(bb: int, n: int) -> int:
    """`bb >> n` as an unsigned shift (0 < n < 64)."""
    return (bb >> n) & ((1 << (64 - n)) - 1)


# --- tables --------------------------------------------------------------------------------
DIRECTIONS = ((0, 1), (1, 1), (1, 0), (1, -1), (0, -1), (-1, -1), (-1, 0), (-1, 1))
"""(file step, rank step) of rays 0..7: N, NE, E, SE, S, SW, W, NW. Rays 0, 1, 2 and 7 run
towards higher squares (first blocker = lowest bit), the others towards lower squares."""
KNIGHT_STEPS = ((1, 2), (2, 1), (2, -1), (1, -2), (-1, -2), (-2, -1), (-2, 1), (-1, 2))
KING_STEPS = DIRECTIONS
FILE_A = 0x0101010101010101
FILE_H = int(np.uint64(0x8080808080808080).view(np.int64))
RANK_1 = 0xFF
RANK_8 = int(np.uint64(0xFF00000000000000).view(np.int64))
"""File and rank masks as int64 bit patterns."""


def _on_board(file: int, rank: int) -> bool:
    return 0 <= file < 8 and 0 <= rank < 8


def _step_table(steps: tuple[tuple[int, int], ...]) -> np.ndarray:
    table = []
    for square in range(64):
        bb = 0
        for df, dr in steps:
            f, r = square % 8 + df, square // 8 + dr
            if _on_board(f, r):
                bb |= 1 << (8 * r + f)
        table.append(bb)
    return _as_int64(table)


def _ray_table() -> np.ndarray:
    rays = np.zeros((8, 64), dtype=np.int64)
    for d, (df, dr) in enumerate(DIRECTIONS):
        row = []
        for square in range(64):
            bb, f, r = 0, square % 8 + df, square // 8 + dr
            while _on_board(f, r):
                bb |= 1 << (8 * r + f)
                f, r = f + df, r + dr
            row.append(bb)
        rays[d] = _as_int64(row)
    return rays


def _line_tables(rays: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """BETWEEN[a, b] (squares strictly between a and b on a line) and LINE[a, b] (the whole
    line through a and b, both included), 0 where a and b share no line."""
    between = np.zeros((64, 64), dtype=np.uint64)
    line = np.zeros((64, 64), dtype=np.uint64)
    raw = rays.view(np.uint64)
    for a in range(64):
        for d in range(8):
            opposite = (d + 4) % 8
            for b in range(64):
                if raw[d, a] >> np.uint64(b) & np.uint64(1):
                    between[a, b] = raw[d, a] & ~raw[d, b] & ~(np.uint64(1) << np.uint64(b))
                    line[a, b] = (raw[d, a] | raw[opposite, a]) | (np.uint64(1) << np.uint64(a))
    return between.view(np.int64), line.view(np.int64)


RAYS = _ray_table()
"""int64 `[8, 64]`: the squares seen from a square in each direction on an empty board."""
KNIGHT_ATTACKS = _step_table(KNIGHT_STEPS)
"""int64 `[64]`."""
KING_ATTACKS = _step_table(KING_STEPS)
"""int64 `[64]`."""
PAWN_ATTACKS = np.stack([_step_table(((-1, 1), (1, 1))), _step_table(((-1, -1), (1, -1)))])
"""int64 `[2, 64]`: the squares a pawn of each colour attacks."""
BETWEEN, LINE = _line_tables(RAYS)
"""int64 `[64, 64]` each (see `_line_tables`)."""
ROOK_EMPTY = RAYS[0] | RAYS[2] | RAYS[4] | RAYS[6]
"""int64 `[64]`: rook attacks on an empty board."""
BISHOP_EMPTY = RAYS[1] | RAYS[3] | RAYS[5] | RAYS[7]
"""int64 `[64]`: bishop attacks on an empty board."""

CASTLING_KEEP = np.full(64, 15, dtype=np.int64)
"""int64 `[64]`: the castling rights kept when a move starts or ends on a square."""
CASTLING_KEEP[4] = 15 & ~(WHITE_KING_SIDE | WHITE_QUEEN_SIDE)
CASTLING_KEEP[7] = 15 & ~WHITE_KING_SIDE
CASTLING_KEEP[0] = 15 & ~WHITE_QUEEN_SIDE
CASTLING_KEEP[60] = 15 & ~(BLACK_KING_SIDE | BLACK_QUEEN_SIDE)
CASTLING_KEEP[63] = 15 & ~BLACK_KING_SIDE
CASTLING_KEEP[56] = 15 & ~BLACK_QUEEN_SIDE


def _zobrist_keys() -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Fixed pseudo-random keys (splitmix64 from seed 0x6d6f76653337)."""
    state = 0x6D6F76653337
    out = []
    mask = (1 << 64) - 1
    for _ in range(2 * 6 * 64 + 16 + 8 + 1):
        state = (state + 0x9E3779B97F4A7C15) & mask
        z = state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & mask
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & mask
        out.append(z ^ (z >> 31))
    keys = _as_int64(out)
    pieces = keys[:768].reshape(2, 6, 64).copy()
    castling = keys[768:784].copy()
    castling[0] = 0
    ep_files = keys[784:792].copy()
    return pieces, castling, ep_files, int(keys[792])


ZOBRIST_PIECES, ZOBRIST_CASTLING, ZOBRIST_EP_FILE, ZOBRIST_BLACK = _zobrist_keys()
"""int64 `[2, 6, 64]` (colour, piece type, square), `[16]` (castling rights; 0 for none),
`[8]` (en passant file) and the key of Black to move."""


# --- attacks -------------------------------------------------------------------------------
@njit(cache=True, nogil=True, inline="always")
def _ray_up(d: int, square: int, occ: int) -> int:
    ray = RAYS[d, square]
    blockers = ray & occ
    if blockers:
        ray ^= RAYS[d, lsb(blockers)]
    return ray


@njit(cache=True, nogil=True, inline="always")
def _ray_down(d: int, square: int, occ: int) -> int:
    ray = RAYS[d, square]
    blockers = ray & occ
    if blockers:
        ray ^= RAYS[d, msb(blockers)]
    return ray


@njit(cache=True, nogil=True)
def rook_attacks(square: int, occ: int) -> int:
    """Squares a rook on `square` attacks with pieces on `occ`."""
    return _ray_up(0, square, occ) | _ray_up(2, square, occ) | _ray_down(
        4, square, occ) | _ray_down(6, square, occ)


@njit(cache=True, nogil=True)
def bishop_attacks(square: int, occ: int) -> int:
    """Squares a bishop on `square` attacks with pieces on `occ`."""
    return _ray_up(1, square, occ) | _ray_up(7, square, occ) | _ray_down(
        3, square, occ) | _ray_down(5, square, occ)


@njit(cache=True, nogil=True)
def attackers_to(pos: np.ndarray, square: int, occ: int, colour: int) -> int:
    """The pieces of `colour` attacking `square`, sliders seen through `occ`.

    Args:
        pos: int64 `[POSITION_SIZE]` position.
        square: the square attacked.
        occ: the occupancy the sliders see (e.g. without a king that is moving away).
        colour: 0 White, 1 Black.
    """
    them = pos[WHITE_OCC + colour]
    diagonal = (pos[BISHOP] | pos[QUEEN]) & them
    straight = (pos[ROOK] | pos[QUEEN]) & them
    found = PAWN_ATTACKS[1 - colour, square] & pos[PAWN] & them
    found |= KNIGHT_ATTACKS[square] & pos[KNIGHT] & them
    found |= KING_ATTACKS[square] & pos[KING] & them
    if BISHOP_EMPTY[square] & diagonal:
        found |= bishop_attacks(square, occ) & diagonal
    if ROOK_EMPTY[square] & straight:
        found |= rook_attacks(square, occ) & straight
    return found


@njit(cache=True, nogil=True)
def attacked_squares(pos: np.ndarray, colour: int, occ: int) -> int:
    """Every square a piece of `colour` attacks, sliders seen through `occ`."""
    them = pos[WHITE_OCC + colour]
    pawns = pos[PAWN] & them
    if colour == 0:
        found = ((pawns & ~FILE_A) << 7) | ((pawns & ~FILE_H) << 9)
    else:
        found = shift_down(pawns & ~FILE_A, 9) | shift_down(pawns & ~FILE_H, 7)
    found |= KING_ATTACKS[lsb(pos[KING] & them)]
    pieces = pos[KNIGHT] & them
    while pieces:
        found |= KNIGHT_ATTACKS[lsb(pieces)]
        pieces &= pieces - 1
    pieces = (pos[BISHOP] | pos[QUEEN]) & them
    while pieces:
        found |= bishop_attacks(lsb(pieces), occ)
        pieces &= pieces - 1
    pieces = (pos[ROOK] | pos[QUEEN]) & them
    while pieces:
        found |= rook_attacks(lsb(pieces), occ)
        pieces &= pieces - 1
    return found
