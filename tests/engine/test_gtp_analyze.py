"""`lz-analyze` and `kata-analyze`: transcripts of `move37 gtp` as a subprocess, read by a
strict reader written from the two formats (Leela Zero's and KataGo's GTP extensions), and
the pieces (argument parsing, lcb, ordering, the ownership tail) in process."""

from __future__ import annotations

import io
import itertools
import math
import queue
import re
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

from engine.agents import make_agent
from engine.gtp import GtpEngine
from engine.gtp_serve import serve
from engine.gtp_analyze import AnalyzeError, AnalyzeRequest, parse_analyze, winrate_lcb
from games.go import Go, vertex_to_point

ROOT = Path(__file__).resolve().parents[2]
ENGINE = [sys.executable, "-m", "engine.cli", "gtp", "--size", "9", "--sims", "16", "--seed", "0"]
OPENING = ["E5", "C3", "G4"]  # black, white, black: white to move

# --- the reader -----------------------------------------------------------------------------

LZ_KEYS = {"move": "vertex", "visits": "int", "winrate": "permyriad", "prior": "permyriad",
           "lcb": "permyriad", "order": "int"}
KATA_KEYS = {"move": "vertex", "visits": "int", "edgeVisits": "int", "utility": "unit",
             "winrate": "prob", "scoreMean": "float", "scoreStdev": "float",
             "scoreLead": "float", "scoreSelfplay": "float", "prior": "prob", "lcb": "float",
             "utilityLcb": "float", "order": "int", "weight": "float"}
LZ_REQUIRED = set(LZ_KEYS)
KATA_REQUIRED = {"move", "visits", "utility", "winrate", "prior", "lcb", "utilityLcb", "order"}
VERTEX = re.compile(r"^(pass|[A-HJ-T](1[0-9]|[1-9]))$")


@dataclass
class Info:
    fields: dict[str, float | str]
    pv: list[str]
    pv_visits: list[int] = field(default_factory=list)


def read_vertex(word: str, size: int) -> str:
    assert VERTEX.match(word), f"not a vertex: {word!r}"
    if word != "pass":
        assert "ABCDEFGHJKLMNOPQRST".index(word[0]) < size and int(word[1:]) <= size, word
    return word


def read_value(kind: str, word: str, size: int) -> float | str:
    if kind == "vertex":
        return read_vertex(word, size)
    if kind in ("int", "permyriad"):
        assert re.fullmatch(r"\d+", word), f"not a count: {word!r}"
        value = int(word)
        assert kind == "int" or value <= 10000, word
        return value
    value = float(word)
    assert math.isfinite(value), word
    if kind == "prob":
        assert 0.0 <= value <= 1.0, word
    if kind == "unit":
        assert -1.0 <= value <= 1.0, word
    return value


def read_line(line: str, *, kata: bool, size: int) -> tuple[list[Info], list[float] | None]:
    """One analysis line -> its info blocks and the ownership tail (None when absent)."""
    keys, required = (KATA_KEYS, KATA_REQUIRED) if kata else (LZ_KEYS, LZ_REQUIRED)
    words = line.split(" ")
    assert words[0] == "info" and "" not in words, line
    infos: list[Info] = []
    ownership = None
    i = 0
    while i < len(words):
        if words[i] == "ownership":
            assert kata and ownership is None
            ownership = [read_value("unit", w, size) for w in words[i + 1:]]
            assert len(ownership) == size * size, len(ownership)
            break
        assert words[i] == "info", (i, words[i])
        i += 1
        fields: dict[str, float | str] = {}
        while words[i] != "pv":
            key, value = words[i], words[i + 1]
            assert key in keys and key not in fields, f"key {key!r}"
            fields[key] = read_value(keys[key], value, size)
            i += 2
        assert required <= set(fields), required - set(fields)
        i += 1
        pv = []
        while i < len(words) and words[i] not in ("info", "ownership", "pvVisits"):
            pv.append(read_vertex(words[i], size))
            i += 1
        assert pv and pv[0] == fields["move"], (pv, fields["move"])
        info = Info(fields, pv)
        if i < len(words) and words[i] == "pvVisits":
            assert kata
            i += 1
            while i < len(words) and words[i] not in ("info", "ownership"):
                info.pv_visits.append(int(read_value("int", words[i], size)))
                i += 1
            assert len(info.pv_visits) == len(pv)
        infos.append(info)
    assert infos
    assert [info.fields["order"] for info in infos] == list(range(len(infos)))
    visits = [int(info.fields["visits"]) for info in infos]
    assert visits == sorted(visits, reverse=True), visits
    assert len({info.fields["move"] for info in infos}) == len(infos)
    for info in infos:
        scale = 1.0 if kata else 10000.0
        assert float(info.fields["lcb"]) <= float(info.fields["winrate"]) + 1e-6 * scale
        if kata:  # utility and winrate are the same number on two scales
            assert abs(float(info.fields["utility"]) - (2 * float(info.fields["winrate"]) - 1)) < 1e-5
    return infos, ownership


def check_pv_legal(infos: list[Info], game: Go, state: np.ndarray) -> None:
    """Every pv is a legal sequence of moves from the analysed position."""
    for info in infos:
        position = state
        for word in info.pv:
            action = vertex_to_point(word, game.size)
            assert not game.is_over(position) and game.legal_mask(position)[action], info.pv
            position = game.next_state(position, action)


# --- the engine as a subprocess ---------------------------------------------------------------

class Gtp:
    """`move37 gtp` behind pipes; a thread moves its output lines into a queue."""

    def __init__(self) -> None:
        self.process = subprocess.Popen(ENGINE, cwd=ROOT, stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, text=True, bufsize=1)
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line.rstrip("\n"))

    def send(self, command: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(command + "\n")
        self.process.stdin.flush()

    def line(self, timeout: float = 120.0) -> str:
        return self.lines.get(timeout=timeout)

    def command(self, command: str) -> str:
        """An ordinary command's full response (its lines up to the empty one)."""
        self.send(command)
        out = [self.line()]
        while out[-1] != "":
            out.append(self.line())
        return "\n".join(out[:-1])

    def analyse(self, command: str, seconds: float = 1.0, min_lines: int = 3) -> list[str]:
        """Start a stream, let it run `seconds` (and at least `min_lines` lines), send
        `name`: the lines of the stream, checked to end with an empty line that the answer
        to `name` follows."""
        self.send(command)
        assert self.line() == "="
        started, lines = time.monotonic(), []
        while len(lines) < min_lines or time.monotonic() - started < seconds:
            assert time.monotonic() - started < 120, f"only {len(lines)} lines in 120 s"
            try:
                lines.append(self.line(timeout=0.05))
            except queue.Empty:
                pass
            assert lines[-1:] != [""], "the stream ended before the next command"
        self.send("name")
        while True:
            line = self.line()
            if line == "":
                break
            lines.append(line)
        assert self.line() == "= move37" and self.line() == ""
        return lines

    def close(self) -> None:
        self.send("quit")
        self.process.communicate(timeout=30)


@pytest.fixture(scope="module")
def gtp():
    engine = Gtp()
    yield engine
    engine.close()


def opening(gtp: Gtp) -> tuple[Go, np.ndarray]:
    """Set up the test position in the engine and in our own rules."""
    assert gtp.command("boardsize 9") == "= "
    assert gtp.command("clear_board") == "= "
    game = Go(size=9, komi=7.5)
    state = game.initial_state()
    for i, vertex in enumerate(OPENING):
        assert gtp.command(f"play {'bw'[i % 2]} {vertex}") == "= "
        state = game.next_state(state, vertex_to_point(vertex, 9))
    return game, state


def total_visits(infos: list[Info]) -> int:
    return sum(int(info.fields["visits"]) for info in infos)


def check_stream(lines: list[str], *, kata: bool, game: Go, state: np.ndarray) -> None:
    assert len(lines) >= 3
    totals = []
    for line in lines:
        infos, ownership = read_line(line, kata=kata, size=9)
        assert ownership is None
        check_pv_legal(infos, game, state)
        totals.append(total_visits(infos))
    assert all(a < b for a, b in itertools.pairwise(totals)), totals


def test_lz_analyze_streams_until_the_next_command(gtp: Gtp) -> None:
    game, state = opening(gtp)
    check_stream(gtp.analyse("lz-analyze 10"), kata=False, game=game, state=state)
    # The keyword form, for black (the position with black to move).
    lines = gtp.analyse("lz-analyze B interval 10 maxmoves 2", min_lines=1)
    for line in lines:
        infos, _ = read_line(line, kata=False, size=9)
        assert len(infos) <= 2
        check_pv_legal(infos, game, game.replace(state, to_play=0))
    assert gtp.command("showboard").count("X") == 2  # the position is unchanged


def test_kata_analyze_streams_until_the_next_command(gtp: Gtp) -> None:
    game, state = opening(gtp)
    check_stream(gtp.analyse("kata-analyze 10"), kata=True, game=game, state=state)
    lines = gtp.analyse("kata-analyze W 10 pvVisits true", min_lines=1)
    for line in lines:
        infos, _ = read_line(line, kata=True, size=9)
        for info in infos:  # each node of a line has at most its parent's visits
            assert info.pv_visits[0] == info.fields["visits"]
            assert info.pv_visits == sorted(info.pv_visits, reverse=True)


def test_ownership_and_bad_arguments_are_gtp_errors(gtp: Gtp) -> None:
    opening(gtp)
    assert gtp.command("kata-analyze B 10 ownership true") == \
        "? ownership is not available for this network"
    for command in ("lz-analyze x", "kata-analyze 10 bogus true", "kata-analyze 10 ownership",
                    "kata-analyze 10 pvVisits maybe", "lz-analyze 10 ownership true",
                    "lz-analyze B interval -5", "kata-analyze 10 avoid b D4 1"):
        assert gtp.command(command).startswith("? "), command
    assert gtp.command("known_command lz-analyze") == "= true"
    assert gtp.command("known_command kata-analyze") == "= true"
    listed = gtp.command("list_commands")[2:].split("\n")
    assert {"lz-analyze", "kata-analyze"} <= set(listed)
    assert gtp.command("name") == "= move37"


# --- in process ---------------------------------------------------------------------------

def test_parse_analyze_forms() -> None:
    assert parse_analyze([], kata=False) == AnalyzeRequest(kata=False)
    assert parse_analyze(["b", "50"], kata=False) == AnalyzeRequest(False, 0, 0.5)
    assert parse_analyze(["White", "interval", "25", "maxmoves", "3"], kata=False) == \
        AnalyzeRequest(False, 1, 0.25, 3)
    assert parse_analyze(["10", "ownership", "false", "pvVisits", "true"], kata=True) == \
        AnalyzeRequest(True, None, 0.1, None, False, True)
    for args, kata in ((["x"], False), (["10", "bogus", "true"], True), (["10", "interval"], True),
                       (["ownership", "true"], False), (["10", "minmoves", "5"], False),
                       (["10", "10"], False), (["b", "b"], True)):
        with pytest.raises(AnalyzeError):
            parse_analyze(args, kata=kata)


def test_lcb_is_a_worst_case_normal_bound() -> None:
    assert winrate_lcb(0.6, 100) == pytest.approx(0.6 - 1.96 * 0.5 / 10)
    assert winrate_lcb(0.6, 4) == pytest.approx(0.6 - 0.49)
    assert winrate_lcb(0.3, 1) == 0.0 and winrate_lcb(0.9, 0) == 0.0


class OwnedSearch:
    """A real search whose ownership hook says: every stone belongs to its colour, empty
    points to nobody (a hand-made source, to check the tail's order and perspective)."""

    def __init__(self, game: Go) -> None:
        self.search = make_agent("mcts:32", game)
        self.name = "owned"

    def analyse(self, game, state, **kwargs):  # type: ignore[no-untyped-def]
        return self.search.analyse(game, state, **kwargs)

    def ownership(self, game: Go, state: np.ndarray) -> np.ndarray:
        board = game.board(state).reshape(-1)
        mine = 1 if game.to_play(state) == 0 else 2
        return np.where(board == 0, 0.0, np.where(board == mine, 1.0, -1.0))


def test_ownership_tail_is_row_by_row_from_the_top_left_for_the_side_to_move() -> None:
    gtp = GtpEngine(OwnedSearch, size=9, simulations=32)
    for command in ("play b A9", "play w J1", "play b pass"):
        assert gtp.handle(command) == "= \n\n"
    response = gtp.handle("kata-analyze 10 ownership true")
    assert response.startswith("=\n") and response.endswith("\n\n")
    lines = response[2:-2].split("\n")
    assert len(lines) == 1
    infos, ownership = read_line(lines[0], kata=True, size=9)
    assert ownership is not None
    # White to move: J1 (the last point, bottom right) is white's, A9 (the first) black's.
    assert ownership[0] == -1.0 and ownership[-1] == 1.0 and sum(map(abs, ownership)) == 2
    game = Go(size=9, komi=7.5)
    state = game.initial_state()
    for action in (0, 80, 81):
        state = game.next_state(state, action)
    check_pv_legal(infos, game, state)
    assert sum(int(i.fields["visits"]) for i in infos) == 32


class Broken:
    """An agent whose search fails."""

    name = "broken"

    def __init__(self, game: Go) -> None:
        pass

    def analyse(self, game, state, **kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("no search here")

    def ownership(self, game: Go, state: np.ndarray) -> None:
        return None


def test_a_failed_analysis_ends_its_stream_and_the_engine_goes_on(capsys) -> None:
    out = io.StringIO()
    serve(GtpEngine(Broken, size=9), io.StringIO("1 lz-analyze 10\n\n# still\n2 name\n"), out)
    assert out.getvalue() == "=1\n\n=2 move37\n\n"
    assert "analysis failed: no search here" in capsys.readouterr().err


def test_serve_prints_the_search_s_last_state_before_the_empty_line() -> None:
    """A command already waiting stops the search after its first chunk; that state is
    still shown, and the stream's empty line comes before the next answer."""
    out = io.StringIO()
    serve(GtpEngine(OwnedSearch, size=9), io.StringIO("kata-analyze b 1000\nname\nquit\n"), out)
    head, line, rest = out.getvalue().split("\n", 2)
    assert head == "=" and rest == "\n= move37\n\n= \n\n"
    infos, ownership = read_line(line, kata=True, size=9)
    assert ownership is None and total_visits(infos) >= 1


def test_a_network_with_the_ownership_head_reports_it(other_side_owner) -> None:
    """A checkpoint whose head gives every point to the side not to move (tanh(-3)): the
    tail, for the side to move, is -0.995 everywhere and parses strictly."""
    from engine.agents import load_checkpoint_agent

    owner = other_side_owner()
    gtp = GtpEngine(lambda game: load_checkpoint_agent(owner, game, 8), size=9,
                    simulations=8)
    assert gtp.handle("play b E5") == "= \n\n"
    response = gtp.handle("kata-analyze 10 ownership true")
    infos, ownership = read_line(response[2:-2].split("\n")[-1], kata=True, size=9)
    assert ownership is not None and infos
    assert all(v == pytest.approx(-0.995, abs=1e-3) for v in ownership)
