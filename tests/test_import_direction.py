"""The packages depend on each other in one direction only:
`games` imports none of ours; `mcts` imports numpy/numba only (no torch, no games); and no
two of our modules import each other, even from inside a function."""

from __future__ import annotations

import ast
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
OURS = {"engine", "games", "mcts", "llm_bridge"}
Imports = Callable[[Path], set[str]]
PENDING_CYCLES = {("engine.train", "engine.workers"), ("games.chess.game", "games.chess.pgn")}
"""Pairs that still import each other, tolerated until their modules are restructured;
delete a pair when its cycle is gone."""


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
        ("games", OURS - {"games"}),
        ("mcts", (OURS - {"mcts"}) | {"torch", "chess", "transformers"}),
    ],
)
def test_package_does_not_import(package: str, forbidden: set[str],
                                 imports_of: Imports) -> None:
    modules = {module_name(path): {name.split(".")[0] for name in imports_of(path)}
               for path in sorted((ROOT / package).rglob("*.py"))}
    assert modules, f"no modules found in {package}"
    offenders = {m: sorted(n & forbidden) for m, n in modules.items() if n & forbidden}
    assert not offenders, f"{package} imports what it must not: {offenders}"


def test_no_two_modules_import_each_other(imports_of: Imports) -> None:
    modules = our_modules(imports_of)
    pairs = sorted({tuple(sorted((a, b))) for a, names in modules.items() for b in names
                    if b != a and b in modules and a in modules[b]} - PENDING_CYCLES)
    assert not pairs, f"modules that import each other: {pairs}"


def test_checker_sees_a_violation(tmp_path: Path, imports_of: Imports) -> None:
    # The checker itself must be able to fail: a module that imports torch, and inside a
    # function one of our modules.
    module = tmp_path / "module.py"
    module.write_text("import torch\n\ndef f():\n    from engine.model import Net\n")
    assert imports_of(module) == {"torch", "engine.model"}
    assert module_name(ROOT / "games" / "go" / "__init__.py") == "games.go"
    assert ast.parse(module.read_text())  # the file itself is valid Python
