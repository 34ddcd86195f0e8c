"""The checkpoint store of a run: `step-*`, `best`, the latest, pruning, atomic writes.

One format for every plug-in. A checkpoint is three files with one stem:

* `<stem>.safetensors`: the model's weights (no pickle);
* `<stem>.train.pt`: what resuming needs (optimiser, schedule, RNG states, run state),
  loaded with `weights_only=True`; `best.*` has none;
* `<stem>.json`: metadata (format version, plug-in kind, learner step, iteration, seed, the
  full run config and the plug-in's own description of the model), written last, so a
  checkpoint whose JSON exists is complete.

`step-<learner step>` checkpoints are pruned to the newest `keep`; `best` is the one the
gate promoted (every checkpoint, when the run does not gate), hard-linked to its step files
where the file system allows, so promoting costs no copy. Actors in worker processes play
with `best`.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file

from engine.checkpoint import (
    CheckpointError,
    atomic_write,
    latest_checkpoint,
    list_checkpoints,
    load_training_state,
    prune_checkpoints,
    write_checkpoint,
)

BEST = "best"


class CheckpointStore:
    """The `checkpoints/` directory of one run."""

    def __init__(self, directory: Path, keep: int) -> None:
        self.directory = Path(directory)
        self.keep = keep
        self.directory.mkdir(parents=True, exist_ok=True)

    def stem(self, step: int) -> Path:
        return self.directory / f"step-{step:09d}"

    def save(self, step: int, weights: dict[str, torch.Tensor], meta: dict[str, Any],
             training: dict[str, Any] | None) -> Path:
        """Write `step-<step>`: weights, resume state, then metadata; prune old ones."""
        stem = self.stem(step)
        write_checkpoint(stem, weights, {"step": step, **meta}, training)
        prune_checkpoints(self.directory, self.keep)
        return stem

    def promote(self, stem: Path) -> Path:
        """Make `stem` the run's `best` (weights first, metadata last)."""
        best = self.directory / BEST
        for suffix in (".safetensors", ".json"):
            _link_or_copy(stem.with_suffix(suffix), best.with_suffix(suffix))
        return best

    def latest(self) -> Path | None:
        return latest_checkpoint(self.directory)

    def previous(self) -> Path | None:
        """The checkpoint before the latest (None when there is one or none)."""
        stems = list_checkpoints(self.directory)
        return stems[-2] if len(stems) >= 2 else None

    def best(self) -> Path | None:
        best = self.directory / BEST
        complete = all(best.with_suffix(s).is_file() for s in (".json", ".safetensors"))
        return best if complete else None

    def playing(self) -> Path | None:
        """What actors play with: `best`, else the latest checkpoint."""
        return self.best() or self.latest()

    @staticmethod
    def load_weights(stem: Path) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
        """`(weights, metadata)` of a complete checkpoint.

        Raises:
            CheckpointError: missing or corrupt files.
        """
        try:
            meta = json.loads(stem.with_suffix(".json").read_text())
            weights = load_file(str(stem.with_suffix(".safetensors")))
        except Exception as error:  # noqa: BLE001 (json, OS and safetensors errors alike)
            raise CheckpointError(f"checkpoint {stem} is unreadable: {error}") from None
        if not isinstance(meta, dict):
            raise CheckpointError(f"checkpoint metadata {stem}.json is not an object")
        return weights, meta

    @staticmethod
    def load_training(stem: Path) -> dict[str, Any]:
        return load_training_state(stem)


def _link_or_copy(source: Path, target: Path) -> None:
    """Put `source`'s content at `target` atomically: a hard link where possible."""
    def write(tmp: Path) -> None:
        tmp.unlink()
        try:
            os.link(source, tmp)
        except OSError:
            shutil.copyfile(source, tmp)

    atomic_write(target, write)
