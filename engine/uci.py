"""A UCI chess engine over any `Agent` (the search with a network, or with a uniform prior).

The protocol is a dispatch table from command word to handler (`UciEngine.handlers`). The
engine never touches stdin or stdout itself: it writes through the `write` callable it is
given, and `run` (the only function here that reads and prints) feeds it lines. Tests drive
`UciEngine.handle` with scripted lines and read what was written.

Threads: the input thread parses commands; `go` starts a search thread, which calls
`agent.analyse(..., stop=event, on_progress=...)` (the agent searches in chunks and checks
the event between them), prints `info` lines as it goes and `bestmove` at the end. A timer
sets the same event when the time budget is spent, and `stop` sets it at once. Building the
agent (loading a checkpoint, compiling the search kernels on a first tiny search) also runs
off the input thread: `uci` is answered at once and `isready` waits for it.

Every `info` line shows the line of the move the engine will play (`multipv 1`; with `MultiPV`
above 1, the other visited moves follow by visits), so that `bestmove` is the first move of
the last `pv` printed. `depth` is the mean depth of the search tree's nodes, `seldepth` its
deepest. With `UCI_ShowWDL`, `wdl` gives win/draw/loss in permille from the line's value v:
the value is the expected score W - L and has no separate draw estimate, so W = max(v, 0),
L = max(-v, 0) and the rest is draw (W - L = v, W + D + L = 1000).

Following the UCI specification, unknown commands are ignored; malformed ones are reported
as `info string error: ...` and change nothing (a bad `position` keeps the previous one).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Protocol, TextIO

import numpy as np

from engine.uci_limits import (
    MAX_MULTIPV,
    MAX_SIMULATIONS,
    SEARCH_CAP,
    GoLimits,
    UciError,
    parse_go,
    parse_position,
    parse_setoption,
    parse_uci_move,
    think_time,
)
from games.chess import Chess, ChessState, value_to_centipawns

__all__ = ["GoLimits", "UciEngine", "UciError", "parse_go", "run", "serve", "think_time"]


class Analysis(Protocol):
    """What the engine reads of an agent's analysis (see `engine.agents.Analysis`)."""

    action: int
    value: float
    policy: np.ndarray | None
    visits: np.ndarray | None
    pv: list[int] | None
    simulations: int
    q: np.ndarray | None
    lines: dict[int, list[int]] | None
    depth: float
    seldepth: int


class Agent(Protocol):
    """Anything that analyses a position, in chunks that honour `stop`."""

    def analyse(self, game: Chess, state: ChessState, *, simulations: int | None = None,
                stop: threading.Event | None = None,
                on_progress: Callable[[Analysis], None] | None = None) -> Analysis: ...


AgentFactory = Callable[[str], Agent]
"""device name ("auto", "cpu", "cuda", ...) -> a ready agent."""

INFO_INTERVAL = 0.5  # seconds between progress `info` lines
WARMUP_SIMULATIONS = 64  # the smallest search whose speed updates the measured one
WARMUP_TREE = 1024  # simulations of the search that first measures the agent's speed
WARMUP_SECONDS = 0.25  # ... stopped after this long



class UciEngine:
    """The protocol state machine (see the module docstring).

    Args:
        make_agent: builds the agent for a device name; called off the input thread.
        write: receives every output line (without newline); must be thread-safe enough to
            be called under the engine's lock.
        game: the rules the agent searches with (`max_moves` should be None).
        simulations: the default search size when `go` has no limit (option `Simulations`).
        name: the `id name` reply.
        device: the initial value of the `Device` option.
        seed: seeds move sampling when `Temperature` > 0.
    """

    def __init__(self, make_agent: AgentFactory, write: Callable[[str], None], *,
                 game: Chess | None = None, simulations: int = 800, name: str = "move37",
                 device: str = "auto", seed: int = 0) -> None:
        self.make_agent = make_agent
        self._write_line = write
        self.game = game if game is not None else Chess(max_moves=None)
        # Moves the GUI sends are applied by the rules alone: it may play on past a claimable
        # draw that our game would have ended. The search then ignores the draw rules too.
        self.rules_only = Chess(max_moves=None, history=self.game.history, draw_rules=False)
        self.name = name
        self.options: dict[str, object] = {
            "Simulations": simulations, "SearchCap": SEARCH_CAP, "MultiPV": 1,
            "Temperature": 0, "Device": device, "MoveOverhead": 50, "UCI_ShowWDL": False,
        }
        self.state: ChessState = self.game.initial_state()
        self.rng = np.random.default_rng(seed)
        self.handlers: dict[str, Callable[[list[str]], bool]] = {
            "uci": self._uci, "isready": self._isready, "ucinewgame": self._ucinewgame,
            "setoption": self._setoption, "position": self._position, "go": self._go,
            "stop": self._stop, "ponderhit": self._ignore, "debug": self._ignore,
            "register": self._ignore, "quit": self._quit,
        }
        self._lock = threading.Lock()
        self._agent: Agent | None = None
        self._agent_error: str | None = None
        self._agent_ready = threading.Event()
        self._agent_generation = 0
        self._rate = 1000.0  # simulations per second, measured at start and by every search
        self._last_reported: tuple[Analysis, int] | None = None
        self._stop_event = threading.Event()
        self._search_thread: threading.Thread | None = None
        self._start_agent()

    # --- input ---------------------------------------------------------------------------

    def handle(self, line: str) -> bool:
        """Process one input line; False once the engine should exit (`quit`)."""
        words = line.split()
        if not words:
            return True
        # The spec lets an engine skip unknown leading tokens ("joho debug on").
        for index, word in enumerate(words):
            handler = self.handlers.get(word)
            if handler is not None:
                try:
                    return handler(words[index + 1 :])
                except UciError as error:
                    self.write(f"info string error: {error}")
                    return True
        return True

    def write(self, line: str) -> None:
        with self._lock:
            self._write_line(line)

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for the running search (if any) to print its bestmove; False on timeout."""
        thread = self._search_thread
        if thread is not None:
            thread.join(timeout)
            return not thread.is_alive()
        return True

    @property
    def searching(self) -> bool:
        return self._search_thread is not None and self._search_thread.is_alive()

    # --- handlers ------------------------------------------------------------------------

    def _uci(self, args: list[str]) -> bool:
        self.write(f"id name {self.name}")
        self.write("id author the move37 developers")
        self.write(f"option name Simulations type spin default {self.options['Simulations']} "
                   f"min 0 max {MAX_SIMULATIONS}")
        self.write(f"option name SearchCap type spin default {self.options['SearchCap']} "
                   f"min 1 max {MAX_SIMULATIONS}")
        self.write(f"option name MultiPV type spin default 1 min 1 max {MAX_MULTIPV}")
        self.write("option name UCI_ShowWDL type check default false")
        # Hundredths: UCI has no fractional option type (100 samples by visit counts).
        self.write("option name Temperature type spin default 0 min 0 max 500")
        self.write(f"option name Device type string default {self.options['Device']}")
        self.write(f"option name MoveOverhead type spin default {self.options['MoveOverhead']} "
                   "min 0 max 5000")
        self.write("uciok")
        return True

    def _isready(self, args: list[str]) -> bool:
        self._agent_ready.wait()
        if self._agent_error:
            self.write(f"info string error: {self._agent_error}")
        self.write("readyok")
        return True

    def _ucinewgame(self, args: list[str]) -> bool:
        self._finish_search()
        self.state = self.game.initial_state()
        return True

    def _setoption(self, args: list[str]) -> bool:
        name, value = parse_setoption(args, self.options)
        self._finish_search()
        previous = self.options[name]
        self.options[name] = value
        if name == "Device" and value != previous:
            self._start_agent()
        return True

    def _position(self, args: list[str]) -> bool:
        fen, moves = parse_position(args)
        try:
            state = self.game.state_from_fen(fen)
        except ValueError as error:
            raise UciError(f"{error} (position unchanged)") from None
        for text in moves:
            move = parse_uci_move(text)
            if move is None or move not in state.legal_moves().values():
                raise UciError(f"illegal move {text} in {state.fen()} (position unchanged)")
            state = state.child(move)
        self._finish_search()
        self.state = state
        return True

    def _go(self, args: list[str]) -> bool:
        limits, problems = parse_go(args)
        for problem in problems:
            self.write(f"info string error: {problem}")
        self._finish_search()
        self._stop_event = threading.Event()
        received = time.monotonic()
        self._search_thread = threading.Thread(
            target=self._search, args=(self.state, limits, received, self._stop_event),
            name="uci-search", daemon=True)
        self._search_thread.start()
        return True

    def _stop(self, args: list[str]) -> bool:
        self._stop_event.set()
        return True

    def _quit(self, args: list[str]) -> bool:
        self._finish_search()
        return False

    def _ignore(self, args: list[str]) -> bool:
        return True

    # --- the agent -----------------------------------------------------------------------

    def _start_agent(self) -> None:
        """(Re)build the agent in the background; `isready` and `go` wait for it.

        Only the latest build counts: an older one still running when the device changes
        again is discarded when it ends.
        """
        self._agent_ready.clear()
        self._agent_generation += 1
        generation, device = self._agent_generation, str(self.options["Device"])

        def build() -> None:
            agent, error_text = None, None
            try:
                agent = self.make_agent(device)
                # A first tiny search compiles whatever needs compiling before a clock runs
                # (the interruptible path, as `go` uses it); a second one, of a tree as
                # large as a timed search grows and stopped after WARMUP_SECONDS, measures
                # the speed with the tree's allocation in it (on chess's 4,672 actions,
                # allocating a tree costs more per node than a uniform search spends).
                for simulations in (2, WARMUP_TREE):
                    stop = threading.Event()
                    timer = threading.Timer(WARMUP_SECONDS, stop.set)
                    timer.daemon = True
                    started = time.monotonic()
                    timer.start()
                    warmup = agent.analyse(self.game, self.game.initial_state(),
                                           simulations=simulations, stop=stop,
                                           on_progress=lambda _: None)
                    timer.cancel()
                self._rate = warmup.simulations / max(time.monotonic() - started, 1e-3)
            except Exception as error:  # noqa: BLE001 - any failure is reported on isready
                agent, error_text = None, f"cannot start the agent: {error}"
            if generation == self._agent_generation:
                self._agent, self._agent_error = agent, error_text
                self._agent_ready.set()

        threading.Thread(target=build, name="uci-agent", daemon=True).start()

    def _finish_search(self) -> None:
        """Stop a running search and wait for its bestmove (a GUI should not need this)."""
        if self.searching:
            self._stop_event.set()
            self.wait()

    # --- the search thread ---------------------------------------------------------------

    def _search(self, state: ChessState, limits: GoLimits, received: float,
                stop: threading.Event) -> None:
        budget = think_time(limits, state.turn, int(self.options["MoveOverhead"]))  # type: ignore[arg-type]
        timer = None
        if budget is not None:
            timer = threading.Timer(max(0.0, budget - (time.monotonic() - received)), stop.set)
            timer.daemon = True
            timer.start()
        try:
            analysis = self._analyse(state, limits, budget, received, stop)
            if limits.infinite:
                stop.wait()  # never answer an infinite search before `stop`
            action = self._choose(state, analysis)
            if analysis is not None and action is not None:
                self._report(state, analysis, received, first=action)
            move = state.legal_moves()[action].uci() if action is not None else "(none)"
            self.write(f"bestmove {move}")
        finally:
            if timer is not None:
                timer.cancel()

    def _budget(self, limits: GoLimits, seconds: float | None) -> int:
        """Simulations to ask the agent for (it allocates its tree for all of them).

        A timed search asks for what the measured speed (tree allocation included) fits in
        its time, at most `SearchCap`; the timer stops it sooner when needed. Asking for
        more would cost time: the tree is allocated for every simulation asked for.
        """
        cap = int(self.options["SearchCap"])  # type: ignore[call-overload]
        if limits.nodes is not None:
            return limits.nodes
        if limits.infinite:
            return cap
        if seconds is not None:
            return max(1, min(cap, int(self._rate * seconds) + WARMUP_SIMULATIONS))
        return int(self.options["Simulations"])  # type: ignore[call-overload]

    def _analyse(self, state: ChessState, limits: GoLimits, seconds: float | None,
                 received: float, stop: threading.Event) -> Analysis | None:
        game = self.game if self.game.outcome(state) is None else self.rules_only
        if game.outcome(state) is not None:
            return None  # mate or stalemate: there is no move
        while not self._agent_ready.wait(0.01):
            if stop.is_set():
                return None
        if self._agent is None:
            return None
        simulations = self._budget(limits, seconds)
        last_info = [time.monotonic()]

        def progress(analysis: Analysis) -> None:
            if time.monotonic() - last_info[0] >= INFO_INTERVAL:
                last_info[0] = time.monotonic()
                self._report(state, analysis, received)

        try:
            started = time.monotonic()
            analysis = self._agent.analyse(game, state, simulations=simulations, stop=stop,
                                           on_progress=progress)
            if analysis.simulations >= WARMUP_SIMULATIONS:
                rate = analysis.simulations / max(time.monotonic() - started, 1e-3)
                self._rate = 0.5 * (self._rate + rate)
            return analysis
        except Exception as error:  # noqa: BLE001 - a broken search still owes a legal move
            self.write(f"info string error: search failed: {error}")
            return None

    def _report(self, state: ChessState, analysis: Analysis, received: float,
                first: int | None = None) -> None:
        """`info` lines, one per line of `MultiPV`: first the line of `first` (default: the
        move the search would play now), then the other visited moves by visits."""
        first = int(analysis.action) if first is None else first
        if self._last_reported is not None and self._last_reported[0] is analysis \
                and self._last_reported[1] == first:
            return  # progress already showed this line
        self._last_reported = (analysis, first)
        elapsed = max(time.monotonic() - received, 1e-3)
        nodes = int(analysis.simulations)
        moves = [first]
        if analysis.visits is not None:
            visits = np.asarray(analysis.visits)
            by_visits = sorted(np.flatnonzero(visits), key=lambda a: (-visits[a], a))
            moves += [int(a) for a in by_visits if int(a) != first]
        moves = moves[: int(self.options["MultiPV"])]  # type: ignore[call-overload]
        lines = analysis.lines or {}
        for rank, action in enumerate(moves, 1):
            line = lines.get(action) or ((analysis.pv or [action]) if action == analysis.action
                                         else [action])
            if line[0] != action:
                line = [action]
            pv = _pv_text(state, line)
            if not pv:
                continue
            value = analysis.value
            if analysis.q is not None and analysis.visits is not None \
                    and analysis.visits[action] > 0:
                value = float(analysis.q[action])
            depth = max(1, round(analysis.depth)) if analysis.depth else len(pv)
            wdl = f" wdl {' '.join(map(str, wdl_permille(value)))}" \
                if self.options["UCI_ShowWDL"] else ""
            self.write(f"info depth {depth} seldepth {max(analysis.seldepth, len(pv), depth)} "
                       f"multipv {rank} score cp {value_to_centipawns(value)}{wdl} "
                       f"nodes {nodes} nps {int(nodes / elapsed)} time {int(elapsed * 1000)} "
                       f"pv {' '.join(pv)}")

    def _choose(self, state: ChessState, analysis: Analysis | None) -> int | None:
        """The action to play: the analysis's, sampled by visits at a temperature, or a
        fallback; None when there is no legal move."""
        legal = state.legal_moves()
        if not legal:
            return None
        temperature = int(self.options["Temperature"]) / 100  # type: ignore[call-overload]
        if analysis is not None and temperature > 0 and analysis.visits is not None:
            actions = np.array(list(legal))
            weights = np.asarray(analysis.visits, dtype=np.float64)[actions] ** (1 / temperature)
            if weights.sum() > 0:
                return int(self.rng.choice(actions, p=weights / weights.sum()))
        if analysis is not None and int(analysis.action) in legal:
            return int(analysis.action)
        if analysis is not None and analysis.policy is not None:
            actions = list(legal)
            return int(actions[int(np.argmax(np.asarray(analysis.policy)[actions]))])
        return int(next(iter(legal)))


def wdl_permille(value: float) -> tuple[int, int, int]:
    """(win, draw, loss) in permille for a value in [-1, 1] (see the module docstring)."""
    v = min(1.0, max(-1.0, float(value)))
    win, loss = round(1000 * max(v, 0.0)), round(1000 * max(-v, 0.0))
    return win, 1000 - win - loss, loss


def _pv_text(state: ChessState, actions: list[int]) -> list[str]:
    """The principal variation in UCI notation, as far as its moves are legal."""
    moves = []
    for action in actions:
        move = state.legal_moves().get(int(action))
        if move is None:
            break
        moves.append(move.uci())
        state = state.child(move)
    return moves


def run(engine: UciEngine, stdin: TextIO) -> None:
    """Feed `stdin` to `engine` line by line until `quit` or end of input."""
    while True:
        line = stdin.readline()
        if not line:
            engine.handle("quit")
            return
        if not engine.handle(line):
            return


def serve(make_agent: AgentFactory, stdin: TextIO, stdout: TextIO, **options: object) -> None:
    """Run a UCI engine on these streams (the one place that touches them)."""

    def write(line: str) -> None:
        stdout.write(line + "\n")
        stdout.flush()

    run(UciEngine(make_agent, write, **options), stdin)  # type: ignore[arg-type]
