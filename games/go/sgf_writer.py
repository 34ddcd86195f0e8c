"""Writing Go game records as SGF (FF[4]) with sgfmill; reading is `games.go.sgf`.

The writer needs only a board's size, komi and number of points, so the rules
(`Go.game_record`) use it without importing the reader, which builds `Go` games.
SGF points are (row, col) with row 0 at the bottom; our points have row 0 at the top.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from games.base import Outcome, Termination


class GoBoard(Protocol):
    """What the writer reads of a `Go`."""

    size: int
    komi: float
    points: int


def _from_point(size: int, point: int) -> tuple[int, int]:
    row, col = divmod(point, size)
    return size - 1 - row, col


def result_text(outcome: Outcome | None) -> str | None:
    """SGF RE value for an outcome: 'B+3.5', 'W+R', '0' (draw), or None."""
    if outcome is None:
        return None
    if outcome.is_draw:
        return "0"
    colour = "B" if outcome.winner == 0 else "W"
    if outcome.termination == Termination.RESIGNATION:
        return f"{colour}+R"
    if outcome.margin is None:
        return f"{colour}+"
    return f"{colour}+{outcome.margin:g}"


def write_sgf(go: GoBoard, actions: Sequence[int], *, outcome: Outcome | None = None,
              values: Sequence[float | None] | None = None, black: Sequence[int] = (),
              white: Sequence[int] = (), first_player: int = 0,
              names: tuple[str | None, str | None] = (None, None),
              result: str | None = None, comment: str | None = None) -> bytes:
    """Serialise a game as SGF.

    Args:
        go: the rules (size and komi go into SZ and KM).
        actions: the moves in order, alternating from `first_player`.
        outcome: the game's outcome, written as RE (unless `result` is given).
        values: per move, the search's value for the player who made it, written as a
            comment `value +0.123` (None to skip a move).
        black, white: set-up stones (our point indices) in the root node.
        first_player: who moves first (0 black); written as PL when it is white.
        names: (black player, white player) names for PB / PW.
        result: an RE value that overrides `outcome` (e.g. 'W+R').
        comment: a comment C on the root node (e.g. who scored the game).
    """
    from sgfmill import sgf

    if values is not None and len(values) != len(actions):
        raise ValueError(f"{len(values)} values for {len(actions)} moves")
    game = sgf.Sgf_game(size=go.size)
    root = game.get_root()
    root.set("KM", go.komi)
    root.set("RU", "Chinese")  # area scoring, positional superko, no suicide
    root.set("AP", ("move37", "1"))
    re = result if result is not None else result_text(outcome)
    if re is not None:
        root.set("RE", re)
    if comment:
        root.set("C", comment)
    for prop, name in zip(("PB", "PW"), names):
        if name:
            root.set(prop, name)
    if black or white:
        root.set_setup_stones([_from_point(go.size, p) for p in black],
                              [_from_point(go.size, p) for p in white])
    if first_player == 1:
        root.set("PL", "w")
    player = first_player
    node = root
    for i, action in enumerate(actions):
        node = node.new_child()
        action = int(action)
        if not 0 <= action <= go.points:
            raise ValueError(f"action {action} is not a Go action on {go.size}x{go.size}")
        move = None if action == go.points else _from_point(go.size, action)
        node.set_move("b" if player == 0 else "w", move)
        if values is not None and values[i] is not None:
            node.set("C", f"value {float(values[i]):+.3f}")
        player = 1 - player
    return game.serialise()
