"""Legal chess moves, making a move and perft as Numba kernels over position arrays.

Positions are the int64 `[POSITION_SIZE]` arrays of `games.chess.bitboard`. A move is an
int32 `from | to << 6 | promotion << 12 | flag << 15`: squares 0..63, `promotion` the piece
type index promoted to (1 knight .. 4 queen; 0 none) and `flag` one of `NORMAL`,
`DOUBLE_PUSH`, `EN_PASSANT`, `CASTLING` (castling is the king's two-square move).

`generate_moves` writes only legal moves: it finds the checkers and the pinned pieces first,
so no move is tried and taken back. The king may step only onto squares the opponent does
not attack with the king itself lifted off the board; in check, other pieces may only
capture the checker or block its line; a pinned piece stays on its line through the king;
an en passant capture is tested by looking at the king after it (the two pawns leaving one
rank can uncover a rook).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from games.chess.bitboard import (
    BETWEEN,
    BISHOP,
    BISHOP_EMPTY,
    CASTLING,
    CASTLING_KEEP,
    EP_SQUARE,
    FULLMOVE,
    HALFMOVE,
    HASH,
    KING,
    KING_ATTACKS,
    KNIGHT,
    KNIGHT_ATTACKS,
    LINE,
    PAWN,
    PAWN_ATTACKS,
    POSITION_SIZE,
    QUEEN,
    ROOK,
    ROOK_EMPTY,
    TURN,
    WHITE_OCC,
    ZOBRIST_BLACK,
    ZOBRIST_CASTLING,
    ZOBRIST_EP_FILE,
    ZOBRIST_PIECES,
    attacked_squares,
    attackers_to,
    bishop_attacks,
    lsb,
    rook_attacks,
)

Move = int
"""`from | to << 6 | promotion << 12 | flag << 15` (see the module docstring)."""
NORMAL, DOUBLE_PUSH, EN_PASSANT, CASTLING_MOVE = 0, 1, 2, 3
"""Move flags."""
MAX_MOVES = 256
"""Room for the legal moves of any position (the most known is 218)."""

_PROMOTION_RANKS = 0xFF | int(np.uint64(0xFF00000000000000).view(np.int64))


@njit(cache=True, nogil=True, inline="always")
def move_from(move: int) -> int:
    return move & 63


@njit(cache=True, nogil=True, inline="always")
def move_to(move: int) -> int:
    return (move >> 6) & 63


@njit(cache=True, nogil=True, inline="always")
def move_promotion(move: int) -> int:
    return (move >> 12) & 7


@njit(cache=True, nogil=True, inline="always")
def move_flag(move: int) -> int:
    return (move >> 15) & 3


@njit(cache=True, nogil=True, inline="always")
def _emit(moves: np.ndarray, n: int, origin: int, targets: int, flag: int) -> int:
    """Append a move from `origin` to every square of `targets`; returns the new count."""
    while targets:
        moves[n] = origin | lsb(targets) << 6 | flag << 15
        n += 1
        targets &= targets - 1
    return n


@njit(cache=True, nogil=True, inline="always")
def _emit_pawn(moves: np.ndarray, n: int, origin: int, targets: int) -> int:
    """Pawn moves to `targets`, four promotions (queen first) on the last ranks."""
    while targets:
        to = lsb(targets)
        targets &= targets - 1
        if (_PROMOTION_RANKS >> to) & 1:
            for promotion in (4, 3, 2, 1):
                moves[n] = origin | to << 6 | promotion << 12
                n += 1
        else:
            moves[n] = origin | to << 6
            n += 1
    return n


@njit(cache=True, nogil=True)
def pinned_pieces(pos: np.ndarray, king: int, own: int, opp: int, occ: int) -> int:
    """The pieces of `own` that stand alone between their king and an enemy slider."""
    straight = (pos[ROOK] | pos[QUEEN]) & opp & ROOK_EMPTY[king]
    diagonal = (pos[BISHOP] | pos[QUEEN]) & opp & BISHOP_EMPTY[king]
    snipers = straight | diagonal
    pinned = 0
    while snipers:
        between = BETWEEN[king, lsb(snipers)] & occ
        if between and not (between & (between - 1)) and between & own:
            pinned |= between
        snipers &= snipers - 1
    return pinned


@njit(cache=True, nogil=True)
def _piece_moves(pos: np.ndarray, moves: np.ndarray, n: int, own: int, occ: int,
                 target: int, pinned: int, king: int) -> int:
    """Knight, bishop, rook and queen moves onto `target` (pinned pieces on their line)."""
    pieces = pos[KNIGHT] & own & ~pinned
    while pieces:
        square = lsb(pieces)
        n = _emit(moves, n, square, KNIGHT_ATTACKS[square] & target, 0)
        pieces &= pieces - 1
    pieces = (pos[BISHOP] | pos[QUEEN]) & own
    while pieces:
        square = lsb(pieces)
        targets = bishop_attacks(square, occ) & target
        if (pinned >> square) & 1:
            targets &= LINE[king, square]
        n = _emit(moves, n, square, targets, 0)
        pieces &= pieces - 1
    pieces = (pos[ROOK] | pos[QUEEN]) & own
    while pieces:
        square = lsb(pieces)
        targets = rook_attacks(square, occ) & target
        if (pinned >> square) & 1:
            targets &= LINE[king, square]
        n = _emit(moves, n, square, targets, 0)
        pieces &= pieces - 1
    return n


@njit(cache=True, nogil=True)
def _pawn_moves(pos: np.ndarray, moves: np.ndarray, n: int, us: int, own: int, opp: int,
                occ: int, target: int, pinned: int, king: int) -> int:
    """Pawn pushes, double pushes, captures and promotions onto `target` (not en passant)."""
    step = 8 - 16 * us
    start_rank = 1 + 5 * us
    pawns = pos[PAWN] & own
    while pawns:
        square = lsb(pawns)
        pawns &= pawns - 1
        allowed = target
        if (pinned >> square) & 1:
            allowed &= LINE[king, square]
        one = square + step
        if not (occ >> one) & 1:
            n = _emit_pawn(moves, n, square, allowed & (1 << one))
            two = one + step
            if square >> 3 == start_rank and not (occ >> two) & 1 and (allowed >> two) & 1:
                moves[n] = square | two << 6 | DOUBLE_PUSH << 15
                n += 1
        n = _emit_pawn(moves, n, square, PAWN_ATTACKS[us, square] & opp & allowed)
    return n


@njit(cache=True, nogil=True)
def _safe_after_en_passant(pos: np.ndarray, king: int, origin: int, ep: int, captured: int,
                           us: int) -> bool:
    """Whether our king is safe after the pawn on `origin` takes en passant on `ep`."""
    opp = pos[WHITE_OCC + 1 - us] & ~(1 << captured)
    occ = ((pos[WHITE_OCC] | pos[WHITE_OCC + 1]) ^ (1 << origin) ^ (1 << captured)) | (1 << ep)
    if bishop_attacks(king, occ) & (pos[BISHOP] | pos[QUEEN]) & opp:
        return False
    if rook_attacks(king, occ) & (pos[ROOK] | pos[QUEEN]) & opp:
        return False
    if KNIGHT_ATTACKS[king] & pos[KNIGHT] & opp:
        return False
    return not (PAWN_ATTACKS[us, king] & pos[PAWN] & opp)


@njit(cache=True, nogil=True)
def _en_passant(pos: np.ndarray, moves: np.ndarray, n: int, us: int, king: int) -> int:
    """The legal en passant captures (at most two)."""
    ep = pos[EP_SQUARE]
    if ep < 0 or ep >> 3 != 5 - 3 * us:
        return n
    captured = ep - 8 + 16 * us
    occ = pos[WHITE_OCC] | pos[WHITE_OCC + 1]
    if (occ >> ep) & 1 or not ((pos[PAWN] & pos[WHITE_OCC + 1 - us]) >> captured) & 1:
        return n
    attackers = PAWN_ATTACKS[1 - us, ep] & pos[PAWN] & pos[WHITE_OCC + us]
    while attackers:
        origin = lsb(attackers)
        attackers &= attackers - 1
        if _safe_after_en_passant(pos, king, origin, ep, captured, us):
            moves[n] = origin | ep << 6 | EN_PASSANT << 15
            n += 1
    return n


@njit(cache=True, nogil=True)
def _castling_moves(pos: np.ndarray, moves: np.ndarray, n: int, us: int, occ: int,
                    danger: int) -> int:
    """Castling (the king is not in check: the caller knows)."""
    rights = pos[CASTLING] >> (2 * us)
    base = 56 * us
    if rights & 1 and not (occ >> base) & 0x60 and not (danger >> base) & 0x60:
        moves[n] = (base + 4) | (base + 6) << 6 | CASTLING_MOVE << 15
        n += 1
    if rights & 2 and not (occ >> base) & 0x0E and not (danger >> base) & 0x0C:
        moves[n] = (base + 4) | (base + 2) << 6 | CASTLING_MOVE << 15
        n += 1
    return n


@njit(cache=True, nogil=True)
def generate_moves(pos: np.ndarray, moves: np.ndarray) -> int:
    """Write the legal moves of `pos` into `moves` (int32 `[>= MAX_MOVES]`); return how many."""
    us = pos[TURN]
    own = pos[WHITE_OCC + us]
    opp = pos[WHITE_OCC + 1 - us]
    occ = own | opp
    king = lsb(pos[KING] & own)
    checkers = attackers_to(pos, king, occ, 1 - us)
    danger = attacked_squares(pos, 1 - us, occ ^ (1 << king))
    n = _emit(moves, 0, king, KING_ATTACKS[king] & ~own & ~danger, 0)
    if checkers & (checkers - 1):
        return n
    if checkers:
        target = checkers | BETWEEN[king, lsb(checkers)]
    else:
        target = ~own
        n = _castling_moves(pos, moves, n, us, occ, danger)
    pinned = pinned_pieces(pos, king, own, opp, occ)
    n = _piece_moves(pos, moves, n, own, occ, target, pinned, king)
    n = _pawn_moves(pos, moves, n, us, own, opp, occ, target, pinned, king)
    return _en_passant(pos, moves, n, us, king)


@njit(cache=True, nogil=True)
def in_check(pos: np.ndarray) -> bool:
    """Whether the side to move is in check."""
    us = pos[TURN]
    occ = pos[WHITE_OCC] | pos[WHITE_OCC + 1]
    return attackers_to(pos, lsb(pos[KING] & pos[WHITE_OCC + us]), occ, 1 - us) != 0


@njit(cache=True, nogil=True)
def has_legal_en_passant(pos: np.ndarray) -> bool:
    """Whether an en passant capture is legal (python-chess's `has_legal_en_passant`)."""
    us = pos[TURN]
    king = lsb(pos[KING] & pos[WHITE_OCC + us])
    moves = np.empty(2, dtype=np.int32)
    return _en_passant(pos, moves, 0, us, king) > 0


@njit(cache=True, nogil=True)
def repetition_key(pos: np.ndarray) -> int:
    """The Zobrist key of the position for the repetition rules: the hash, plus the en
    passant file when a capture there is legal."""
    key = pos[HASH]
    if pos[EP_SQUARE] >= 0 and has_legal_en_passant(pos):
        key ^= ZOBRIST_EP_FILE[pos[EP_SQUARE] & 7]
    return key


@njit(cache=True, nogil=True)
def compute_hash(pos: np.ndarray) -> int:
    """The Zobrist hash of `pos` from scratch (what `make_move` keeps up incrementally)."""
    key = ZOBRIST_CASTLING[pos[CASTLING]]
    if pos[TURN]:
        key ^= ZOBRIST_BLACK
    for colour in range(2):
        for piece in range(6):
            pieces = pos[piece] & pos[WHITE_OCC + colour]
            while pieces:
                key ^= ZOBRIST_PIECES[colour, piece, lsb(pieces)]
                pieces &= pieces - 1
    return key


@njit(cache=True, nogil=True, inline="always")
def piece_on(pos: np.ndarray, square: int) -> int:
    """The piece type (0-5) on `square` in `pos`, or -1 for an empty square."""
    for piece in range(6):
        if (pos[piece] >> square) & 1:
            return piece
    return -1


@njit(cache=True, nogil=True)
def make_move(pos: np.ndarray, move: int, out: np.ndarray) -> None:
    """Write the position after the legal `move` of `pos` into `out` (may not be `pos`)."""
    for i in range(POSITION_SIZE):
        out[i] = pos[i]
    origin, to, promotion, flag = move & 63, (move >> 6) & 63, (move >> 12) & 7, move >> 15
    us = pos[TURN]
    them = 1 - us
    key = pos[HASH] ^ ZOBRIST_BLACK
    piece = piece_on(pos, origin)
    reset = piece == PAWN
    if (pos[WHITE_OCC + them] >> to) & 1:
        captured = piece_on(pos, to)
        out[captured] ^= 1 << to
        out[WHITE_OCC + them] ^= 1 << to
        key ^= ZOBRIST_PIECES[them, captured, to]
        reset = True
    moved = (1 << origin) | (1 << to)
    out[piece] ^= moved
    out[WHITE_OCC + us] ^= moved
    key ^= ZOBRIST_PIECES[us, piece, origin] ^ ZOBRIST_PIECES[us, piece, to]
    if promotion:
        out[PAWN] ^= 1 << to
        out[promotion] |= 1 << to
        key ^= ZOBRIST_PIECES[us, PAWN, to] ^ ZOBRIST_PIECES[us, promotion, to]
    elif flag == EN_PASSANT:
        captured_square = to - 8 + 16 * us
        out[PAWN] ^= 1 << captured_square
        out[WHITE_OCC + them] ^= 1 << captured_square
        key ^= ZOBRIST_PIECES[them, PAWN, captured_square]
    elif flag == CASTLING_MOVE:
        rook_from, rook_to = (to + 1, to - 1) if to & 7 == 6 else (to - 2, to + 1)
        rook_moved = (1 << rook_from) | (1 << rook_to)
        out[ROOK] ^= rook_moved
        out[WHITE_OCC + us] ^= rook_moved
        key ^= ZOBRIST_PIECES[us, ROOK, rook_from] ^ ZOBRIST_PIECES[us, ROOK, rook_to]
    rights = pos[CASTLING] & CASTLING_KEEP[origin] & CASTLING_KEEP[to]
    key ^= ZOBRIST_CASTLING[pos[CASTLING]] ^ ZOBRIST_CASTLING[rights]
    out[CASTLING] = rights
    out[EP_SQUARE] = (origin + to) >> 1 if flag == DOUBLE_PUSH else -1
    out[HALFMOVE] = 0 if reset else pos[HALFMOVE] + 1
    out[FULLMOVE] = pos[FULLMOVE] + us
    out[TURN] = them
    out[HASH] = key


@njit(cache=True, nogil=True)
def perft(pos: np.ndarray, depth: int) -> int:
    """Leaves of the legal move tree of `pos` at `depth` plies, every node made (no bulk
    counting: the last ply's moves are made too)."""
    if depth <= 0:
        return 1
    stack = np.empty((depth + 1, POSITION_SIZE), dtype=np.int64)
    moves = np.empty((depth, MAX_MOVES), dtype=np.int32)
    counts = np.zeros(depth, dtype=np.int64)
    index = np.zeros(depth, dtype=np.int64)
    stack[0] = pos
    counts[0] = generate_moves(stack[0], moves[0])
    ply, leaves = 0, 0
    while ply >= 0:
        if index[ply] == counts[ply]:
            ply -= 1
            continue
        make_move(stack[ply], moves[ply, index[ply]], stack[ply + 1])
        index[ply] += 1
        if ply + 1 == depth:
            leaves += 1
        else:
            ply += 1
            counts[ply] = generate_moves(stack[ply], moves[ply])
            index[ply] = 0
    return leaves


@njit(cache=True, nogil=True)
def perft_bulk(pos: np.ndarray, depth: int) -> int:
    """`perft` with the last ply counted from the move list instead of made."""
    if depth <= 0:
        return 1
    moves = np.empty(MAX_MOVES, dtype=np.int32)
    n = generate_moves(pos, moves)
    if depth == 1:
        return n
    child = np.empty(POSITION_SIZE, dtype=np.int64)
    total = 0
    for i in range(n):
        make_move(pos, moves[i], child)
        total += perft_bulk(child, depth - 1)
    return total
