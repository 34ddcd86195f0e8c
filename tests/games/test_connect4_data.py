"""The shipped per-move outcome table of Pons' Connect Four positions, and its loader.

Every record is checked against Pons' files (same moves, same score, best move's outcome
equal to the score's sign, full columns marked) and a seeded sample is solved again from
scratch.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pytest

from games.connect4_data import (
    FORMAT,
    SET_NAMES,
    decode_outcomes,
    default_path,
    encode_outcomes,
    load_move_outcomes,
    read_pons_set,
    read_table,
)
from games.connect4_search import TOP_MASKS
from games.connect4_solver import ILLEGAL, Connect4Solver, state_from_moves

COMPLETE_SETS = ("Test_L3_R1", "Test_L2_R1", "Test_L2_R2", "Test_L1_R1", "Test_L1_R2")
"""Sets the shipped table holds in full (Begin-Hard may be a prefix of its file)."""


@pytest.fixture(scope="module")
def shipped() -> dict[str, list[list]]:
    return read_table()


def pons_lines(shared_benchmarks: Path, name: str) -> list[tuple[str, int]]:
    return read_pons_set(shared_benchmarks / "connect4" / name)


def test_the_table_ships_inside_the_package(shipped) -> None:
    assert default_path().is_file()
    assert default_path().parent.name == "data" and default_path().parent.parent.name == "games"
    assert set(shipped) == set(SET_NAMES)
    for name in COMPLETE_SETS:
        assert len(shipped[name]) == 1000, name
    for name in SET_NAMES:
        assert shipped[name], f"{name} has no solved line"


@pytest.mark.parametrize("name", SET_NAMES)
def test_every_record_agrees_with_pons(shared_benchmarks, shipped, name) -> None:
    lines = pons_lines(shared_benchmarks, name)
    for index, moves, score, text in shipped[name]:
        assert (moves, score) == lines[index]
        outcomes = decode_outcomes(text)
        state = state_from_moves(moves)
        full = (int(state[1]) & TOP_MASKS.astype(np.int64)) != 0
        assert ((outcomes == ILLEGAL) == full).all(), (index, moves, text)
        assert outcomes[~full].max() == np.sign(score), (index, moves, text)


def resolve_sample(shipped, name: str, k: int, min_moves: int, seed: int) -> None:
    records = [r for r in shipped[name] if len(r[1]) >= min_moves]
    solver = Connect4Solver(table_size=1 << 20)
    for index, moves, _, text in random.Random(seed).sample(records, min(k, len(records))):
        got = encode_outcomes(solver.move_outcomes(state_from_moves(moves)))
        assert got == text, f"{name} line {index + 1} ({moves}): solved {got}, shipped {text}"


@pytest.mark.parametrize("name, k, min_moves", [
    ("Test_L3_R1", 20, 0), ("Test_L2_R1", 20, 0), ("Test_L2_R2", 5, 0),
    ("Test_L1_R1", 3, 12), ("Test_L1_R2", 2, 14), ("Test_L1_R3", 1, 13),
])
def test_a_sample_solves_again_to_the_same_outcomes(shipped, name, k, min_moves) -> None:
    resolve_sample(shipped, name, k, min_moves, seed=41)


@pytest.mark.slow
@pytest.mark.parametrize("name, k", [("Test_L1_R1", 20), ("Test_L1_R2", 5), ("Test_L1_R3", 2)])
def test_a_wider_sample_solves_again_to_the_same_outcomes(shipped, name, k) -> None:
    resolve_sample(shipped, name, k, 0, seed=42)


def test_loader_returns_moves_and_int8_outcomes(shipped) -> None:
    table = load_move_outcomes()
    first = table["Test_L3_R1"][0]
    moves, outcomes = first  # unpacks like a pair
    assert moves == shipped["Test_L3_R1"][0][1] == first.moves
    assert outcomes.dtype == np.int8 and outcomes.shape == (7,)
    assert encode_outcomes(outcomes) == shipped["Test_L3_R1"][0][3]


def test_outcome_strings_round_trip() -> None:
    outcomes = np.array([1, 0, -1, -2, 1, 1, -1], dtype=np.int8)
    assert encode_outcomes(outcomes) == "+=-.++-"
    assert (decode_outcomes("+=-.++-") == outcomes).all()
    for bad in ("+=-.++", "+=-.++x", ""):
        with pytest.raises(ValueError):
            decode_outcomes(bad)
    with pytest.raises(ValueError):
        encode_outcomes(np.array([3, 0, 0, 0, 0, 0, 0]))


@pytest.mark.parametrize("content", [
    {"format": "other", "sets": {}},
    {"format": FORMAT},
    {"format": FORMAT, "sets": {"Test_L3_R1": [[1, "4", 0, "......."]]}},  # index gap
    {"format": FORMAT, "sets": {"Test_L3_R1": [[0, "4", 0, "++"]]}},
    {"format": FORMAT, "sets": {"Test_L3_R1": [[0, 4, 0, "+++++++"]]}},
    [],
])
def test_malformed_tables_are_rejected(tmp_path, content) -> None:
    path = tmp_path / "table.json"
    path.write_text(json.dumps(content))
    with pytest.raises(ValueError):
        load_move_outcomes(path)


def test_a_table_from_another_path_loads(tmp_path) -> None:
    path = tmp_path / "table.json"
    path.write_text(json.dumps({"format": FORMAT, "sets": {"Test_L1_R3": [[0, "4", 1, "+++++++"]]}}))
    table = load_move_outcomes(path)
    assert list(table) == ["Test_L1_R3"] and table["Test_L1_R3"][0].moves == "4"


def test_pons_files_are_read_with_clear_errors(tmp_path) -> None:
    good = tmp_path / "good"
    good.write_text("32164625 11\n4 -2\n")
    assert read_pons_set(good) == [("32164625", 11), ("4", -2)]
    for text in ("32164625\n", "3216 x\n", "32a 1\n", "1 2 3\n"):
        bad = tmp_path / "bad"
        bad.write_text(text)
        with pytest.raises(ValueError, match="bad:1"):
            read_pons_set(bad)
