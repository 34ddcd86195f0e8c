"""The self-play actor: many games at once, one batched search per move, games to shards.

The actor keeps `concurrent_games` games in flight. Each step it runs one batched search over
all of them (the network sees one full batch per simulation round), records each position
with its search policy, plays a move in every game, and hands the games that finished in
that step to its sink (the run's replay) at once, so a kill loses no finished game. Finished
games are replaced by new ones in the same slot; games in flight carry over to the next
iteration.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from engine.config import RunConfig
from engine.endgame import (
    OwnershipFn,
    apply_pass_rules,
    best_move_value,
    ownership_score,
    player0_view,
)
from engine.gameops import Evaluator, GameOps
from engine.replay import GameRecord
from games.base import NO_PLAYER, Game, Outcome, Termination, TerritoryGame
from mcts import BatchSearch


@dataclass
class SelfPlayStats:
    games: int = 0
    positions: int = 0
    seconds: float = 0.0
    search_seconds: float = 0.0
    wins: list[int] = field(default_factory=lambda: [0, 0])
    draws: int = 0
    game_lengths: list[int] = field(default_factory=list)
    resignations: int = 0
    resign_checks: int = 0  # games that would have resigned but were played out
    false_resignations: int = 0  # ... of which the would-be resigner did not lose

    @property
    def positions_per_second(self) -> float:
        return self.positions / self.seconds if self.seconds > 0 else 0.0


@dataclass
class _GameInProgress:
    observations: list[np.ndarray] = field(default_factory=list)
    policies: list[np.ndarray] = field(default_factory=list)
    legals: list[np.ndarray] = field(default_factory=list)
    to_play: list[int] = field(default_factory=list)
    root_values: list[float] = field(default_factory=list)
    weights: list[float] = field(default_factory=list)
    actions: list[int] = field(default_factory=list)
    opening: list[int] = field(default_factory=list)  # random moves before the first searched one
    would_resign_as: int = NO_PLAYER  # first player whose value fell below the threshold


def choose_actions(visits_or_policy: np.ndarray, temperature: np.ndarray,
                   rng: np.random.Generator) -> np.ndarray:
    """Per row: sample in proportion to weights^(1/T) where T > 0, else take the argmax.

    Args:
        visits_or_policy: float [B, A] non-negative weights (visit counts or a policy).
        temperature: float [B].
    """
    weights = np.asarray(visits_or_policy, dtype=np.float64)
    actions = weights.argmax(axis=1)
    for b in np.flatnonzero(temperature > 0):
        w = weights[b] ** (1.0 / temperature[b])
        total = w.sum()
        if total > 0:
            actions[b] = rng.choice(len(w), p=w / total)
    return actions.astype(np.int64)


def value_targets(root_values: np.ndarray, to_play: np.ndarray,
                  outcome_values: tuple[float, ...], blend: float, horizon: float) -> np.ndarray:
    """float32 `[T]`: each position's value target, (1 - blend) * the game's result for its
    player to move + blend * a short-term value from the search's root values.

    The short-term value of player p at ply t is td_p(t) = (1 - lam) * v_p(t) + lam *
    td_p(t + 1), lam = 1 - 1 / horizon, ending in the game's result for p after the last
    ply: an exponentially weighted mean of the root values of the next ~horizon plies (as
    KataGo's short-term value targets). v_p(t) is ply t's root value seen by p: as it is for
    the player to move, negated for the other player (two-player zero-sum games). With
    horizon 1 it is the position's own root value.

    Args:
        root_values: float `[T]` the search's root value for the player to move at each ply.
        to_play: int `[T]` the player to move at each ply.
        outcome_values: the game's final result per player.
        blend: weight of the short-term value, in [0, 1].
        horizon: plies the short-term value looks ahead, >= 1.
    """
    root_values = np.asarray(root_values, dtype=np.float64)
    to_play = np.asarray(to_play)
    result = np.asarray([outcome_values[p] for p in to_play], dtype=np.float64)
    if blend == 0:
        return result.astype(np.float32)
    keep = 1.0 - 1.0 / horizon
    short_term = np.empty_like(result)
    for player in range(len(outcome_values)):
        seen = np.where(to_play == player, root_values, -root_values)
        running = float(outcome_values[player])
        for t in range(len(root_values) - 1, -1, -1):
            running = (1.0 - keep) * seen[t] + keep * running
            if to_play[t] == player:
                short_term[t] = running
    return ((1.0 - blend) * result + blend * short_term).astype(np.float32)


class SelfPlayActor:
    """Plays self-play games with a batched search and writes them as shards."""

    def __init__(self, game: Game, config: RunConfig, evaluator: Evaluator, *, seed: int,
                 sink: Callable[[list[GameRecord]], object] | None = None,
                 ownership: OwnershipFn | None = None) -> None:
        """`ownership`: the network's ownership (games counted by area), for the pass rules
        and `endgame.scoring = "ownership"`; None or a None answer: without it."""
        self.game = game
        self.territory = game if isinstance(game, TerritoryGame) else None
        self.ownership = ownership
        self.ops = GameOps(game)
        self.config = config
        self.evaluator = evaluator
        self.sink = sink
        self.rng = np.random.default_rng(seed)
        self.batch = config.selfplay.concurrent_games
        self.search = BatchSearch(config.search, self.batch, game.num_actions)
        self.states = self.ops.initial(self.batch)
        self.games = [_GameInProgress() for _ in range(self.batch)]
        for b in range(self.batch):
            self._new_game(b)
        self.reuse = np.zeros(self.batch, dtype=bool)
        self.never_resign = self.rng.random(self.batch) < config.selfplay.resign_check_fraction

    # ------------------------------------------------------------------------------------
    def run(self, num_games: int, deadline: float | None = None,
            on_step: Callable[[SelfPlayStats], object] | None = None,
            ) -> tuple[SelfPlayStats, list[GameRecord]]:
        """Play until `num_games` games have finished, or until `deadline` (a
        `time.monotonic()` value; the games in flight carry over); return stats and the
        finished games. `on_step` sees the running stats after every move of the batch."""
        stats = SelfPlayStats()
        finished: list[GameRecord] = []
        start = time.perf_counter()
        while stats.games < num_games and (deadline is None or time.monotonic() < deadline):
            done_now = self._step(stats)
            if done_now:
                if self.sink is not None:
                    self.sink(done_now)  # at once: a kill loses no finished game
                finished.extend(done_now)
            if on_step is not None:
                stats.seconds = time.perf_counter() - start
                on_step(stats)
        stats.seconds = time.perf_counter() - start
        return stats, finished

    def _step(self, stats: SelfPlayStats) -> list[GameRecord]:
        cfg = self.config.selfplay
        to_play, legal = self.ops.roots(self.states)
        full_search = cfg.playout_cap_fraction >= 1.0 or self.rng.random() < cfg.playout_cap_fraction
        sims = self.config.search.num_simulations if full_search else max(1, cfg.fast_simulations)
        use_reuse = cfg.tree_reuse and self.config.search.algorithm == "puct"
        t0 = time.perf_counter()
        out = self.search.run(self.states, self.ops.search_step, self.evaluator,
                              root_to_play=to_play, root_legal=legal, rng=self.rng,
                              num_simulations=sims, reuse=self.reuse if use_reuse else None)
        stats.search_seconds += time.perf_counter() - t0
        observations = self.ops.encode(self.states)
        plies = np.array([len(g.opening) + len(g.actions) for g in self.games])
        if self.config.search.algorithm == "gumbel":
            actions = np.asarray(out.action, dtype=np.int64)
            late = plies >= cfg.temperature_moves
            if late.any():
                actions[late] = np.argmax(out.policy_target[late], axis=1)
        else:
            temperature = np.where(plies < cfg.temperature_moves, cfg.temperature, 0.0)
            # With forced playouts the move comes from the pruned target, as in KataGo: a
            # bad move's forced visits must not get it played.
            counts = (out.policy_target if self.config.search.forced_playouts > 0
                      else out.visit_counts)
            actions = choose_actions(counts, temperature, self.rng)
        if self.territory is not None:
            actions = self._pass_rules(actions, out, legal)
        resigners = self._check_resignation(out.root_value, to_play)
        for b in range(self.batch):
            g = self.games[b]
            g.observations.append(observations[b])
            g.policies.append(out.policy_target[b])
            g.legals.append(legal[b])
            g.to_play.append(int(to_play[b]))
            g.root_values.append(float(out.root_value[b]))
            g.weights.append(1.0 if full_search else 0.0)
            g.actions.append(int(actions[b]))
        self.states = self.ops.step(self.states, actions)
        if use_reuse:
            self.search.advance(actions)
            self.reuse[:] = True
        terminal, terminal_value = self.ops.terminal(self.states)
        max_moves = cfg.max_moves
        finished = []
        for b in range(self.batch):
            over_length = max_moves > 0 and len(self.games[b].actions) >= max_moves
            if not (terminal[b] or resigners[b] or over_length):
                continue
            record = self._finish(b, bool(terminal[b]), float(terminal_value[b]),
                                  bool(resigners[b]) and not terminal[b], stats)
            finished.append(record)
        return finished

    def _pass_rules(self, actions: np.ndarray, out, legal: np.ndarray) -> np.ndarray:
        """The search's moves with `engine.endgame`'s pass rules applied."""
        game = self.territory
        assert game is not None
        states = [self.ops.single(self.states, b) for b in range(self.batch)]
        weights = out.policy_target + 1e-6 * out.prior
        values = [best_move_value(out.q_values[b], out.visit_counts[b], game.pass_action,
                                  float(out.root_value[b])) for b in range(self.batch)]
        return apply_pass_rules(game, states, actions, weights, legal, values, self.ownership,
                                self.config.endgame)

    def _final(self, state, outcome: Outcome, g: _GameInProgress
               ) -> tuple[Outcome, np.ndarray | None]:
        """The outcome (counted with dead stones off under `endgame.scoring = "ownership"`)
        and the ownership target `[T, H, W]` of a game that ended by the rules."""
        game = self.territory
        if game is None:
            return outcome, None
        dead: list[int] = []
        owned = None
        if self.config.endgame.scoring == "ownership" and self.ownership is not None:
            owned = self.ownership(self.ops.stack([state]))
        if owned is not None:
            view = player0_view(owned[0], self.game.to_play(state))
            score, dead = ownership_score(game, state, view, self.config.endgame.dead_threshold)
            winner = 0 if score > 0 else (1 if score < 0 else NO_PLAYER)
            outcome = Outcome(outcome.termination, winner=winner, margin=abs(score))
        final = game.final_ownership(state, dead)
        signs = np.where(np.asarray(g.to_play) == 0, 1, -1).astype(np.int8)
        return outcome, final.astype(np.int8)[None] * signs[:, None, None]

    def _check_resignation(self, root_value: np.ndarray, to_play: np.ndarray) -> np.ndarray:
        threshold = self.config.selfplay.resign_threshold
        resign = np.zeros(self.batch, dtype=bool)
        if threshold <= -1.0 or self.game.num_players != 2:
            return resign
        low = root_value < threshold
        for b in np.flatnonzero(low):
            g = self.games[b]
            if g.would_resign_as == NO_PLAYER:
                g.would_resign_as = int(to_play[b])
            if not self.never_resign[b]:
                resign[b] = True
        return resign

    def _finish(self, b: int, terminal: bool, terminal_value: float, resigned: bool,
                stats: SelfPlayStats) -> GameRecord:
        g = self.games[b]
        players = self.game.num_players
        final_state = self.ops.single(self.states, b)
        if resigned:
            loser = g.to_play[-1]
            outcome = Outcome(Termination.RESIGNATION, winner=1 - loser)
        elif terminal:
            outcome = self.game.outcome(final_state)
        else:
            outcome = Outcome(Termination.MAX_LENGTH)
        ownership = None
        if terminal and not resigned:  # ended by the rules: counted, with a final board
            outcome, ownership = self._final(final_state, outcome, g)
        values = tuple(outcome.value(p) for p in range(players))
        record = GameRecord(
            observations=np.stack(g.observations),
            policy=np.stack(g.policies).astype(np.float32, copy=False),
            legal=np.stack(g.legals),
            to_play=np.asarray(g.to_play, dtype=np.int8),
            root_value=np.asarray(g.root_values, dtype=np.float32),
            policy_weight=np.asarray(g.weights, dtype=np.float32),
            actions=g.opening + g.actions,
            outcome_values=values,
            text=self.game.game_record(g.opening + g.actions, outcome,
                                       values=[None] * len(g.opening) + g.root_values),
            resigned=resigned,
            value_target=value_targets(g.root_values, g.to_play, values,
                                       self.config.selfplay.value_target_blend,
                                       self.config.selfplay.value_target_horizon),
            ownership=ownership,
            opening=len(g.opening),
        )
        stats.games += 1
        stats.positions += len(g.actions)
        stats.game_lengths.append(len(g.opening) + len(g.actions))
        if outcome.winner in (0, 1) and outcome.reward is None:
            stats.wins[outcome.winner] += 1
        else:
            stats.draws += 1
        stats.resignations += int(resigned)
        if g.would_resign_as != NO_PLAYER and self.never_resign[b]:
            stats.resign_checks += 1
            stats.false_resignations += int(values[g.would_resign_as] >= 0)
        self._new_game(b)
        self.reuse[b] = False
        self.never_resign[b] = self.rng.random() < self.config.selfplay.resign_check_fraction
        return record

    def _new_game(self, b: int) -> None:
        """A fresh game in slot `b`, after its random opening (`selfplay.random_opening_moves`);
        an opening move that would end the game is not played."""
        state = self.ops.initial(1)
        opening: list[int] = []
        most = self.config.selfplay.random_opening_moves
        # Without openings nothing is drawn: self-play's random stream stays as it was.
        for _ in range(int(self.rng.integers(0, most + 1)) if most else 0):
            action = int(self.rng.choice(np.flatnonzero(self.ops.legal(state)[0])))
            after = self.ops.step(state, np.array([action]))
            if self.ops.terminal(after)[0][0]:
                break
            state = after
            opening.append(action)
        self.states[b] = state[0]
        self.games[b] = _GameInProgress(opening=opening)


def stats_summary(stats: SelfPlayStats) -> dict[str, float]:
    lengths = stats.game_lengths or [0]
    return {
        "games": stats.games,
        "positions": stats.positions,
        "positions_per_sec": stats.positions_per_second,
        "search_share": stats.search_seconds / stats.seconds if stats.seconds else 0.0,
        "mean_game_length": float(np.mean(lengths)),
        "first_player_wins": stats.wins[0] / max(1, stats.games),
        "draws": stats.draws / max(1, stats.games),
        "resignations": stats.resignations,
        "false_resignation_rate": (stats.false_resignations / stats.resign_checks
                                   if stats.resign_checks else 0.0),
    }
