"""OpenSpiel's C++ `MCTSBot` as the same-run peer of the search benchmark.

pyspiel's Python bindings cannot subclass `pyspiel.Evaluator`, so a search with a zero-cost
evaluator (value 0, uniform prior) cannot be driven from Python. `openspiel_mcts.cc` does it
in C++: it is compiled once with the C++ compiler against the headers and the `pyspiel`
library that the `open_spiel` wheel ships (`pip install open_spiel`, the `peers` extra),
cached under `$XDG_CACHE_HOME/move37/` (default `~/.cache/move37/`), and run as a child
process that prints one JSON line.

The library is found through the installed `pyspiel` module, or through
`MOVE37_OPENSPIEL_WHEEL` (a wheel file, unpacked into the cache, for a Python without the
package). `pyspiel` leaves the Python C API to the interpreter that imports it, so the
program also links the interpreter's shared `libpython`.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path
from typing import Any

SOURCE = Path(__file__).with_name("openspiel_mcts.cc")
WHEEL_VARIABLE = "MOVE37_OPENSPIEL_WHEEL"
EVALUATORS = ("zero", "rollout")
"""`zero`: value 0 and a uniform prior; `rollout`: OpenSpiel's RandomRolloutEvaluator(1)."""


class PeerUnavailable(RuntimeError):
    """The peer cannot be built here; the message says why in one line."""


def cache_dir() -> Path:
    """Where built programs and unpacked wheels are kept."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "move37"


def _unpacked_wheel(wheel: Path) -> Path:
    """The wheel's files, unpacked once into the cache (keyed by name and size)."""
    if not wheel.is_file():
        raise PeerUnavailable(f"{WHEEL_VARIABLE}={wheel} is not a file")
    target = cache_dir() / "wheels" / f"{wheel.stem}-{wheel.stat().st_size}"
    if not (target / "pyspiel.so").is_file():
        with zipfile.ZipFile(wheel) as archive:
            archive.extractall(target)
    return target


def openspiel_root() -> Path:
    """The folder holding `pyspiel.so` beside the `open_spiel/` headers."""
    wheel = os.environ.get(WHEEL_VARIABLE)
    if wheel:
        root = _unpacked_wheel(Path(wheel))
    else:
        spec = importlib.util.find_spec("pyspiel")
        if spec is None or spec.origin is None:
            raise PeerUnavailable("open_spiel is not installed (pip install open_spiel)")
        root = Path(spec.origin).parent
    if not (root / "open_spiel" / "algorithms" / "mcts.h").is_file():
        raise PeerUnavailable(f"no OpenSpiel headers beside pyspiel in {root}")
    return root


def _libpython() -> list[str]:
    """Linker flags for this interpreter's shared libpython (pyspiel's Python symbols)."""
    version = sysconfig.get_config_var("LDVERSION") or sysconfig.get_python_version()
    libdir = sysconfig.get_config_var("LIBDIR") or ""
    flags = [f"-lpython{version}"]
    if libdir and Path(libdir, f"libpython{version}.so").exists():
        flags = [f"-L{libdir}", f"-Wl,-rpath,{libdir}"] + flags
    return flags


def build(compiler: str | None = None) -> Path:
    """The harness executable, compiled on first use; raises PeerUnavailable if it cannot be."""
    compiler = compiler or os.environ.get("CXX") or "g++"
    if shutil.which(compiler) is None:
        raise PeerUnavailable(f"no C++ compiler {compiler!r} on PATH")
    root = openspiel_root()
    library = root / "pyspiel.so"
    stamp = library.stat()
    key = hashlib.sha256(b"\0".join(
        [SOURCE.read_bytes(), str(library).encode(), str(stamp.st_size).encode(),
         str(stamp.st_mtime_ns).encode(), compiler.encode(), sys.version.encode()])).hexdigest()
    target = cache_dir() / "openspiel_mcts" / key[:16] / "openspiel_mcts"
    if target.is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    # The wheel is built as C++20; abseil's types follow the language version, so match it.
    command = [compiler, "-std=c++20", "-O2", "-w", "-o", str(target) + ".tmp", str(SOURCE),
               f"-I{root}", f"-I{root / 'open_spiel' / 'abseil-cpp'}",
               f"-I{root / 'open_spiel' / 'json' / 'include'}", str(library),
               f"-Wl,-rpath,{root}", *_libpython()]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise PeerUnavailable(f"building the OpenSpiel harness failed: {last}")
    os.replace(str(target) + ".tmp", target)
    return target


def game_string(name: str, size: int = 9, komi: float = 7.5) -> str:
    """OpenSpiel's name of our game (`name` as `games.make` takes it)."""
    names = {"tictactoe": "tic_tac_toe", "connect4": "connect_four", "chess": "chess"}
    if name == "go":
        return f"go(board_size={size},komi={komi})"
    if name not in names:
        raise ValueError(f"no OpenSpiel peer for {name!r}")
    return names[name]


def run(game: str, simulations: int, searches: int, evaluator: str = "zero",
        seconds: float = 0.0, seed: int = 0) -> dict[str, Any]:
    """Time `searches` MCTSBot searches of `simulations` from the initial state.

    `game` is an OpenSpiel game string; `seconds` > 0 stops after the first search that
    ends past that much wall time. Returns the harness's counts and seconds with the rates.
    """
    if evaluator not in EVALUATORS:
        raise ValueError(f"evaluator must be one of {EVALUATORS}, got {evaluator!r}")
    program = build()
    done = subprocess.run([str(program), game, str(simulations), str(searches), evaluator,
                           str(seconds), str(seed)], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise RuntimeError(f"the OpenSpiel harness failed on {game}: {last}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    sims = result["simulations"]
    result.update(sims_per_s=round(sims / max(result["wall_s"], 1e-9)),
                  sims_per_cpu_s=round(sims / max(result["cpu_s"], 1e-9)))
    return result
