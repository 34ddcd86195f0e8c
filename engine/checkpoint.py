"""Checkpoints that describe themselves, written atomically.

A checkpoint is two files with the same stem:

* `<stem>.safetensors`: the network weights (no pickle, safe to load from anywhere);
* `<stem>.json`: the metadata needed to rebuild the network and the run: the game and its
  options, the model config, the step, positions seen, the seed, and the full run config.

Training state needed only for resuming (optimizer, learning-rate schedule, RNG states) goes
in `<stem>.train.pt`, loaded with `weights_only=True`. Every file is written to a temporary
name and renamed, and the metadata JSON last, so a checkpoint whose JSON exists is complete.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from engine.config import ConfigError, ModelConfig, RunConfig, apply_dict, resolve, to_dict
from engine.zoo import zoo_path

FORMAT_VERSION = 1


class CheckpointError(RuntimeError):
    """A checkpoint that is missing, incomplete or corrupt."""


def atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    """Call `write(tmp)` on a temporary file beside `path`, fsync it, then rename it over `path`."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        write(tmp)
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write(path, lambda tmp: tmp.write_text(text))


@dataclass
class Checkpoint:
    """A loaded checkpoint: weights plus what they mean."""

    path: Path
    state_dict: dict[str, torch.Tensor]
    meta: dict[str, Any]

    @property
    def model_config(self) -> ModelConfig:
        try:
            return apply_dict(ModelConfig(), self.meta["model"], "model")
        except (KeyError, ConfigError) as error:
            raise CheckpointError(f"{self.path}: bad model config in metadata: {error}") from None

    @property
    def run_config(self) -> RunConfig:
        try:
            return resolve(base=self.meta["config"])
        except (KeyError, ConfigError) as error:
            raise CheckpointError(f"{self.path}: bad run config in metadata: {error}") from None

    @property
    def game_name(self) -> str:
        return str(self.meta["game"])

    @property
    def game_options(self) -> dict[str, Any]:
        return dict(self.meta.get("game_options", {}))


def write_checkpoint(stem: Path, weights: dict[str, torch.Tensor], meta: dict[str, Any],
                     training: dict[str, Any] | None = None) -> Path:
    """Write `<stem>.safetensors`, optionally `<stem>.train.pt`, and last `<stem>.json`
    (with `format_version` added); return the metadata's path."""
    stem = Path(stem)
    tensors = {k: v.detach().cpu().contiguous() for k, v in weights.items()}
    atomic_write(stem.with_suffix(".safetensors"), lambda tmp: save_file(tensors, str(tmp)))
    if training is not None:
        atomic_write(stem.with_suffix(".train.pt"), lambda tmp: torch.save(training, tmp))
    meta_path = stem.with_suffix(".json")
    atomic_write_text(meta_path, json.dumps({"format_version": FORMAT_VERSION, **meta},
                                            indent=2, sort_keys=True))
    return meta_path


def save_checkpoint(
    stem: Path,
    model: torch.nn.Module,
    config: RunConfig,
    *,
    step: int,
    positions_trained: int,
    positions_generated: int,
    training_state: dict[str, Any] | None = None,
    extra: dict[str, Any] | None = None,
) -> Path:
    """A game network's checkpoint in the loop's format, outside a run (tools, tests)."""
    meta = {"kind": "game", "game": config.game, "game_options": config.game_options,
            "model": to_dict(config.model), "step": step,
            "positions_trained": positions_trained, "positions_generated": positions_generated,
            "seed": config.seed, "config": to_dict(config), **(extra or {})}
    return write_checkpoint(stem, model.state_dict(), meta, training_state)


def checkpoint_stem(path: Path | str) -> Path:
    """Accept `x.json`, `x.safetensors`, `x.train.pt` or the stem `x`; a run directory (or
    its `checkpoints/`) means its `best` checkpoint, else its newest.

    Raises:
        CheckpointError: a directory without checkpoints.
    """
    if str(path).startswith("zoo:"):  # an agent shipped with the package (engine.zoo)
        path = zoo_path(str(path)[4:])
    path = Path(path)
    if path.is_dir():
        directory = path / "checkpoints" if (path / "checkpoints").is_dir() else path
        best = directory / "best"
        if best.with_suffix(".json").is_file() and best.with_suffix(".safetensors").is_file():
            return best
        latest = latest_checkpoint(directory)
        if latest is None:
            raise CheckpointError(f"no checkpoint found in {path}")
        return latest
    for suffix in (".json", ".safetensors", ".train.pt"):
        if path.name.endswith(suffix):
            return path.with_name(path.name[: -len(suffix)])
    return path


def load_checkpoint(path: Path | str) -> Checkpoint:
    """Load weights and metadata; raise CheckpointError with a one-line reason if unusable."""
    stem = checkpoint_stem(path)
    meta_path, weights_path = stem.with_suffix(".json"), stem.with_suffix(".safetensors")
    if not meta_path.is_file() or not weights_path.is_file():
        raise CheckpointError(f"checkpoint {stem} not found (need {meta_path.name} and "
                              f"{weights_path.name})")
    try:
        meta = json.loads(meta_path.read_text())
    except (OSError, json.JSONDecodeError) as error:
        raise CheckpointError(f"checkpoint metadata {meta_path} is corrupt: {error}") from None
    if not isinstance(meta, dict) or "game" not in meta or "model" not in meta:
        raise CheckpointError(f"checkpoint metadata {meta_path} lacks game/model fields")
    try:
        state_dict = load_file(str(weights_path))
    except (SafetensorError, OSError, ValueError, RuntimeError) as error:
        raise CheckpointError(f"checkpoint weights {weights_path} are corrupt: {error}") from None
    return Checkpoint(path=stem, state_dict=state_dict, meta=meta)


def load_training_state(stem: Path) -> dict[str, Any]:
    path = Path(stem).with_suffix(".train.pt")
    if not path.is_file():
        raise CheckpointError(f"training state {path} not found")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises several unrelated types for bad files
        raise CheckpointError(f"training state {path} is corrupt: {error}") from None


def list_checkpoints(directory: Path) -> list[Path]:
    """Complete checkpoints (those with metadata) in `directory`, oldest first by step."""
    stems = []
    for meta_path in Path(directory).glob("step-*.json"):
        stem = meta_path.with_suffix("")
        if stem.with_suffix(".safetensors").is_file():
            stems.append(stem)
    return sorted(stems, key=lambda s: s.name)


def latest_checkpoint(run_or_checkpoint_dir: Path) -> Path | None:
    directory = Path(run_or_checkpoint_dir)
    if (directory / "checkpoints").is_dir():
        directory = directory / "checkpoints"
    stems = list_checkpoints(directory)
    return stems[-1] if stems else None


def prune_checkpoints(directory: Path, keep: int) -> None:
    """Delete all but the newest `keep` checkpoints (their metadata first, so none is half-listed)."""
    stems = list_checkpoints(directory)
    for stem in stems[: max(0, len(stems) - max(1, keep))]:
        for suffix in (".json", ".safetensors", ".train.pt"):
            stem.with_suffix(suffix).unlink(missing_ok=True)
