"""The shipped table of per-move outcome classes for Pascal Pons' Connect Four test positions.

Pons' six test sets (`Test_L{1,2,3}_R{1,2,3}`, 1000 lines of `<moves> <score>` each) give the
exact score of each position. Judging an agent's *move* also needs the outcome of every
other move, so `scripts/solve_connect4_benchmarks.py` solves each child position and
writes `games/data/connect4_move_outcomes.json`:

    {"format": "move37/connect4-move-outcomes/1",
     "outcome_codes": {"+": 1, "=": 0, "-": -1, ".": -2},
     "sets": {"Test_L3_R1": [[0, "2252576253462244111563365343671351441", -1, "---.---"],
                             ...], ...}}

Each record is `[line index in the set (0-based), moves, Pons' score, outcomes]`, where
`outcomes` has one character per column 1-7: the result for the player to move of playing
that column (`+` win, `=` draw, `-` loss, `.` full column). Records of a set are the first
lines of its file, in order; a set still being solved holds a prefix of its file.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import NamedTuple

import numpy as np

FORMAT = "move37/connect4-move-outcomes/1"
"""The `format` field the loader accepts."""
OUTCOME_CODES = {"+": 1, "=": 0, "-": -1, ".": -2}
"""Character of the `outcomes` field -> outcome class (-2 marks a full column)."""
SET_NAMES = ("Test_L3_R1", "Test_L2_R1", "Test_L2_R2", "Test_L1_R1", "Test_L1_R2", "Test_L1_R3")
"""Pons' test sets, from the easiest to the hardest to solve."""


class PositionOutcomes(NamedTuple):
    """One test position: its Pons digit string and int8 `[7]` outcome class per column."""

    moves: str
    outcomes: np.ndarray


def read_pons_set(path: Path | str) -> list[tuple[str, int]]:
    """(moves, score) of each line of one of Pons' test files (`<moves> <score>` lines).

    Raises:
        ValueError: a line not of that form.
    """
    entries = []
    for number, line in enumerate(Path(path).read_text().splitlines(), 1):
        fields = line.split()
        if len(fields) != 2 or not fields[0].isdigit() or not fields[1].lstrip("-").isdigit():
            raise ValueError(f"{path}:{number}: expected '<moves> <score>', got {line!r}")
        entries.append((fields[0], int(fields[1])))
    return entries


def default_path() -> Path:
    """The table shipped inside the `games` package."""
    return Path(str(resources.files("games") / "data" / "connect4_move_outcomes.json"))


def encode_outcomes(outcomes: np.ndarray) -> str:
    """int `[7]` outcome classes -> the 7-character string of the file."""
    decode = {v: k for k, v in OUTCOME_CODES.items()}
    try:
        return "".join(decode[int(v)] for v in outcomes)
    except KeyError as error:
        raise ValueError(f"not an outcome class: {error.args[0]}") from None


def decode_outcomes(text: str) -> np.ndarray:
    """The 7-character string of the file -> int8 `[7]` outcome classes."""
    if len(text) != 7 or any(c not in OUTCOME_CODES for c in text):
        raise ValueError(f"bad outcome string {text!r}: want 7 of {''.join(OUTCOME_CODES)}")
    return np.array([OUTCOME_CODES[c] for c in text], dtype=np.int8)


def read_table(path: Path | str | None = None) -> dict[str, list[list]]:
    """The raw records per set (`[line, moves, score, outcomes]`), after format checks.

    Raises:
        FileNotFoundError: no such file. ValueError: not a table in this format.
    """
    path = Path(path) if path is not None else default_path()
    data = json.loads(path.read_text())
    if (not isinstance(data, dict) or data.get("format") != FORMAT
            or not isinstance(data.get("sets"), dict)):
        raise ValueError(f"{path} is not a {FORMAT} file with a 'sets' mapping")
    sets = data["sets"]
    for name, records in sets.items():
        for index, record in enumerate(records):
            if (not isinstance(record, list) or len(record) != 4 or record[0] != index
                    or not isinstance(record[1], str) or not isinstance(record[2], int)):
                raise ValueError(f"{path}: record {index} of {name} is malformed: {record!r}")
            decode_outcomes(record[3])
    return sets


def load_move_outcomes(path: Path | str | None = None) -> dict[str, list[PositionOutcomes]]:
    """Per-move outcome classes of Pons' test positions, per set, in file order.

    Args:
        path: a table file; default the one shipped with the package.

    Returns:
        {set name: [(moves, int8 `[7]` outcomes: 1 win, 0 draw, -1 loss, -2 full), ...]};
        the list of a set is a prefix of its file (all 1000 lines once fully solved).
    """
    return {
        name: [PositionOutcomes(r[1], decode_outcomes(r[3])) for r in records]
        for name, records in read_table(path).items()
    }
