"""Advantage estimators and group filters for GRPO-style learners (pure tensor functions).

Rewards arrive as a `[P, G]` table, G completions for each of P prompts.

* `grpo` (DeepSeekMath): reward minus the group's mean.
* `rloo` (Ahmadian et al., 2024): reward minus the mean of the *other* G - 1 rewards of the
  group, an unbiased baseline; equal to G / (G - 1) times the `grpo` centring.
* `reinforce++` (REINFORCE++-baseline, OpenRLHF): reward minus the group's mean, then
  divided by the standard deviation of those centred values over the whole batch; the
  reward scale option does not apply (the batch normalisation is part of the estimator).

`grpo` and `rloo` are then scaled by `scale`: `group` divides by each group's unbiased std
(the original GRPO), `batch` by the unbiased std of all the batch's rewards (TRL's
`scale_rewards="batch"`), `none` leaves them as they are (Dr. GRPO).

    >>> estimate_advantages(torch.tensor([[1.0, 0.0, 0.0, 1.0]]), "rloo", "none").tolist()
    [[0.6666666865348755, -0.6666666865348755, -0.6666666865348755, 0.6666666865348755]]
"""

from __future__ import annotations

import torch

ESTIMATORS = ("grpo", "rloo", "reinforce++")
SCALES = ("group", "batch", "none")


def estimate_advantages(rewards: torch.Tensor, estimator: str = "grpo", scale: str = "group",
                        eps: float = 1e-4) -> torch.Tensor:
    """Per-completion advantages of a `[P, G]` reward table (see the module docstring).

    Args:
        rewards: float `[P, G]`.
        estimator: `grpo`, `rloo` or `reinforce++`.
        scale: `group`, `batch` or `none` (ignored by `reinforce++`).
        eps: added to a std before dividing (a zero-std group stays all zeros).

    Returns:
        float `[P, G]`.

    Raises:
        ValueError: a bad shape or name, or `rloo` with groups of one.
    """
    if rewards.dim() != 2 or rewards.shape[1] < 1:
        raise ValueError(f"rewards must be [P, G], got shape {tuple(rewards.shape)}")
    if estimator not in ESTIMATORS:
        raise ValueError(f"estimator must be one of {ESTIMATORS}, got {estimator!r}")
    if scale not in SCALES:
        raise ValueError(f"scale must be one of {SCALES}, got {scale!r}")
    g = rewards.shape[1]
    centred = rewards - rewards.mean(dim=1, keepdim=True)
    if estimator == "reinforce++":
        if centred.numel() < 2:
            return centred
        return centred / (centred.std() + eps)
    if estimator == "rloo":
        if g < 2:
            raise ValueError("rloo needs groups of at least 2 completions")
        # r_i - (sum - r_i) / (G - 1) = (G r_i - sum) / (G - 1) = G / (G - 1) (r_i - mean)
        centred = centred * (g / (g - 1))
    if scale == "none":
        return centred
    if scale == "group":
        return centred if g == 1 else centred / (rewards.std(dim=1, keepdim=True) + eps)
    return centred if rewards.numel() < 2 else centred / (rewards.std() + eps)


def informative_groups(rewards: torch.Tensor) -> torch.Tensor:
    """bool `[P]`: the groups of a `[P, G]` reward table whose rewards are not all equal.

    A group whose completions all earned the same reward has zero advantage under every
    estimator: it costs a backward pass and teaches nothing (DAPO's dynamic sampling drops
    it).

    >>> informative_groups(torch.tensor([[1.0, 1.0], [0.0, 1.0], [0.0, 0.0]])).tolist()
    [False, True, False]
    """
    return rewards.amax(dim=1) > rewards.amin(dim=1)
