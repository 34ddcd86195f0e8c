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


def _kill_9_when(process, ready, timeout: float = 120.0, settle: float = 0.2) -> None:
    """Wait until `ready()` holds (failing with the process's stderr if it never does or the
    process ends first), let it run `settle` seconds more, then SIGKILL it."""
    import signal
    import time

    try:
        deadline = time.monotonic() + timeout
        while not ready():
            if time.monotonic() > deadline or process.poll() is not None:
                pytest.fail("never ready to be killed: " + process.stderr.read1().decode()[-2000:])
            time.sleep(0.05)
        time.sleep(settle)
        os.kill(process.pid, signal.SIGKILL)
        process.wait(10)
    finally:
        if process.poll() is None:
            process.kill()


@pytest.fixture
def kill_9_when():
    """`kill_9_when(process, ready)`: SIGKILL a training subprocess once `ready()` holds."""
    return _kill_9_when
