"""Perft through the `Game` interface against the published counts (perftsuite, tricky)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import chess
import pytest

from games.chess import Chess, divide, perft

FAST_NODES = 20_000  # per (position, depth) in the default suite
SLOW_NODES = 2_000_000


def mismatches(records, low: int, high: int) -> tuple[int, list[tuple[str, int, int, int]]]:
    game = Chess(max_moves=None, draw_rules=False)
    checked, wrong = 0, []
    for record in records:
        state = game.state_from_fen(record.fen)
        for depth, expected in sorted(record.counts.items()):
            if low < expected <= high:
                got = perft(state, depth)
                checked += 1
                if got != expected:
                    wrong.append((record.name, depth, got, expected))
    return checked, wrong


def test_perftsuite(perftsuite) -> None:
    assert len(perftsuite) == 126
    checked, wrong = mismatches(perftsuite, 0, FAST_NODES)
    assert checked > 400
    assert wrong == []


def test_tricky(tricky) -> None:
    checked, wrong = mismatches(tricky, 0, FAST_NODES)
    assert checked >= 30
    assert wrong == []


@pytest.mark.slow
def test_perftsuite_deep(perftsuite) -> None:
    checked, wrong = mismatches(perftsuite, FAST_NODES, SLOW_NODES)
    assert checked > 100
    assert wrong == []


@pytest.mark.slow
def test_tricky_deep(tricky) -> None:
    checked, wrong = mismatches(tricky, FAST_NODES, SLOW_NODES)
    assert checked > 5
    assert wrong == []


def test_divide_sums_to_perft() -> None:
    game = Chess()
    state = game.state_from_fen("r3k2r/p1ppqpb1/bn2pnp1/3PN3/1p2P3/2N2Q1p/PPPBBPPP/R3K2R w KQkq -")
    split = divide(state, 2)
    assert len(split) == 48
    assert sum(split.values()) == 2039
    assert split["e1g1"] == 43  # castling is there, in UCI notation


def test_perft_counts_past_draw_rules() -> None:
    # K+B vs K is insufficient material: the game is over, but perft still counts the tree.
    state = Chess().state_from_fen("8/8/8/8/8/2k5/8/KB6 w - - 0 1")
    assert Chess().legal_mask(state).sum() == 0
    board = chess.Board("8/8/8/8/8/2k5/8/KB6 w - - 0 1")
    assert perft(state, 1) == board.legal_moves.count() == 8  # Ka2 and seven bishop moves
    assert perft(state, 2) == sum(1 for _ in _leaves(board, 2))
    with pytest.raises(ValueError):
        perft(state, -1)


def _leaves(board: chess.Board, depth: int) -> Iterator[None]:
    """python-chess's own move tree (make/unmake), the reference for small counts."""
    if depth == 0:
        yield None
        return
    for move in list(board.legal_moves):
        board.push(move)
        yield from _leaves(board, depth - 1)
        board.pop()


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    from engine.cli import main

    with pytest.raises(SystemExit) as exited:
        main(args)
    out = capsys.readouterr()
    return int(exited.value.code or 0), out.out, out.err


def test_perft_command(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(["perft", "startpos", "3"], capsys)
    assert code == 0 and "Nodes searched: 8902" in out
    kiwipete = "r3k2r/p1ppqpb1/bn2pnp1/3PN3/1p2P3/2N2Q1p/PPPBBPPP/R3K2R w KQkq - 0 1"
    code, out, _ = run_cli(["perft", kiwipete, "2", "--divide"], capsys)
    lines = out.splitlines()
    assert code == 0 and "e1g1: 43" in lines and "Nodes searched: 2039" in lines
    assert len([line for line in lines if re.fullmatch(r"[a-h][1-8][a-h][1-8][qrbn]?: \d+", line)]) == 48


@pytest.mark.parametrize(
    "args, message",
    [
        (["perft", "rnbqkbnr/pppppppp/8/8 w", "2"], "malformed FEN"),
        (["perft", "8/8/8/8/8/8/8/K7 w - - 0 1", "1"], "no black king"),
        (["perft", "startpos", "0", "--divide"], "depth >= 1"),
    ],
)
def test_perft_command_errors_are_one_line(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run_cli(args, capsys)
    assert code == 2
    assert err.count("\n") == 1 and message in err and err.startswith("move37: error:")


def test_benchmark_implementations_agree() -> None:
    # The benchmark refuses to report rates when ours, python-chess and OpenSpiel disagree.
    from benchmarks.bench_chess import perft_rates

    rates = perft_rates(bulk=False, repeats=1)
    assert rates["leaves"] == 8902 + 2039
    assert rates["ours"] > 0 and rates["python_chess"] > 0 and rates["overhead"] > 0
