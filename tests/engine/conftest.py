"""Fixtures for tests that drive external programs (GNU Go, Stockfish), and a Go checkpoint
whose ownership head is set by hand."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest


def installed(program: str) -> str:
    """The path of `program` (on PATH or in /usr/games). Skips the test when it is missing,
    except in CI, where it fails: CI installs it (`apt-get install <program>`)."""
    path = shutil.which(program) or f"/usr/games/{program}"
    if not os.path.exists(path):
        if os.environ.get("CI"):
            pytest.fail(f"{program} is required in CI (apt-get install {program})")
        pytest.skip(f"{program} is not installed (apt-get install {program}); CI is unset")
    return path


@pytest.fixture(scope="session")
def gnugo() -> str:
    """The path of GNU Go."""
    return installed("gnugo")


@pytest.fixture(scope="session")
def stockfish_path() -> str:
    """The path of Stockfish."""
    return installed("stockfish")


@pytest.fixture
def other_side_owner(tmp_path: Path) -> Callable[..., Path]:
    """Writes a 9x9 Go checkpoint (b1c8, komi 7.5) whose ownership head gives every point to
    the side not to move (tanh(-3) = -0.995 from the side to move's view); extra config
    overrides are passed through. Returns the checkpoint's directory."""

    def write(*overrides: str) -> Path:
        import torch

        from engine.checkpoint import save_checkpoint
        from engine.config import resolve
        from engine.model import build_model
        from games.go import Go

        config = resolve(None, ["game=go", "game_options.size=9", "model.size=b1c8",
                                *overrides])
        model = build_model(Go(size=9, komi=7.5), config)
        with torch.no_grad():
            model.ownership_head[-1].weight.zero_()
            model.ownership_head[-1].bias.fill_(-3.0)
        path = tmp_path / "owner"
        save_checkpoint(path, model, config, step=0, positions_trained=0,
                        positions_generated=0)
        return path

    return write
