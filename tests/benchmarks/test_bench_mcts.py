"""The search benchmark runs on every game it names and measures a real search."""

from __future__ import annotations

import pytest

from benchmarks.bench_mcts import report, run


@pytest.mark.parametrize("game, size", [("tictactoe", 9), ("go", 5)])
def test_search_benchmark_measures_a_spread_search(game: str, size: int) -> None:
    results = run(game, sims=32, batch=2, evaluator="rollout", repeats=1, peer_seconds=0.0,
                  python_step=False, size=size)
    visits = results["search"]["root_visits"]
    assert sum(visits) == 32 and results["search"]["sims_per_s"] > 0
    # A flat prior must not collapse onto one line (no first-play reduction here).
    assert sum(1 for v in visits if v > 0) > 3
    if "openspiel" in results:
        assert results["ratio_vs_openspiel"] > 0
    assert game in report(results)
