"""Learning algorithms of the LLM bridge, one small module each, chosen by `--algo`.

* `grpo`: group-relative policy optimisation over sampled completions.
* `search`: expert iteration with the batched tree search over reasoning steps.

Each is an actor (`rollout`) and a learner (`learn`) over a `Rollout` record
(`llm_bridge.algorithms.base`).
"""

from __future__ import annotations

from llm_bridge.algorithms.base import Algorithm, Rollout, StepRecord

ALGORITHMS = ("grpo", "search")

__all__ = ["ALGORITHMS", "Algorithm", "Rollout", "StepRecord"]
