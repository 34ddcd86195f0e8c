"""Agents shipped with the package: `zoo:tictactoe`, `zoo:connect4`, `zoo:go9`.

Each lives in `engine/zoo/NAME/`: the checkpoint (`best.json` + `best.safetensors`, the
loop's own format), the run's TensorBoard logs (for `move37 report` and the web board's
plots) and `card.json`, the run card: the command that trained it, its seed and minutes,
the machine, and figures measured on it (tests re-measure one of each).

`zoo:NAME[:SIMS]` is a player spec (`engine.agents`) and `zoo:NAME` a checkpoint path
(`engine.checkpoint.checkpoint_stem`), so `--checkpoint zoo:connect4` works wherever a
checkpoint does.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from engine.agent_types import AgentSpecError

ZOO_DIR = Path(__file__).resolve().parent
NAMES = ("tictactoe", "connect4", "go9")
"""The shipped agents."""
PREFIX = "zoo:"


class ZooError(AgentSpecError):
    """A zoo name that names no shipped agent."""


def zoo_path(name: str) -> Path:
    """The directory of the shipped agent `name` (its checkpoint is `best`).

    Raises:
        ZooError: no such agent in this installation.
    """
    directory = ZOO_DIR / name.strip().lower()
    if name.strip().lower() not in NAMES or not (directory / "best.json").is_file():
        shipped = ", ".join(n for n in NAMES if (ZOO_DIR / n / "best.json").is_file())
        raise ZooError(f"no shipped agent {name!r}; shipped: {shipped or 'none'}")
    return directory


def zoo_spec(spec: str) -> str:
    """`zoo:NAME[:SIMS]` as the checkpoint spec `ckpt:zoo:NAME[:SIMS]`; other specs as
    they are."""
    text = spec.strip()
    return f"ckpt:{text}" if text.lower().startswith(PREFIX) else text


def card(name: str) -> dict[str, Any]:
    """The run card of the shipped agent `name`."""
    return json.loads((zoo_path(name) / "card.json").read_text())
