"""Tic-tac-toe with exact results: the search must win when it can and block when it must,
as an independent minimax says, through each of the search's step paths."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pytest
from mcts_toys import minimax, optimal_moves, ttt_facts, ttt_object_step, ttt_state, ttt_step

from mcts import BatchSearch, SearchConfig, uniform_evaluator


def _immediate_wins(state) -> set[int]:
    wins = set()
    for square in np.flatnonzero(state[:9] == 0):
        child = ttt_step(state[None], np.array([square])).states[0]
        if ttt_facts(child)[1] and ttt_facts(child)[2] == -1.0:
            wins.add(int(square))
    return wins


@lru_cache(maxsize=1)
def tactical_positions() -> tuple[tuple[str, str], ...]:
    """(moves, kind) for positions with an immediate win ("win"), or where the opponent
    threatens one and the player has none ("block"); reached by all move orders up to
    five plies, a fixed sample of each kind."""
    found: dict[str, list[str]] = {"win": [], "block": []}
    seen = set()

    def walk(moves: list[int]) -> None:
        state = ttt_state(" ".join(map(str, moves)))
        key = state.tobytes()
        if key in seen or ttt_facts(state)[1] or len(moves) > 5:
            return
        seen.add(key)
        if _immediate_wins(state):
            found["win"].append(" ".join(map(str, moves)))
        else:
            passed = state.copy()
            passed[9] = 1 - passed[9]  # the opponent's threats: pretend it moved again
            if _immediate_wins(passed):
                found["block"].append(" ".join(map(str, moves)))
        for square in range(9):
            if square not in moves:
                walk(moves + [square])

    walk([])
    rng = np.random.default_rng(7)
    picks = []
    for kind in ("win", "block"):
        for i in rng.choice(len(found[kind]), size=8, replace=False):
            picks.append((found[kind][i], kind))
    return tuple(picks)


def _roots(positions):
    states = np.stack([ttt_state(moves) for moves, _ in positions])
    facts = [ttt_facts(s) for s in states]
    to_play = np.array([f[0] for f in facts], dtype=np.int8)
    legal = np.stack([f[3] for f in facts])
    return states, to_play, legal


def _check_moves(positions, states, actions) -> None:
    for (moves, kind), state, action in zip(positions, states, actions):
        assert int(action) in optimal_moves(state), (moves, kind, int(action))
        if kind == "win":
            assert int(action) in _immediate_wins(state) or \
                minimax(tuple(int(x) for x in state[:9]), int(state[9])) == 1


def test_positions_are_wins_and_forced_blocks() -> None:
    kinds = [kind for _, kind in tactical_positions()]
    assert kinds.count("win") == 8 and kinds.count("block") == 8
    for moves, kind in tactical_positions():
        state = ttt_state(moves)
        board, player = tuple(int(x) for x in state[:9]), int(state[9])
        if kind == "win":
            assert minimax(board, player) == 1
        else:
            passed = state.copy()
            passed[9] = 1 - passed[9]
            threats = _immediate_wins(passed)
            assert threats and not _immediate_wins(state)
            if minimax(board, player) > -1:  # not lost anyway: only blocks keep the value
                assert optimal_moves(state) <= threats


@pytest.mark.parametrize("config", [
    SearchConfig(num_simulations=1200, temperature=0.0),
    SearchConfig(num_simulations=1200, temperature=0.0, fpu="loss"),
    SearchConfig(num_simulations=1200, temperature=0.0, leaves_per_round=4),
    SearchConfig(num_simulations=300, algorithm="gumbel"),
], ids=["puct", "puct-fpu-loss", "puct-virtual-loss", "gumbel"])
def test_search_wins_and_blocks_with_a_python_step(config: SearchConfig) -> None:
    positions = tactical_positions()
    states, to_play, legal = _roots(positions)
    search = BatchSearch(config, len(states), 9)
    out = search.run(states, ttt_step, uniform_evaluator(9), root_to_play=to_play,
                     root_legal=legal, rng=np.random.default_rng(0))
    _check_moves(positions, states, out.action)
    assert (out.visit_counts.sum(axis=1) == config.num_simulations).all()
    assert not (out.visit_counts > 0)[~legal].any()


def test_object_states_search_like_array_states() -> None:
    positions = tactical_positions()
    states, to_play, legal = _roots(positions)
    objects = np.empty(len(states), dtype=object)
    for i, s in enumerate(states):
        objects[i] = tuple(int(x) for x in s)
    config = SearchConfig(num_simulations=300, temperature=0.0)
    seeds = np.arange(len(states))
    out_objects = BatchSearch(config, len(states), 9).run(
        objects, ttt_object_step, uniform_evaluator(9), root_to_play=to_play,
        root_legal=legal, seeds=seeds)
    out_arrays = BatchSearch(config, len(states), 9).run(
        states, ttt_step, uniform_evaluator(9), root_to_play=to_play, root_legal=legal,
        seeds=seeds)
    np.testing.assert_array_equal(out_objects.visit_counts, out_arrays.visit_counts)
    np.testing.assert_array_equal(out_objects.action, out_arrays.action)


def test_games_kernels_run_fully_jitted_and_agree_with_the_python_step() -> None:
    import games.tictactoe as kernels
    from mcts import KernelStep

    positions = tactical_positions()
    states, to_play, legal = _roots(positions)
    step = KernelStep(kernels.batch_step, kernels.batch_legal_mask, kernels.batch_to_play,
                      kernels.batch_terminal)
    config = SearchConfig(num_simulations=600, temperature=0.0)
    seeds = np.arange(len(states))
    fused = BatchSearch(config, len(states), 9).run(
        states, step, uniform_evaluator(9), root_to_play=to_play, root_legal=legal,
        seeds=seeds)
    python = BatchSearch(config, len(states), 9).run(
        states, ttt_step, uniform_evaluator(9), root_to_play=to_play, root_legal=legal,
        seeds=seeds)
    np.testing.assert_array_equal(fused.visit_counts, python.visit_counts)
    np.testing.assert_allclose(fused.q_values, python.q_values, atol=1e-6)
    _check_moves(positions, states, fused.action)
