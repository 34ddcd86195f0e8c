"""`move37 uci` through python-chess's engine client: the move played is the first move of
the last `pv` shown, depth and seldepth describe the tree, MultiPV gives distinct lines ordered
by visits, UCI_ShowWDL adds win/draw/loss in permille, and every option has a UCI type."""

from __future__ import annotations

import sys
from pathlib import Path

import chess
import chess.engine
import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
MATE_IN_ONE = "6k1/5ppp/8/8/8/8/5PPP/R5K1 w - - 0 1"  # Ra8#


@pytest.fixture(scope="module")
def ours() -> chess.engine.SimpleEngine:
    command = [sys.executable, "-m", "engine", "uci", "--sims", "64", "--seed", "3"]
    engine = chess.engine.SimpleEngine.popen_uci(command, timeout=300, cwd=REPO_ROOT)
    engine.ping()  # waits for the search kernels to compile
    yield engine
    engine.quit()


def test_options_are_typed(ours: chess.engine.SimpleEngine) -> None:
    options = ours.options
    assert options["Temperature"].type == "spin" and options["Temperature"].max == 500
    assert options["MultiPV"].type == "spin" and options["MultiPV"].max == 5
    assert options["UCI_ShowWDL"].type == "check"


@pytest.mark.parametrize("temperature", [0, 100])
def test_bestmove_is_the_first_move_of_the_last_pv(ours: chess.engine.SimpleEngine,
                                                   temperature: int) -> None:
    ours.configure({"Temperature": temperature})
    board = chess.Board()
    for ply in range(6):
        result = ours.play(board, chess.engine.Limit(nodes=300), info=chess.engine.INFO_ALL)
        info = result.info
        assert info["pv"][0] == result.move, (ply, info, result.move)
        assert 1 <= info["depth"] <= info["seldepth"]
        assert info["depth"] < 20  # a mean over 300 simulations, not the length of one line
        board.push(result.move)
    ours.configure({"Temperature": 0})


def test_multipv_and_wdl(ours: chess.engine.SimpleEngine) -> None:
    ours.configure({"UCI_ShowWDL": True})
    board = chess.Board(MATE_IN_ONE)
    infos = ours.analyse(board, chess.engine.Limit(nodes=400), multipv=3)
    assert [info["multipv"] for info in infos] == [1, 2, 3]
    firsts = [info["pv"][0] for info in infos]
    assert len(set(firsts)) == 3 and firsts[0] == chess.Move.from_uci("a1a8")
    for info in infos:
        wdl = info["wdl"].relative
        assert wdl.wins + wdl.draws + wdl.losses == 1000
    assert infos[0]["wdl"].relative.wins > 900  # the mate is a win
    assert infos[0]["score"].relative.score(mate_score=100000) > infos[1]["score"].relative.score(
        mate_score=100000)
    ours.configure({"UCI_ShowWDL": False})
    plain = ours.analyse(board, chess.engine.Limit(nodes=100))
    assert "wdl" not in plain and plain["pv"][0] == chess.Move.from_uci("a1a8")
