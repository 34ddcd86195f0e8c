"""Matches between two agents, played many games at a time, with an Elo estimate.

Games come in pairs that share an opening (`opening_moves` uniformly random plies, the same
for both games of a pair) with colours swapped, so that neither the opening nor the first
move favours one agent. Each ply, all games where agent A is to move are analysed in one
batch, then all games where B is to move.

Go games that end by the rules are scored by a referee when one is given (`engine.go_referee`:
dead stones named by a GTP engine such as GNU Go, or by our own estimate, then taken off);
without one, the final board counts as it stands (Tromp-Taylor), as in self-play.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from engine.agents import Agent
from engine.gameops import GameOps
from engine.go_referee import Referee, referee_game
from engine.loop.gate import elo_from_score, elo_with_interval  # noqa: F401 (re-exported)
from games.base import Game, Outcome, Termination
from games.chess import Chess
from games.go import Go
from games.go.sgf_writer import result_text, write_sgf


@dataclass
class MatchResult:
    """Results from agent A's point of view."""

    a: str
    b: str
    wins: int = 0
    draws: int = 0
    losses: int = 0
    records: list[str] = field(default_factory=list)
    scoring: str | None = None
    """Who scored finished Go games (the referee's description); None: the board as it is."""
    disagreements: list[str] = field(default_factory=list)
    """Games where a player's own count differs from the referee's, as text."""
    counts_compared: int = 0
    """Refereed games for which a player gave its own count (GTP `final_score`)."""

    @property
    def games(self) -> int:
        return self.wins + self.draws + self.losses

    @property
    def score(self) -> float:
        return (self.wins + 0.5 * self.draws) / self.games if self.games else 0.0

    def elo(self) -> tuple[float, float, float]:
        """(Elo difference of A over B, lower and upper bound of its 95% interval).

        A clean sweep has an infinite estimate and no spread, where the normal approximation
        gives no interval; its finite bound is then the exact (Clopper-Pearson) one: all n
        games won is consistent with a per-game score down to 0.025 ** (1 / n)."""
        elo, low, high = elo_with_interval(self.wins, self.draws, self.losses)
        if self.games and self.wins == self.games:
            low = elo_from_score(0.025 ** (1 / self.games))
        elif self.games and self.losses == self.games:
            high = elo_from_score(1 - 0.025 ** (1 / self.games))
        return elo, low, high

    def as_dict(self) -> dict:
        elo, low, high = self.elo()
        return {"a": self.a, "b": self.b, "games": self.games, "wins": self.wins,
                "draws": self.draws, "losses": self.losses, "score": round(self.score, 4),
                "elo": _finite(elo), "elo_low": _finite(low), "elo_high": _finite(high),
                "scoring": self.scoring, "counts_compared": self.counts_compared,
                "disagreements": self.disagreements}


def _finite(x: float) -> float | None:
    return round(x, 1) if math.isfinite(x) else None


def play_match(game: Game, agent_a: Agent, agent_b: Agent, games: int, *, seed: int = 0,
               opening_moves: int = 0, max_moves: int = 0, concurrent: int = 64,
               keep_records: bool = False, referee: Referee | None = None,
               on_game: Callable[[float], None] | None = None) -> MatchResult:
    """Play `games` games (an even number is fair: colours swap within each pair); a Go
    `referee` scores the games that end by the rules with dead stones taken off.
    `on_game` gets A's result (1, 0.5, 0) of each game as it ends (as refereed)."""
    ops = GameOps(game)
    rng = np.random.default_rng(seed)
    result = MatchResult(agent_a.name, agent_b.name,
                         scoring=referee.description if referee is not None else None)
    for start in range(0, games, concurrent):
        count = min(concurrent, games - start)
        _play_batch(game, ops, agent_a, agent_b, start, count, rng, opening_moves, max_moves,
                    result, keep_records, referee, on_game)
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
                result, keep_records, referee, on_game=None) -> None:
    pairs = (count + 1) // 2
    opening_states, opening_moves_list = _openings(game, ops, pairs, opening_moves, rng)
    states = ops.stack([ops.single(opening_states, i // 2) for i in range(count)])
    moves = [list(opening_moves_list[i // 2]) for i in range(count)]
    # In game i, agent A plays player (offset + i) % 2.
    a_player = np.array([(offset + i) % 2 for i in range(count)])
    finals: list[np.ndarray] = []
    # With a referee, a game's result is known only once it has scored the final board.
    tick = None if on_game is None or referee is not None else (
        lambda i, outcome: on_game((np.sign(outcome.value(int(a_player[i]))) + 1) / 2))
    outcomes = play_games(game, agent_a, agent_b, states, a_player, max_moves=max_moves,
                          moves=moves, finals=finals, on_finish=tick)
    for i, outcome in enumerate(outcomes):
        names = (agent_a.name, agent_b.name)[:: 1 if a_player[i] == 0 else -1]
        comment = None
        if referee is not None:
            refereed = referee_game(referee, game, moves[i], finals[i], outcome,
                                    (agent_a, agent_b))
            outcome = refereed.outcome
            comment = (f"scored by {referee.description}: {len(refereed.dead)} dead stones; "
                       f"the board as it stands counts {refereed.board_result}")
            result.counts_compared += bool(refereed.player_counts)
            for name, their_count in refereed.disagreements.items():
                result.disagreements.append(f"game {offset + i + 1}: {name} counts "
                                            f"{their_count}, the referee {result_text(outcome)}")
            if on_game is not None:
                on_game((np.sign(outcome.value(int(a_player[i]))) + 1) / 2)
        value = outcome.value(int(a_player[i]))
        if value > 0:
            result.wins += 1
        elif value < 0:
            result.losses += 1
        else:
            result.draws += 1
        if keep_records:
            result.records.append(_record(game, moves[i], outcome, names, comment))


def _record(game: Game, moves: list[int], outcome: Outcome, names: tuple[str, str],
            comment: str | None) -> str:
    """The game's record; SGF and PGN name the players, SGF says who scored it."""
    if isinstance(game, Go):
        return write_sgf(game, moves, outcome=outcome, names=names, comment=comment).decode()
    if isinstance(game, Chess):
        return game.game_record(moves, outcome, headers={"White": names[0], "Black": names[1]})
    return game.game_record(moves, outcome)


def play_games(game: Game, agent_a: Agent, agent_b: Agent, states: np.ndarray,
               a_player: np.ndarray, *, max_moves: int = 0,
               moves: list[list[int]] | None = None,
               finals: list[np.ndarray] | None = None,
               on_finish: Callable[[int, Outcome], None] | None = None) -> list[Outcome]:
    """Play every game of the batch `states` to its end; agent A plays `a_player[i]` in game i.

    Returns the outcome of each game. `moves`, if given, gets each game's actions appended;
    `finals`, if given, gets each game's final state; `on_finish(i, outcome)` is told of
    each game as it ends.
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
    if finals is not None:
        finals.extend(ops.single(states, i) for i in range(count))
    return [finished[i] for i in range(count)]
