"""Matches between two agents, played many games at a time, with an Elo estimate.

Games come in pairs that share an opening (`opening_moves` uniformly random plies, the same
for both games of a pair) with colours swapped, so that neither the opening nor the first
move favours one agent. Each ply, all games where agent A is to move are analysed in one
batch, then all games where B is to move.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from engine.agents import Agent
from engine.gameops import GameOps
from engine.loop.gate import elo_from_score, elo_with_interval  # noqa: F401 (re-exported)
from games.base import Game, Outcome, Termination


@dataclass
class MatchResult:
    """Results from agent A's point of view."""

    a: str
    b: str
    wins: int = 0
    draws: int = 0
    losses: int = 0
    records: list[str] = field(default_factory=list)

    @property
    def games(self) -> int:
        return self.wins + self.draws + self.losses

    @property
    def score(self) -> float:
        return (self.wins + 0.5 * self.draws) / self.games if self.games else 0.0

    def elo(self) -> tuple[float, float, float]:
        """(Elo difference of A over B, lower and upper bound of its 95% interval)."""
        return elo_with_interval(self.wins, self.draws, self.losses)

    def as_dict(self) -> dict:
        elo, low, high = self.elo()
        return {"a": self.a, "b": self.b, "games": self.games, "wins": self.wins,
                "draws": self.draws, "losses": self.losses, "score": round(self.score, 4),
                "elo": _finite(elo), "elo_low": _finite(low), "elo_high": _finite(high)}


def _finite(x: float) -> float | None:
    return round(x, 1) if math.isfinite(x) else None


def play_match(game: Game, agent_a: Agent, agent_b: Agent, games: int, *, seed: int = 0,
               opening_moves: int = 0, max_moves: int = 0, concurrent: int = 64,
               keep_records: bool = False,
               on_game: Callable[[float], None] | None = None) -> MatchResult:
    """Play `games` games (an even number is fair: colours swap within each pair).
    `on_game` gets A's result (1, 0.5, 0) of each game as it ends."""
    ops = GameOps(game)
    rng = np.random.default_rng(seed)
    result = MatchResult(agent_a.name, agent_b.name)
    for start in range(0, games, concurrent):
        count = min(concurrent, games - start)
        _play_batch(game, ops, agent_a, agent_b, start, count, rng, opening_moves, max_moves,
                    result, keep_records, on_game)
    return result


def _openings(game: Game, ops: GameOps, pairs: int, plies: int, rng: np.random.Generator):
    """`pairs` random openings of `plies` moves (shorter if a game would end)."""
    states = ops.initial(pairs)
    moves: list[list[int]] = [[] for _ in range(pairs)]
    for _ in range(plies):
        done, _ = ops.terminal(states)
        legal = ops.legal(states)
        actions = np.array([rng.choice(np.flatnonzero(l)) if l.any() else 0 for l in legal])
        nxt = ops.step(states, actions)
        # Never end a game during the opening: keep the previous state where it would.
        nxt_done, _ = ops.terminal(nxt)
        for i in range(pairs):
            if not done[i] and not nxt_done[i]:
                states[i] = nxt[i]
                moves[i].append(int(actions[i]))
    return states, moves


def _play_batch(game, ops, agent_a, agent_b, offset, count, rng, opening_moves, max_moves,
                result, keep_records, on_game=None) -> None:
    pairs = (count + 1) // 2
    opening_states, opening_moves_list = _openings(game, ops, pairs, opening_moves, rng)
    states = ops.stack([ops.single(opening_states, i // 2) for i in range(count)])
    moves = [list(opening_moves_list[i // 2]) for i in range(count)]
    # In game i, agent A plays player (offset + i) % 2.
    a_player = np.array([(offset + i) % 2 for i in range(count)])
    tick = None if on_game is None else (
        lambda i, outcome: on_game((np.sign(outcome.value(int(a_player[i]))) + 1) / 2))
    outcomes = play_games(game, agent_a, agent_b, states, a_player, max_moves=max_moves,
                          moves=moves, on_finish=tick)
    for i, outcome in enumerate(outcomes):
        value = outcome.value(int(a_player[i]))
        if value > 0:
            result.wins += 1
        elif value < 0:
            result.losses += 1
        else:
            result.draws += 1
        if keep_records:
            result.records.append(game.game_record(moves[i], outcome))


def play_games(game: Game, agent_a: Agent, agent_b: Agent, states: np.ndarray,
               a_player: np.ndarray, *, max_moves: int = 0,
               moves: list[list[int]] | None = None,
               on_finish: Callable[[int, Outcome], None] | None = None) -> list[Outcome]:
    """Play every game of the batch `states` to its end; agent A plays `a_player[i]` in game i.

    Returns the outcome of each game. `moves`, if given, gets each game's actions appended;
    `on_finish(i, outcome)` is told of each game as it ends.
    """
    ops = GameOps(game)
    count = len(states)
    states = states.copy()
    moves = moves if moves is not None else [[] for _ in range(count)]
    active = np.ones(count, dtype=bool)
    finished: dict[int, Outcome] = {}
    while active.any():
        done, _ = ops.terminal(states)
        for i in np.flatnonzero(active & done):
            finished[i] = game.outcome(ops.single(states, i))
            active[i] = False
            if on_finish is not None:
                on_finish(int(i), finished[i])
        if max_moves:
            for i in np.flatnonzero(active):
                if len(moves[i]) >= max_moves:
                    finished[i] = Outcome(Termination.MAX_LENGTH)
                    active[i] = False
                    if on_finish is not None:
                        on_finish(int(i), finished[i])
        if not active.any():
            break
        to_play = ops.to_play(states)
        actions = np.zeros(count, dtype=np.int64)
        for agent, is_a in ((agent_a, True), (agent_b, False)):
            rows = np.flatnonzero(active & ((to_play == a_player) == is_a))
            if rows.size:
                analyses = agent.analyse_batch(states[rows])
                actions[rows] = [an.action for an in analyses]
        legal = ops.legal(states)
        rows = np.flatnonzero(active)
        if not legal[rows, actions[rows]].all():
            bad = rows[~legal[rows, actions[rows]]][0]
            raise RuntimeError(f"an agent chose illegal action {actions[bad]} in game {bad}")
        stepped = ops.step(states[rows], actions[rows])
        for j, i in enumerate(rows):
            states[i] = stepped[j]
            moves[i].append(int(actions[i]))
    return [finished[i] for i in range(count)]
