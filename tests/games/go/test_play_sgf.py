"""`move37 play go --sgf FILE`: the terminal game starts from a recorded Go position."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from engine.cli import app
from engine.play import play_game, random_opponent
from games.go import Go
from games.go.sgf import read_sgf, replay, write_sgf


def record(tmp_path: Path) -> Path:
    go = Go(size=7, komi=0.5)
    path = tmp_path / "start.sgf"
    path.write_bytes(write_sgf(go, [24, 25, 17]))  # D4, E4, D5: white to move
    return path


def test_play_game_starts_from_the_recorded_position(tmp_path: Path) -> None:
    rec = read_sgf(record(tmp_path))
    go = rec.game()
    start, _ = replay(go, rec)
    lines: list[str] = []
    script = iter(["E5", "quit"])
    result = play_game(go, random_opponent(0), human=1, start=start,
                       read_line=lambda prompt: next(script), write=lines.append)
    assert result.actions[0] == go.text_to_action(None, "E5") and len(result.actions) == 2
    assert " 4 . . . X O . . 4" in lines[1]  # the first board drawn is the recorded one


def test_play_command_with_sgf_size_and_komi(tmp_path: Path) -> None:
    runner = CliRunner()
    done = runner.invoke(app, ["play", "go", "--sgf", str(record(tmp_path))], input="quit\n")
    assert done.exit_code == 0, done.output
    assert " 5 . . . X . . . 5" in done.output and "white (O) to move" in done.output
    assert "komi 0.5" in done.output
    done = runner.invoke(app, ["play", "go", "--size", "5", "--komi", "3"], input="quit\n")
    assert done.exit_code == 0 and "A B C D E\n" in done.output and "komi 3" in done.output
    done = runner.invoke(app, ["play", "tictactoe", "--size", "5"], input="quit\n")
    assert done.exit_code != 0
    done = runner.invoke(app, ["play", "go", "--sgf", str(record(tmp_path)), "--size", "9"])
    assert done.exit_code != 0
