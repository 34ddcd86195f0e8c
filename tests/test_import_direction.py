"""The packages depend on each other in one direction only: games, mcts -> engine ->
llm_bridge, benchmarks. `games` imports none of ours and no torch; `mcts` imports
numpy/numba only; `engine` imports neither the LLM bridge nor the benchmarks (they register
themselves through entry points)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
OURS = {"engine", "games", "mcts", "llm_bridge", "benchmarks"}


def imported_top_level_modules(package: str) -> dict[str, set[str]]:
    """Map each module file of `package` to the top-level names it imports."""
    found: dict[str, set[str]] = {}
    for path in sorted((ROOT / package).rglob("*.py")):
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
        found[str(path.relative_to(ROOT))] = names
    return found


@pytest.mark.parametrize(
    "package, forbidden",
    [
        ("games", (OURS - {"games"}) | {"torch", "transformers"}),
        ("mcts", (OURS - {"mcts"}) | {"torch", "chess", "transformers"}),
        ("engine", {"llm_bridge", "benchmarks"}),
        ("llm_bridge", {"benchmarks"}),
    ],
)
def test_package_does_not_import(package: str, forbidden: set[str]) -> None:
    modules = imported_top_level_modules(package)
    assert modules, f"no modules found in {package}"
    offenders = {m: sorted(n & forbidden) for m, n in modules.items() if n & forbidden}
    assert not offenders, f"{package} imports what it must not: {offenders}"


def test_checker_sees_a_violation(tmp_path: Path) -> None:
    # The checker itself must be able to fail: parse a module that imports torch.
    tree = ast.parse("import torch\nfrom engine.model import Net\n")
    names = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    names |= {n.module.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    assert {"torch", "engine"} <= names

