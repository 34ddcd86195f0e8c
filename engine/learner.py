"""The learner: gradient steps on replay samples, with its optimizer and learning-rate schedule.

Losses (per sample, averaged over the batch):
* policy: cross-entropy between the search's policy target and the network's policy over the
  legal actions (illegal logits are masked, so nothing is spent unlearning them), weighted by
  `policy_weight` (0 for fast-search moves under playout-cap randomization);
* value: squared error between the network's value and the target
  `(1 - root_value_blend) * game result + root_value_blend * search root value`; for a
  win/draw/loss head (`model.value_head = "wdl"`), the cross-entropy of its logits against
  that target as a distribution (`wdl_target`), the squared error logged beside it;
* ownership (networks with the ownership head): binary cross-entropy between each point's
  predicted owner, as the probability (1 + ownership) / 2, and the final owner (+1, -1, 0
  for dame as 1/2), averaged over the points and over the rows that have the target
  (`ownership_weight`; shards from before the head have none), weighted by
  `ownership_loss_weight`;
* soft policy (networks with `model.soft_policy_head`): the policy loss of the second policy
  output against the target raised to 1 / `soft_policy_temperature`, renormalised,
  weighted by `soft_policy_weight` (KataGo's auxiliary soft-policy target).
The learning rate is a function of positions trained (x-axis of every log), so the schedule
resumes exactly from a checkpoint's counters.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from engine.config import TrainConfig
from engine.model import PolicyValueNet, autocast, masked_logits, resolve_precision

_DTYPES = {"ownership": np.float32}
"""Fields stored narrower in the shards than the losses take them."""


def learning_rate(config: TrainConfig, step: int, positions_trained: int) -> float:
    """The schedule: linear warm-up over steps, then constant or cosine over positions."""
    lr = config.lr
    if config.lr_schedule == "cosine":
        progress = min(1.0, positions_trained / max(1, config.lr_decay_positions))
        lr = config.lr_min + 0.5 * (config.lr - config.lr_min) * (1 + math.cos(math.pi * progress))
    if config.warmup_steps > 0 and step < config.warmup_steps:
        lr *= (step + 1) / config.warmup_steps
    return lr


def make_optimizer(model: torch.nn.Module, config: TrainConfig) -> torch.optim.Optimizer:
    if config.optimizer == "sgd":
        return torch.optim.SGD(model.parameters(), lr=config.lr, momentum=0.9, nesterov=True,
                               weight_decay=config.weight_decay)
    return torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)


def ownership_loss(predicted: torch.Tensor, target: torch.Tensor,
                   weight: torch.Tensor) -> torch.Tensor:
    """Mean over the weighted rows of the per-point cross-entropy between the owner
    probabilities (1 + predicted) / 2 and (1 + target) / 2; predicted and target `[B, H, W]`
    in [-1, 1], weight `[B]` (0: no target)."""
    p = ((1 + predicted.float()) / 2).clamp(1e-6, 1 - 1e-6)
    t = (1 + target.float()) / 2
    per_row = -(t * torch.log(p) + (1 - t) * torch.log(1 - p)).mean(dim=(1, 2))
    return (per_row * weight).sum() / weight.sum().clamp(min=1.0)


def wdl_target(value: torch.Tensor) -> torch.Tensor:
    """A scalar target in [-1, 1] as win/draw/loss probabilities [B, 3] whose expectation
    P(win) - P(loss) is the target: a result is one-hot; a blended value v puts |v| on its
    sign's outcome and the rest on the draw (the least-committed distribution with that
    mean)."""
    v = value.float().clamp(-1.0, 1.0)
    return torch.stack([v.clamp(min=0.0), 1.0 - v.abs(), (-v).clamp(min=0.0)], dim=1)


def soft_policy_target(policy: torch.Tensor, temperature: float) -> torch.Tensor:
    """KataGo's soft-policy target: `policy ** (1 / temperature)`, renormalised per row (rows
    of zeros stay zeros); moves the search never tried keep 0."""
    soft = policy.float().clamp(min=0.0) ** (1.0 / temperature)
    return soft / soft.sum(dim=1, keepdim=True).clamp(min=1e-12)


def policy_cross_entropy(logits: torch.Tensor, legal: torch.Tensor, target: torch.Tensor,
                         weight: torch.Tensor) -> torch.Tensor:
    """Cross-entropy of `target` against the legal-masked softmax of `logits`, averaged over
    the rows with the weight `weight` (0: a fast search's move, not trained)."""
    log_probs = F.log_softmax(masked_logits(logits.float(), legal), dim=1)
    per_sample = -(target * log_probs).sum(dim=1)
    return (per_sample * weight).sum() / weight.sum().clamp(min=1.0)


def losses(model: torch.nn.Module, batch: dict[str, torch.Tensor],
           root_value_blend: float, soft_policy_temperature: float = 4.0
           ) -> dict[str, torch.Tensor]:
    """The losses of one batch (tensors already on the model's device): policy, value, and
    for each auxiliary head the network has, its loss (`ownership`: 0 for a batch without
    targets, still part of the graph so that every parameter takes part in every step;
    `soft_policy`)."""
    outputs = model(batch["observations"], all_heads=True)
    target = batch["policy"]
    weight = batch["policy_weight"]
    policy_loss = policy_cross_entropy(outputs["logits"], batch["legal"], target, weight)
    value_target = (1 - root_value_blend) * batch["value"] + root_value_blend * batch["root_value"]
    value_mse = F.mse_loss(outputs["value"].float(), value_target)
    # Entropy of the target: the floor the policy loss can reach (for logging).
    target_entropy = -(target * torch.log(target.clamp(min=1e-12))).sum(dim=1)
    target_entropy = (target_entropy * weight).sum() / weight.sum().clamp(min=1.0)
    parts = {"policy": policy_loss, "value": value_mse, "target_entropy": target_entropy}
    if "wdl_logits" in outputs:
        parts["value_mse"] = value_mse  # logged, so runs compare with scalar heads
        parts["value"] = -(wdl_target(value_target)
                           * F.log_softmax(outputs["wdl_logits"].float(), dim=1)).sum(1).mean()
    if "ownership" in outputs:
        owned = outputs["ownership"]
        if "ownership" in batch:
            parts["ownership"] = ownership_loss(owned, batch["ownership"],
                                                batch["ownership_weight"])
        else:
            parts["ownership"] = 0.0 * owned.float().sum()
    if "soft_logits" in outputs:
        parts["soft_policy"] = policy_cross_entropy(
            outputs["soft_logits"], batch["legal"],
            soft_policy_target(target, soft_policy_temperature), weight)
    return parts


class Learner:
    """Owns the optimizer and the counters that define where training is."""

    def __init__(self, model: torch.nn.Module, config: TrainConfig, device: torch.device,
                 root_value_blend: float = 0.0, precision: str = "auto") -> None:
        self.model = model
        self.config = config
        self.device = device
        self.precision = resolve_precision(precision, device)
        self.root_value_blend = root_value_blend
        self.optimizer = make_optimizer(model, config)
        self.ownership = isinstance(model, PolicyValueNet) and model.has_ownership
        """Train the ownership head (checked before a wrapper such as DDP hides the model)."""
        self.step = 0
        self.positions_trained = 0

    def _to_device(self, batch: dict[str, np.ndarray]) -> dict[str, torch.Tensor]:
        fields = ("observations", "policy", "legal", "value", "root_value", "policy_weight",
                  "ownership", "ownership_weight")
        return {k: torch.from_numpy(np.ascontiguousarray(batch[k], dtype=_DTYPES.get(k)))
                .to(self.device) for k in fields if k in batch}

    def train_step(self, batch: dict[str, np.ndarray]) -> dict[str, float]:
        self.model.train()
        lr = learning_rate(self.config, self.step, self.positions_trained)
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        tensors = self._to_device(batch)
        with autocast(self.device, self.precision):
            parts = losses(self.model, tensors, self.root_value_blend,
                           self.config.soft_policy_temperature)
        total = parts["policy"] + self.config.value_loss_weight * parts["value"]
        if "ownership" in parts:
            total = total + self.config.ownership_loss_weight * parts["ownership"]
        if "soft_policy" in parts:
            total = total + self.config.soft_policy_weight * parts["soft_policy"]
        self.optimizer.zero_grad(set_to_none=True)
        total.backward()
        grad_norm = 0.0
        if self.config.grad_clip > 0:
            grad_norm = float(torch.nn.utils.clip_grad_norm_(self.model.parameters(),
                                                             self.config.grad_clip))
        self.optimizer.step()
        self.step += 1
        self.positions_trained += len(batch["value"])
        figures = {
            "loss/policy": float(parts["policy"].detach()),
            "loss/value": float(parts["value"].detach()),
            "loss/total": float(total.detach()),
            "loss/policy_target_entropy": float(parts["target_entropy"].detach()),
            "train/lr": lr,
            "train/grad_norm": grad_norm,
        }
        if "ownership" in tensors:
            figures["loss/ownership"] = float(parts["ownership"].detach())
        if "soft_policy" in parts:
            figures["loss/soft_policy"] = float(parts["soft_policy"].detach())
        if "value_mse" in parts:
            figures["loss/value_mse"] = float(parts["value_mse"].detach())
        return figures

    def close(self) -> None:
        """Release what the learner holds (`engine.ddp_learner` stops its replicas)."""

    def state_dict(self) -> dict[str, Any]:
        return {
            "optimizer": self.optimizer.state_dict(),
            "step": self.step,
            "positions_trained": self.positions_trained,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        try:
            self.optimizer.load_state_dict(state["optimizer"])
        except ValueError:
            if not self.ownership:
                raise
            # A run saved before the ownership head: its optimizer knew fewer parameters.
            # The optimizer's moments start afresh; the schedule's counters below are kept.
        self.step = int(state["step"])
        self.positions_trained = int(state["positions_trained"])
