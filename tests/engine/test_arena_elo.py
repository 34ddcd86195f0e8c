"""Elo arithmetic against hand-computed values."""

from __future__ import annotations

import math

from engine.arena import elo_from_score, elo_with_interval


def test_elo_of_known_scores() -> None:
    assert elo_from_score(0.5) == 0.0
    # 400 * log10(3) = 190.85: a 75% score.
    assert math.isclose(elo_from_score(0.75), 400 * math.log10(3))
    assert elo_from_score(1.0) == math.inf and elo_from_score(0.0) == -math.inf


def test_interval_by_hand() -> None:
    # 6 wins, 2 draws, 2 losses: s = 0.7; var = (6*.09 + 2*.04 + 2*.49)/10 = 0.16
    elo, low, high = elo_with_interval(6, 2, 2)
    half = 1.96 * math.sqrt(0.16 / 10)
    assert math.isclose(elo, elo_from_score(0.7))
    assert math.isclose(low, elo_from_score(0.7 - half))
    assert math.isclose(high, elo_from_score(0.7 + half))
    assert low < elo < high


def test_clean_sweeps_print_a_bound_not_none() -> None:
    from engine.arena import MatchResult
    from engine.commands.evaluation import elo_text

    sweep = MatchResult("a", "b", wins=4)
    elo, low, high = sweep.elo()
    assert elo == math.inf and high == math.inf
    # Clopper-Pearson: 4 wins in 4 games is consistent with a score of 0.025 ** (1/4) = 0.398.
    assert abs(low - elo_from_score(0.025 ** 0.25)) < 1e-9 and -73 < low < -71
    assert elo_text(sweep.as_dict()) == "Elo > -72.1 (95% lower bound)"
    assert elo_text(MatchResult("a", "b", losses=4).as_dict()) == "Elo < +72.1 (95% upper bound)"
    even = elo_text(MatchResult("a", "b", wins=2, losses=2).as_dict())
    assert even.startswith("Elo +0.0 (95% CI [-") and "None" not in even
