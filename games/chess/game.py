"""`Chess`: standard chess behind the `Game` and `BatchGame` protocols, on bitboard kernels.

Single states are `ChessState`s (immutable; see `games.chess.state`); every method also
accepts a `chess.Board`, which is copied, never modified, or a state row of
`games.chess.batch` (then `next_state` returns a row too; a row carries the options of the
game that made it). Batches are int64 `[B, S]` rows that the batch methods step with the
Numba kernels of `games.chess.batch`; `search_kernels` hands the same kernels to a search.

Legal moves, successors, the game's end and the input planes come from the Numba kernels
(`games.chess.movegen`, `games.chess.bitrules`, `games.chess.planes`); python-chess reads
and writes the text (FEN, SAN, UCI, PGN). Actions are the AlphaZero 4,672-action encoding
(`games.chess.actions`), the input planes AlphaZero's 119 (`games.chess.planes`).

A game ends, in this order (python-chess's own order, then the claimable draws):

1. checkmate (the side that gave mate wins);
2. insufficient material, stalemate, the seventy-five-move rule, fivefold repetition;
3. the fifty-move rule (halfmove clock >= 100) and threefold repetition (the position on the
   board occurred for the third time). These draws are only *claimable* in over-the-board
   chess; here they are always claimed, so self-play does not shuffle pieces for hundreds
   of moves;
4. `max_moves`: when `board.ply()` (half-moves since the start of the game, from the FEN's
   move counters) reaches it, the game is a draw with `Termination.MAX_LENGTH`.

`draw_rules=False` keeps only checkmate, stalemate and `max_moves`: the move tree that perft
counts, where insufficient material or repetitions do not stop the game.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import chess
import numpy as np

from games.base import (
    NO_PLAYER,
    Action,
    GameOverError,
    IllegalMoveError,
    MoveParseError,
    Outcome,
    Player,
    SearchKernels,
    Termination,
)
from games.chess import batch, bitrules
from games.chess.actions import NUM_ACTIONS, action_to_move, move_to_action
from games.chess.batch import (
    batch_legal_mask,
    batch_random_rollout,
    batch_step,
    batch_terminal,
    batch_to_play,
)
from games.chess.bitboard import TURN
from games.chess.pgn import write_pgn
from games.chess.planes import num_planes
from games.chess.position import move_to_chess
from games.chess.state import ChessState, InvalidPositionError

_UCI_LETTERS = set("abcdefgh12345678qrbn")

SingleState = ChessState | chess.Board | np.ndarray
"""What the single-state methods accept: a state, a board, or a state row."""


class Chess:
    """Standard chess (see the module docstring for when a game ends).

    Args:
        max_moves: the game is drawn (`Termination.MAX_LENGTH`) once this many half-moves
            have been played since the start of the game; None for no limit.
        history: positions in the network input (the current one included), >= 1.
        draw_rules: whether insufficient material, repetitions and the 50/75-move rules end
            the game (False: only mate, stalemate and `max_moves`, as in perft).
    """

    name = "chess"
    record_extension = "pgn"
    num_actions = NUM_ACTIONS
    num_players = 2
    num_symmetries = 1
    state_dtype = np.dtype(np.int64)

    def __init__(
        self, max_moves: int | None = 512, history: int = 8, draw_rules: bool = True
    ) -> None:
        if max_moves is not None and (not isinstance(max_moves, int) or max_moves < 1):
            raise ValueError(f"max_moves must be a positive integer or None, got {max_moves!r}")
        if not isinstance(history, int) or history < 1:
            raise ValueError(f"history must be a positive integer, got {history!r}")
        self.max_moves = max_moves
        self.history = history
        self.draw_rules = bool(draw_rules)
        self.observation_shape = (num_planes(history), 8, 8)
        self._rules = (max_moves, self.draw_rules)
        self._limit = bitrules.NO_LIMIT if max_moves is None else max_moves
        self._initial = ChessState.from_board(chess.Board())
        self.state_shape = (batch.state_size(history),)
        self._initial_row = self.state_row(self._initial)

    def __repr__(self) -> str:
        return (f"Chess(max_moves={self.max_moves}, history={self.history}, "
                f"draw_rules={self.draw_rules})")

    # --- states -------------------------------------------------------------------------

    def initial_state(self) -> ChessState:
        return self._initial

    def state_from_fen(self, fen: str) -> ChessState:
        """The state of a FEN (six fields, or four: the counters default to 0 and 1).

        Raises:
            InvalidPositionError: the FEN is malformed or the position unplayable.
        """
        try:
            board = chess.Board(fen.strip())
        except ValueError as error:
            raise InvalidPositionError(f"malformed FEN {fen.strip()!r}: {error}") from None
        return ChessState.from_board(board)

    def state_from_board(self, board: chess.Board) -> ChessState:
        """The state of `board`, its move stack included (the board is not modified)."""
        return ChessState.from_board(board)

    def state_row(self, state: SingleState) -> np.ndarray:
        """The int64 `[S]` batch row of a single state (a row is checked and returned)."""
        if isinstance(state, np.ndarray):
            return batch.size_check(state, self.history)[0]
        return self._as_state(state).to_row(self.history, self.draw_rules, self._limit)

    @staticmethod
    def _as_state(state: SingleState) -> ChessState:
        if isinstance(state, ChessState):
            return state
        if isinstance(state, chess.Board):
            return ChessState.from_board(state)
        if isinstance(state, np.ndarray):
            return ChessState.from_row(state)
        raise TypeError(f"expected a ChessState, chess.Board or state row, "
                        f"got {type(state).__name__}")

    # --- batches ------------------------------------------------------------------------

    def batch_initial(self, batch_size: int) -> np.ndarray:
        return np.tile(self._initial_row, (batch_size, 1))

    def batch_stack(self, states: Sequence[SingleState]) -> np.ndarray:
        rows = np.empty((len(states), *self.state_shape), dtype=np.int64)
        for i, state in enumerate(states):
            rows[i] = self.state_row(state)
        return rows

    def batch_legal_mask(self, states: np.ndarray) -> np.ndarray:
        return batch_legal_mask(self._rows(states))

    def batch_step(self, states: np.ndarray, actions: np.ndarray) -> np.ndarray:
        return batch_step(self._rows(states), np.asarray(actions, dtype=np.int64))

    def batch_to_play(self, states: np.ndarray) -> np.ndarray:
        return batch_to_play(self._rows(states))

    def batch_terminal(self, states: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return batch_terminal(self._rows(states))

    def batch_encode(self, states: np.ndarray) -> np.ndarray:
        rows = self._rows(states)
        if len(rows) == 0:
            return np.zeros((0, *self.observation_shape), dtype=np.float32)
        return batch.batch_encode(rows)

    def batch_random_rollout(self, states: np.ndarray, seed: int) -> np.ndarray:
        return batch_random_rollout(self._rows(states), np.uint64(int(seed) & (2**64 - 1)))

    def search_kernels(self) -> SearchKernels:
        """The batch kernels themselves: a row carries its game's options."""
        return SearchKernels(batch_step, batch_legal_mask, batch_to_play, batch_terminal,
                             batch_random_rollout)

    def _rows(self, states: np.ndarray) -> np.ndarray:
        return batch.size_check(states, self.history)

    # --- rules --------------------------------------------------------------------------

    def legal_mask(self, state: SingleState) -> np.ndarray:
        if isinstance(state, np.ndarray):
            return self.batch_legal_mask(state)[0]
        state = self._as_state(state)
        mask = np.zeros(NUM_ACTIONS, dtype=bool)
        if self.outcome(state) is None:
            mask[list(state.action_table())] = True
        return mask

    def legal_actions(self, state: SingleState) -> list[Action]:
        """The legal actions (empty in a finished game), in move-generation order."""
        state = self._as_state(state)
        return [] if self.outcome(state) is not None else list(state.action_table())

    def next_state(self, state: SingleState, action: Action) -> ChessState | np.ndarray:
        if isinstance(state, np.ndarray):
            row = self._rows(state)
            if batch_terminal(row)[0][0]:
                raise GameOverError(self._game_over_message(self._as_state(row[0])))
            if not (0 <= int(action) < NUM_ACTIONS and batch_legal_mask(row)[0, int(action)]):
                raise IllegalMoveError(self._illegal_action_message(self._as_state(row[0]),
                                                                    int(action)))
            return batch_step(row, np.array([int(action)], dtype=np.int64))[0]
        state = self._as_state(state)
        if self.outcome(state) is not None:
            raise GameOverError(self._game_over_message(state))
        action = int(action)
        if action not in state.action_table():
            raise IllegalMoveError(self._illegal_action_message(state, action))
        return state.child_action(action)

    def to_play(self, state: SingleState) -> Player:
        if isinstance(state, np.ndarray):
            return int(self._rows(state)[0, batch.HEADER + TURN])
        return 0 if self._as_state(state).turn else 1

    def outcome(self, state: SingleState) -> Outcome | None:
        if isinstance(state, np.ndarray):
            row = self._rows(state)[0]
            return self._outcome_of(int(row[batch.STATUS]),
                                    int(row[batch.HEADER + TURN]))
        state = self._as_state(state)
        cached = state._outcome
        if isinstance(cached, tuple) and cached[0] == self._rules:
            return cached[1]
        result = self._compute_outcome(state)
        state._outcome = (self._rules, result)
        return result

    def _compute_outcome(self, state: ChessState) -> Outcome | None:
        has_moves = bool(state.action_table())
        code = bitrules.termination(state.pos, has_moves, state.repetitions, self.draw_rules,
                                    self._limit)
        return self._outcome_of(code, 0 if state.turn else 1)

    @staticmethod
    def _outcome_of(code: int, to_play: Player) -> Outcome | None:
        """The outcome of a termination code in a position where `to_play` moves."""
        if code == bitrules.NOT_OVER:
            return None
        if code == bitrules.CHECKMATE:
            return Outcome(Termination.CHECKMATE, winner=1 - to_play)
        return Outcome(bitrules.TERMINATIONS[code], NO_PLAYER)

    def step_many(
        self, states: Sequence[ChessState], actions: Sequence[int] | np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Apply one legal action to each state (a search's step function over objects).

        Args:
            states: `[B]` states (a list or an object array).
            actions: int `[B]` legal actions, one per state.

        Returns:
            (object `[B]` successors, int8 `[B]` player to move, bool `[B, 4672]` legal
            masks, bool `[B]` finished, float32 `[B]` final value for the player to move in
            the successor: -1 when mated, 0 for a draw or an unfinished game).
        """
        count = len(states)
        children = np.empty(count, dtype=object)
        to_play = np.empty(count, dtype=np.int8)
        legal = np.zeros((count, NUM_ACTIONS), dtype=bool)
        terminal = np.zeros(count, dtype=bool)
        value = np.zeros(count, dtype=np.float32)
        for i in range(count):
            child = self.next_state(states[i], int(actions[i]))
            children[i] = child
            to_play[i] = 0 if child.turn else 1
            result = self.outcome(child)
            if result is None:
                legal[i, list(child.action_table())] = True
            else:
                terminal[i] = True
                value[i] = result.value(to_play[i])
        return children, to_play, legal, terminal, value

    # --- encodings and text -------------------------------------------------------------

    def encode(self, state: SingleState) -> np.ndarray:
        return self.batch_encode(self.batch_stack([state]))[0]

    def encode_many(self, states: Sequence[SingleState]) -> np.ndarray:
        """float32 `[B, C, 8, 8]`: `encode` of many states in one pass."""
        return self.batch_encode(self.batch_stack(states))

    def apply_symmetry(
        self, k: int, observations: np.ndarray, policies: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        if k != 0:
            raise ValueError(f"chess has only the identity symmetry (k = 0), got k = {k}")
        return observations, policies

    def action_to_move(self, state: SingleState, action: Action) -> chess.Move:
        """The legal move of `action`. Raises `IllegalMoveError` if it is not legal."""
        state = self._as_state(state)
        kernel_move = state.action_table().get(int(action))
        if kernel_move is None:
            raise IllegalMoveError(self._illegal_action_message(state, int(action)))
        return move_to_chess(kernel_move)

    def move_to_action(self, state: SingleState, move: chess.Move) -> Action:
        """The action of a move for the side to move (legality not checked)."""
        try:
            return move_to_action(self._as_state(state).turn, move)
        except ValueError as error:
            raise IllegalMoveError(str(error)) from None

    def action_to_text(self, state: SingleState, action: Action) -> str:
        """The move in SAN (`Nf3`, `exd5`, `O-O`, `e8=Q+`)."""
        state = self._as_state(state)
        return state._board.san(self.action_to_move(state, action))

    def text_to_action(self, state: SingleState, text: str) -> Action:
        """Parse a move in SAN (`Nf3`, `O-O`, `e8=Q`) or UCI (`g1f3`, `e7e8q`).

        Raises:
            MoveParseError: the text is neither SAN nor UCI.
            IllegalMoveError: a readable move that is not legal here (or is ambiguous).
            GameOverError: the game is over.
        """
        state = self._as_state(state)
        board = state._board
        cleaned = text.strip()
        if self.outcome(state) is not None:
            raise GameOverError(self._game_over_message(state))
        if not cleaned:
            raise MoveParseError("empty move")
        move = self._parse_uci(cleaned) or self._parse_san(board, cleaned)
        action = move_to_action(board.turn, move) if move else -1
        kernel_move = state.action_table().get(action)
        if move is None or kernel_move is None or move_to_chess(kernel_move) != move:
            raise IllegalMoveError(f"illegal move {cleaned!r} in {board.fen()}")
        return action

    @staticmethod
    def _parse_uci(text: str) -> chess.Move | None:
        lowered = text.lower()
        if len(lowered) in (4, 5) and set(lowered) <= _UCI_LETTERS and lowered[0] in "abcdefgh":
            try:
                return chess.Move.from_uci(lowered)
            except chess.InvalidMoveError:
                return None
        return None

    @staticmethod
    def _parse_san(board: chess.Board, text: str) -> chess.Move | None:
        try:
            move = board.parse_san(text)
        except chess.AmbiguousMoveError:
            raise IllegalMoveError(f"ambiguous move {text!r} in {board.fen()}") from None
        except chess.IllegalMoveError:
            raise IllegalMoveError(f"illegal move {text!r} in {board.fen()}") from None
        except chess.InvalidMoveError:
            raise MoveParseError(f"cannot read move {text!r} (expected SAN or UCI)") from None
        return move if move else None

    def render(self, state: SingleState) -> str:
        """The board with coordinates, White at the bottom, and who is to move."""
        board = self._as_state(state)._board
        rows = str(board).splitlines()
        lines = [f"{8 - i} {row}" for i, row in enumerate(rows)]
        lines.append("  a b c d e f g h")
        lines.append(f"{'White' if board.turn else 'Black'} to move")
        return "\n".join(lines)

    def game_record(
        self,
        actions: Sequence[Action],
        outcome: Outcome | None = None,
        *,
        values: Sequence[float | None] | None = None,
        comments: Sequence[str | None] | None = None,
        headers: dict[str, str] | None = None,
    ) -> str:
        """The game from the initial position as PGN (see `games.chess.pgn.pgn_from_game`).

        Args:
            actions: the moves.
            outcome: the result, if the game is over.
            values: per move, the search's root value for the side that made it; written as
                `[%eval]` comments in pawns from White's point of view.
            comments: per move, free text.
            headers: PGN tags (`White`, `Black`, `Event`, ...).
        """
        return write_pgn(self, actions, outcome=outcome, values=values, comments=comments,
                         headers=headers)

    def _game_over_message(self, state: ChessState) -> str:
        outcome = self.outcome(state)
        assert outcome is not None
        reason = outcome.termination.value.replace("_", " ")
        return f"the game is over ({reason}, {outcome.result_string()}): no more moves"

    @staticmethod
    def _illegal_action_message(state: ChessState, action: int) -> str:
        try:
            text = action_to_move(state._board, action).uci()
        except ValueError:
            return f"action {action} is not a move"
        return f"illegal action {action} ({text}) in {state.fen()}"


def pgn_from_game(actions: Sequence[Action], *, game: Chess | None = None, **options: Any) -> str:
    """A game as PGN text, read by `game` (default: `Chess(max_moves=None)`); the options
    are those of `games.chess.pgn.write_pgn` (outcome, values, comments, headers, start)."""
    return write_pgn(game if game is not None else Chess(max_moves=None), actions, **options)
