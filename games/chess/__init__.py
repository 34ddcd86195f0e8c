"""Chess: bitboard kernels behind the `Game` protocol, AlphaZero's action and input encodings.

    >>> from games.chess import Chess
    >>> game = Chess()
    >>> state = game.initial_state()
    >>> int(game.legal_mask(state).sum())
    20
    >>> action = game.text_to_action(state, "Nf3")
    >>> game.text_to_action(state, "g1f3") == action
    True
    >>> game.action_to_text(state, action)
    'Nf3'

Modules: `actions` (the 4,672-action table), `planes` (the 119 input planes), `state`
(the immutable `ChessState`), `game` (`Chess`), `pgn` (records with evaluations), `perft`
(through the `Game` interface). The rules run on Numba kernels over int64 position arrays:
`bitboard` (the position layout and attack tables), `movegen` (legal moves, make move,
perft), `bitrules` (game end and actions), `batch` (fixed-size state rows with the history
and repetition keys, and the batch rules over them) and `position` (their Python face: FEN
and UCI through python-chess, legal moves, outcome, perft). python-chess handles the text.
"""

from __future__ import annotations

from games.chess.actions import (
    NUM_ACTIONS,
    action_mask,
    action_to_move,
    move_to_action,
    moves_to_actions,
)
from games.chess.game import Chess, pgn_from_game
from games.chess.perft import divide, perft
from games.chess.pgn import actions_from_pgn, eval_comment, value_to_centipawns, write_pgn
from games.chess.planes import num_planes
from games.chess.state import ChessState, InvalidPositionError, encode_states, position_key

__all__ = [
    "NUM_ACTIONS",
    "Chess",
    "ChessState",
    "InvalidPositionError",
    "action_mask",
    "action_to_move",
    "actions_from_pgn",
    "divide",
    "encode_states",
    "eval_comment",
    "move_to_action",
    "moves_to_actions",
    "num_planes",
    "perft",
    "pgn_from_game",
    "position_key",
    "value_to_centipawns",
    "write_pgn",
]
