"""The packages depend on each other in one direction only: games, mcts -> engine ->
llm_bridge, benchmarks. `games` imports none of ours and no torch; `mcts` imports
numpy/numba only; `engine` imports neither the LLM bridge nor the benchmarks (they register
themselves through entry points); and no circle of our modules imports itself, even from
inside a function."""

from __future__ import annotations

import ast
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
OURS = {"engine", "games", "mcts", "llm_bridge", "benchmarks"}
Imports = Callable[[Path], set[str]]


def module_name(path: Path) -> str:
    """`games/go/game.py` -> `games.go.game`; a package's `__init__.py` -> the package."""
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def our_modules(imports_of: Imports) -> dict[str, set[str]]:
    """Each module of our packages -> the dotted names of the modules it imports."""
    return {module_name(path): imports_of(path) for package in sorted(OURS)
            for path in sorted((ROOT / package).rglob("*.py"))}


@pytest.mark.parametrize(
    "package, forbidden",
    [
        ("games", (OURS - {"games"}) | {"torch", "transformers"}),
        ("mcts", (OURS - {"mcts"}) | {"torch", "chess", "transformers"}),
        ("engine", {"llm_bridge", "benchmarks"}),
        ("llm_bridge", {"benchmarks"}),
    ],
)
def test_package_does_not_import(package: str, forbidden: set[str],
                                 imports_of: Imports) -> None:
    modules = {module_name(path): {name.split(".")[0] for name in imports_of(path)}
               for path in sorted((ROOT / package).rglob("*.py"))}
    assert modules, f"no modules found in {package}"
    offenders = {m: sorted(n & forbidden) for m, n in modules.items() if n & forbidden}
    assert not offenders, f"{package} imports what it must not: {offenders}"


def find_cycle(edges: dict[str, set[str]]) -> list[str] | None:
    """A circle of imports, as the list of its modules (the first repeated at the end)."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for target in sorted(edges.get(node, ())):
            if state.get(target) == 1:
                return stack[stack.index(target):] + [target]
            if target not in state and (found := visit(target)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(edges):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_no_import_cycles(imports_of: Imports) -> None:
    modules = our_modules(imports_of)
    edges = {a: {b for b in names if b in modules and b != a} for a, names in modules.items()}
    cycle = find_cycle(edges)
    assert cycle is None, "modules that import each other: " + " -> ".join(cycle or [])


def test_checker_sees_a_violation(tmp_path: Path, imports_of: Imports) -> None:
    # The checker itself must be able to fail: a module that imports torch, and inside a
    # function one of our modules; and a circle of three modules.
    module = tmp_path / "module.py"
    module.write_text("import torch\n\ndef f():\n    from engine.model import Net\n")
    assert imports_of(module) == {"torch", "engine.model"}
    assert module_name(ROOT / "games" / "go" / "__init__.py") == "games.go"
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None
