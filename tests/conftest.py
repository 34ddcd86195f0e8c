"""Shared fixtures: the external benchmark data that lies beside the repository, and a
reader of the modules a source file imports."""

from __future__ import annotations

import ast
import os
from collections.abc import Callable
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


def imported_modules(path: Path) -> set[str]:
    """Dotted names of the modules `path` imports anywhere in the file (functions too).

    `from a.b import c` counts `a.b.c` when that is a module file under the repository,
    else `a.b`; relative imports are not used in this project and are not counted.
    """
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            for alias in node.names:
                full = f"{node.module}.{alias.name}"
                module_file = REPO_ROOT / Path(*full.split("."))
                is_module = module_file.with_suffix(".py").is_file() or module_file.is_dir()
                names.add(full if is_module else node.module)
    return names


@pytest.fixture(scope="session")
def imports_of() -> Callable[[Path], set[str]]:
    """`imported_modules`: the dotted module names a source file imports."""
    return imported_modules
