"""The learner: gradient steps on replay samples, with its optimizer and learning-rate schedule.

Losses (per sample, averaged over the batch):
* policy: cross-entropy between the search's policy target and the network's policy over the
  legal actions (illegal logits are masked, so nothing is spent unlearning them), weighted by
  `policy_weight` (0 for fast-search moves under playout-cap randomization);
* value: squared error between the network's value and the target
  `(1 - root_value_blend) * game result + root_value_blend * search root value`.
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
from engine.model import autocast, masked_logits


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


def losses(model: torch.nn.Module, batch: dict[str, torch.Tensor],
           root_value_blend: float) -> dict[str, torch.Tensor]:
    """Policy and value losses of one batch (tensors already on the model's device)."""
    logits, value = model(batch["observations"])
    log_probs = F.log_softmax(masked_logits(logits.float(), batch["legal"]), dim=1)
    target = batch["policy"]
    weight = batch["policy_weight"]
    per_sample = -(target * log_probs).sum(dim=1)
    policy_loss = (per_sample * weight).sum() / weight.sum().clamp(min=1.0)
    value_target = (1 - root_value_blend) * batch["value"] + root_value_blend * batch["root_value"]
    value_loss = F.mse_loss(value.float(), value_target)
    # Entropy of the target: the floor the policy loss can reach (for logging).
    target_entropy = -(target * torch.log(target.clamp(min=1e-12))).sum(dim=1)
    target_entropy = (target_entropy * weight).sum() / weight.sum().clamp(min=1.0)
    return {"policy": policy_loss, "value": value_loss, "target_entropy": target_entropy}


class Learner:
    """Owns the optimizer and the counters that define where training is."""

    def __init__(self, model: torch.nn.Module, config: TrainConfig, device: torch.device,
                 root_value_blend: float = 0.0) -> None:
        self.model = model
        self.config = config
        self.device = device
        self.root_value_blend = root_value_blend
        self.optimizer = make_optimizer(model, config)
        self.step = 0
        self.positions_trained = 0

    def _to_device(self, batch: dict[str, np.ndarray]) -> dict[str, torch.Tensor]:
        fields = ("observations", "policy", "legal", "value", "root_value", "policy_weight")
        return {k: torch.from_numpy(np.ascontiguousarray(batch[k])).to(self.device)
                for k in fields}

    def train_step(self, batch: dict[str, np.ndarray]) -> dict[str, float]:
        self.model.train()
        lr = learning_rate(self.config, self.step, self.positions_trained)
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        tensors = self._to_device(batch)
        with autocast(self.device):
            parts = losses(self.model, tensors, self.root_value_blend)
        total = parts["policy"] + self.config.value_loss_weight * parts["value"]
        self.optimizer.zero_grad(set_to_none=True)
        total.backward()
        grad_norm = 0.0
        if self.config.grad_clip > 0:
            grad_norm = float(torch.nn.utils.clip_grad_norm_(self.model.parameters(),
                                                             self.config.grad_clip))
        self.optimizer.step()
        self.step += 1
        self.positions_trained += len(batch["value"])
        return {
            "loss/policy": float(parts["policy"].detach()),
            "loss/value": float(parts["value"].detach()),
            "loss/total": float(total.detach()),
            "loss/policy_target_entropy": float(parts["target_entropy"].detach()),
            "train/lr": lr,
            "train/grad_norm": grad_norm,
        }

    def close(self) -> None:
        """Release what the learner holds (`engine.ddp_learner` stops its replicas)."""

    def state_dict(self) -> dict[str, Any]:
        return {
            "optimizer": self.optimizer.state_dict(),
            "step": self.step,
            "positions_trained": self.positions_trained,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.optimizer.load_state_dict(state["optimizer"])
        self.step = int(state["step"])
        self.positions_trained = int(state["positions_trained"])
