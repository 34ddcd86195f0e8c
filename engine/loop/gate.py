"""The gate's decisions: a candidate against the incumbent, with an Elo interval.

Two judges, one decision type:

* `match_decision`: a game candidate played a match against `best`; it is promoted when its
  score reaches the threshold (AlphaGo Zero's 55%);
* `paired_decision`: an LLM candidate and the incumbent answered the same dev problems; the
  candidate is promoted unless it is worse beyond noise (the upper end of the Elo interval
  of the problems only one of them solved is below 0).

The Elo interval is the normal approximation on the per-game score, mapped through the
logistic curve.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any


def elo_from_score(score: float) -> float:
    if score <= 0:
        return -math.inf
    if score >= 1:
        return math.inf
    return -400.0 * math.log10(1.0 / score - 1.0)


def elo_with_interval(wins: int, draws: int, losses: int,
                      z: float = 1.96) -> tuple[float, float, float]:
    """Elo difference from a match and its normal-approximation confidence interval.

    The per-game score has mean s and variance (sum over results of p_r (r - s)^2); the
    interval on s is s +- z * sqrt(var / n), mapped through the logistic Elo curve.
    """
    n = wins + draws + losses
    if n == 0:
        return 0.0, -math.inf, math.inf
    s = (wins + 0.5 * draws) / n
    var = (wins * (1 - s) ** 2 + draws * (0.5 - s) ** 2 + losses * s ** 2) / n
    half = z * math.sqrt(var / n)
    return elo_from_score(s), elo_from_score(s - half), elo_from_score(s + half)


@dataclass
class GateDecision:
    """A candidate judged against the incumbent.

    Attributes:
        promote: whether the candidate becomes `best`.
        wins, draws, losses: the paired results from the candidate's side (games of a
            match, or problems that one solves and the other does not).
        elo, elo_low, elo_high: the candidate's Elo over the incumbent and its interval.
        metrics: figures to log beside the decision (`arena/*`, `llm/pass_at_1`, ...).
    """

    promote: bool
    wins: int = 0
    draws: int = 0
    losses: int = 0
    elo: float = 0.0
    elo_low: float = float("-inf")
    elo_high: float = float("inf")
    metrics: dict[str, float] = field(default_factory=dict)

    @property
    def games(self) -> int:
        return self.wins + self.draws + self.losses

    @property
    def score(self) -> float:
        return (self.wins + 0.5 * self.draws) / self.games if self.games else 0.5

    def as_dict(self) -> dict[str, Any]:
        def finite(x: float) -> float | None:
            return round(x, 1) if x == x and abs(x) != float("inf") else None

        return {"promote": self.promote, "wins": self.wins, "draws": self.draws,
                "losses": self.losses, "score": round(self.score, 4), "elo": finite(self.elo),
                "elo_low": finite(self.elo_low), "elo_high": finite(self.elo_high)}


def match_decision(wins: int, draws: int, losses: int, threshold: float,
                   metrics: dict[str, float] | None = None) -> GateDecision:
    """Promote when the candidate's match score reaches `threshold`.

    >>> match_decision(12, 2, 6, 0.55).promote, match_decision(9, 2, 9, 0.55).promote
    (True, False)
    """
    elo, low, high = elo_with_interval(wins, draws, losses)
    score = (wins + 0.5 * draws) / max(1, wins + draws + losses)
    return GateDecision(score >= threshold, wins, draws, losses, elo, low, high,
                        dict(metrics or {}))


def paired_decision(candidate: Sequence[float], incumbent: Sequence[float], z: float = 1.96,
                    metrics: dict[str, float] | None = None) -> GateDecision:
    """Promote `candidate` unless it is worse than `incumbent` beyond noise.

    Args:
        candidate: per-problem rewards (1 = solved) of the candidate.
        incumbent: the incumbent's, on the same problems in the same order.
        z: width of the interval in standard errors.

    >>> paired_decision([1, 1, 0, 1], [1, 0, 0, 1]).promote
    True
    >>> paired_decision([0] * 40, [1] * 40).promote
    False
    """
    if len(candidate) != len(incumbent):
        raise ValueError(f"{len(candidate)} candidate results for {len(incumbent)} incumbent")
    wins = sum(1 for a, b in zip(candidate, incumbent) if a >= 1.0 > b)
    losses = sum(1 for a, b in zip(candidate, incumbent) if b >= 1.0 > a)
    draws = len(candidate) - wins - losses
    elo, low, high = elo_with_interval(wins, draws, losses, z=z)
    return GateDecision(not high < 0, wins, draws, losses, elo, low, high, dict(metrics or {}))
