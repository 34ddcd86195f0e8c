"""Scoring finished Go matches as a referee does, dead stones taken off.

The rules count the final board as it stands (Tromp-Taylor), which self-play relies on. An
external engine such as GNU Go passes with dead stones still on the board, so a match
against it needs a referee, as gogui-twogtp uses one: after each game, the referee names the
dead stones and the board is counted without them (area scoring with komi).

* `GtpReferee`: a GTP engine (`gnugo --mode gtp` by default when GNU Go is installed) is told
  the game and asked `final_status_list dead`;
* `EstimateReferee`: our own estimate, `Go.dead_stones` (random playouts from the final board);
* `OwnershipReferee`: a network's ownership head (`engine.endgame`), what the training
  loop's arena uses under `endgame.scoring = "ownership"`.

The players' own counts (`final_score` of each GTP player) are compared with the referee's
and listed as disagreements.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from engine.agent_types import Agent
from engine.endgame import DEAD_STONE_PLAYOUTS, dead_points, player0_view
from engine.gtp_client import GtpAgent, GtpClient
from games.base import NO_PLAYER, Outcome, Termination
from games.go import Go
from games.go.sgf_writer import result_text

DEFAULT_REFEREE = "gnugo --mode gtp"
"""The referee used when GNU Go is on the PATH and none is named."""


class Referee(Protocol):
    """Names the dead stones of finished Go games."""

    description: str
    """Who scores, for the result line and the SGF comment."""

    def dead_stones(self, go: Go, moves: Sequence[int], state: np.ndarray) -> list[int]:
        """The points of the dead stones on `state`'s board, reached by `moves`."""
        ...

    def close(self) -> None:
        """Release the referee's resources."""
        ...


class GtpReferee:
    """A GTP engine as referee: it replays each game and answers `final_status_list dead`.

    Args:
        command: the engine's command line.
    """

    def __init__(self, command: str) -> None:
        self.command = command
        self.description = f"referee {command} (final_status_list dead)"
        self.client = GtpClient(command)
        self._size = 0

    def dead_stones(self, go: Go, moves: Sequence[int], state: np.ndarray) -> list[int]:
        if go.size != self._size:
            self.client.send(f"boardsize {go.size}")
            self._size = go.size
        self.client.send(f"komi {go.komi:g}")
        self.client.send("clear_board")
        colours = ("black", "white")
        player = 0
        for action in moves:
            self.client.send(f"play {colours[player]} {go.action_to_text(None, action)}")
            player = 1 - player
        words = self.client.send("final_status_list dead", timeout=self.client.timeout).split()
        return [go.text_to_action(None, word) for word in words]

    def close(self) -> None:
        self.client.close()


class EstimateReferee:
    """Our own estimate: a stone is dead when the other colour owns its point in most random
    playouts from the final board (`Go.dead_stones`)."""

    def __init__(self, playouts: int = DEAD_STONE_PLAYOUTS, seed: int = 0) -> None:
        self.playouts = playouts
        self.seed = seed
        self.description = f"move37's dead-stone estimate ({playouts} playouts)"

    def dead_stones(self, go: Go, moves: Sequence[int], state: np.ndarray) -> list[int]:
        return go.dead_stones(state, self.playouts, self.seed)

    def close(self) -> None:
        """Nothing to release."""


class OwnershipReferee:
    """A network's ownership head as referee: a stone is dead when the head gives its point
    to the other colour at least `threshold` strongly (`engine.endgame.dead_points`); a
    network without the head names none (the board counts as it stands).

    Args:
        ownership: (game, state) -> float32 `[size * size]` for the player to move, or None
            (no head): an agent's `ownership`.
        threshold: `endgame.dead_threshold`.
    """

    def __init__(self, ownership: Callable[[Go, np.ndarray], np.ndarray | None],
                 threshold: float) -> None:
        self.ownership = ownership
        self.threshold = threshold
        self.description = f"the network's ownership (dead at {threshold:g})"

    def dead_stones(self, go: Go, moves: Sequence[int], state: np.ndarray) -> list[int]:
        owned = self.ownership(go, state)
        if owned is None:
            return []
        black_view = player0_view(np.asarray(owned), go.to_play(state))
        return dead_points(go.stones(state), black_view, self.threshold).tolist()

    def close(self) -> None:
        """Nothing to release."""


def make_referee(spec: str | None, go: Go | None = None, device: str = "cpu") -> Referee:
    """The referee for `--referee SPEC`: a GTP command, `estimate` for our own estimate,
    `ckpt:PATH` for that checkpoint's ownership head (on `go`'s board, dead at the run's
    `endgame.dead_threshold`), or None for the default (GNU Go when it is on the PATH, else
    the estimate)."""
    if spec is None:
        return GtpReferee(DEFAULT_REFEREE) if shutil.which("gnugo") else EstimateReferee()
    if spec.strip().lower() == "estimate":
        return EstimateReferee()
    if spec.startswith("ckpt:"):
        return _checkpoint_referee(spec.removeprefix("ckpt:"), go, device)
    return GtpReferee(spec.removeprefix("gtp:"))


def _checkpoint_referee(path: str, go: Go | None, device: str) -> OwnershipReferee:
    from engine.agents import load_checkpoint_agent

    if go is None:
        raise ValueError("a checkpoint referee needs the board it scores")
    agent = load_checkpoint_agent(path, go, 1, device=device)
    assert agent.endgame is not None  # Go is a TerritoryGame: the run's [endgame]
    threshold = agent.endgame.dead_threshold
    if agent.ownership(go, go.initial_state()) is None:
        raise ValueError(f"{path} has no ownership head to name dead stones")
    referee = OwnershipReferee(agent.ownership, threshold)
    referee.description = f"{path}'s ownership head (dead at {threshold:g})"
    return referee


@dataclass
class RefereedGame:
    """A finished game as the referee counts it.

    Attributes:
        outcome: the result with dead stones taken off.
        dead: the points of the stones the referee called dead.
        board_result: the count of the board as it stands (SGF RE text).
        player_counts: each GTP player's own `final_score`, by name.
    """

    outcome: Outcome
    dead: list[int]
    board_result: str | None
    player_counts: dict[str, str]

    @property
    def disagreements(self) -> dict[str, str]:
        """The player counts that differ from the referee's (winner or margin)."""
        ours = same_count_text(result_text(self.outcome) or "")
        return {name: count for name, count in self.player_counts.items()
                if same_count_text(count) != ours}


def same_count_text(count: str) -> str:
    """A count as GTP `final_score` or SGF RE writes it, in one spelling: `B+3.5`, `W+7`,
    `0` for a draw (`B+0`, `Draw`), upper case, trailing zeros off."""
    text = count.strip().upper()
    if text in ("0", "DRAW", "JIGO", "B+0", "W+0"):
        return "0"
    colour, _, margin = text.partition("+")
    try:
        return f"{colour}+{float(margin):g}"
    except ValueError:
        return text


def referee_game(referee: Referee, go: Go, moves: Sequence[int], state: np.ndarray,
                 outcome: Outcome, players: Sequence[Agent] = ()) -> RefereedGame:
    """Score a game that ended by the rules (passes or the move cap) without its dead stones;
    `players` that are GTP engines are asked for their own count of it."""
    if outcome.termination not in (Termination.SCORE, Termination.MAX_LENGTH) or \
            outcome.margin is None:
        return RefereedGame(outcome, [], result_text(outcome), {})
    dead = referee.dead_stones(go, moves, state)
    score = go.score_without(state, dead)
    winner = 0 if score > 0 else (1 if score < 0 else NO_PLAYER)
    counts = {}
    for player in players:
        if isinstance(player, GtpAgent):
            count = player.final_score(state)
            if count is not None:
                counts[player.name] = count
    return RefereedGame(Outcome(outcome.termination, winner=winner, margin=abs(score)), dead,
                        result_text(outcome), counts)
