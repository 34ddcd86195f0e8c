"""Fixtures for tests that drive external programs (GNU Go, Stockfish)."""

from __future__ import annotations

import os
import shutil

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
