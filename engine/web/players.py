"""The players a web board offers, and their analysis of a position.

The roster is fixed when the server starts: the built-in players (`random`, `mcts:N`,
`perfect`) and the checkpoints named on the command line. The page chooses among them by
index or name only, so no request can make the server load a path or start a program.
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from engine.agent_types import Agent, AgentSpecError, Analysis
from games.base import Game, GameError, State

BUILTIN_PLAYERS = ("random", "mcts:64", "mcts:400", "perfect")
"""Players every server offers (each where it can play the game)."""

TOO_SLOW = {("perfect", "connect4"): "the exact Connect Four solver takes minutes on early "
                                    "positions"}
"""(player, game) pairs the board does not offer: one request would hold the server."""

TOP_CANDIDATES = 5
"""Candidate moves listed in an analysis."""


@dataclass(frozen=True)
class Player:
    """One entry of the roster.

    Attributes:
        name: what the page shows and may send (`mcts:64`, `ckpt:c4:64`).
        spec: the `engine.agents.make_agent` spec that builds it.
        game: the game a checkpoint was trained on (None: any game).
        game_options: the options it was trained with (a Go network fits one board size).
        run_dir: the run directory of a checkpoint (its plots and game records), or None.
    """

    name: str
    spec: str
    game: str | None = None
    game_options: dict[str, Any] = field(default_factory=dict)
    run_dir: Path | None = None


def checkpoint_player(text: str, sims: int) -> Player:
    """The roster entry of a `--checkpoint` value: a run directory or checkpoint file,
    `ckpt:PATH[:SIMS]`, or `zoo:NAME[:SIMS]` (SIMS defaults to `sims`).

    Raises:
        AgentSpecError or CheckpointError: no checkpoint there.
    """
    from engine.agents import check_agent_spec, checkpoint_game_options
    from engine.checkpoint import checkpoint_stem

    kind, _, rest = text.strip().partition(":")
    if kind.lower() == "zoo":
        from engine.zoo import zoo_path

        name, _, count = rest.partition(":")
        path, label = zoo_path(name), f"zoo:{name}"
    else:
        body = rest if kind.lower() in ("ckpt", "checkpoint") else text.strip()
        match = re.fullmatch(r"(.+?):(\d+)", body)
        path, count = (Path(match[1]), match[2]) if match else (Path(body), "")
        label = f"ckpt:{path.name if path.name not in ('checkpoints', '') else path.parent.name}"
    sims_here = int(count) if count else sims
    spec = f"ckpt:{path}:{sims_here}"
    stem = checkpoint_stem(path)
    meta = json.loads(stem.with_suffix(".json").read_text())
    import games

    game = games.make(meta["game"], **(checkpoint_game_options(spec) or {}))
    check_agent_spec(spec, game)
    run_dir = stem.parent.parent if stem.parent.name == "checkpoints" else stem.parent
    return Player(name=f"{label}:{sims_here}", spec=spec, game=meta["game"],
                  game_options=checkpoint_game_options(spec) or {}, run_dir=run_dir)


class Roster:
    """The players of one server, built lazily per game and kept.

    Args:
        players: the roster, built-in players first.
        device: where networks run.
        seed: seed of every agent's random choices.
    """

    def __init__(self, players: list[Player], device: str = "cpu", seed: int = 0) -> None:
        self.players = players
        self.device, self.seed = device, seed
        self._agents: dict[tuple[int, str], Agent] = {}
        self.lock = threading.RLock()

    @classmethod
    def build(cls, checkpoints: list[str], sims: int, device: str = "cpu",
              seed: int = 0) -> Roster:
        players = [Player(name=spec, spec=spec) for spec in BUILTIN_PLAYERS]
        players += [checkpoint_player(text, sims) for text in checkpoints]
        return cls(players, device, seed)

    def find(self, choice: Any) -> int:
        """The index of the player the page chose (an index or a name).

        Raises:
            LookupError: no such player on this server.
        """
        if isinstance(choice, int) and not isinstance(choice, bool):
            if 0 <= choice < len(self.players):
                return choice
            raise LookupError(f"no player {choice}; this server has {len(self.players)}")
        if isinstance(choice, str):
            for i, player in enumerate(self.players):
                if player.name == choice:
                    return i
            raise LookupError(f"no player named {choice!r} on this server")
        raise LookupError("player must be an index or a name")

    def why_not(self, index: int, game: Game) -> str | None:
        """Why player `index` cannot play `game` (None: it can)."""
        from engine.agents import check_agent_spec

        player = self.players[index]
        if (player.spec, game.name) in TOO_SLOW:
            return TOO_SLOW[(player.spec, game.name)]
        if player.game is not None:
            if player.game != game.name:
                return f"{player.name} plays {player.game}, not {game.name}"
            size = player.game_options.get("size")
            if size is not None and getattr(game, "size", size) != size:
                return f"{player.name} was trained on {size}x{size}"
            return None
        try:
            check_agent_spec(player.spec, game)
        except GameError as error:
            return str(error).splitlines()[0]
        return None

    def agent(self, index: int, game: Game, key: str) -> Agent:
        """Player `index` built for `game` (`key` names the game and its options)."""
        from engine.agents import make_agent

        with self.lock:
            found = self._agents.get((index, key))
            if found is None:
                found = make_agent(self.players[index].spec, game, device=self.device,
                                   seed=self.seed)
                self._agents[(index, key)] = found
            return found

    def close(self) -> None:
        for agent in self._agents.values():
            agent.close()
        self._agents.clear()


def analyse(agent: Agent, game: Game, state: State) -> tuple[Analysis, np.ndarray | None]:
    """The agent's analysis of `state` and, for a search, its root children's values
    (float `[A]`, the player to move's view; NaN where unvisited).

    `Analysis` carries no per-move values, so for search players the root search is run
    here with the agent's own evaluator and settings, and its most visited move played.
    """
    from engine.agents import SearchAgent
    from mcts import BatchSearch

    if not isinstance(agent, SearchAgent) or agent.simulations <= 0:
        return agent.analyse(game, state), None
    states = agent.ops.stack([state])
    to_play, legal = agent.ops.roots(states)
    search = BatchSearch(agent.search_config, 1, game.num_actions)
    out = search.run(states, agent.ops.search_step, agent.evaluator, root_to_play=to_play,
                     root_legal=legal, rng=agent.rng, num_simulations=agent.simulations)
    visits = np.asarray(out.visit_counts[0])
    best = np.flatnonzero(visits == visits.max())
    action = int(agent.rng.choice(best)) if len(best) > 1 else int(out.action[0])
    q_values = np.where(visits > 0, np.asarray(out.q_values[0], dtype=float), np.nan)
    result = Analysis(action=action, value=float(out.root_value[0]),
                      policy=np.asarray(out.policy_target[0], dtype=np.float32),
                      visits=visits, simulations=agent.simulations)
    return result, q_values


def analysis_json(game: Game, state: State, analysis: Analysis, q_values: np.ndarray | None,
                  view: dict[str, Any], who: str) -> dict[str, Any]:
    """What the page shows of an analysis: the value as a win probability for the side to
    move (a draw counts half), the top candidates, and a heat map over the board view."""
    from engine.web.boards import heat_map

    weights = analysis.visits if analysis.visits is not None else analysis.policy
    candidates = []
    if weights is not None:
        total = float(np.sum(weights)) or 1.0
        # Most weight first; among equals the move played, then by index.
        order = sorted(np.flatnonzero(game.legal_mask(state)).tolist(),
                       key=lambda a: (-float(weights[a]), a != analysis.action, a))
        order = order[:TOP_CANDIDATES]
        for a in order:
            entry: dict[str, Any] = {"move": game.action_to_text(state, a),
                                     "share": round(float(weights[a]) / total, 4)}
            if analysis.visits is not None:
                entry["visits"] = int(analysis.visits[a])
            if q_values is not None and np.isfinite(q_values[a]):
                entry["win_prob"] = round((float(q_values[a]) + 1) / 2, 4)
            candidates.append(entry)
    else:
        candidates.append({"move": game.action_to_text(state, analysis.action), "share": 1.0})
    return {
        "by": who,
        "side": int(game.to_play(state)),
        "value": round(float(analysis.value), 4),
        "win_prob": round((float(analysis.value) + 1) / 2, 4),
        "move": game.action_to_text(state, analysis.action),
        "action": int(analysis.action),
        "simulations": int(analysis.simulations),
        "candidates": candidates,
        "heat": (None if weights is None
                 else heat_map(game, state, np.asarray(weights, dtype=float), view["rows"],
                               view["cols"])),
    }


__all__ = ["AgentSpecError", "Player", "Roster", "analyse", "analysis_json",
           "checkpoint_player"]
