"""The board-game plug-in: the arena gate against `best`, self-play workers playing `best`,
the `previous` opponent, and opponents checked before a run starts."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from engine.config import ConfigError, resolve
from engine.game_plugin import GamePlugin, check_opponents
from engine.loop import Run, prepare_run
from engine.replay import read_shard
from games import make

TINY = [
    "model.size=b1c8", "model.policy_channels=2", "model.value_hidden=8",
    "search.num_simulations=4", "selfplay.concurrent_games=8", "selfplay.games_per_iteration=8",
    "train.batch_size=16", "arena.games=8", "arena.opponents=[]",
]


def _run(tmp_path: Path, *extra: str) -> Run:
    config = resolve("tictactoe", TINY + list(extra))
    run_dir = tmp_path / "run"
    prepare_run(GamePlugin, run_dir, config, False)
    return Run(GamePlugin.build(config, run_dir), run_dir)


def test_a_weaker_candidate_is_rejected_and_workers_keep_playing_best(tmp_path: Path) -> None:
    """The incumbent plays perfectly (the exact solver stands in for a strong `best`); every
    candidate, a network a few steps old, scores below the threshold and is rejected, so
    `best` stays the starting weights and every shard the worker wrote says so."""
    run = _run(tmp_path, "iterations=3", "workers=1", "arena.gate=true",
               "arena.every_iterations=1", "arena.simulations=2")
    run.plugin.gate.incumbent_spec = lambda incumbent: "perfect"
    seen: list[dict] = []
    run.on_iteration = seen.append
    run.run()
    assert [m["gate/promoted"] for m in seen] == [0.0, 0.0, 0.0]
    assert all(m["arena/score_vs_best"] < 0.55 for m in seen)
    best = json.loads((run.run_dir / "checkpoints" / "best.json").read_text())
    assert best["step"] == 0 and run.plugin.learner.step > 0
    shards = sorted((run.run_dir / "selfplay").glob("w01-*.npz"))
    assert shards
    steps = set()
    for shard in shards:
        with np.load(shard) as data:
            steps.add(json.loads(str(data["meta"]))["network_step"])
        assert len(read_shard(shard)["value"])
    assert steps == {0}


def test_an_equal_candidate_passes_a_gate_it_can_reach(tmp_path: Path) -> None:
    run = _run(tmp_path, "iterations=1", "arena.gate=true", "arena.every_iterations=1",
               "arena.gate_threshold=0.01", "arena.opponents=['previous', 'random']")
    last = run.run()
    assert last["gate/promoted"] == 1.0
    assert {"arena/score_vs_previous", "arena/score_vs_random"} <= set(last)
    best = json.loads((run.run_dir / "checkpoints" / "best.json").read_text())
    assert best["step"] == run.plugin.learner.step


@pytest.mark.parametrize("spec, message", [
    ("perfect", "no perfect player for go"),
    ("mcts:lots", "simulation count"),
    ("ckpt:/nonexistent/run", "no checkpoint"),
    ("gtp:/nonexistent/gnugo --mode gtp", "not found"),
    ("stockfish", "unknown player"),
])
def test_bad_opponents_are_refused_before_the_run(spec: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        check_opponents([spec], make("go", size=9))


def test_good_opponents_pass() -> None:
    check_opponents(["random", "previous", "mcts:16", "perfect"], make("tictactoe"))
