"""Our UCI engine as a subprocess (`move37 uci`), driven by python-chess's UCI client in
complete games against Stockfish at its lowest skill, with short time controls.

Checked: every move is legal (python-chess's client also refuses illegal ones), every `go`
is answered within its time budget plus a small margin, our engine reports a score and a
principal variation, and the games written as PGN read back move for move.
"""

from __future__ import annotations

import io
import sys
import time
from pathlib import Path

import chess
import chess.engine
import chess.pgn
import pytest

from engine.uci import GoLimits, think_time
from games import Outcome
from games.chess import Chess, pgn_from_game

REPO_ROOT = Path(__file__).resolve().parents[2]
MAX_PLIES = 40  # games are adjudicated as draws after this many half-moves, for speed
MARGIN = 0.5  # seconds beyond the budget: process round trips, the last chunk, a busy machine
OVERHEAD_MS = 50  # our engine's default MoveOverhead


@pytest.fixture(scope="module")
def stockfish(stockfish_path: str) -> chess.engine.SimpleEngine:
    engine = chess.engine.SimpleEngine.popen_uci(stockfish_path, timeout=30)
    engine.configure({"Skill Level": 0, "Threads": 1, "Hash": 16})
    yield engine
    engine.quit()


@pytest.fixture(scope="module")
def ours() -> chess.engine.SimpleEngine:
    command = [sys.executable, "-c", "from engine.cli import main; main()", "uci",
               "--sims", "64"]
    # The first `isready` waits for the search kernels to compile: allow for it.
    engine = chess.engine.SimpleEngine.popen_uci(command, timeout=300, cwd=REPO_ROOT)
    engine.ping()
    assert engine.id["name"].startswith("move37")
    yield engine
    engine.quit()


def play_game(ours: chess.engine.SimpleEngine, stockfish: chess.engine.SimpleEngine,
              ours_white: bool, clock: float | None) -> tuple[str, list[chess.Move], Outcome]:
    """One game; `clock` seconds each with 0.05 s increment, or 0.1 s per move if None."""
    game = Chess(max_moves=MAX_PLIES)
    state, board = game.initial_state(), chess.Board()
    actions, comments = [], []
    clocks = {chess.WHITE: clock, chess.BLACK: clock}
    while game.outcome(state) is None:
        our_turn = board.turn == (chess.WHITE if ours_white else chess.BLACK)
        if clock is None:
            limit, limits = chess.engine.Limit(time=0.1), GoLimits(movetime=100)
        else:
            limit = chess.engine.Limit(white_clock=clocks[chess.WHITE], white_inc=0.05,
                                       black_clock=clocks[chess.BLACK], black_inc=0.05)
            limits = GoLimits(wtime=int(clocks[chess.WHITE] * 1000), winc=50,
                              btime=int(clocks[chess.BLACK] * 1000), binc=50)
        started = time.monotonic()
        result = (ours if our_turn else stockfish).play(
            board, limit, info=chess.engine.INFO_SCORE | chess.engine.INFO_PV)
        elapsed = time.monotonic() - started
        assert result.move is not None and result.move in board.legal_moves
        comment = None
        if our_turn:
            budget = think_time(limits, board.turn, OVERHEAD_MS)
            assert budget is not None and elapsed <= budget + MARGIN, (elapsed, budget)
            assert "score" in result.info and result.info.get("pv"), result.info
            assert result.info["pv"][0] == result.move
            comment = f"{result.info['score'].relative} ({elapsed:.2f} s)"
        if clock is not None:
            clocks[board.turn] = max(0.05, clocks[board.turn] - elapsed + 0.05)
        action = game.move_to_action(state, result.move)
        actions.append(action)
        comments.append(comment)
        state = game.next_state(state, action)
        board.push(result.move)
    outcome = game.outcome(state)
    assert outcome is not None
    players = ("move37", "Stockfish level 0") if ours_white else ("Stockfish level 0", "move37")
    pgn = pgn_from_game(actions, outcome=outcome, comments=comments, game=game,
                        headers={"White": players[0], "Black": players[1]})
    return pgn, board.move_stack, outcome


@pytest.mark.parametrize("ours_white, clock", [(True, None), (False, 3.0)])
def test_complete_game_against_stockfish(ours, stockfish, ours_white: bool,
                                         clock: float | None) -> None:
    pgn, moves, outcome = play_game(ours, stockfish, ours_white, clock)
    record = chess.pgn.read_game(io.StringIO(pgn))
    assert record is not None and not record.errors
    assert list(record.mainline_moves()) == moves
    assert record.headers["Result"] == outcome.result_string()
    assert len(moves) <= MAX_PLIES
    our_comments = [node.comment for i, node in enumerate(record.mainline())
                    if (i % 2 == 0) == ours_white]
    assert all(our_comments)
