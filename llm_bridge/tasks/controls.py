"""Control rewards: the same run with the verifier's reward replaced, to show what it buys.

Small models gain much of a score from adopting the answer format, and even random rewards
have lifted some models on some benchmarks (arXiv 2506.10947). A gain is the verifier's only
if a control run does not match it:

* `random`: each completion gets 1 with probability equal to the verifier's mean reward on
  the same batch, else 0: the same amount of reward, carrying no information about which
  completion was right. The draw is seeded by the run's seed and the batch's texts, so a
  resumed run draws the same values.
* `format`: 1 when the task can read an answer from the completion (`extract_answer`), right
  or wrong, else 0.

The verifier's own values stay in the breakdown (`rewards/<task>/mean`), beside the control's
(`rewards/control/mean`), which is what is trained on.
"""

from __future__ import annotations

import hashlib
import random
from typing import Any

from llm_bridge.tasks.base import Task
from llm_bridge.tasks.rewards import RewardBreakdown

CONTROLS = ("none", "random", "format")


class ControlReward:
    """`reward` (a `CombinedReward`) with its total replaced by the control `mode`'s values."""

    def __init__(self, reward: Any, task: Task, mode: str, seed: int = 0) -> None:
        if mode not in CONTROLS[1:]:
            raise ValueError(f"control must be one of {CONTROLS[1:]}, got {mode!r}")
        self.reward, self.task, self.mode, self.seed = reward, task, mode, seed

    def __call__(self, prompts: list[str], completions: list[str],
                 **fields: list) -> RewardBreakdown:
        verified = self.reward(prompts, completions, **fields)
        if self.mode == "format":
            values = [float(self.task.extract_answer(c) is not None) for c in completions]
        else:
            values = bernoulli_like(verified.total, self.seed, completions)
        return RewardBreakdown(values, {**verified.per_function, "control": list(values)},
                               {**verified.weights, "control": 1.0}, dict(verified.failures))


def bernoulli_like(rewards: list[float], seed: int, texts: list[str]) -> list[float]:
    """0/1 draws at the mean rate of `rewards`, seeded by `seed` and `texts`.

    >>> draws = bernoulli_like([1.0, 0.0, 0.0, 0.0] * 250, 0, ["a"] * 1000)
    >>> sorted(set(draws)), abs(sum(draws) / 1000 - 0.25) < 0.05
    ([0.0, 1.0], True)
    """
    if not rewards:
        return []
    rate = min(1.0, max(0.0, sum(rewards) / len(rewards)))
    digest = hashlib.sha256("\x00".join(texts).encode("utf-8")).hexdigest()
    rng = random.Random(f"control:{seed}:{digest}")
    return [float(rng.random() < rate) for _ in rewards]
