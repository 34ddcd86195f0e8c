"""Perft of the bitboard kernels against the published counts (perftsuite, tricky).

Every node is made (no bulk counting), so make move is checked as well as the move lists.
The default run covers every (position, depth) with at most 10^6 leaves; `slow` goes on to
2 * 10^8
(78 more counts, about three minutes on one core).
"""

from __future__ import annotations

import chess
import pytest

from games.chess import position

FAST_LEAVES = 1_000_000
SLOW_LEAVES = 200_000_000


def mismatches(records, low: int, high: int) -> tuple[int, list[tuple[str, int, int, int]]]:
    checked, wrong = 0, []
    for record in records:
        pos = position.from_fen(record.fen)
        for depth, expected in sorted(record.counts.items()):
            if low < expected <= high:
                got = position.perft(pos, depth)
                checked += 1
                if got != expected:
                    wrong.append((record.name, depth, got, expected))
    return checked, wrong


def test_perftsuite(perftsuite) -> None:
    checked, wrong = mismatches(perftsuite, 0, FAST_LEAVES)
    assert checked > 600
    assert wrong == []


def test_tricky(tricky) -> None:
    checked, wrong = mismatches(tricky, 0, FAST_LEAVES)
    assert checked >= 40
    assert wrong == []


@pytest.mark.slow
def test_perftsuite_deep(perftsuite) -> None:
    checked, wrong = mismatches(perftsuite, FAST_LEAVES, SLOW_LEAVES)
    assert wrong == []
    assert checked >= 78


def test_bulk_counting_agrees() -> None:
    pos = position.from_fen("r3k2r/p1ppqpb1/bn2pnp1/3PN3/1p2P3/2N2Q1p/PPPBBPPP/R3K2R w KQkq -")
    assert position.perft(pos, 3, bulk=True) == position.perft(pos, 3) == 97862
    assert position.perft(pos, 0) == 1
    with pytest.raises(ValueError):
        position.perft(pos, -1)


@pytest.mark.parametrize("fen", [
    chess.STARTING_FEN,
    "r3k2r/p1ppqpb1/bn2pnp1/3PN3/1p2P3/2N2Q1p/PPPBBPPP/R3K2R w KQkq - 3 17",
    "8/8/8/2k5/2pP4/8/B7/4K3 b - d3 0 3",
    "rnbqkbnr/ppp1p1pp/8/3pPp2/8/8/PPPP1PPP/RNBQKBNR w KQkq f6 0 3",
])
def test_fen_round_trip(fen: str) -> None:
    assert position.to_fen(position.from_fen(fen)) == chess.Board(fen).fen()


def test_uci_round_trip() -> None:
    pos = position.from_fen("r3k2r/1P6/8/8/8/8/8/R3K2R w KQkq - 0 1")
    texts = sorted(position.move_to_uci(m) for m in position.legal_moves(pos))
    board = chess.Board("r3k2r/1P6/8/8/8/8/8/R3K2R w KQkq - 0 1")
    assert texts == sorted(m.uci() for m in board.legal_moves)
    for text in ("e1c1", "b7a8n", "b7b8q"):
        assert position.move_to_uci(position.move_from_uci(pos, text)) == text
    with pytest.raises(ValueError):
        position.move_from_uci(pos, "e1e3")
