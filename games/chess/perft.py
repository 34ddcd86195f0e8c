"""Perft through the `Game` interface: the legal mask, `next_state` and the action encoding.

Counting the leaves of the legal move tree of a position to a fixed depth and comparing
with published counts checks the rules and, since every move here goes through its action,
that the encoding is one-to-one both ways: a move missing from the mask, two moves sharing
an action, or an action decoded to the wrong move (a lost promotion piece) all change the
count. The last ply is counted from the legal mask (bulk counting), as fast perft
implementations do.
"""

from __future__ import annotations

import numpy as np

from games.chess.game import Chess
from games.chess.state import ChessState

PERFT_GAME = Chess(max_moves=None, history=1, draw_rules=False)
"""The move tree perft counts: only mate and stalemate end it."""


def perft(state: ChessState, depth: int, game: Chess = PERFT_GAME) -> int:
    """The number of leaf nodes of the legal move tree of `state` at `depth` plies."""
    if depth < 0:
        raise ValueError(f"depth must be >= 0, got {depth}")
    if depth == 0:
        return 1
    actions = np.flatnonzero(game.legal_mask(state))
    if depth == 1:
        return int(actions.size)
    return sum(perft(game.next_state(state, int(a)), depth - 1, game) for a in actions)


def divide(state: ChessState, depth: int, game: Chess = PERFT_GAME) -> dict[str, int]:
    """Perft split by first move: {UCI move: leaf count at `depth - 1` below it}."""
    if depth < 1:
        raise ValueError(f"divide needs depth >= 1, got {depth}")
    counts = {}
    for action in np.flatnonzero(game.legal_mask(state)):
        move = game.action_to_move(state, int(action))
        counts[move.uci()] = perft(game.next_state(state, int(action)), depth - 1, game)
    return counts
