"""A typed Python face for the bitboard kernels: positions from and to FEN, moves from and
to UCI text, legal moves, making moves and perft.

    >>> pos = from_fen("rnbqkbnr/pppppppp/8/8/8/8/PPPPPPPP/RNBQKBNR w KQkq - 0 1")
    >>> len(legal_moves(pos)), perft(pos, 3)
    (20, 8902)
    >>> after = make(pos, move_from_uci(pos, "e2e4"))
    >>> to_fen(after)
    'rnbqkbnr/pppppppp/8/8/4P3/8/PPPP1PPP/RNBQKBNR b KQkq - 0 1'

`outcome` ends games by `games.chess.game.Chess`'s rules, given the repetition keys of the
positions since the last capture or pawn move (`repetition_key`).

python-chess reads and writes the FEN text (and checks the position is playable); the
arrays in between are `games.chess.bitboard`'s int64 `[POSITION_SIZE]` positions.
"""

from __future__ import annotations

from collections.abc import Sequence

import chess
import numpy as np

from games.base import NO_PLAYER, Outcome
from games.chess import bitboard as bb
from games.chess import bitrules, movegen
from games.chess.movegen import MAX_MOVES, Move

Position = np.ndarray
"""int64 `[POSITION_SIZE]` (see `games.chess.bitboard`)."""

_PIECE_TYPES = (chess.PAWN, chess.KNIGHT, chess.BISHOP, chess.ROOK, chess.QUEEN, chess.KING)
_RIGHTS = ((chess.H1, bb.WHITE_KING_SIDE), (chess.A1, bb.WHITE_QUEEN_SIDE),
           (chess.H8, bb.BLACK_KING_SIDE), (chess.A8, bb.BLACK_QUEEN_SIDE))


def _signed(value: int) -> int:
    return value - (1 << 64) if value >= 1 << 63 else value


def _unsigned(value: int) -> int:
    return int(value) & ((1 << 64) - 1)


def from_board(board: chess.Board) -> Position:
    """The position of a standard-chess `board` (castling rights cleaned as python-chess
    does, an en passant square that no double push can have left dropped; the move stack
    is ignored)."""
    pos = np.zeros(bb.POSITION_SIZE, dtype=np.int64)
    masks = (board.pawns, board.knights, board.bishops, board.rooks, board.queens, board.kings)
    for field, mask in enumerate(masks):
        pos[field] = _signed(mask)
    pos[bb.WHITE_OCC] = _signed(board.occupied_co[chess.WHITE])
    pos[bb.BLACK_OCC] = _signed(board.occupied_co[chess.BLACK])
    pos[bb.TURN] = 0 if board.turn else 1
    rights = board.clean_castling_rights()
    pos[bb.CASTLING] = sum(bit for square, bit in _RIGHTS if rights >> square & 1)
    ep = board.ep_square
    if ep is not None and board.status() & chess.STATUS_INVALID_EP_SQUARE:
        ep = None  # no pawn that just made a double push: no capture to offer
    pos[bb.EP_SQUARE] = bb.NO_SQUARE if ep is None else ep
    pos[bb.HALFMOVE] = board.halfmove_clock
    pos[bb.FULLMOVE] = board.fullmove_number
    pos[bb.HASH] = movegen.compute_hash(pos)
    return pos


def from_fen(fen: str) -> Position:
    """The position of a FEN (python-chess parses it; raises ValueError if malformed)."""
    return from_board(chess.Board(fen))


def to_board(pos: Position) -> chess.Board:
    """A python-chess board of `pos` (no move stack)."""
    board = chess.Board(None)
    for field, piece_type in enumerate(_PIECE_TYPES):
        for colour, occ in ((chess.WHITE, bb.WHITE_OCC), (chess.BLACK, bb.BLACK_OCC)):
            for square in chess.scan_forward(_unsigned(pos[field] & pos[occ])):
                board.set_piece_at(square, chess.Piece(piece_type, colour))
    board.turn = chess.WHITE if pos[bb.TURN] == 0 else chess.BLACK
    board.castling_rights = 0
    for square, bit in _RIGHTS:
        if pos[bb.CASTLING] & bit:
            board.castling_rights |= chess.BB_SQUARES[square]
    board.ep_square = None if pos[bb.EP_SQUARE] < 0 else int(pos[bb.EP_SQUARE])
    board.halfmove_clock = int(pos[bb.HALFMOVE])
    board.fullmove_number = int(pos[bb.FULLMOVE])
    return board


def to_fen(pos: Position) -> str:
    """The FEN of `pos` (an en passant square only where a capture is legal)."""
    return to_board(pos).fen()


def legal_moves(pos: Position) -> np.ndarray:
    """int32 `[N]`: the legal moves of `pos`."""
    moves = np.empty(MAX_MOVES, dtype=np.int32)
    return moves[: movegen.generate_moves(pos, moves)].copy()


def make(pos: Position, move: Move) -> Position:
    """The position after the legal `move` (a new array)."""
    out = np.empty_like(pos)
    movegen.make_move(pos, int(move), out)
    return out


def perft(pos: Position, depth: int, bulk: bool = False) -> int:
    """Leaves of the legal move tree at `depth`; `bulk` counts the last ply without making
    its moves."""
    if depth < 0:
        raise ValueError(f"depth must be >= 0, got {depth}")
    return int(movegen.perft_bulk(pos, depth) if bulk else movegen.perft(pos, depth))


def move_to_chess(move: Move) -> chess.Move:
    """The python-chess move of a kernel move."""
    promotion = (move >> 12) & 7
    return chess.Move(move & 63, (move >> 6) & 63, _PIECE_TYPES[promotion] if promotion else None)


def move_to_uci(move: Move) -> str:
    """UCI text of a kernel move (`e2e4`, `e7e8q`, castling as `e1g1`)."""
    return move_to_chess(int(move)).uci()


def move_from_uci(pos: Position, text: str) -> Move:
    """The legal move of `pos` written `text` in UCI.

    Raises:
        ValueError: the text is not UCI, or the move is not legal in `pos`.
    """
    wanted = chess.Move.from_uci(text.strip())
    for move in legal_moves(pos).tolist():
        if move_to_chess(move) == wanted:
            return int(move)
    raise ValueError(f"illegal move {text!r} in {to_fen(pos)}")


def repetition_key(pos: Position) -> int:
    """The position's Zobrist key for the repetition rules (en passant only when legal)."""
    return int(movegen.repetition_key(pos))


def legal_actions(pos: Position) -> tuple[np.ndarray, np.ndarray]:
    """(int64 `[N]` actions, int32 `[N]` moves) of the legal moves, in the same order."""
    moves = np.empty(MAX_MOVES, dtype=np.int32)
    actions = np.empty(MAX_MOVES, dtype=np.int64)
    n = bitrules.legal_actions(pos, actions, moves)
    return actions[:n].copy(), moves[:n].copy()


def outcome(pos: Position, keys: Sequence[int] | np.ndarray, *, draw_rules: bool = True,
            max_moves: int | None = None) -> Outcome | None:
    """How the game ends at `pos`, or None if it goes on.

    Args:
        pos: the position.
        keys: repetition keys of the positions since the last irreversible move, `pos`'s last.
        draw_rules: as in `Chess` (False: only mate, stalemate and `max_moves`).
        max_moves: the game's length limit in half-moves, None for none.
    """
    key_array = np.asarray(keys, dtype=np.int64)
    if key_array.size == 0:
        key_array = np.array([repetition_key(pos)], dtype=np.int64)
    limit = bitrules.NO_LIMIT if max_moves is None else int(max_moves)
    code = int(bitrules.game_status(pos, key_array, key_array.size, draw_rules, limit))
    if code == bitrules.NOT_OVER:
        return None
    winner = 1 - int(pos[bb.TURN]) if code == bitrules.CHECKMATE else NO_PLAYER
    return Outcome(bitrules.TERMINATIONS[code], winner)
