"""`move37 uci --checkpoint`: a trained chess network behind the UCI engine.

A tiny untrained network is saved as a checkpoint; the command must rebuild the game with
the checkpoint's input history, play legal moves with it, and refuse checkpoints of other
games with a one-line error.
"""

from __future__ import annotations

import io
import sys
from pathlib import Path

import chess
import pytest

from engine.checkpoint import save_checkpoint
from engine.cli import main
from engine.config import resolve
from engine.model import NetworkShape, PolicyValueNet

TINY = ["model.size=\"b1c8\"", "model.policy_channels=2", "model.value_hidden=8"]


def save_tiny(tmp_path: Path, preset: str, shape: tuple[tuple[int, int, int], int]) -> Path:
    config = resolve(preset, TINY)
    model = PolicyValueNet(NetworkShape(*shape), config.model)
    stem = tmp_path / "step-000000001"
    save_checkpoint(stem, model, config, step=1, positions_trained=0, positions_generated=0)
    return stem


def run_uci(args: list[str], script: str, monkeypatch, capsys) -> tuple[int, list[str], str]:
    monkeypatch.setattr(sys, "stdin", io.StringIO(script))
    with pytest.raises(SystemExit) as exited:
        main(["uci", *args])
    out = capsys.readouterr()
    return int(exited.value.code or 0), out.out.splitlines(), out.err


def test_checkpoint_plays_legal_moves(tmp_path: Path, monkeypatch, capsys) -> None:
    # chess-cpu keeps 2 positions of history: 35 input planes, not the default 119.
    stem = save_tiny(tmp_path, "chess-cpu", ((35, 8, 8), 4672))
    script = "uci\nisready\nposition startpos moves e2e4\ngo nodes 16\nisready\nquit\n"
    code, lines, _ = run_uci(["--checkpoint", str(stem), "--sims", "16"], script,
                             monkeypatch, capsys)
    assert code == 0
    assert lines[0].startswith("id name move37 step-000000001")
    assert not [line for line in lines if "error" in line], lines
    bestmove = [line for line in lines if line.startswith("bestmove")]
    board = chess.Board()
    board.push_uci("e2e4")
    assert len(bestmove) == 1 and chess.Move.from_uci(bestmove[0].split()[1]) in board.legal_moves


def test_checkpoint_of_another_game_is_refused(tmp_path: Path, monkeypatch, capsys) -> None:
    stem = save_tiny(tmp_path, "tictactoe", ((3, 3, 3), 9))
    code, lines, err = run_uci(["--checkpoint", str(stem)], "uci\nquit\n", monkeypatch, capsys)
    assert code == 2 and lines == []
    assert err.startswith("move37: error:") and "tictactoe, not chess" in err
