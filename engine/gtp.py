"""A Go Text Protocol (GTP 2) engine: the `move37 gtp` front end.

Commands are a dispatch table from name to handler; handlers take the argument words and
return the response text or raise `GtpFailure`; `GtpEngine.handle` turns one input line into
one response (`=id text` / `?id message`, each ended by a blank line) and `serve`
(`engine.gtp_serve`) is the only place that reads stdin and writes stdout. Input is
preprocessed as GTP 2 section 2 says: control characters other than tab and newline
dropped, tabs to spaces, `#` comments cut, empty lines ignored.

Moves come from an `Agent` (`engine.agents`): `analyse(game, state)` gives the move and the
value for the player to move (without a network, `move37 gtp` searches with a uniform prior
and random playouts as values); with a resign threshold, `genmove` answers `resign` when that
value is below it. The board is a `games.go.Go` with full positional superko and a length
cap of 4 * size * size (`genmove` passes beyond it; `play` after two passes goes on).
Vertices: `play` answers `syntax error` for text that is not a GTP vertex (or colour), and
`illegal move` for a vertex off this board, an occupied point, suicide, ko or superko.

`lz-analyze` and `kata-analyze` (the GUIs' analysis extensions, `engine.gtp_analyze`) stream
lines until the next command: `start` parses a line into its response and, for those two,
an `AnalysisJob`; `serve` reads stdin on a thread of its own, runs the job's search on
another and, when the next command arrives, stops it, ends the stream with an empty line and
answers the command. `handle` (no input to watch) runs an analysis to the genmove budget and
answers with its one final line.
"""

from __future__ import annotations

import dataclasses
import math
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Protocol

import numpy as np

from engine.config import EndgameConfig
from engine.endgame import DEAD_STONE_PLAYOUTS, dead_points, player0_view
from engine.gtp_analyze import AnalysisJob, AnalyzeError, parse_analyze
from games.base import GameError
from games.go import Go, point_to_vertex
from games.go.coords import COLUMNS, fixed_handicap_points, max_fixed_handicap


class AnalysingAgent(Protocol):
    """The part of `engine.agents.Agent` the GTP engine uses."""

    name: str

    def analyse(self, game: Go, state: np.ndarray, **kwargs): ...

    def ownership(self, game: Go, state: np.ndarray) -> np.ndarray | None:
        """Per-point ownership for the player to move, float `[size * size]` in [-1, 1]
        (row by row from the top-left point), or None without a source for it."""
        ...


ANALYZE_COMMANDS = {"lz-analyze": False, "kata-analyze": True}
"""The streaming commands, each with whether it speaks KataGo's line format."""

AgentFactory = Callable[[Go], AnalysingAgent]
"""Builds the agent for a board (called again when the size or komi changes)."""


class GtpFailure(Exception):
    """A command that fails; the message is the GTP error text."""


def parse_colour(word: str) -> int:
    """'b' / 'black' / 'w' / 'white' (any case) -> player 0 / 1."""
    colour = word.lower()
    if colour in ("b", "black"):
        return 0
    if colour in ("w", "white"):
        return 1
    raise GtpFailure("syntax error")


def parse_vertex(word: str, size: int) -> int:
    """A GTP vertex -> our action (size*size for pass). Text that is no vertex at all is a
    syntax error; a well-formed vertex off this board is an illegal move."""
    text = word.upper()
    if text == "PASS":
        return size * size
    letters = COLUMNS + "UVWXYZ"  # GTP vertices go up to 25x25
    if len(text) < 2 or text[0] not in letters or not text[1:].isdigit():
        raise GtpFailure("syntax error")
    col, row = letters.index(text[0]), int(text[1:])
    if not 1 <= row <= 25:
        raise GtpFailure("syntax error")
    if col >= size or row > size:
        raise GtpFailure("illegal move")
    return (size - row) * size + col


def score_text(score: float) -> str:
    """Black's lead -> 'B+3.5' / 'W+0.5' / '0'."""
    if score == 0:
        return "0"
    return f"{'B' if score > 0 else 'W'}+{abs(score):g}"


def preprocess(line: str) -> str:
    kept = "".join(ch for ch in line if ch in "\t\n" or (ord(ch) >= 32 and ord(ch) != 127))
    return kept.replace("\t", " ").split("#", 1)[0].strip()


@dataclass
class TimeSettings:
    """What the controller said about time (kept; the engine plays a fixed budget)."""

    main: int = 0
    byo_yomi: int = 0
    stones: int = 0
    left: dict[int, tuple[int, int]] = field(default_factory=dict)


class GtpEngine:
    """GTP command handlers over one Go board and an agent.

    Args:
        agent_factory: builds the agent for a `Go` (size and komi may change in a session).
        size, komi: the initial board.
        resign_threshold: resign when the agent's value for us is below this (None: never).
        simulations: passed to `agent.analyse` (None: the agent's own budget).
        history: earlier boards in the encoding (must match a network's).
        sizes: the board sizes the agent can play (None: 5 to 19).
        analysis_simulations: the most simulations an `lz-analyze` / `kata-analyze` search
            grows its tree to (its last line then stands until the next command).
        endgame: who names the dead stones for `final_status_list` and `final_score`
            (`dead_stones`, `dead_threshold`).
    """

    def __init__(self, agent_factory: AgentFactory, *, size: int = 9, komi: float = 7.5,
                 resign_threshold: float | None = None, simulations: int | None = None,
                 history: int = 3, sizes: set[int] | None = None, name: str = "move37",
                 analysis_simulations: int = 10_000,
                 endgame: EndgameConfig | None = None) -> None:
        self.agent_factory = agent_factory
        self.endgame = endgame or EndgameConfig()
        self.history = history
        self.sizes = sizes
        self.resign_threshold = resign_threshold
        self.simulations = simulations
        self.analysis_simulations = analysis_simulations
        self.engine_name = name
        self.time = TimeSettings()
        self.finished = False
        self._boards: dict[tuple[int, float], tuple[Go, AnalysingAgent]] = {}
        self.commands: dict[str, Callable[[list[str]], str]] = {
            "protocol_version": lambda args: "2",
            "name": lambda args: self.engine_name,
            "version": lambda args: _version(),
            "known_command": self.known_command,
            "list_commands": lambda args: "\n".join(sorted([*self.commands, *ANALYZE_COMMANDS])),
            "quit": self.quit,
            "boardsize": self.boardsize,
            "clear_board": self.clear_board,
            "komi": self.komi,
            "play": self.play,
            "genmove": self.genmove,
            "undo": self.undo,
            "showboard": lambda args: "\n" + self.game.render(self.state),
            "final_score": self.final_score,
            "final_status_list": self.final_status_list,
            "time_settings": self.time_settings,
            "time_left": self.time_left,
            "fixed_handicap": self.fixed_handicap,
            "place_free_handicap": self.place_free_handicap,
            "set_free_handicap": self.set_free_handicap,
            "loadsgf": self.loadsgf,
        }
        self._new_game(size, komi)

    # --- protocol ----------------------------------------------------------------------
    def handle(self, line: str) -> str | None:
        """The full response to one input line (None for a line GTP says to ignore); an
        analyze command searches to the genmove budget and answers with one line."""
        response, job = self.start(line)
        if job is None:
            return response
        lines: list[str] = []
        job = dataclasses.replace(job, simulations=self.simulations,
                                  request=dataclasses.replace(job.request, interval=0.0))
        job.run(lines.append, threading.Event())
        return f"{response}{''.join(lines)}\n"

    def start(self, line: str) -> tuple[str | None, AnalysisJob | None]:
        """The response to one input line, and for an analyze command the search whose
        lines follow it (the stream then ends with an empty line)."""
        words = preprocess(line).split()
        if not words:
            return None, None
        ident = ""
        if words[0].isdigit():
            ident, words = words[0], words[1:]
        if not words:
            return f"?{ident} syntax error\n\n", None
        if words[0] in ANALYZE_COMMANDS:
            try:
                job = self.analysis_job(words[1:], kata=ANALYZE_COMMANDS[words[0]])
            except GtpFailure as failure:
                return f"?{ident} {failure}\n\n", None
            return f"={ident}\n", job
        return self._respond(ident, words), None

    def _respond(self, ident: str, words: list[str]) -> str:
        handler = self.commands.get(words[0])
        if handler is None:
            return f"?{ident} unknown command\n\n"
        try:
            text = handler(words[1:])
        except GtpFailure as failure:
            return f"?{ident} {failure}\n\n"
        return f"={ident} {text}\n\n"

    # --- board and game ------------------------------------------------------------------
    def _rules(self, size: int, komi: float) -> tuple[Go, AnalysingAgent]:
        """The board rules and agent for (size, komi), built once each per session."""
        key = (size, float(komi))
        if key not in self._boards:
            game = Go(size=size, komi=komi, max_moves=4 * size * size, history=self.history)
            self._boards[key] = (game, self.agent_factory(game))
        return self._boards[key]

    def _new_game(self, size: int, komi: float, keep_position: bool = False) -> None:
        self.game, self.agent = self._rules(size, komi)
        if not keep_position:
            self.state = self.game.initial_state()
            self.undo_stack: list[np.ndarray] = []

    def _words(self, args: list[str], count: int) -> list[str]:
        if len(args) != count:
            raise GtpFailure("syntax error")
        return args

    def known_command(self, args: list[str]) -> str:
        (word,) = self._words(args, 1)
        return "true" if word in self.commands or word in ANALYZE_COMMANDS else "false"

    def quit(self, args: list[str]) -> str:
        self.finished = True
        return ""

    def boardsize(self, args: list[str]) -> str:
        (word,) = self._words(args, 1)
        if not word.isdigit():
            raise GtpFailure("syntax error")
        size = int(word)
        if not 5 <= size <= 19 or (self.sizes is not None and size not in self.sizes):
            raise GtpFailure("unacceptable size")
        self._new_game(size, self.game.komi)
        return ""

    def clear_board(self, args: list[str]) -> str:
        self.state = self.game.initial_state()
        self.undo_stack = []
        return ""

    def komi(self, args: list[str]) -> str:
        (word,) = self._words(args, 1)
        try:
            komi = float(word)
        except ValueError:
            raise GtpFailure("syntax error") from None
        if not math.isfinite(komi):
            raise GtpFailure("syntax error")
        self._new_game(self.game.size, komi, keep_position=True)
        return ""

    def _push(self, state: np.ndarray) -> None:
        self.undo_stack.append(self.state)
        self.state = state

    def play(self, args: list[str]) -> str:
        colour_word, vertex = self._words(args, 2)
        player = parse_colour(colour_word)
        action = parse_vertex(vertex, self.game.size)
        state = self.game.replace(self.state, to_play=player,
                                  passes=0 if self.game.passes(self.state) >= 2 else None)
        if self.game.is_over(state) or not self.game.legal_mask(state)[action]:
            raise GtpFailure("illegal move")
        self._push(self.game.next_state(state, action))
        return ""

    def genmove(self, args: list[str]) -> str:
        (colour_word,) = self._words(args, 1)
        player = parse_colour(colour_word)
        state = self.game.replace(self.state, to_play=player)
        if self.game.is_over(state):
            return "pass"
        kwargs = {} if self.simulations is None else {"simulations": self.simulations}
        analysis = self.agent.analyse(self.game, state, **kwargs)
        if self.resign_threshold is not None and analysis.value < self.resign_threshold:
            return "resign"
        action = int(analysis.action)
        if not self.game.legal_mask(state)[action]:
            raise GtpFailure(f"engine error: agent chose illegal move "
                             f"{point_to_vertex(action, self.game.size)}")
        self._push(self.game.next_state(state, action))
        return point_to_vertex(action, self.game.size)

    def undo(self, args: list[str]) -> str:
        self._words(args, 0)
        if not self.undo_stack:
            raise GtpFailure("cannot undo")
        self.state = self.undo_stack.pop()
        return ""

    def analysis_job(self, args: list[str], *, kata: bool) -> AnalysisJob:
        """The search of an `lz-analyze` (kata False) or `kata-analyze` command."""
        try:
            request = parse_analyze(args, kata=kata)
        except AnalyzeError as error:
            raise GtpFailure(str(error)) from None
        state = self.state
        if request.player is not None:
            state = self.game.replace(state, to_play=request.player)
        if self.game.passes(state) >= 2:  # as `play` does: the game goes on
            state = self.game.replace(state, passes=0)
        ownership = None
        if request.ownership:
            ownership = self.agent.ownership(self.game, state)
            if ownership is None:
                raise GtpFailure("ownership is not available for this network")
            ownership = np.asarray(ownership, dtype=np.float32)
            if ownership.shape != (self.game.size ** 2,):
                raise GtpFailure(f"engine error: ownership of shape {ownership.shape}")
        size = self.game.size
        return AnalysisJob(self.agent, self.game, None if self.game.is_over(state) else state,
                           request, self.analysis_simulations,
                           lambda action: point_to_vertex(action, size), ownership)

    # --- handicap ------------------------------------------------------------------------
    def _handicap_count(self, args: list[str]) -> int:
        (word,) = self._words(args, 1)
        if not word.isdigit():
            raise GtpFailure("syntax error")
        if self.game.board(self.state).any():
            raise GtpFailure("board not empty")
        return int(word)

    def _place_handicap(self, points: list[int]) -> str:
        self.state = self.game.setup(self.state, black=points, to_play=1)
        self.undo_stack = []
        return " ".join(point_to_vertex(p, self.game.size) for p in points)

    def fixed_handicap(self, args: list[str]) -> str:
        stones = self._handicap_count(args)
        if not 2 <= stones <= max_fixed_handicap(self.game.size):
            raise GtpFailure("invalid number of stones")
        return self._place_handicap(fixed_handicap_points(self.game.size, stones))

    def place_free_handicap(self, args: list[str]) -> str:
        stones = self._handicap_count(args)
        size = self.game.size
        if not 2 <= stones < size * size:
            raise GtpFailure("invalid number of stones")
        fixed = min(stones, max_fixed_handicap(size))
        points = fixed_handicap_points(size, fixed) if fixed >= 2 else []
        points += spread_points(size, points, stones - len(points))
        return self._place_handicap(points)

    def set_free_handicap(self, args: list[str]) -> str:
        if self.game.board(self.state).any():
            raise GtpFailure("board not empty")
        size = self.game.size
        try:
            points = [parse_vertex(word, size) for word in args]
        except GtpFailure:
            raise GtpFailure("bad vertex list") from None
        if (len(points) < 2 or len(points) >= size * size or len(set(points)) != len(points)
                or size * size in points):
            raise GtpFailure("bad vertex list")
        self._place_handicap(points)
        return ""

    def _dead(self) -> list[int]:
        """The dead stones on the board, named as `endgame.dead_stones` says: by random
        playouts from the board, or by the agent's ownership head (playouts without one)."""
        owned = self.agent.ownership(self.game, self.state) \
            if self.endgame.dead_stones == "ownership" else None
        if owned is None:
            return self.game.dead_stones(self.state, DEAD_STONE_PLAYOUTS)
        black_view = player0_view(np.asarray(owned), self.game.to_play(self.state))
        return dead_points(self.game.stones(self.state), black_view,
                           self.endgame.dead_threshold).tolist()

    def final_score(self, args: list[str]) -> str:
        """The area count of the board with komi, the dead stones (`_dead`) taken off."""
        return score_text(self.game.score_without(self.state, self._dead()))

    def final_status_list(self, args: list[str]) -> str:
        """Stones that are `alive`, `dead` or in `seki`, as GUIs ask at the end of a game.

        Dead stones are named by `_dead`. Stones in seki count as alive (the playouts never
        fill a seki's shared liberty) but are not listed apart: the `seki` list is empty.
        """
        (status,) = self._words(args, 1)
        status = status.lower()
        if status not in ("alive", "dead", "seki"):
            raise GtpFailure("syntax error")
        if status == "seki":
            return ""
        dead = set(self._dead())
        board = self.game.board(self.state)
        stones = [p for p in np.flatnonzero(board) if (int(p) in dead) == (status == "dead")]
        return " ".join(point_to_vertex(int(p), self.game.size) for p in stones)

    # --- time and records ------------------------------------------------------------------
    def time_settings(self, args: list[str]) -> str:
        words = self._words(args, 3)
        if not all(w.isdigit() for w in words):
            raise GtpFailure("syntax error")
        self.time = TimeSettings(*map(int, words))
        return ""

    def time_left(self, args: list[str]) -> str:
        colour_word, seconds, stones = self._words(args, 3)
        player = parse_colour(colour_word)
        if not (seconds.isdigit() and stones.isdigit()):
            raise GtpFailure("syntax error")
        self.time.left[player] = (int(seconds), int(stones))
        return ""

    def loadsgf(self, args: list[str]) -> str:
        from games.go.sgf import read_sgf, replay

        if len(args) not in (1, 2) or (len(args) == 2 and not args[1].isdigit()):
            raise GtpFailure("syntax error")
        try:
            record = read_sgf(Path(args[0]))
            if self.sizes is not None and record.size not in self.sizes:
                raise GtpFailure("cannot load file")
            game = Go(size=record.size, komi=record.komi, max_moves=4 * record.size ** 2,
                      history=self.history)
            state, _ = replay(game, record, int(args[1]) if len(args) == 2 else None)
        except (GameError, ValueError):
            raise GtpFailure("cannot load file") from None
        self._new_game(record.size, record.komi)
        self.state = state
        return "black" if self.game.to_play(state) == 0 else "white"


def spread_points(size: int, taken: list[int], count: int) -> list[int]:
    """`count` more points, each as far as possible (Chebyshev distance, then distance to
    the centre) from the points already chosen: free handicap beyond the fixed patterns."""
    chosen = list(taken)
    rows, cols = np.divmod(np.arange(size * size), size)
    centre = (size - 1) / 2
    for _ in range(count):
        if chosen:
            r, c = np.divmod(np.array(chosen), size)
            far = np.min(np.maximum(np.abs(rows[:, None] - r), np.abs(cols[:, None] - c)), axis=1)
        else:
            far = np.zeros(size * size)
        far = far.astype(float) - 1e-3 * (np.abs(rows - centre) + np.abs(cols - centre))
        far[chosen] = -np.inf
        chosen.append(int(np.argmax(far)))
    return chosen[len(taken):]


def _version() -> str:
    try:
        return metadata.version("move37")
    except metadata.PackageNotFoundError:
        return "0"
