"""The end of games counted by area (Go): dead stones from the network's ownership, the
count without them, and the pass rules applied to the move a search chose.

A raw policy or a small search passes too early: the rules then count a half-played board
(Tromp-Taylor), and self-play learns from games that never reached their end. KataGo's
answer, in our terms:

* an ownership head (`engine.model`) predicts each point's final owner; a stone whose point
  it gives strongly to the opponent is dead (`dead_points`), and a finished board is counted
  with those stones off (`ownership_score`, area counting with komi);
* the pass rules (`choose_move`), applied where the move is chosen from a search result,
  never in the rules themselves:
  0. a move into one's own eye (`own_eyes`) counts as a pass, and is never the move played
     instead of a refused pass: filling one's own eye never gains under area counting, and
     a side that may not pass would otherwise fill its eyes until its groups die;
  1. pass when it is the only legal move (own eyes aside);
  2. no pass while more than `early_pass_share` of the board is empty and unsettled;
  3. no pass, the opponent not having passed, while more than `max_unsettled` points are
     unsettled (|ownership| < `settled_threshold`);
  4. after the opponent's pass: play on only while passing back loses under the count the
     game will get (dead stones off under `scoring = "ownership"`, else the board as it
     stands) and some move wins (its value > 0); otherwise pass. An unsettled board does
     not keep the game going: a side that is behind, or whose head is unsure, would throw
     stones into the opponent's area after every pass (docs/measurements.md).
  Rules 3 and 4 need the ownership head; without it only rules 0 to 2 apply (every empty
  point then counts as unsettled).

Ownership arrays here are flat `[N]` (N = H * W points); `stones` and ownership passed to
`dead_points` share one point of view (player 0's, or the player to move's).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from engine.config import EndgameConfig
from engine.gameops import GameOps
from games.base import Action, State, TerritoryGame

DEAD_STONE_PLAYOUTS = 400
"""Random playouts from a finished board when they name its dead stones."""

OwnershipFn = Callable[[np.ndarray], "np.ndarray | None"]
"""states `[B, ...]` -> float32 `[B, H, W]` ownership from each position's player to move's
point of view, or None where the network has no ownership head."""


def dead_points(stones: np.ndarray, ownership: np.ndarray, threshold: float) -> np.ndarray:
    """int64 points of the stones whose ownership is at least `threshold` the other colour's.

    Args:
        stones: int `[N]` or `[H, W]`: +1, -1 (the two colours), 0 empty.
        ownership: float `[N]` or `[H, W]` in [-1, 1], in the same point of view as `stones`.
        threshold: in (0, 1]; a stone is dead when stone * ownership <= -threshold.
    """
    s = np.asarray(stones).reshape(-1).astype(np.float32)
    o = np.asarray(ownership, dtype=np.float32).reshape(-1)
    return np.flatnonzero((s != 0) & (s * o <= -threshold)).astype(np.int64)


def own_eyes(stones: np.ndarray, colour: int) -> np.ndarray:
    """bool `[N]`: the empty points that are `colour`'s eyes (`stones` int `[H, W]`, +1 / -1,
    `colour` +1 or -1): every orthogonal neighbour is `colour`'s stone, and the diagonal
    neighbours hold at most one of the opponent's stones (none on the edge or in a corner),
    the test Monte Carlo Go playouts use (`games.go.playout`)."""
    s = np.asarray(stones)
    own = np.pad(s == colour, 1, constant_values=True)
    opponent = np.pad(s == -colour, 1, constant_values=False).astype(np.int8)
    off_board = np.pad(np.zeros(s.shape, dtype=bool), 1, constant_values=True)
    surrounded = own[:-2, 1:-1] & own[2:, 1:-1] & own[1:-1, :-2] & own[1:-1, 2:]
    corners = ((slice(None, -2), slice(None, -2)), (slice(None, -2), slice(2, None)),
               (slice(2, None), slice(None, -2)), (slice(2, None), slice(2, None)))
    diagonal_opponents = sum(opponent[c] for c in corners)
    on_edge = np.logical_or.reduce([off_board[c] for c in corners])
    allowed = np.where(on_edge, 0, 1)
    return ((s == 0) & surrounded & (diagonal_opponents <= allowed)).reshape(-1)


def player0_view(ownership: np.ndarray, to_play: int) -> np.ndarray:
    """Ownership from the player to move's view -> from player 0's view."""
    return ownership if to_play == 0 else -ownership


def ownership_score(game: TerritoryGame, state: State, ownership: np.ndarray,
                    threshold: float) -> tuple[float, list[int]]:
    """(player 0's lead, dead points): the area count with komi of `state`'s board once the
    stones that `ownership` (player 0's view, `[H, W]` or `[N]`) calls dead are off."""
    dead = dead_points(game.stones(state), ownership, threshold).tolist()
    return float(game.score_without(state, dead)), dead


@dataclass(frozen=True)
class PassContext:
    """What the pass rules know of one position (the player to move's point of view).

    Attributes:
        legal: bool `[A]`.
        pass_action: the pass.
        empty: bool `[N]`: empty points.
        own_eyes: bool `[N]`: the player to move's eyes (`own_eyes`).
        ownership: float `[N]` from the player to move's view, or None (no ownership head).
        opponent_passed: the last move was a pass.
        pass_wins: passing back (ending the game) wins under the dead-stone count; None
            unknown (no ownership head, or the opponent has not passed).
    """

    legal: np.ndarray
    pass_action: Action
    empty: np.ndarray
    own_eyes: np.ndarray
    ownership: np.ndarray | None
    opponent_passed: bool
    pass_wins: bool | None = None

    def unsettled(self, threshold: float) -> np.ndarray:
        """bool `[N]`: points whose owner is not yet clear (every point without ownership)."""
        if self.ownership is None:
            return np.ones_like(self.empty)
        return np.abs(self.ownership) < threshold


def playable_moves(ctx: PassContext) -> np.ndarray:
    """bool `[A]`: the legal moves other than pass and one's own eyes."""
    moves = ctx.legal.copy()
    moves[ctx.pass_action] = False
    points = len(ctx.own_eyes)
    moves[:points] &= ~ctx.own_eyes
    return moves


def best_other_move(weights: np.ndarray, playable: np.ndarray) -> Action:
    """The playable action (`playable_moves`) of greatest weight (weights `[A]`, e.g. visits
    or policy)."""
    return int(np.argmax(np.where(playable, np.asarray(weights, dtype=np.float64), -np.inf)))


def choose_move(action: Action, weights: np.ndarray, move_value: float | None,
                ctx: PassContext, config: EndgameConfig) -> Action:
    """The move to play once the pass rules (module docstring) are applied to `action`.

    Args:
        action: the search's choice.
        weights: float `[A]`: how much the search likes each move (visits, improved policy or
            prior); the replacement for a refused pass is the best `playable_moves` by it.
        move_value: the value, for the player to move, of the best move other than pass
            (None: unknown); rule 4 plays on only when it is > 0.
        ctx: the position.
        config: thresholds.
    """
    if not config.friendly_pass:
        return action
    playable = playable_moves(ctx)
    if action != ctx.pass_action and not playable[action]:
        action = ctx.pass_action  # rule 0: filling one's own eye is a pass
    if not playable.any():
        return ctx.pass_action  # a territory game can always pass
    unsettled = ctx.unsettled(config.settled_threshold)
    playing_on = best_other_move(weights, playable)
    if ctx.opponent_passed and ctx.ownership is not None:
        if ctx.pass_wins is False and move_value is not None and move_value > 0:
            return action if action != ctx.pass_action else playing_on
        return ctx.pass_action
    if action != ctx.pass_action:
        return action
    empty_unsettled = float((ctx.empty & unsettled).mean())
    if empty_unsettled > config.early_pass_share:
        return playing_on
    if ctx.ownership is not None and int(unsettled.sum()) > config.max_unsettled:
        return playing_on
    return action


def pass_context(game: TerritoryGame, state: State, legal: np.ndarray,
                 ownership: np.ndarray | None, dead_threshold: float | None) -> PassContext:
    """The `PassContext` of `state`; `ownership` float `[H, W]` from the player to move's
    view or None. Passing back is counted with the stones that ownership calls dead at
    `dead_threshold` taken off, or, with None, as the board stands (Tromp-Taylor)."""
    to_play = game.to_play(state)
    opponent_passed = game.passes(state) >= 1
    flat = None if ownership is None else np.asarray(ownership, np.float32).reshape(-1)
    pass_wins = None
    if flat is not None and opponent_passed:
        if dead_threshold is None:
            lead = float(game.score_without(state, []))
        else:
            lead, _ = ownership_score(game, state, player0_view(flat, to_play), dead_threshold)
        pass_wins = (lead if to_play == 0 else -lead) > 0
    stones = game.stones(state)
    return PassContext(legal=np.asarray(legal, dtype=bool), pass_action=game.pass_action,
                       empty=stones.reshape(-1) == 0,
                       own_eyes=own_eyes(stones, 1 if to_play == 0 else -1), ownership=flat,
                       opponent_passed=opponent_passed, pass_wins=pass_wins)


def apply_pass_rules(game: TerritoryGame, states: list[State], actions: np.ndarray,
                     weights: np.ndarray, legal: np.ndarray, move_values: list[float | None],
                     ownership_fn: OwnershipFn | None, config: EndgameConfig) -> np.ndarray:
    """`choose_move` over a batch: int64 `[B]` actions. Ownership is asked (one batch) only
    for the positions the rules concern: a chosen pass or own-eye move, or a pass to answer.

    Args:
        states: B single states; actions: int `[B]` the search's choices; weights: float
        `[B, A]`; legal: bool `[B, A]`; move_values: B values of the best non-pass move.
    """
    out = np.asarray(actions, dtype=np.int64).copy()
    if not config.friendly_pass:
        return out
    rows = [b for b, state in enumerate(states)
            if out[b] == game.pass_action or game.passes(state) >= 1
            or fills_own_eye(game, state, int(out[b]))]
    if not rows:
        return out
    owned = None if ownership_fn is None else ownership_fn(game_batch(game, [states[b] for b in rows]))
    # Passing back is judged by the count the game will get (`endgame.scoring`).
    threshold = config.dead_threshold if config.scoring == "ownership" else None
    for i, b in enumerate(rows):
        ownership = None if owned is None else owned[i]
        ctx = pass_context(game, states[b], legal[b], ownership, threshold)
        out[b] = choose_move(int(out[b]), weights[b], move_values[b], ctx, config)
    return out


def fills_own_eye(game: TerritoryGame, state: State, action: Action) -> bool:
    """`action` is a move into the player to move's own eye (`own_eyes`). This runs for every
    move of every game, so a point with an empty or opposing orthogonal neighbour (nearly
    every move) is turned away before the whole board is looked at."""
    if action == game.pass_action:
        return False
    stones = game.stones(state)
    colour = 1 if game.to_play(state) == 0 else -1
    height, width = stones.shape
    row, col = divmod(int(action), width)
    for r, c in ((row - 1, col), (row + 1, col), (row, col - 1), (row, col + 1)):
        if 0 <= r < height and 0 <= c < width and stones[r, c] != colour:
            return False
    return bool(own_eyes(stones, colour)[action])


def game_batch(game: TerritoryGame, states: list[State]) -> np.ndarray:
    """A batch of single states as the evaluator takes them."""
    return GameOps(game).stack(states)


def best_move_value(q_values: np.ndarray | None, visits: np.ndarray | None,
                    pass_action: Action, fallback: float | None) -> float | None:
    """The value of the best visited non-pass move (search: Q `[A]` where visits `[A]` > 0),
    else `fallback` (a raw policy's value of the position)."""
    if q_values is None or visits is None:
        return fallback
    seen = np.asarray(visits) > 0
    seen[pass_action] = False
    if not seen.any():
        return fallback
    return float(np.max(np.asarray(q_values)[seen]))
