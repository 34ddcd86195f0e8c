"""Go game records in SGF (FF[4]), read and written with sgfmill.

Writing: `write_sgf` (from `games.go.sgf_writer`, which `Go.game_record` uses without
importing this module) records a game played from the initial position (or from a set-up
position) with SZ, KM, RU, RE, player names, and per move an optional comment such as the
search's value.

Reading: `read_sgf` turns a file into an `SgfRecord`, a flat list of what each node of the
main line does (setup AB/AW/AE, a move, PL), and `replay` applies it to a `Go` state:
setup in any node (as `Go.setup`: a new history starts there), moves checked against the
rules (a move by the side not to move is played out of turn, as GTP `play` does).
`replay(..., before_move=N)` stops before the N-th move (moves numbered 1, 2, ... along the
main line), which is GTP `loadsgf FILE N`.

SGF points are (row, col) with row 0 at the bottom; our points have row 0 at the top.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from games.base import GameError, IllegalMoveError
from games.go.game import Go
from games.go.layout import MAX_SIZE, MIN_SIZE
from games.go.sgf_writer import result_text, write_sgf

__all__ = ["SgfError", "SgfNode", "SgfRecord", "read_sgf", "replay", "result_text",
           "write_sgf"]


class SgfError(GameError):
    """An SGF file that cannot be read, or that is not a Go game we can set up."""


@dataclass
class SgfNode:
    """What one node of the main line does. Points are our point indices."""

    black: list[int] = field(default_factory=list)
    white: list[int] = field(default_factory=list)
    empty: list[int] = field(default_factory=list)
    player: int | None = None  # PL: who is to move after this node's setup
    move: tuple[int, int] | None = None  # (player, action); action = N for a pass
    comment: str | None = None

    @property
    def has_setup(self) -> bool:
        return bool(self.black or self.white or self.empty)


@dataclass
class SgfRecord:
    """A Go game record: board size, komi, result and the main line's nodes."""

    size: int
    komi: float
    result: str | None
    nodes: list[SgfNode]
    black_name: str | None = None
    white_name: str | None = None

    @property
    def num_moves(self) -> int:
        return sum(1 for node in self.nodes if node.move is not None)

    def game(self, **kwargs) -> Go:
        """A `Go` of this record's size and komi (other `Go` arguments pass through)."""
        return Go(size=self.size, komi=self.komi, **kwargs)


def _to_point(size: int, row: int, col: int) -> int:
    return (size - 1 - row) * size + col


def read_sgf(source: bytes | str | Path) -> SgfRecord:
    """Parse an SGF game (bytes, SGF text, or a path).

    Raises:
        SgfError: unreadable file, not Go, or a board size outside 5..19.
    """
    from sgfmill import sgf

    if isinstance(source, Path) or (isinstance(source, str) and not source.lstrip().startswith("(")):
        try:
            data = Path(source).read_bytes()
        except OSError as error:
            raise SgfError(f"cannot read {source}: {error.strerror or error}") from None
    else:
        data = source.encode() if isinstance(source, str) else source
    try:
        game = sgf.Sgf_game.from_bytes(data)
        size = game.get_size()
        komi = float(game.get_komi())
        root = game.get_root()
        kind = root.get_raw_list("GM")[0] if root.has_property("GM") else b"1"
    except ValueError as error:
        raise SgfError(f"not a readable SGF game: {error}") from None
    if kind.strip() != b"1":
        raise SgfError(f"the SGF game is not Go (GM[{kind.decode(errors='replace')}])")
    if not MIN_SIZE <= size <= MAX_SIZE:
        raise SgfError(f"board size {size} is outside {MIN_SIZE}..{MAX_SIZE}")
    nodes = []
    try:
        for node in game.get_main_sequence():
            nodes.append(_read_node(node, size))
        result = _raw_text(root, "RE") if root.has_property("RE") else None
        names = [_raw_text(root, p) if root.has_property(p) else None for p in ("PB", "PW")]
    except ValueError as error:
        raise SgfError(f"bad SGF property: {error}") from None
    return SgfRecord(size, komi, result, nodes, names[0], names[1])


def _read_node(node, size: int) -> SgfNode:
    out = SgfNode()
    black, white, empty = node.get_setup_stones()
    out.black = sorted(_to_point(size, r, c) for r, c in black)
    out.white = sorted(_to_point(size, r, c) for r, c in white)
    out.empty = sorted(_to_point(size, r, c) for r, c in empty)
    if node.has_property("PL"):
        out.player = _player(_raw_text(node, "PL"))
    colour, move = node.get_move()
    if colour is not None:
        action = size * size if move is None else _to_point(size, *move)
        out.move = (0 if colour == "b" else 1, action)
    if node.has_property("C"):
        out.comment = _raw_text(node, "C", joiner="\n")
    return out


def _raw_text(node, prop: str, joiner: str | None = None) -> str:
    """A property's raw value(s) as text; lenient with old files (several values where
    one is expected, FF[3] spellings)."""
    values = [v.decode("utf-8", errors="replace") for v in node.get_raw_list(prop)]
    return joiner.join(values) if joiner is not None else values[0]


def _player(text: str) -> int:
    word = text.strip().lower()
    if word in ("b", "black", "1"):
        return 0
    if word in ("w", "white", "2"):
        return 1
    raise ValueError(f"PL[{text}] is not a colour")


def replay(go: Go, record: SgfRecord, before_move: int | None = None,
           state: np.ndarray | None = None) -> tuple[np.ndarray, list[int]]:
    """Apply the record's main line to `state` (default: the initial state).

    Args:
        before_move: stop before this move number (1-based); None plays every move.

    Returns:
        (the state reached, the actions played).

    Raises:
        IllegalMoveError: a move the rules forbid (message gives its number).
    """
    if go.size != record.size:
        raise SgfError(f"the record is {record.size}x{record.size}, the game {go.size}x{go.size}")
    state = go.initial_state() if state is None else state
    played: list[int] = []
    number = 0
    for node in record.nodes:
        if node.has_setup or node.player is not None:
            state = go.setup(state, black=node.black, white=node.white, empty=node.empty,
                             to_play=node.player) if node.has_setup else go.replace(
                                 state, to_play=node.player)
        if node.move is None:
            continue
        number += 1
        if before_move is not None and number >= before_move:
            break
        player, action = node.move
        state = go.replace(state, to_play=player, passes=0 if go.is_over(state) else None)
        if not go.legal_mask(state)[action]:
            raise IllegalMoveError(f"move {number} ({'BW'[player]} "
                                   f"{go.action_to_text(state, action)}) is illegal: "
                                   f"{go.why_illegal(state, action)}")
        state = go.next_state(state, action)
        played.append(action)
    return state, played
