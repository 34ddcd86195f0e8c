"""`move37 bench games`: the plain-Python reference plays the same game as the kernels,
and the command prints one JSON object as its last line."""

from __future__ import annotations

import importlib.util
import json
import random

import numpy as np
import pytest

from benchmarks.bench_games import PYTHON_PLAYOUTS, main
from games.connect4 import ConnectFour
from games.tictactoe import TicTacToe


@pytest.mark.parametrize("name, game, n", [("tictactoe", TicTacToe(), 20000),
                                           ("connect4", ConnectFour(), 4000)])
def test_python_reference_and_kernel_end_games_alike(name, game, n) -> None:
    rng = random.Random(1)
    winners = np.array([PYTHON_PLAYOUTS[name](rng)[0] for _ in range(n)])
    first, draws, second, _ = game.bulk_playouts(200_000, seed=4) / 200_000
    # Each frequency within 5 standard errors of the kernel's (whose own error is tiny).
    for share, winner in ((first, 1), (draws, 0), (second, 2)):
        observed = (winners == winner).mean()
        assert abs(observed - share) < 5 * np.sqrt(share * (1 - share) / n) + 1e-3, name


def test_json_is_the_last_line(capsys) -> None:
    main(["--json", "--seconds", "0.02", "--batch", "64"])
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 1
    results = json.loads(lines[-1])
    assert set(results["games"]) == {"tictactoe", "connect4"}
    for entry in results["games"].values():
        assert entry["kernel"]["playouts_per_s"] > 0 and entry["python"]["playouts_per_s"] > 0
        assert entry["speedup_vs_python"] > 0
        assert ("openspiel" in entry) == (importlib.util.find_spec("pyspiel") is not None)
    main(["--seconds", "0.02", "--batch", "64"])
    out = capsys.readouterr().out.strip().splitlines()
    assert out[0].startswith("random playouts/s") and json.loads(out[-1])["benchmark"] == "games"
