"""Fixtures of the web board's tests: a tiny real training run and a quick roster."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from engine.web.players import Player, Roster

REPO_ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A two-iteration tic-tac-toe run (about 10 s) with an arena match each iteration:
    checkpoints, game records, TensorBoard logs."""
    run = tmp_path_factory.mktemp("runs") / "ttt"
    subprocess.run(
        [sys.executable, "-m", "engine", "train", "tictactoe", "--iterations", "2", "--seed", "1",
         "--quiet", "--out", str(run), "--set", "selfplay.games_per_iteration=32",
         "--set", "selfplay.concurrent_games=32", "--set", "search.num_simulations=16",
         "--set", "arena.every_iterations=1", "--set", "arena.games=8",
         "--set", 'arena.opponents=["random"]'],
        cwd=REPO_ROOT, check=True, capture_output=True, timeout=300)
    return run


def _quick_roster(*checkpoints: Player) -> Roster:
    players = [Player(name=s, spec=s) for s in ("random", "mcts:16", "perfect")]
    return Roster(players + list(checkpoints))


@pytest.fixture(scope="session")
def quick_roster():
    """A roster of random, mcts:16 and perfect (quick enough for tests), then the
    checkpoint players given."""
    return _quick_roster
