"""External UCI chess engines (Stockfish, Lc0, ...) as players, over python-chess's client.

`chess.engine.SimpleEngine` runs the engine in a subprocess and speaks UCI; `UciAgent` makes
it an `Agent` for the arena and `move37 play` (`--a uci:stockfish`).

Spec: `COMMAND[;KEY=VALUE]...`, e.g. `uci:stockfish;nodes=2000;Skill Level=3`. A KEY is
either a limit of each move (`movetime` in milliseconds, `nodes`, `depth`; several may be
combined, the first one reached ends the search) or else a UCI option the engine declares
(`Skill Level`, `Threads`, `Hash`, ...), set once at the start. Without a limit each move
gets `DEFAULT_MOVETIME_MS`.

The engine is told the game from its first position with every move since (UCI's `position
... moves ...`), so it sees repetitions and the fifty-move clock as our rules do. Its score,
when it reports one, becomes the analysis value through python-chess's win-draw-loss model.

An engine that exits, stops answering (`MOVE_TIMEOUT` seconds past the move's own time) or
answers only garbage raises `UciEngineError`, which the CLI reports as one line (exit 2);
python-chess's log lines about unreadable output are kept off the terminal.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import shlex
from collections.abc import Sequence
from dataclasses import dataclass, field

import chess
import chess.engine
import numpy as np

from engine.agent_types import AgentSpecError, Analysis
from games.base import Game, GameError
from games.chess import Chess
from games.chess.state import ChessState

DEFAULT_MOVETIME_MS = 100
"""The time a move gets when the spec sets no limit."""
LIMIT_KEYS = ("movetime", "nodes", "depth")
"""Spec keys that limit each move; every other key is an engine option."""
MOVE_TIMEOUT = 60.0
"""Seconds an engine may take beyond a move's time limit (or in all, under a node or depth
limit) before it counts as hung."""

# python-chess logs each line it cannot read; without a handler of the application's, Python
# would print them to stderr beside our one-line error.
logging.getLogger("chess.engine").addHandler(logging.NullHandler())
_ENGINE_FAILURES = (chess.engine.EngineError, chess.engine.EngineTerminatedError, TimeoutError,
                    asyncio.TimeoutError, concurrent.futures.TimeoutError)


class UciEngineError(GameError):
    """The engine could not be started or configured, stopped answering, or played no move."""


@dataclass(frozen=True)
class UciSpec:
    """A parsed `COMMAND[;KEY=VALUE]...` spec.

    Attributes:
        argv: the engine's command line, split like a shell.
        limit: what ends each search.
        options: UCI options to set at the start, by name.
    """

    argv: list[str]
    limit: chess.engine.Limit
    options: dict[str, str] = field(default_factory=dict)

    @classmethod
    def parse(cls, text: str) -> UciSpec:
        """Read a spec; raises `AgentSpecError` for an empty command or a bad limit."""
        command, *pairs = text.split(";")
        argv = shlex.split(command)
        if not argv:
            raise AgentSpecError(f"UCI player {text!r} needs a command")
        limits: dict[str, float | int] = {}
        options: dict[str, str] = {}
        for pair in pairs:
            key, sep, value = (part.strip() for part in pair.partition("="))
            if not key and not sep:
                continue
            if not key or not sep or not value:
                raise AgentSpecError(f"UCI player {text!r}: {pair.strip()!r} is not KEY=VALUE")
            if key.lower() in LIMIT_KEYS:
                limits[key.lower()] = _positive_int(value, key, text)
            else:
                options[key] = value
        if not limits:
            limits["movetime"] = DEFAULT_MOVETIME_MS
        limit = chess.engine.Limit(
            time=limits["movetime"] / 1000 if "movetime" in limits else None,
            nodes=limits.get("nodes"), depth=limits.get("depth"))
        return cls(argv, limit, options)


def _positive_int(value: str, key: str, spec: str) -> int:
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        raise AgentSpecError(f"UCI player {spec!r}: {key} must be a positive integer, "
                             f"not {value!r}")
    return number


def board_with_moves(state: ChessState | chess.Board | np.ndarray) -> chess.Board:
    """The game's first position with every move since pushed on its stack (a board is
    copied as it is; a batch row, which keeps no moves, gives its position alone)."""
    if isinstance(state, chess.Board):
        return state.copy()
    if isinstance(state, np.ndarray):
        state = ChessState.from_row(state)
    board = state.root().board
    for move in state.moves_from_root():
        board.push(move)
    return board


class UciAgent:
    """A UCI engine as an `Agent` for chess.

    Args:
        argv: the engine's command line.
        game: a `games.chess.Chess`.
        limit: what ends each search (default: `DEFAULT_MOVETIME_MS`).
        options: UCI options to set once, by name.
        name: the agent's name (default `uci:<command>`).
        timeout: seconds to wait for the engine to start and answer the handshake.
        move_timeout: seconds a move may take beyond its time limit (see `MOVE_TIMEOUT`).

    Raises:
        UciEngineError: the engine does not start, or refuses an option.
    """

    def __init__(self, argv: Sequence[str], game: Game, *,
                 limit: chess.engine.Limit | None = None,
                 options: dict[str, str] | None = None, name: str | None = None,
                 timeout: float = 30.0, move_timeout: float = MOVE_TIMEOUT) -> None:
        if not isinstance(game, Chess):
            raise AgentSpecError(f"UCI players play chess, not {getattr(game, 'name', game)}")
        self.game = game
        self.limit = limit or chess.engine.Limit(time=DEFAULT_MOVETIME_MS / 1000)
        self.name = name or f"uci:{shlex.join(argv)}"
        self.move_timeout = move_timeout
        try:
            self.engine = chess.engine.SimpleEngine.popen_uci(list(argv), timeout=timeout)
        except (OSError, *_ENGINE_FAILURES) as error:
            why = str(error) or f"no answer to the handshake within {timeout:g} s"
            raise UciEngineError(f"cannot start UCI engine {shlex.join(argv)!r}: {why}") from None
        try:
            if options:
                self.engine.configure(options)
        except _ENGINE_FAILURES as error:
            self.close()
            raise UciEngineError(f"{self.name}: {str(error) or 'no answer'}") from None

    @classmethod
    def from_spec(cls, spec: str, game: Game) -> UciAgent:
        """The agent for `COMMAND[;KEY=VALUE]...` (see the module docstring)."""
        parsed = UciSpec.parse(spec)
        return cls(parsed.argv, game, limit=parsed.limit, options=parsed.options,
                   name=f"uci:{spec}")

    def analyse(self, game: Game, state: ChessState | chess.Board,
                **kwargs: object) -> Analysis:
        """The engine's move in `state` (the `Agent` protocol; search options are ignored)."""
        board = board_with_moves(state)
        # SimpleEngine.play waits forever under a node or depth limit: bound every move.
        seconds = self.move_timeout + (self.limit.time or 0.0)
        play = self.engine.protocol.play(board, self.limit, info=chess.engine.INFO_SCORE)
        future = asyncio.run_coroutine_threadsafe(asyncio.wait_for(play, seconds),
                                                  self.engine.protocol.loop)
        try:
            result = future.result()
        except _ENGINE_FAILURES as error:
            why = str(error) or f"no move within {seconds:g} s"
            raise UciEngineError(f"{self.name}: {why}") from None
        if result.move is None:
            raise UciEngineError(f"{self.name} played no move in {board.fen()}")
        action = self.game.move_to_action(state, result.move)
        score = result.info.get("score")
        value = 0.0 if score is None else 2.0 * score.relative.wdl().expectation() - 1.0
        return Analysis(action=int(action), value=float(value))

    def analyse_batch(self, states: np.ndarray) -> list[Analysis]:
        return [self.analyse(self.game, state) for state in states]

    def close(self) -> None:
        """Ask the engine to quit; python-chess kills it if it does not answer in time."""
        try:
            self.engine.quit()
        except _ENGINE_FAILURES:
            self.engine.close()  # kills the process
