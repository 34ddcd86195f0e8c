"""Chess games as PGN (python-chess writes and reads it), with the search's evaluations.

`pgn_from_game` is what self-play and the arena call to save a game: the moves as actions,
optionally one value per move (the search's root value, from the point of view of the side
that made the move) written as lichess-style `[%eval ±p.pp]` comments in pawns from White's
point of view, and free-form comments. `actions_from_pgn` reads a game back.

Values become centipawns the way Leela Chess Zero does: `cp = 111.714640912 *
tan(1.5620688421 * value)`, with the value clipped to [-1, 1] and the result to
±`MAX_CENTIPAWNS`.
"""

from __future__ import annotations

import io
import math
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Protocol

import chess
import chess.pgn
import numpy as np

from games.base import IllegalMoveError, MoveParseError, Outcome, Termination
from games.chess import batch
from games.chess.actions import move_to_action
from games.chess.position import move_to_chess
from games.chess.state import ChessState

MAX_CENTIPAWNS = 12800


def value_to_centipawns(value: float) -> int:
    """A value in [-1, 1] (from some player's point of view) as centipawns (same player)."""
    clipped = min(1.0, max(-1.0, float(value)))
    cp = 111.714640912 * math.tan(1.5620688421 * clipped)
    return round(min(MAX_CENTIPAWNS, max(-MAX_CENTIPAWNS, cp)))


def eval_comment(value: float, mover_is_white: bool) -> str:
    """`[%eval p.pp]` in pawns from White's point of view, for a value from the mover's."""
    cp = value_to_centipawns(value if mover_is_white else -value)
    return f"[%eval {cp / 100:.2f}]"


_PGN_TERMINATION = {
    Termination.MAX_LENGTH: "adjudication",
    Termination.RESIGNATION: "normal",
}


class MoveReader(Protocol):
    """What writing a game needs of the chess `Game`: its positions and its action decoding."""

    def initial_state(self) -> ChessState: ...

    def state_from_fen(self, fen: str) -> ChessState: ...

    def _as_state(self, state: ChessState | chess.Board) -> ChessState: ...

    def action_to_move(self, state: ChessState, action: int) -> chess.Move: ...

    def state_row(self, state: ChessState) -> np.ndarray: ...


def write_pgn(
    game: MoveReader,
    actions: Sequence[int],
    *,
    outcome: Outcome | None = None,
    values: Sequence[float | None] | None = None,
    comments: Sequence[str | None] | Mapping[int, str] | None = None,
    headers: Mapping[str, str] | None = None,
    start: ChessState | chess.Board | str | None = None,
) -> str:
    """A game as PGN text.

    Args:
        game: the `Chess` game that reads the actions.
        actions: the moves as actions, from `start`.
        outcome: the result (sets the `Result` header and, for a draw by a rule or a
            length limit, a final comment saying which); None: `*` (unfinished).
        values: per move, the search's value for the side that made it (or None).
        comments: per move (a sequence aligned with `actions`, or {index: text}).
        headers: PGN tags to add or override (`White`, `Black`, `Event`, ...).
        start: the starting position (state, board or FEN); default the initial position.

    Raises:
        IllegalMoveError: an action is not legal where it is played.
        ValueError: `values` or `comments` do not align with `actions`.
    """
    state = _start_state(game, start)
    if values is not None and len(values) != len(actions):
        raise ValueError(f"{len(values)} values for {len(actions)} moves")
    if comments is not None and not isinstance(comments, Mapping):
        if len(comments) != len(actions):
            raise ValueError(f"{len(comments)} comments for {len(actions)} moves")
        comments = {i: text for i, text in enumerate(comments) if text}
    record = chess.pgn.Game()
    record.headers["Event"] = "move37 game"
    record.headers["Date"] = date.today().strftime("%Y.%m.%d")
    record.headers["White"] = record.headers["Black"] = "move37"
    if state.parent is not None or state.fen() != chess.STARTING_FEN:
        record.setup(state.board)
    node: chess.pgn.GameNode = record
    white = state.turn
    for index, move in enumerate(_moves(game, state, actions)):
        parts = []
        if values is not None and values[index] is not None:
            parts.append(eval_comment(float(values[index]), white))
        if comments and comments.get(index):
            parts.append(str(comments[index]))
        node = node.add_variation(move, comment=" ".join(parts))
        white = not white
    _set_result(record, node, outcome)
    for key, text in (headers or {}).items():
        record.headers[key] = str(text)
    exporter = chess.pgn.StringExporter(headers=True, variations=True, comments=True)
    return record.accept(exporter)


def _moves(game: MoveReader, state: ChessState, actions: Sequence[int]) -> list[chess.Move]:
    """The moves of `actions` played from `state` (one kernel call for the whole game).

    Raises:
        IllegalMoveError: an action is not legal where it is played.
    """
    wanted = np.asarray(actions, dtype=np.int64)
    kernel_moves = np.empty(len(wanted), dtype=np.int32)
    legal = batch.replay(game.state_row(state), wanted, kernel_moves)
    if legal < len(wanted):
        for action in wanted[:legal].tolist():
            state = state.child_action(action)
        try:
            game.action_to_move(state, int(wanted[legal]))
        except IllegalMoveError as error:
            raise IllegalMoveError(f"move {legal + 1} of the game: {error}") from None
        raise IllegalMoveError(f"move {legal + 1} of the game is not legal")
    return [move_to_chess(move) for move in kernel_moves.tolist()]


def _start_state(game: MoveReader, start: ChessState | chess.Board | str | None) -> ChessState:
    if start is None:
        return game.initial_state()
    if isinstance(start, str):
        return game.state_from_fen(start)
    return game._as_state(start)


def _set_result(record: chess.pgn.Game, last: chess.pgn.GameNode, outcome: Outcome | None) -> None:
    if outcome is None:
        record.headers["Result"] = "*"
        return
    record.headers["Result"] = outcome.result_string()
    record.headers["Termination"] = _PGN_TERMINATION.get(outcome.termination, "normal")
    if outcome.termination is not Termination.CHECKMATE:
        reason = outcome.termination.value.replace("_", " ")
        last.comment = f"{last.comment} {reason}".strip()


def actions_from_pgn(text: str) -> tuple[list[int], str]:
    """Read the main line of the first game in `text`.

    Returns:
        (the moves as actions from the game's starting position, the `Result` header).

    Raises:
        MoveParseError: no game in the text, or python-chess reported errors reading it.
    """
    record = chess.pgn.read_game(io.StringIO(text))
    if record is None:
        raise MoveParseError("no PGN game found")
    if record.errors:
        raise MoveParseError(f"PGN error: {record.errors[0]}")
    board = record.board()
    actions = []
    for move in record.mainline_moves():
        actions.append(move_to_action(board, move))
        board.push(move)
    return actions, record.headers.get("Result", "*")

