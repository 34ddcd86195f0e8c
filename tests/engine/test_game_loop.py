"""The training loop end to end on tiny budgets: run, resume, kill -9 at any moment, errors."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import numpy as np
import pytest

from engine.checkpoint import latest_checkpoint, load_checkpoint, load_training_state
from engine.config import ConfigError, resolve
from engine.game_plugin import GamePlugin
from engine.loop import Run
from engine.loop import prepare_run as prepare
from engine.replay import read_shard


def prepare_run(run, config, resume, overrides=None):
    return prepare(GamePlugin, run, config, resume, overrides)


def game_run(config, run, resume=False):
    return Run(GamePlugin.build(config, run), run, resume=resume)

TINY = [
    "model.size=b1c8", "model.policy_channels=2", "model.value_hidden=8",
    "search.num_simulations=4", "selfplay.concurrent_games=8", "selfplay.games_per_iteration=8",
    "train.batch_size=16", "arena.every_iterations=2", "arena.games=4",
    "arena.opponents=['random']",
]


def _config(*extra: str):
    return resolve("tictactoe", TINY + list(extra))


def test_two_iterations_write_everything(tmp_path) -> None:
    config = _config("iterations=2", "seed=4")
    run = tmp_path / "run"
    prepare_run(run, config, False)
    trainer = game_run(config, run)
    last = trainer.run()
    plugin = trainer.plugin
    assert trainer.state.iteration == 2
    assert json.loads((run / "config.json").read_text())["seed"] == 4
    stem = latest_checkpoint(run)
    meta = load_checkpoint(stem).meta
    assert meta["iteration"] == 2 and meta["positions_trained"] == plugin.learner.progress()
    assert meta["kind"] == "game" and meta["step"] == plugin.learner.step
    shards = sorted((run / "selfplay").glob("*.npz"))
    assert shards and sum(len(read_shard(s)["value"]) for s in shards) == plugin.replay.total_items
    # Every finished game's record is on disk in the game's text form.
    records = [line for p in (run / "games").glob("*.txt") for line in p.read_text().splitlines()
               if not line.startswith("#")]  # under a header line
    assert len(records) == plugin.replay.total_episodes >= 16
    assert "arena/score_vs_random" in last
    summary = json.loads((run / "summary.json").read_text())
    assert summary["iteration"] == 2 and summary["games_played"] == len(records)
    # Without a gate every checkpoint is best.
    assert (run / "checkpoints" / "best.json").read_text() == stem.with_suffix(".json").read_text()
    assert list((run / "tensorboard").glob("events.*"))


def test_new_run_refuses_an_existing_directory_and_resume_needs_one(tmp_path) -> None:
    config = _config("iterations=1")
    run = tmp_path / "run"
    prepare_run(run, config, False)
    game_run(config, run).run()
    with pytest.raises(ConfigError, match="already holds a run"):
        prepare_run(run, config, False)
    with pytest.raises(Exception, match="nothing to resume"):
        prepare_run(tmp_path / "empty", None, True)
    with pytest.raises(ConfigError, match="may change"):
        prepare_run(run, None, True, ["train.lr=1"])


def test_resume_restores_optimizer_schedule_and_counters(tmp_path) -> None:
    run = tmp_path / "run"
    config = _config("iterations=1", "seed=9")
    prepare_run(run, config, False)
    first = game_run(config, run)
    first.run()
    steps_after_one = first.plugin.learner.step
    resumed_config = prepare_run(run, None, True, ["iterations=2"])
    second = game_run(resumed_config, run, resume=True)
    assert second.plugin.learner.step == steps_after_one
    assert second.state.iteration == 1
    saved = load_training_state(latest_checkpoint(run))["learner"]["optimizer"]["state"]
    restored = second.plugin.learner.inner.optimizer.state_dict()["state"]
    for key in saved:
        assert np.allclose(saved[key]["exp_avg"].numpy(), restored[key]["exp_avg"].cpu().numpy())
    second.run()
    assert second.state.iteration == 2 and second.plugin.learner.step > steps_after_one


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "engine", *args]


@pytest.mark.parametrize("workers", [0, 1])
def test_kill_9_during_training_then_resume_loses_no_finished_game(tmp_path, workers: int,
                                                                  kill_9_when) -> None:
    run = tmp_path / "run"
    sets = [item for s in TINY for item in ("--set", s)]
    process = subprocess.Popen(
        _cli("train", "tictactoe", "--out", str(run), "--iterations", "1000", "--quiet",
             "--workers", str(workers), *sets),
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    # Once at least two checkpoints exist, kill without warning mid-iteration.
    kill_9_when(process, lambda: len(list((run / "checkpoints").glob("step-*.json"))) >= 2,
                settle=0.3)
    shards_before = {p.name for p in (run / "selfplay").glob("*.npz")}
    stem = latest_checkpoint(run)
    load_checkpoint(stem)  # the newest complete checkpoint loads
    iteration_before = load_checkpoint(stem).meta["iteration"]
    if workers:
        time.sleep(1.0)  # an orphaned worker stops after its round
        shards_before = {p.name for p in (run / "selfplay").glob("*.npz")}
    result = subprocess.run(_cli("train", "--resume", str(run), "--iterations", "1",
                                 "--quiet"),
                            capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stderr
    shards_after = {p.name for p in (run / "selfplay").glob("*.npz")}
    assert shards_before <= shards_after  # no finished game lost
    newest = load_checkpoint(latest_checkpoint(run))
    assert newest.meta["iteration"] == iteration_before + 1
    # The resumed run counted every shard that was on disk, including those after the
    # checkpoint (workers may add a last shard while the learner stops).
    counted = shards_after if not workers else shards_before
    positions = sum(len(read_shard(run / "selfplay" / n)["value"]) for n in counted)
    assert newest.meta["positions_generated"] >= positions
    if not workers:
        assert newest.meta["positions_generated"] == positions


@pytest.mark.parametrize("args, message", [
    (["train", "nosuchgame"], "unknown game"),
    (["train", "tictactoe", "--set", "train.nosuch=1"], "unknown config key"),
    (["train", "tictactoe", "--set", "train.lr=abc"], "train.lr"),
    (["train", "tictactoe", "--set", "arena.opponents=['stockfish']"], "arena.opponents"),
    (["train", "tictactoe", "--set", "arena.gate_threshold=2"], "gate_threshold"),
    (["train", "--resume", "/nonexistent/run"], "nothing to resume"),
    (["eval", "tictactoe", "--checkpoint", "/nonexistent/ckpt.json"], "not found"),
    (["eval", "tictactoe", "--checkpoint", "runs/nothere"], "checkpoint runs/nothere not found"),
    (["eval", "tictactoe", "--checkpoint", "nosuchplayer"], "unknown player"),
    (["eval", "tictactoe", "--checkpoint", "random", "--set", "play_search.c_init=2"],
     "random is not a checkpoint"),
    (["move", "tictactoe", "--checkpoint", "CORRUPT", "--moves", "a1"], "corrupt"),
])
def test_bad_input_is_one_line_and_exit_2(tmp_path, args, message) -> None:
    corrupt = tmp_path / "step-000000001"
    corrupt.with_suffix(".json").write_text("{broken")
    corrupt.with_suffix(".safetensors").write_bytes(b"junk")
    args = [str(corrupt) if a == "CORRUPT" else a for a in args]
    result = subprocess.run(_cli(*args, *(["--out", str(tmp_path / "r")]
                                          if args[:2] == ["train", "tictactoe"] else [])),
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2, result.stderr
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize("symmetries", [False, True])
def test_the_loops_arena_plays_with_the_runs_play_symmetries(tmp_path, symmetries) -> None:
    config = _config(f"play_symmetries={str(symmetries).lower()}")
    run = tmp_path / "run"
    prepare_run(run, config, False)
    plugin = GamePlugin.build(config, run)
    current = plugin.gate._current(seed=0)
    assert (current.evaluator.action_maps is not None) == symmetries
    assert len(current.evaluator.action_maps or []) == (8 if symmetries else 0)
    assert plugin.evaluator.action_maps is None  # self-play keeps one view
