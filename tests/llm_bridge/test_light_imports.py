"""Tasks, verifiers and the sandbox stay light: no torch or transformers, so graders run in
plain worker processes and the sandbox child needs only the standard library."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LIGHT = [*sorted((ROOT / "llm_bridge" / "tasks").glob("*.py")),
         *sorted((ROOT / "llm_bridge" / "verifiers").glob("*.py")),
         ROOT / "llm_bridge" / "sandbox.py"]
HEAVY = {"torch", "transformers", "numpy", "numba", "engine", "mcts"}


def top_level_imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_light_modules_import_nothing_heavy() -> None:
    assert len(LIGHT) > 10
    offenders = {p.name: sorted(top_level_imports(p) & HEAVY) for p in LIGHT
                 if top_level_imports(p) & HEAVY}
    assert not offenders


def test_the_sandbox_runner_uses_only_the_standard_library() -> None:
    import sys

    runner = ROOT / "llm_bridge" / "sandbox_runner.py"
    outside = {n for n in top_level_imports(runner) if n not in sys.stdlib_module_names}
    assert not outside
    assert top_level_imports(Path(__file__)) >= {"ast"}  # the walker sees imports at all
