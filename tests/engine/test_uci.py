"""UCI transcripts: scripted input lines into `UciEngine.handle`, output lines read back.

The agent is a test double that searches "in chunks" (sleeping a little per chunk), honours
`stop`, reports progress and plays a random legal move, so the protocol is tested apart from
the search.
"""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass, field

import chess
import numpy as np
import pytest

from engine.uci import GoLimits, UciEngine, parse_go, think_time
from games.chess import Chess, ChessState


@dataclass
class FakeAnalysis:
    action: int
    value: float = 0.25
    policy: np.ndarray | None = None
    visits: np.ndarray | None = None
    pv: list[int] | None = None
    simulations: int = 0
    q: np.ndarray | None = None
    lines: dict[int, list[int]] | None = None
    depth: float = 0.0
    seldepth: int = 0


@dataclass
class FakeAgent:
    """Random legal moves, searched in chunks of `chunk` simulations of `delay` seconds."""

    chunk: int = 10
    delay: float = 0.002
    seed: int = 0
    action_override: int | None = None
    fail: bool = False
    calls: list[int | None] = field(default_factory=list)

    def analyse(self, game, state, *, simulations=None, stop=None, on_progress=None):
        self.calls.append(simulations)
        if self.fail:
            raise RuntimeError("the network fell over")
        rng = random.Random(self.seed)
        actions = list(np.flatnonzero(game.legal_mask(state)))
        visits = np.zeros(game.num_actions, dtype=np.int64)
        done, budget = 0, 100 if simulations is None else simulations
        result = FakeAnalysis(action=int(actions[0]), visits=visits)
        while done < budget and not (stop is not None and stop.is_set()):
            time.sleep(self.delay)
            visits[rng.choice(actions)] += self.chunk
            done += self.chunk
            best = int(np.argmax(visits))
            result = FakeAnalysis(action=best, visits=visits.copy(), simulations=done,
                                  pv=[best], policy=visits / visits.sum())
            if on_progress is not None:
                on_progress(result)
        if self.action_override is not None:
            result.action = self.action_override
        return result


class Transcript:
    """An engine with its output collected, and helpers to wait for replies."""

    def __init__(self, agent: FakeAgent | None = None, **options) -> None:
        self.agent = agent or FakeAgent()
        self.lines: list[str] = []
        self.devices: list[str] = []

        def make_agent(device: str) -> FakeAgent:
            self.devices.append(device)
            return self.agent

        self.engine = UciEngine(make_agent, self.lines.append, **options)

    def send(self, *lines: str) -> bool:
        alive = True
        for line in lines:
            alive = self.engine.handle(line)
        return alive

    def wait_for(self, prefix: str, timeout: float = 5.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in self.lines:
                if line.startswith(prefix):
                    return line
            time.sleep(0.002)
        raise AssertionError(f"no line starting with {prefix!r} in {self.lines}")

    def bestmove(self, timeout: float = 5.0) -> str:
        line = self.wait_for("bestmove", timeout)
        assert self.engine.wait(timeout)
        return line.split()[1]


@pytest.fixture
def uci() -> Transcript:
    transcript = Transcript()
    transcript.send("isready")
    yield transcript
    transcript.send("quit")


def test_handshake(uci: Transcript) -> None:
    uci.lines.clear()
    uci.send("uci")
    assert uci.lines[0] == "id name move37"
    assert uci.lines[1].startswith("id author")
    assert uci.lines[-1] == "uciok"
    options = {line.split()[2] for line in uci.lines if line.startswith("option name")}
    assert {"Simulations", "SearchCap", "MultiPV", "Temperature", "Device",
            "MoveOverhead"} <= options
    uci.send("isready")
    assert uci.lines[-1] == "readyok"


def test_go_nodes_plays_a_legal_move_with_info(uci: Transcript) -> None:
    uci.send("position startpos moves e2e4 e7e5", "go nodes 30")
    move = uci.bestmove()
    board = chess.Board()
    board.push_uci("e2e4")
    board.push_uci("e7e5")
    assert chess.Move.from_uci(move) in board.legal_moves
    info = [line for line in uci.lines if line.startswith("info depth")][-1]
    assert " nodes 30 " in info and " score cp " in info and f" pv {move}" in info
    assert uci.agent.calls[-1] == 30


def test_stop_ends_go_infinite_quickly_and_isready_answers_meanwhile(uci: Transcript) -> None:
    uci.agent.delay = 0.01
    uci.send("position startpos", "go infinite")
    time.sleep(0.3)
    assert uci.engine.searching and not any(line.startswith("bestmove") for line in uci.lines)
    uci.send("isready")
    assert uci.lines[-1] == "readyok"
    started = time.monotonic()
    uci.send("stop")
    move = uci.bestmove(timeout=2.0)
    assert time.monotonic() - started < 0.5
    assert chess.Move.from_uci(move) in chess.Board().legal_moves
    assert uci.agent.calls[-1] == 5_000  # infinite: the SearchCap option's budget


def test_infinite_waits_for_stop_even_when_the_search_ends() -> None:
    # One chunk of 5,000 simulations (the SearchCap) taking 0.6 s: a progress line, then
    # the search is done but says nothing until `stop`, and does not repeat that line.
    transcript = Transcript(FakeAgent(chunk=5000, delay=0.6))
    transcript.send("isready")
    transcript.lines.clear()
    transcript.send("go infinite")
    time.sleep(0.9)
    assert not any(line.startswith("bestmove") for line in transcript.lines)
    transcript.send("stop")
    assert transcript.bestmove()
    info = [line for line in transcript.lines if line.startswith("info depth")]
    assert len(info) == 1 and " nodes 5000 " in info[0]


def test_position_with_many_moves(uci: Transcript) -> None:
    rng = random.Random(3)
    board = chess.Board()
    while len(board.move_stack) < 300 and not board.is_game_over(claim_draw=True):
        board.push(rng.choice(list(board.legal_moves)))
    uci.send("position startpos moves " + " ".join(m.uci() for m in board.move_stack))
    assert uci.engine.state.fen() == board.fen()
    uci.send("go nodes 20")
    assert chess.Move.from_uci(uci.bestmove()) in board.legal_moves


@pytest.mark.parametrize(
    "line, message",
    [
        ("position fen not/a/fen w - - 0 1", "malformed FEN"),
        ("position fen 8/8/8/8/8/8/8/K7 w - - 0 1", "no black king"),
        ("position startpos moves e2e4 e2e5", "illegal move e2e5"),
        ("position startpos moves e2e4 zz99", "illegal move zz99"),
        ("position", "startpos"),
        ("position fen", "needs a FEN"),
        ("position startpos e2e4", "unexpected 'e2e4'"),
    ],
)
def test_malformed_position_keeps_the_previous_one(uci: Transcript, line: str,
                                                   message: str) -> None:
    uci.send("position startpos moves d2d4")
    before = uci.engine.state
    uci.lines.clear()
    uci.send(line)
    assert len(uci.lines) == 1 and uci.lines[0].startswith("info string error: ")
    assert message in uci.lines[0]
    assert uci.engine.state is before


def test_garbage_is_ignored(uci: Transcript) -> None:
    uci.lines.clear()
    assert uci.send("", "   ", "hello world", "xyzzy 1 2 3", "register later")
    assert uci.lines == []
    uci.send("joho isready")  # unknown leading tokens are skipped, as the spec allows
    assert uci.lines == ["readyok"]


@pytest.mark.parametrize(
    "line, message",
    [
        ("setoption name Bogus value 3", "unknown option"),
        ("setoption name MultiPV value 6", "must be in [1, 5]"),
        ("setoption name UCI_ShowWDL value maybe", "true or false"),
        ("setoption name Simulations value many", "bad value"),
        ("setoption name Temperature value -1", "hundredths"),
        ("setoption name Temperature value 1.5", "hundredths"),
        ("setoption value 3", "needs 'name"),
    ],
)
def test_bad_options_are_reported(uci: Transcript, line: str, message: str) -> None:
    uci.lines.clear()
    uci.send(line)
    assert len(uci.lines) == 1 and message in uci.lines[0]


def test_options_take_effect(uci: Transcript) -> None:
    uci.send("setoption name nodes value 40", "go")
    uci.bestmove()
    assert uci.agent.calls[-1] == 40
    uci.send("setoption name Device value cpu", "isready")
    assert uci.devices == ["auto", "cpu"]
    uci.send("setoption name SearchCap value 300", "go infinite", "stop")
    uci.bestmove()
    assert uci.agent.calls[-1] == 300


def test_timed_searches_ask_for_what_their_time_allows(uci: Transcript) -> None:
    # The agent allocates its tree for the simulations it is asked for: a short search must
    # not ask for the SearchCap, a long one gets at most the cap.
    uci.send("setoption name MoveOverhead value 0", "go movetime 20")
    uci.bestmove()
    short = uci.agent.calls[-1]
    uci.lines.clear()
    uci.send("go movetime 200")
    uci.bestmove()
    assert 64 < short < uci.agent.calls[-1] < 5_000
    uci.lines.clear()
    uci.send("setoption name SearchCap value 100", "go movetime 60000", "stop")
    uci.bestmove()
    assert uci.agent.calls[-1] == 100


def test_temperature_samples_a_visited_move() -> None:
    transcript = Transcript(FakeAgent(seed=5))
    transcript.send("isready", "setoption name Temperature value 150")
    played = set()
    for _ in range(5):
        transcript.lines.clear()
        transcript.send("go nodes 40")
        move = transcript.bestmove()
        info = [line for line in transcript.lines if line.startswith("info depth")]
        assert info and chess.Move.from_uci(move) in chess.Board().legal_moves
        assert info[-1].split(" pv ")[1].split()[0] == move  # the line of the move played
        played.add(move)
    assert len(played) > 1


def test_bad_go_parameters_are_reported_but_answered(uci: Transcript) -> None:
    uci.send("go movetime soon depth 3 nodes 10")
    assert uci.bestmove()
    errors = [line for line in uci.lines if line.startswith("info string error")]
    assert any("movetime needs an integer" in e for e in errors)
    assert any("depth is not supported" in e for e in errors)
    assert uci.agent.calls[-1] == 10


@pytest.mark.parametrize("agent", [FakeAgent(fail=True), FakeAgent(action_override=0)])
def test_bestmove_is_legal_when_the_search_fails_or_lies(agent: FakeAgent) -> None:
    transcript = Transcript(agent)
    transcript.send("isready", "position startpos moves g1f3", "go nodes 0")
    board = chess.Board()
    board.push_uci("g1f3")
    assert chess.Move.from_uci(transcript.bestmove()) in board.legal_moves


def test_zero_time_still_gives_a_legal_move(uci: Transcript) -> None:
    uci.agent.delay = 0.05
    uci.send("position startpos", "go wtime 0 btime 0")
    assert chess.Move.from_uci(uci.bestmove(timeout=1.0)) in chess.Board().legal_moves


def test_mate_and_claimable_draw_positions(uci: Transcript) -> None:
    uci.send("position fen rnb1kbnr/pppp1ppp/8/4p3/6Pq/5P2/PPPPP2P/RNBQKBNR w KQkq - 1 3",
             "go nodes 10")
    assert uci.bestmove() == "(none)"
    # Threefold repetition is on the board, yet the GUI asks for a move: play one.
    shuffle = "g1f3 g8f6 f3g1 f6g8 " * 2
    uci.lines.clear()
    uci.send(f"position startpos moves {shuffle}", "go nodes 10")
    assert chess.Move.from_uci(uci.bestmove()) in chess.Board().legal_moves


def test_movetime_is_respected() -> None:
    transcript = Transcript(FakeAgent(delay=0.005))
    transcript.send("isready", "setoption name MoveOverhead value 20")
    started = time.monotonic()
    transcript.send("go movetime 300")
    transcript.bestmove()
    elapsed = time.monotonic() - started
    assert 0.28 <= elapsed <= 0.6, elapsed


def test_quit_during_a_search_ends_it() -> None:
    transcript = Transcript(FakeAgent(delay=0.01))
    transcript.send("isready", "go infinite")
    time.sleep(0.05)
    assert transcript.send("quit") is False
    assert not transcript.engine.searching
    assert any(line.startswith("bestmove") for line in transcript.lines)


def test_think_time() -> None:
    assert think_time(GoLimits(), True, 50) is None
    assert think_time(GoLimits(nodes=5), True, 50) is None
    assert think_time(GoLimits(movetime=1000), True, 50) == pytest.approx(0.95)
    clock = GoLimits(wtime=60_000, btime=1_000, winc=1_000, binc=0)
    assert think_time(clock, True, 50) == pytest.approx((59_950 / 30 + 750) / 1000)
    assert think_time(clock, False, 50) == pytest.approx(950 / 30 / 1000)
    assert think_time(GoLimits(wtime=900, movestogo=1), True, 50) == pytest.approx(0.85)
    assert think_time(GoLimits(wtime=900, winc=5000), True, 50) == pytest.approx(0.85)
    assert think_time(GoLimits(wtime=10), True, 50) == 0.0
    assert think_time(GoLimits(movetime=100, wtime=60_000), True, 0) == pytest.approx(0.1)


def test_parse_go() -> None:
    limits, problems = parse_go(["wtime", "1000", "btime", "-5", "winc", "10", "binc", "10", "movestogo", "7"])
    assert limits == GoLimits(wtime=1000, btime=0, winc=10, binc=10, movestogo=7)
    assert problems == [] and limits.timed
    limits, problems = parse_go(["searchmoves", "e2e4", "d2d4", "infinite", "bogus"])
    assert limits.infinite and not limits.timed
    assert len(problems) == 2


def test_engine_keeps_its_own_state_immutable(uci: Transcript) -> None:
    uci.send("position startpos moves e2e4")
    state = uci.engine.state
    assert isinstance(state, ChessState)
    uci.send("go nodes 10")
    uci.bestmove()
    assert uci.engine.state.fen() == state.fen() == Chess().state_from_fen(
        "rnbqkbnr/pppppppp/8/8/4P3/8/PPPP1PPP/RNBQKBNR b KQkq - 0 1").fen()
    assert threading.active_count() < 20


@pytest.mark.parametrize(
    "fen, mate",
    [("6k1/5ppp/8/8/8/8/8/R5K1 w - - 0 1", "a1a8"), ("r5k1/8/8/8/8/8/5PPP/6K1 b - - 0 1", "a8a1")],
)
def test_the_real_search_finds_mate_in_one(fen: str, mate: str) -> None:
    # The agent `move37 uci` plays with when it has no checkpoint: uniform prior, value 0,
    # so only the rules' verdicts (here a mate) can steer it. Checks the value signs end to
    # end: the game's outcome, the search's backup, the engine's score.
    from engine.commands.chess_uci import agent_factory

    game = Chess(max_moves=None)
    lines: list[str] = []
    engine = UciEngine(agent_factory(None, game, 200, 0), lines.append, game=game,
                       simulations=200)
    engine.handle("isready")
    assert lines == ["readyok"]
    engine.handle(f"position fen {fen}")
    engine.handle("go nodes 300")
    assert engine.wait(60)
    assert lines[-1] == f"bestmove {mate}"
    info = lines[-2].split()
    assert info[info.index("nodes") + 1] == "300"
    assert int(info[info.index("cp") + 1]) > 0 and info[info.index("pv") + 1] == mate
    engine.handle("quit")
