"""`move37 train` as a user runs it: resuming adds to the limits, the time budget holds,
Ctrl-C prints one line, the output is clean in a pipe, and `--help` lists the main
commands first."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from engine.checkpoint import latest_checkpoint, load_checkpoint

TINY = [
    "model.size=b1c8", "model.policy_channels=2", "model.value_hidden=8",
    "search.num_simulations=4", "selfplay.concurrent_games=8", "selfplay.games_per_iteration=8",
    "train.batch_size=16", "arena.every_iterations=2", "arena.games=4",
    "arena.opponents=['random']",
]
SETS = [item for s in TINY for item in ("--set", s)]


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "engine", *args]


def _train(*args: str, timeout: float = 180) -> subprocess.CompletedProcess:
    # stdout is a pipe here, as when a user writes the log to a file.
    result = subprocess.run(_cli("train", *args), capture_output=True, text=True,
                            timeout=timeout, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    return result


def test_resume_adds_iterations_and_says_so(tmp_path: Path) -> None:
    run = tmp_path / "run"
    first = _train("tictactoe", "--out", str(run), "--iterations", "1", *SETS)
    assert load_checkpoint(latest_checkpoint(run)).meta["iteration"] == 1
    assert "budget 1 iteration / 5 minutes" in first.stdout.splitlines()[0]
    second = _train("--resume", str(run), "--iterations", "2", "--minutes", "3")
    assert ("resuming at iteration 1; running 2 more iterations / 3 more minutes"
            in second.stdout.splitlines()[0])
    assert load_checkpoint(latest_checkpoint(run)).meta["iteration"] == 3
    # With no more to do, a resume says so rather than doing nothing in silence.
    again = subprocess.run(_cli("train", "--resume", str(run)), capture_output=True, text=True,
                           timeout=60, check=False)
    assert again.returncode == 2
    assert "has run 3 iterations" in again.stderr and "--iterations N" in again.stderr
    assert len(again.stderr.strip().splitlines()) == 1


def test_minutes_budget_ends_inside_a_long_iteration(tmp_path: Path) -> None:
    """An iteration of 100000 games would take hours: the budget of 24 s ends self-play
    where it is, learning stops after its first step, the arena is skipped, and the run
    stops a few seconds after the budget."""
    run = tmp_path / "run"
    start = time.monotonic()
    result = _train("tictactoe", "--out", str(run), "--minutes", "0.4", *SETS,
                    "--set", "selfplay.games_per_iteration=100000",
                    "--set", "arena.every_iterations=1")
    wall = time.monotonic() - start
    # 24 s budget, counted from the command's start; the margin is the interpreter's
    # start-up and teardown, the last search step, the learning step and the checkpoint.
    assert wall < 24 + 12, result.stdout
    lines = result.stdout.splitlines()
    assert any(line.startswith("self-play ") for line in lines)  # progress inside the round
    assert lines[-1].startswith("done in 0:2") and "arena" not in lines[-1]
    meta = load_checkpoint(latest_checkpoint(run)).meta
    assert meta["iteration"] == 1 and meta["games_played"] > 0
    # Thousands of positions were played, but the budget allowed one gradient step.
    assert json.loads((run / "summary.json").read_text())["train/steps"] == 1


def test_output_in_a_pipe_is_one_clean_line_per_event(tmp_path: Path) -> None:
    run = tmp_path / "run"
    out = _train("tictactoe", "--out", str(run), "--iterations", "2", *SETS).stdout
    assert "\x1b" not in out  # no colours, cursor moves or hyperlinks (ESC ] 8 ;)
    lines = out.splitlines()
    assert lines[0].startswith(f"move37 train tictactoe -> {run}; budget 2 iterations")
    iteration_lines = [line for line in lines if line.startswith("it ")]
    assert len(iteration_lines) == 2
    for line in iteration_lines:  # fits an 80-column terminal but for the arena field
        assert len(line) <= 100, line
        fields = line.split(" | ")
        assert re.fullmatch(r"it \d+", fields[0])
        assert re.fullmatch(r"\d+:\d\d/5:00 eta \d+:\d\d", fields[1]), line
        assert re.fullmatch(r"games \d+", fields[2])
    assert "arena random" in iteration_lines[1]
    # Every line is an event: no wrapped continuation of a longer one.
    assert all(re.match(r"(move37 train|self-play|learning|it \d|done in)", line)
               for line in lines), lines
    last = lines[-1]
    assert re.match(r"done in \d+:\d\d: 2 iterations, \d+ games; last arena random \d\.\d\d; ",
                    last), last
    assert f"summary {run / 'summary.json'}" in last
    assert last.endswith(f"next: move37 play tictactoe --checkpoint {run}")
    summary = json.loads((run / "summary.json").read_text())
    assert summary["iteration"] == 2 and not any(k.startswith("samples/") for k in summary)
    # TensorBoard: the config as text and as hyperparameters, a sample game per iteration.
    texts, hparams = _tensorboard(run / "tensorboard")
    assert '"num_simulations": 4' in texts["config/text_summary"][0]
    games = texts["samples/selfplay_game/text_summary"]
    assert len(games) == 2 and re.search(r"\b[a-c][1-3] .*(1-0|0-1|1/2-1/2)", games[0]), games
    assert "search.num_simulations" in hparams and "model.size" in hparams


def _tensorboard(directory: Path) -> tuple[dict[str, list[str]], str]:
    """The text summaries of a TensorBoard directory by tag, and its hparams records."""
    from tensorboard.backend.event_processing.event_file_loader import EventFileLoader

    texts: dict[str, list[str]] = {}
    hparams = ""
    for path in sorted(directory.glob("events.*")):
        for event in EventFileLoader(str(path)).Load():
            for value in event.summary.value:
                plugin = value.metadata.plugin_data.plugin_name
                if plugin == "text":
                    texts.setdefault(value.tag, []).append(
                        value.tensor.string_val[0].decode())
                elif plugin == "hparams":
                    hparams += value.metadata.plugin_data.content.decode(errors="replace")
    return texts, hparams


@pytest.mark.parametrize("workers", [0, 1])
def test_ctrl_c_saves_and_prints_one_line(tmp_path: Path, workers: int) -> None:
    run = tmp_path / "run"
    # Its own session, so that the signal reaches the learner and its workers together, as
    # Ctrl-C on a terminal reaches the foreground process group.
    process = subprocess.Popen(
        _cli("train", "tictactoe", "--out", str(run), "--iterations", "100000",
             "--workers", str(workers), *SETS),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
        # A shell without job control starts background jobs with SIGINT ignored, and a
        # child inherits that; a terminal's foreground command has the default handler.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        deadline = time.monotonic() + 120
        while len(list((run / "checkpoints").glob("step-*.json"))) < 2:
            assert process.poll() is None and time.monotonic() < deadline, process.stderr.read()
            time.sleep(0.05)
        time.sleep(0.3)
        os.killpg(process.pid, signal.SIGINT)
        out, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    assert process.returncode == 130, out + err
    assert "Traceback" not in out + err and err.strip() == "", err
    last = out.strip().splitlines()[-1]
    match = re.fullmatch(r"interrupted; saved checkpoint (step-\d+); resume with: "
                         r"move37 train --resume (.+)", last)
    assert match and match.group(2) == str(run), last
    assert (run / "checkpoints" / f"{match.group(1)}.json").is_file()
    assert latest_checkpoint(run).name == match.group(1)
    _train("--resume", str(run), "--iterations", "1", "--workers", "0")


def test_help_lists_the_main_commands_first() -> None:
    result = subprocess.run(_cli("--help"), capture_output=True, text=True, timeout=60,
                            check=False, env={**os.environ, "COLUMNS": "100"})
    names = re.findall(r"^│ (\w+) ", result.stdout, flags=re.MULTILINE)
    assert names[:4] == ["train", "play", "arena", "eval"], names
    assert {"gtp", "uci", "perft", "bench"} <= set(names)


def test_arena_ticks_each_game_on_stderr_and_keeps_stdout_for_the_result() -> None:
    result = subprocess.run(_cli("arena", "tictactoe", "--a", "perfect", "--b", "random",
                                 "--games", "4", "--json"),
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    ticks = [line for line in result.stderr.splitlines() if line.startswith("game ")]
    assert [t.split(":")[0] for t in ticks] == [f"game {n}/4" for n in range(1, 5)]
    final = json.loads(result.stdout.splitlines()[-1])
    # The perfect player never loses; the last tick's running count is the match result.
    assert all("B wins" not in t for t in ticks)
    assert ticks[-1].endswith(f"A +{final['wins']} ={final['draws']} -{final['losses']}")
    assert result.stdout.splitlines()[0].startswith("perfect vs random: +")


def test_budget_fields_by_hand() -> None:
    from engine.display import Budget

    # Started 90 s ago, 2-minute budget, resumed at iteration 4 with 6 more to go; 3 done
    # in this call at 30 s each: 90 s left by the iterations, 30 s by the clock.
    budget = Budget(started=time.monotonic() - 90, minutes=2, first_iteration=4,
                    last_iteration=10)
    assert budget.fields(7) == "1:30/2:00 eta 0:30"
    assert budget.describe(more=True) == "6 more iterations / 2 more minutes"
    no_clock = Budget(started=time.monotonic() - 90, last_iteration=10)
    assert no_clock.fields(3) == "1:30 eta 3:30"  # 7 iterations left at 30 s
    assert Budget(started=time.monotonic()).describe() == "one iteration"


def test_display_in_a_pipe_throttles_progress_and_writes_plain_lines(monkeypatch) -> None:
    import io

    from engine import display as display_module
    from engine.display import Display

    now = [100.0]
    monkeypatch.setattr(display_module.time, "monotonic", lambda: now[0])
    stream = io.StringIO()
    display = Display(stream)
    assert not display.live
    display.event("it 1 | games 8")
    display.progress("self-play 1/8 games")  # the run's first progress: written
    now[0] += 5
    display.progress("self-play 2/8 games")  # within 10 s of the last: not written
    display.clear_progress()  # an iteration ended
    now[0] += 2
    display.progress("self-play 3/8 games")  # a short iteration shows no progress
    now[0] += 9
    display.progress("self-play 5/8 games")  # 11 s into a long one: written
    assert stream.getvalue() == "it 1 | games 8\nself-play 1/8 games\nself-play 5/8 games\n"
