"""`ChessState`: an immutable chess position with the history the rules and the network need.

A state holds a bitboard position (`pos`, the int64 array of `games.chess.bitboard`, made
read-only) that the Numba kernels play on, plus:

* `parent`: the state before the last move (None at the root), so the input planes can
  draw the previous positions and a game can be read back;
* `keys`: the Zobrist repetition keys (`games.chess.position.repetition_key`) of every
  position since the last capture or pawn move, so repetitions are counted with a tuple
  `count` instead of replaying the moves;
* lazily computed and cached: the legal moves keyed by action (one kernel call), the
  outcome, and a python-chess board for text (SAN, FEN, rendering), built only when asked.

`to_row` and `from_row` convert to and from the fixed-size rows of `games.chess.batch`
that the batch kernels play on. A state read from a row has no parent: the row it came
from supplies the earlier positions when it is written back (`to_row`).

`position_key` is python-chess's own repetition key of a board, kept for tests and tools
that compare with python-chess.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence

import chess
import numpy as np

from games.base import GameError
from games.chess import batch, planes, position
from games.chess.actions import move_to_action
from games.chess.bitboard import EP_SQUARE, FULLMOVE, HALFMOVE, POSITION_SIZE, TURN
from games.chess.bitrules import legal_actions
from games.chess.movegen import MAX_MOVES, make_move, repetition_key

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
    successors come from `child` (a python-chess move) or `child_action` (an action).

    Attributes:
        pos: int64 `[POSITION_SIZE]` bitboard position (read-only).
        parent: the previous state, or None.
        keys: Zobrist repetition keys since the last irreversible move, the current one last.
        repetitions: how often this position occurred since the last irreversible move
            (1 = the first time).
    """

    __slots__ = ("__weakref__", "_chess_board", "_kernel_move", "_moves", "_outcome",
                 "_source", "_table", "keys", "parent", "pos", "repetitions")

    def __init__(
        self,
        pos: np.ndarray,
        parent: ChessState | None = None,
        kernel_move: int = -1,
        keys: tuple[int, ...] | None = None,
    ) -> None:
        """Wrap `pos`, which the state takes over (internal: use `from_board`)."""
        pos.setflags(write=False)
        self.pos = pos
        self.parent = parent
        self._kernel_move = kernel_move
        self.keys = keys if keys is not None else (int(repetition_key(pos)),)
        self.repetitions = self.keys.count(self.keys[-1])
        self._chess_board: chess.Board | None = None
        self._table: dict[int, int] | None = None
        self._moves: dict[int, chess.Move] | None = None
        self._outcome: object = _UNSET
        self._source: np.ndarray | None = None

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
        state = cls(position.from_board(root))
        for move in board.move_stack:
            state = state.child(move)
        return state

    @classmethod
    def from_row(cls, row: np.ndarray) -> ChessState:
        """The state of a `games.chess.batch` row (without parent; the row is copied)."""
        source = np.array(row, dtype=np.int64)
        history = int(source[batch.HISTORY])
        count = int(source[batch.NUM_KEYS])
        at = batch.state_size(history) - batch.KEY_CAPACITY
        keys = tuple(int(source[at + i % batch.KEY_CAPACITY])
                     for i in range(max(0, count - batch.KEY_CAPACITY), count))
        state = cls(source[batch.HEADER:batch.HEADER + POSITION_SIZE].copy(), keys=keys)
        source.setflags(write=False)
        state._source = source
        return state

    def to_row(self, history: int, draw_rules: bool, max_moves: int) -> np.ndarray:
        """The `games.chess.batch` row of this state (int64 `[state_size(history)]`).

        Args:
            history: positions kept for the input planes (T).
            draw_rules: whether the draw rules end the game (as `Chess`'s).
            max_moves: the length limit in half-moves, or `bitrules.NO_LIMIT`.
        """
        row = np.zeros(batch.state_size(history), dtype=np.int64)
        row[batch.HISTORY], row[batch.DRAW_RULES] = history, int(draw_rules)
        row[batch.MAX_MOVES_FIELD] = max_moves
        count = len(self.keys)
        at = batch.state_size(history) - batch.KEY_CAPACITY
        for i in range(max(0, count - batch.KEY_CAPACITY), count):
            row[at + i % batch.KEY_CAPACITY] = self.keys[i]
        row[batch.NUM_KEYS] = count
        reps = batch.HEADER + POSITION_SIZE * history
        state: ChessState | None = self
        t = 0
        while state is not None and t < history:
            source = state._source
            if source is not None:  # read from a row: the rest of the past is in that row
                old = int(source[batch.HISTORY])
                for u in range(min(history - t, old)):
                    start, old_start = batch.HEADER + POSITION_SIZE * (t + u), \
                        batch.HEADER + POSITION_SIZE * u
                    row[start:start + POSITION_SIZE] = source[old_start:old_start + POSITION_SIZE]
                    row[reps + t + u] = source[batch.HEADER + POSITION_SIZE * old + u]
                break
            start = batch.HEADER + POSITION_SIZE * t
            row[start:start + POSITION_SIZE] = state.pos
            row[reps + t] = state.repetitions
            state, t = state.parent, t + 1
        batch.refresh_status(row)
        return row

    @property
    def _board(self) -> chess.Board:
        """The python-chess board of the position (cached; never modify it)."""
        if self._chess_board is None:
            self._chess_board = position.to_board(self.pos)
        return self._chess_board

    @property
    def board(self) -> chess.Board:
        """A copy of the position (without move stack); changing it does not change the state."""
        return self._board.copy(stack=False)

    @property
    def turn(self) -> chess.Color:
        return bool(self.pos[TURN] == 0)

    @property
    def move(self) -> chess.Move | None:
        """The move that led here from `parent`, or None at the root."""
        return None if self._kernel_move < 0 else position.move_to_chess(self._kernel_move)

    def fen(self) -> str:
        return self._board.fen()

    def action_table(self) -> dict[int, int]:
        """The legal moves as {action: kernel move} (cached; do not modify the returned dict)."""
        if self._table is None:
            actions = np.empty(MAX_MOVES, dtype=np.int64)
            moves = np.empty(MAX_MOVES, dtype=np.int32)
            n = legal_actions(self.pos, actions, moves)
            self._table = dict(zip(actions[:n].tolist(), moves[:n].tolist()))
        return self._table

    def legal_moves(self) -> dict[int, chess.Move]:
        """The legal moves keyed by action (cached; do not modify the returned dict)."""
        if self._moves is None:
            self._moves = {action: position.move_to_chess(move)
                           for action, move in self.action_table().items()}
        return self._moves

    def child_action(self, action: int) -> ChessState:
        """The state after the legal `action` (KeyError if it is not legal)."""
        kernel_move = self.action_table()[action]
        pos = np.empty(POSITION_SIZE, dtype=np.int64)
        make_move(self.pos, kernel_move, pos)
        key = int(repetition_key(pos))
        keys = (key,) if pos[HALFMOVE] == 0 else self.keys + (key,)
        return ChessState(pos, self, kernel_move, keys)

    def child(self, move: chess.Move) -> ChessState:
        """The state after `move` (assumed legal)."""
        return self.child_action(move_to_action(self.turn, move))

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
        return f"ChessState({self.fen()!r})"

    def __eq__(self, other: object) -> bool:
        """Same position, counters and repetition history (not necessarily the same parents)."""
        if not isinstance(other, ChessState):
            return NotImplemented
        return (self.keys == other.keys
                and np.array_equal(self.pos[:EP_SQUARE], other.pos[:EP_SQUARE])
                and np.array_equal(self.pos[HALFMOVE:FULLMOVE + 1],
                                   other.pos[HALFMOVE:FULLMOVE + 1]))

    def __hash__(self) -> int:
        return hash((self.keys[-1], int(self.pos[HALFMOVE]), int(self.pos[FULLMOVE])))


_UNSET = object()


def encode_states(states: Sequence[ChessState], history: int) -> np.ndarray:
    """float32 `[B, 14 * history + 7, 8, 8]` input planes of `states`."""
    count = len(states)
    positions = np.zeros((count, history, POSITION_SIZE), dtype=np.int64)
    present = np.zeros((count, history), dtype=bool)
    repetitions = np.zeros((count, history), dtype=np.int64)
    for i, state in enumerate(states):
        past: ChessState | None = state
        for t in range(history):
            if past is None:
                break
            positions[i, t] = past.pos
            present[i, t] = True
            repetitions[i, t] = past.repetitions
            past = past.parent
    out = np.empty((count, planes.num_planes(history), 8, 8), dtype=np.float32)
    if count:
        planes.encode_batch(positions, present, repetitions, out)
    return out


def encode_state(state: ChessState, history: int) -> np.ndarray:
    """float32 `[14 * history + 7, 8, 8]` input planes of one state."""
    return encode_states([state], history)[0]
