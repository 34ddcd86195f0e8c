"""The OpenSpiel peer harness builds against the wheel and runs OpenSpiel's own MCTSBot."""

from __future__ import annotations

import importlib.util
import shutil

import pytest

from benchmarks import openspiel_peer
from benchmarks.bench_mcts import report, run

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("pyspiel") is None or shutil.which("g++") is None,
    reason="needs open_spiel and g++")


def test_zero_evaluator_search_runs_every_simulation() -> None:
    result = openspiel_peer.run("tic_tac_toe", simulations=50, searches=3, evaluator="zero")
    assert result["searches"] == 3 and result["simulations"] == 150
    # Root visits of the three timed searches and the untimed warm-up one.
    assert result["root_visits"] == 4 * 50
    assert result["sims_per_s"] > 0 and result["sims_per_cpu_s"] > 0
    # UCT tries every child once: all nine opening moves are visited.
    assert sorted(a for a, _ in result["last_root_children"]) == list(range(9))


def test_rollout_search_matches_pyspiels_own_bot() -> None:
    import pyspiel

    seed, sims = 3, 120
    result = openspiel_peer.run("connect_four", sims, searches=1, evaluator="rollout",
                                seed=seed)
    # The same bot through pyspiel, with the same seeds: its second search (the harness's
    # first is untimed) must give the same root visits, action by action.
    game = pyspiel.load_game("connect_four")
    bot = pyspiel.MCTSBot(game, pyspiel.RandomRolloutEvaluator(1, seed), 2.0, sims, 1000,
                          False, seed, False)
    state = game.new_initial_state()
    bot.mcts_search(state)
    root = bot.mcts_search(state)
    assert result["last_root_children"] == [[c.action, c.explore_count] for c in root.children]
    assert result["sims_per_s"] > 0


def test_bench_reports_both_flavours_and_the_ratio() -> None:
    results = run("connect4", sims=16, batch=2, evaluator="uniform", repeats=1,
                  peer_seconds=0.0, python_step=False)
    assert set(results["openspiel"]) == {"zero", "rollout"}
    assert results["openspiel"]["zero"]["searches"] == 2
    assert results["ratio_vs_openspiel"] > 0 and results["cpu_ratio_vs_openspiel"] > 0
    assert "openspiel zero" in report(results)


def test_a_missing_wheel_is_a_one_line_note(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv(openspiel_peer.WHEEL_VARIABLE, str(tmp_path / "absent.whl"))
    results = run("tictactoe", sims=8, batch=1, evaluator="uniform", repeats=1,
                  python_step=False)
    assert "is not a file" in results["openspiel"]["unavailable"]
    assert "ratio_vs_openspiel" not in results
    assert "openspiel: skipped" in report(results)
