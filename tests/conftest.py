"""Shared fixtures: the external benchmark data that lies beside the repository."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent


def shared_benchmarks_dir() -> Path:
    """`../shared/benchmarks` beside the checkout, or `$MOVE37_SHARED_BENCHMARKS`."""
    override = os.environ.get("MOVE37_SHARED_BENCHMARKS")
    return Path(override) if override else REPO_ROOT.parent / "shared" / "benchmarks"


@pytest.fixture(scope="session")
def shared_benchmarks() -> Path:
    path = shared_benchmarks_dir()
    if not path.is_dir():
        # CI always has the data beside the clone; elsewhere say clearly what is missing.
        if os.environ.get("CI"):
            pytest.fail(f"benchmark data not found at {path}")
        pytest.skip(f"benchmark data not found at {path} (set MOVE37_SHARED_BENCHMARKS)")
    return path
