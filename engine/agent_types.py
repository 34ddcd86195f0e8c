"""The small types every player shares: `Analysis`, the `Agent` protocol, `AgentSpecError`.

They live apart from `engine.agents` (which builds players and needs the search) so that
clients of external engines (`engine.gtp_client`, `engine.uci_client`) can return analyses
without importing the search or the module that imports them.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from games.base import Action, Game, GameError, State


@dataclass
class Analysis:
    """What an agent thinks of one position."""

    action: Action
    value: float = 0.0  # for the player to move, in [-1, 1]
    policy: np.ndarray | None = None  # float32 [A]: search policy or network prior
    visits: np.ndarray | None = None  # int [A] root visit counts (search agents)
    pv: list[Action] | None = None  # principal variation from this position
    simulations: int = 0
    q: np.ndarray | None = None  # float32 [A]: visited moves' values for the player to move
    lines: dict[Action, list[Action]] | None = None  # visited move -> its most visited line
    line_visits: dict[Action, list[int]] | None = None  # visits of each node along `lines`
    prior: np.ndarray | None = None  # float32 [A]: the root prior the search started from
    depth: float = 0.0  # mean depth of the search tree's nodes below the root
    seldepth: int = 0  # depth of its deepest node


class Agent(Protocol):
    """A player: analyses a batch of positions, or one position with progress reports."""

    name: str

    def analyse_batch(self, states: np.ndarray) -> list[Analysis]: ...

    def analyse(self, game: Game, state: State, *, simulations: int | None = None,
                stop: threading.Event | None = None,
                on_progress: Callable[[Analysis], None] | None = None) -> Analysis: ...

    def close(self) -> None:
        """Release what the agent holds (an engine process); a no-op for most."""
        ...


class AgentSpecError(GameError):
    """An agent spec that cannot be understood or built."""
