"""Chess test data: the published perft suites from the shared benchmark folder."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

# tricky.perft records that are standard chess (the others need Chess960 castling rules).
STANDARD_TRICKY_PREFIXES = ("pos-", "gotta-love-perft-", "align-", "ep-unrelated-check")


@dataclass(frozen=True)
class PerftRecord:
    """One position of a perft file and its published leaf counts by depth."""

    name: str
    fen: str
    counts: dict[int, int]


def read_perftsuite(path: Path) -> list[PerftRecord]:
    """`<FEN> ;D1 <n> ;D2 <n> ...` lines (CRLF endings tolerated)."""
    records = []
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if not line.strip():
            continue
        fen, *fields = (part.strip() for part in line.split(";"))
        counts = {int(f.split()[0][1:]): int(f.split()[1]) for f in fields}
        records.append(PerftRecord(f"perftsuite-{number}", fen, counts))
    return records


def read_tricky(path: Path) -> list[PerftRecord]:
    """`id` / `epd` / `perft <depth> <nodes>` blocks, standard-chess records only."""
    records: list[PerftRecord] = []
    name = fen = None
    counts: dict[int, int] = {}
    for line in path.read_text().splitlines() + ["id end"]:
        word, _, rest = line.strip().partition(" ")
        if word == "id":
            if name is not None and name.startswith(STANDARD_TRICKY_PREFIXES):
                assert fen is not None
                records.append(PerftRecord(name, fen + " 0 1", counts))
            name, fen, counts = rest.strip(), None, {}
        elif word == "epd":
            fen = rest.strip()
        elif word == "perft":
            depth, nodes = rest.split()
            counts[int(depth)] = int(nodes)
    return records


@pytest.fixture(scope="session")
def perftsuite(shared_benchmarks: Path) -> list[PerftRecord]:
    return read_perftsuite(shared_benchmarks / "chess" / "perftsuite.epd")


@pytest.fixture(scope="session")
def tricky(shared_benchmarks: Path) -> list[PerftRecord]:
    records = read_tricky(shared_benchmarks / "chess" / "tricky.perft")
    assert len(records) >= 11, "expected pos-2..6, gotta-love-perft-*, align-*, ep-unrelated-check"
    return records
