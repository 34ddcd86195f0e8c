"""Evaluations of trained agents against exact answers.

* Tic-tac-toe: from every reachable unfinished position, for each side, the agent plays that
  side against the perfect player to the end. A *loss* is a game the agent lost from a
  position whose exact value for its side was a draw or a win; a *win given up* is a game it
  did not win from a position it could have won. A *suboptimal* result is either (any result
  below the exact value). Perfect play means none, from both sides.
* Connect Four: Pascal Pons' six test sets. For each position, the agent's move is *correct*
  when its outcome class (win / draw / loss under perfect play) equals the best one available.
  Reported over all positions and over *decisive* positions, those where some legal move is
  worse than the best (elsewhere every move is correct and a random mover scores 100%).
"""

from __future__ import annotations

from collections import deque
from pathlib import Path
from typing import Any

import numpy as np

from engine.agents import Agent, PerfectAgent
from engine.arena import play_games
from engine.gameops import GameOps
from engine.solvers import MinimaxSolver
from games.base import Game, State, legal_actions


def reachable_positions(game: Game) -> list[State]:
    """Every position reachable from the start (finished ones included), breadth first."""
    start = game.initial_state()
    seen = {start.tobytes(): start}
    queue = deque([start])
    while queue:
        state = queue.popleft()
        if game.outcome(state) is not None:
            continue
        for action in legal_actions(game, state):
            child = game.next_state(state, int(action))
            key = child.tobytes()
            if key not in seen:
                seen[key] = child
                queue.append(child)
    return list(seen.values())


def evaluate_tictactoe(game: Game, agent: Agent, seed: int = 0) -> dict[str, Any]:
    """Losses and suboptimal results of `agent` against perfect play from every position."""
    solver = MinimaxSolver(game)
    positions = [s for s in reachable_positions(game) if game.outcome(s) is None]
    ops = GameOps(game)
    perfect = PerfectAgent(game, seed)
    report: dict[str, Any] = {"positions": len(positions)}
    for side_name, side_of_mover in (("as_player_to_move", True), ("as_other_player", False)):
        states = ops.stack(positions)
        to_play = ops.to_play(states)
        agent_side = to_play if side_of_mover else 1 - to_play
        outcomes = play_games(game, agent, perfect, states, agent_side)
        counts = {"losses": 0, "wins_given_up": 0, "suboptimal": 0, "winnable": 0}
        for state, side, outcome in zip(positions, agent_side, outcomes):
            exact = solver.value(state)
            exact_for_side = exact if game.to_play(state) == side else -exact
            result = outcome.value(int(side))
            counts["losses"] += int(result < 0 <= exact_for_side)
            counts["wins_given_up"] += int(result < exact_for_side and exact_for_side > 0)
            counts["suboptimal"] += int(result < exact_for_side)
            counts["winnable"] += int(exact_for_side > 0)
        report[side_name] = counts
    sides = ("as_player_to_move", "as_other_player")
    for key in ("losses", "wins_given_up", "suboptimal"):
        report[key] = sum(report[side][key] for side in sides)
    report["perfect"] = report["suboptimal"] == 0  # no loss and no win given up
    return report


PONS_SETS = {
    "Test_L3_R1": "End-Easy",
    "Test_L2_R1": "Middle-Easy",
    "Test_L2_R2": "Middle-Medium",
    "Test_L1_R1": "Begin-Easy",
    "Test_L1_R2": "Begin-Medium",
    "Test_L1_R3": "Begin-Hard",
}


def evaluate_connect4(game: Game, agent: Agent, pons_dir: Path | None = None,
                      limit: int = 0, sets: list[str] | None = None) -> dict[str, Any]:
    """Share of Pons' positions where the agent's move keeps the game-theoretic result."""
    from games.connect4_data import load_move_outcomes

    table = load_move_outcomes()
    ops = GameOps(game)
    report: dict[str, Any] = {}
    for set_name in sets or list(PONS_SETS):
        if not table.get(set_name):
            continue  # a set the shipped table does not cover
        entries = _pons_entries(table, set_name, pons_dir)
        if limit:
            entries = entries[:limit]
        states = ops.stack([_state_from_digits(game, moves) for moves, _ in entries])
        actions = np.array([a.action for a in agent.analyse_batch(states)])
        outcomes = np.stack([o for _, o in entries])  # int8 [P, 7], illegal < -1
        legal = outcomes >= -1
        best = np.where(legal, outcomes, -9).max(axis=1)
        worst = np.where(legal, outcomes, 9).min(axis=1)
        chosen = outcomes[np.arange(len(actions)), actions]
        correct = chosen == best
        decisive = worst < best
        report[set_name] = {
            "name": PONS_SETS.get(set_name, set_name),
            "positions": int(len(entries)),
            "correct": round(float(correct.mean()), 4),
            "decisive_positions": int(decisive.sum()),
            "correct_decisive": round(float(correct[decisive].mean()), 4) if decisive.any() else None,
        }
    return report


def _state_from_digits(game: Game, moves: str) -> State:
    state = game.initial_state()
    for digit in moves:
        state = game.next_state(state, int(digit) - 1)
    return state


def _pons_entries(table: Any, set_name: str, pons_dir: Path | None) -> list[tuple[str, np.ndarray]]:
    """(moves, per-move outcome classes) for a test set, checked against the Pons file."""
    entries = table[set_name]
    if pons_dir is not None:
        lines = (Path(pons_dir) / set_name).read_text().split()
        file_moves = lines[0::2]
        if [m for m, _ in entries] != file_moves[: len(entries)]:
            raise ValueError(f"{pons_dir / set_name} does not match the shipped outcome table")
    return entries
