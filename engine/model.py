"""The policy/value network: a residual tower with a policy head and a value head.

    input  [B, C, H, W]  (the game's encoding)
      -> stem conv 3x3 -> `blocks` residual blocks (optional squeeze-excitation; optional
         global pooling bias in a few of them, `GlobalPoolBlock`)
      -> policy head: conv 1x1 -> flatten -> linear -> logits [B, A]
                      (+ a second linear layer: the soft-policy logits, training only)
      -> value head:  conv 1x1 (+ mean/max global pooling) -> MLP -> tanh -> value [B]
                      (`value_head = "wdl"`: MLP -> win/draw/loss logits [B, 3], and
                      value = P(win) - P(loss))
      -> ownership head (games counted by area only, `games.base.TerritoryGame`):
                      conv 1x1 -> BN -> ReLU -> conv 1x1 -> tanh -> ownership [B, H, W]

The policy head is a linear layer over the flattened features, so any action space works
(9 for tic-tac-toe, 4,672 for chess). Illegal actions are masked by the caller (`masked_logits`),
never learned away. Values are in [-1, 1] for the player to move, and so is ownership: each
point's expected final owner (+1 the player to move), an auxiliary target (KataGo) that
also names dead stones at the end of a game (`engine.endgame`).
"""

from __future__ import annotations

import functools
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from engine.config import ModelConfig, check_precision
from games.base import TerritoryGame


@dataclass(frozen=True)
class NetworkShape:
    """What a network is built for: the game's observation shape and action count."""

    observation_shape: tuple[int, int, int]
    num_actions: int
    ownership: bool = False
    """Build the ownership head (the game declares ownership targets)."""


class SqueezeExcitation(nn.Module):
    def __init__(self, channels: int, reduction: int = 4) -> None:
        super().__init__()
        hidden = max(1, channels // reduction)
        self.fc1 = nn.Linear(channels, hidden)
        self.fc2 = nn.Linear(hidden, 2 * channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pooled = x.mean(dim=(2, 3))
        scale, bias = self.fc2(F.relu(self.fc1(pooled))).chunk(2, dim=1)
        return x * torch.sigmoid(scale)[..., None, None] + bias[..., None, None]


class ResidualBlock(nn.Module):
    def __init__(self, channels: int, squeeze_excitation: bool) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(channels)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(channels)
        self.se = SqueezeExcitation(channels) if squeeze_excitation else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        if self.se is not None:
            y = self.se(y)
        return F.relu(x + y)


class GlobalPoolBlock(nn.Module):
    """A residual block with KataGo's global pooling bias: the first convolution's output is
    split into regular channels and `pooled` channels; the pooled ones are reduced to their
    mean and max over the board, which a linear layer turns into a bias per regular channel
    (context from the whole board in one block, where a 3x3 tower needs many)."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.pooled = channels // 4
        regular = channels - self.pooled
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn_pooled = nn.BatchNorm2d(self.pooled)
        self.pool_fc = nn.Linear(2 * self.pooled, regular)
        self.bn1 = nn.BatchNorm2d(regular)
        self.conv2 = nn.Conv2d(regular, channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        regular, pooled = self.conv1(x).split([x.shape[1] - self.pooled, self.pooled], dim=1)
        pooled = F.relu(self.bn_pooled(pooled))
        bias = self.pool_fc(torch.cat([pooled.mean(dim=(2, 3)), pooled.amax(dim=(2, 3))], 1))
        y = F.relu(self.bn1(regular) + bias[..., None, None])
        return F.relu(x + self.bn2(self.conv2(y)))


def global_pool_positions(blocks: int, pooled: int) -> list[int]:
    """Which of `blocks` residual blocks pool globally: `pooled` (at most `blocks`) of them,
    evenly spaced, e.g. 6 blocks, 2 pooled -> [2, 4]."""
    return [(i + 1) * blocks // (pooled + 1) for i in range(pooled)]


class PolicyValueNet(nn.Module):
    """AlphaZero-style residual network. `forward` returns (logits [B, A], value [B])."""

    def __init__(self, shape: NetworkShape, config: ModelConfig) -> None:
        super().__init__()
        self.shape = shape
        self.config = config
        channels_in, height, width = shape.observation_shape
        channels = config.channels
        self.stem = nn.Sequential(
            nn.Conv2d(channels_in, channels, 3, padding=1, bias=False),
            nn.BatchNorm2d(channels),
            nn.ReLU(inplace=True),
        )
        pooling = global_pool_positions(config.blocks, config.global_pool_blocks)
        self.tower = nn.Sequential(
            *[GlobalPoolBlock(channels) if i in pooling
              else ResidualBlock(channels, config.squeeze_excitation)
              for i in range(config.blocks)]
        )
        self.policy_conv = nn.Sequential(
            nn.Conv2d(channels, config.policy_channels, 1, bias=False),
            nn.BatchNorm2d(config.policy_channels),
            nn.ReLU(inplace=True),
        )
        self.policy_fc = nn.Linear(config.policy_channels * height * width, shape.num_actions)
        self.soft_policy_fc = nn.Linear(config.policy_channels * height * width,
                                        shape.num_actions) if config.soft_policy_head else None
        self.value_conv = nn.Sequential(
            nn.Conv2d(channels, 2, 1, bias=False), nn.BatchNorm2d(2), nn.ReLU(inplace=True)
        )
        value_in = 2 * height * width + (2 * channels if config.global_pool_value else 0)
        self.value_fc = nn.Sequential(
            nn.Linear(value_in, config.value_hidden),
            nn.ReLU(inplace=True),
            nn.Linear(config.value_hidden, 3 if config.value_head == "wdl" else 1),
        )
        self.ownership_head = nn.Sequential(
            nn.Conv2d(channels, config.policy_channels, 1, bias=False),
            nn.BatchNorm2d(config.policy_channels),
            nn.ReLU(inplace=True),
            nn.Conv2d(config.policy_channels, 1, 1),
        ) if shape.ownership else None

    @property
    def has_ownership(self) -> bool:
        return self.ownership_head is not None

    def forward(self, x: torch.Tensor, with_ownership: bool = False, all_heads: bool = False):
        """(logits [B, A], value [B]); with `with_ownership`, also ownership [B, H, W] in
        [-1, 1] for the player to move (raises ValueError where the head is absent). With
        `all_heads`, a dict of every output the network has: `logits`, `value`, and
        `ownership`, `soft_logits` [B, A] and `wdl_logits` [B, 3] (win, draw, loss) where it
        has those heads (what training uses)."""
        features = self.tower(self.stem(x))
        policy_features = self.policy_conv(features).flatten(1)
        logits = self.policy_fc(policy_features)
        value_features = [self.value_conv(features).flatten(1)]
        if self.config.global_pool_value:
            value_features += [features.mean(dim=(2, 3)), features.amax(dim=(2, 3))]
        # The heads' squashing runs in float32 under bf16 autocast: near +-1 bf16 keeps steps
        # of 1/256, coarser than the values the search and the losses tell apart.
        value_out = self.value_fc(torch.cat(value_features, dim=1)).float()
        if self.config.value_head == "wdl":
            wdl = torch.softmax(value_out, dim=1)
            value = wdl[:, 0] - wdl[:, 2]
        else:
            value = torch.tanh(value_out).squeeze(1)
        if all_heads:
            outputs = {"logits": logits, "value": value}
            if self.config.value_head == "wdl":
                outputs["wdl_logits"] = value_out
            if self.ownership_head is not None:
                outputs["ownership"] = torch.tanh(self.ownership_head(features).float()).squeeze(1)
            if self.soft_policy_fc is not None:
                outputs["soft_logits"] = self.soft_policy_fc(policy_features)
            return outputs
        if not with_ownership:
            return logits, value
        if self.ownership_head is None:
            raise ValueError("this network has no ownership head")
        return logits, value, torch.tanh(self.ownership_head(features).float()).squeeze(1)


def masked_logits(logits: torch.Tensor, legal: torch.Tensor) -> torch.Tensor:
    """Set illegal actions' logits to a large negative number. `legal`: bool [B, A]."""
    return logits.masked_fill(~legal, -1e9)


def resolve_device(name: str = "auto") -> torch.device:
    """`auto` -> the first CUDA device when there is one, else the CPU."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except RuntimeError as error:
        raise ValueError(f"unknown device {name!r}: {error}") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {name!r} requested but CUDA is not available")
    return device


def cpu_has_native_bf16(cpuinfo: str | None = None) -> bool:
    """Whether this CPU has bf16 dot-product instructions (AVX512-BF16 or AMX-BF16), with
    which oneDNN's bf16 convolutions beat float32; elsewhere bf16 is emulated and slower.
    `cpuinfo`: the text of /proc/cpuinfo (read when None; False where there is none)."""
    if cpuinfo is None:
        return _this_cpu_has_native_bf16()
    for line in cpuinfo.splitlines():
        if line.startswith("flags"):
            flags = set(line.partition(":")[2].split())
            return bool(flags & {"avx512_bf16", "amx_bf16"})
    return False


@functools.cache
def _this_cpu_has_native_bf16() -> bool:
    try:
        return cpu_has_native_bf16(Path("/proc/cpuinfo").read_text())
    except OSError:
        return False


def resolve_precision(name: str, device: torch.device) -> str:
    """`bf16` or `fp32` for a configured precision: `auto` is bf16 on a GPU and on a CPU
    with native bf16 instructions (`cpu_has_native_bf16`), float32 elsewhere."""
    if check_precision(name) != "auto":
        return name
    if device.type == "cuda" or (device.type == "cpu" and cpu_has_native_bf16()):
        return "bf16"
    return "fp32"


def autocast(device: torch.device, precision: str):
    """bf16 autocast for a resolved `precision` of `bf16` (weights stay float32); nothing
    for `fp32`."""
    if precision == "bf16":
        return torch.autocast(device.type, dtype=torch.bfloat16)
    return nullcontext()


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def network_shape(game: Any, ownership: bool | None = None) -> NetworkShape:
    """What a network for `game` is built for; the ownership head where the game declares
    ownership targets (`TerritoryGame`), unless `ownership` says otherwise (a checkpoint
    saved without the head)."""
    if ownership is None:
        ownership = isinstance(game, TerritoryGame)
    return NetworkShape(game.observation_shape, game.num_actions, ownership=bool(ownership))


def has_ownership_weights(state_dict: dict[str, Any]) -> bool:
    """Whether saved weights include the ownership head (checkpoints before it do not)."""
    return any(key.startswith(OWNERSHIP_PREFIX) for key in state_dict)


def load_weights(model: PolicyValueNet, state_dict: dict[str, Any]) -> None:
    """Load `state_dict` into `model`; weights saved without the ownership head load into a
    model with one (the head keeps its initial weights, untrained until training goes on).

    Raises:
        RuntimeError: any other mismatch (as `load_state_dict` does).
    """
    missing, unexpected = model.load_state_dict(state_dict, strict=False)
    others = [k for k in missing if not k.startswith(OWNERSHIP_PREFIX)]
    if others or unexpected:
        raise RuntimeError(f"weights do not fit the network: missing {others[:3]}, "
                           f"unexpected {list(unexpected)[:3]}")


OWNERSHIP_PREFIX = "ownership_head."


def build_model(game: Any, config: Any) -> PolicyValueNet:
    """The network of a run config (`config.model`) for `game`'s encoding and actions."""
    return PolicyValueNet(network_shape(game), config.model)


def place_model(model: nn.Module, device: torch.device) -> nn.Module:
    """Move `model` to `device`; on the CPU also into channels-last memory format, in which
    oneDNN's convolutions run faster both forward and backward (docs/measurements.md). The
    weights' values are unchanged, and checkpoints are written contiguous."""
    model = model.to(device)
    if device.type == "cpu":
        model = model.to(memory_format=torch.channels_last)
    return model
