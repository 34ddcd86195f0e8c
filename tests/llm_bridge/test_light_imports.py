"""Tasks, verifiers and the sandbox stay light: no torch or transformers, so graders run in
plain worker processes and the sandbox child needs only the standard library."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LIGHT = [*sorted((ROOT / "llm_bridge" / "tasks").glob("*.py")),
         *sorted((ROOT / "llm_bridge" / "verifiers").glob("*.py")),
         ROOT / "llm_bridge" / "sandbox.py"]
HEAVY = {"torch", "transformers", "numpy", "numba", "engine", "mcts"}


@pytest.fixture
def top_level_imports(imports_of: Callable[[Path], set[str]]) -> Callable[[Path], set[str]]:
    """The top-level package names a file imports."""
    return lambda path: {name.split(".")[0] for name in imports_of(path)}


def test_light_modules_import_nothing_heavy(top_level_imports) -> None:
    assert len(LIGHT) > 10
    offenders = {p.name: sorted(top_level_imports(p) & HEAVY) for p in LIGHT
                 if top_level_imports(p) & HEAVY}
    assert not offenders


def test_the_sandbox_runner_uses_only_the_standard_library(top_level_imports) -> None:
    import sys

    runner = ROOT / "llm_bridge" / "sandbox_runner.py"
    outside = {n for n in top_level_imports(runner) if n not in sys.stdlib_module_names}
    assert not outside
    assert top_level_imports(Path(__file__)) >= {"pytest", "sys"}  # the walker sees imports
