"""`ChessState`: an immutable chess position with the history the rules and the network need.

A state wraps a `chess.Board` that it owns and never lets anyone mutate, plus:

* `parent`: the state before the last move (None at the root), so the input planes can
  draw the previous positions and a game can be read back;
* `keys`: the position keys (python-chess's transposition key, built from public fields)
  of every position since the last capture or pawn move, so repetitions are counted with a
  tuple `count` instead of replaying the move stack;
* lazily computed and cached: the legal moves keyed by action, and the outcome.

Why a wrapper and not a bare `chess.Board`: a successor then costs one stackless
`Board.copy` plus a `push` (about 5 us on a 2020s laptop core), against about 100 us for
`Board.copy()` with a 60-ply move stack (which a bare board needs to detect repetitions),
and the legal moves of a state are generated once however often the search asks for them.
"""

from __future__ import annotations

from collections.abc import Hashable

import chess

from games.base import GameError
from games.chess.actions import moves_to_actions

PositionKey = Hashable
"""What makes two positions "the same" for the repetition rules: pieces, side to move,
castling rights and a *legal* en passant square (FIDE article 9.2)."""


class InvalidPositionError(GameError):
    """A FEN or board that is malformed or not a standard-chess position we can play from."""


# Defects that make the move tree meaningless. Others are tolerated: python-chess cleans bad
# castling rights and ignores impossible en passant squares, and an "impossible" check (two
# sliders checking along one line) still has a well-defined legal move list, as perft needs.
_FATAL_STATUS = (
    chess.STATUS_EMPTY | chess.STATUS_NO_WHITE_KING | chess.STATUS_NO_BLACK_KING
    | chess.STATUS_TOO_MANY_KINGS | chess.STATUS_PAWNS_ON_BACKRANK | chess.STATUS_OPPOSITE_CHECK
)


def check_position(board: chess.Board) -> None:
    """Raise `InvalidPositionError` if `board` is not a position we can play from."""
    status = board.status() & _FATAL_STATUS
    if status:
        problems = ", ".join(
            flag.name.lower().replace("_", " ") for flag in chess.Status if flag & status
        )
        raise InvalidPositionError(f"invalid position {board.fen()!r}: {problems}")


def position_key(board: chess.Board) -> PositionKey:
    """The repetition key of `board` (equal to python-chess's transposition key)."""
    ep = board.ep_square if board.ep_square is not None and board.has_legal_en_passant() else None
    return (
        board.pawns, board.knights, board.bishops, board.rooks, board.queens, board.kings,
        board.occupied_co[chess.WHITE], board.occupied_co[chess.BLACK], board.turn,
        board.clean_castling_rights(), ep,
    )


class ChessState:
    """An immutable chess position (see the module docstring).

    Build one with `ChessState.from_board` (or the game's `initial_state` / `state_from_fen`);
    successors come from `child`.

    Attributes:
        parent: the previous state, or None.
        move: the move that led here from `parent`, or None at the root.
        keys: repetition keys since the last irreversible move, the current one last.
    """

    __slots__ = ("__weakref__", "_board", "_moves", "_outcome", "keys", "move", "parent")

    def __init__(
        self,
        board: chess.Board,
        parent: ChessState | None = None,
        move: chess.Move | None = None,
        keys: tuple[PositionKey, ...] | None = None,
    ) -> None:
        """Wrap `board`, which the state takes over (internal: use `from_board`)."""
        self._board = board
        self.parent = parent
        self.move = move
        self.keys = keys if keys is not None else (position_key(board),)
        self._moves: dict[int, chess.Move] | None = None
        self._outcome: object = _UNSET

    @classmethod
    def from_board(cls, board: chess.Board) -> ChessState:
        """A state for `board` (copied; the caller's board is left alone).

        Raises:
            InvalidPositionError: the position has no legal move tree (see `check_position`).

        The board's move stack, if any, is replayed from its root so that repetitions and
        the history planes see the moves that led to it.
        """
        if board.chess960:
            raise InvalidPositionError("Chess960 positions are not supported")
        check_position(board)
        root = board.root()
        state = cls(root.copy(stack=False))
        for move in board.move_stack:
            state = state.child(move)
        return state

    @property
    def board(self) -> chess.Board:
        """A copy of the position (without move stack); changing it does not change the state."""
        return self._board.copy(stack=False)

    @property
    def turn(self) -> chess.Color:
        return self._board.turn

    def fen(self) -> str:
        return self._board.fen()

    @property
    def repetitions(self) -> int:
        """How often this position occurred since the last irreversible move (1 = first time)."""
        return self.keys.count(self.keys[-1])

    def legal_moves(self) -> dict[int, chess.Move]:
        """The legal moves keyed by action (cached; do not modify the returned dict)."""
        if self._moves is None:
            moves = list(self._board.generate_legal_moves())
            self._moves = dict(zip(moves_to_actions(self._board.turn, moves), moves))
        return self._moves

    def child(self, move: chess.Move) -> ChessState:
        """The state after `move` (assumed legal)."""
        board = self._board.copy(stack=False)
        board.push(move)
        key = position_key(board)
        keys = (key,) if board.halfmove_clock == 0 else self.keys + (key,)
        return ChessState(board, self, move, keys)

    def history(self, length: int) -> list[ChessState | None]:
        """This state and up to `length - 1` ancestors, newest first, padded with None."""
        states: list[ChessState | None] = []
        state: ChessState | None = self
        for _ in range(length):
            states.append(state)
            state = state.parent if state is not None else None
        return states

    def moves_from_root(self) -> list[chess.Move]:
        """The moves from the root state to this one."""
        moves = []
        state = self
        while state.parent is not None:
            assert state.move is not None
            moves.append(state.move)
            state = state.parent
        return moves[::-1]

    def root(self) -> ChessState:
        state = self
        while state.parent is not None:
            state = state.parent
        return state

    def __repr__(self) -> str:
        return f"ChessState({self._board.fen()!r})"

    def __eq__(self, other: object) -> bool:
        """Same position, counters and repetition history (not necessarily the same parents)."""
        if not isinstance(other, ChessState):
            return NotImplemented
        return self.keys == other.keys and self._board.fen() == other._board.fen()

    def __hash__(self) -> int:
        return hash((self.keys[-1], self._board.halfmove_clock, self._board.fullmove_number))


_UNSET = object()
