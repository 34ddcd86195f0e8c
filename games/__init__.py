"""Game rules and encodings. Imports none of move37's other packages.

    >>> import games
    >>> game = games.make("tictactoe")
    >>> game.num_actions
    9

Games are registered by name with the module that defines them, and imported only when
made, so listing the games does not compile every game's kernels.
"""

from __future__ import annotations

import importlib
import importlib.util
from typing import Any

from games.base import (
    NO_PLAYER,
    Action,
    BatchGame,
    Game,
    GameError,
    GameOverError,
    IllegalMoveError,
    MoveParseError,
    Outcome,
    Player,
    SearchKernels,
    State,
    Termination,
    legal_actions,
    play_moves,
)

# name -> ("module", "factory attribute", "one-line description")
_REGISTRY: dict[str, tuple[str, str, str]] = {
    "tictactoe": ("games.tictactoe", "TicTacToe", "Tic-tac-toe on 3x3 (Numba kernels)"),
    "connect4": ("games.connect4", "ConnectFour", "Connect Four, 7x6 bitboards (Numba kernels)"),
    "go": ("games.go", "Go", "Go, 5x5 to 19x19, area scoring (Numba kernels); size=, komi="),
    "chess": ("games.chess", "Chess", "Chess on bitboard kernels, AlphaZero 4672-action encoding"),
}


class UnknownGameError(GameError):
    """`make` was given a name that is not registered."""


def available() -> dict[str, str]:
    """Registered games whose module is present, with a one-line description each."""
    found = {}
    for name, (module, _, description) in _REGISTRY.items():
        if importlib.util.find_spec(module) is not None:
            found[name] = description
    return found


def make(name: str, **kwargs: Any) -> Game:
    """Build the game registered as `name`; keyword arguments go to its constructor."""
    key = name.strip().lower().replace("-", "").replace("_", "")
    if key not in available():
        known = ", ".join(sorted(available()))
        raise UnknownGameError(f"unknown game {name!r}; known games: {known}")
    module, attribute, _ = _REGISTRY[key]
    factory = getattr(importlib.import_module(module), attribute)
    return factory(**kwargs)


__all__ = [
    "NO_PLAYER",
    "Action",
    "BatchGame",
    "Game",
    "GameError",
    "GameOverError",
    "IllegalMoveError",
    "MoveParseError",
    "Outcome",
    "Player",
    "SearchKernels",
    "State",
    "Termination",
    "UnknownGameError",
    "available",
    "legal_actions",
    "make",
    "play_moves",
]
