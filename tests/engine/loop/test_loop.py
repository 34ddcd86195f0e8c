"""The one loop driven by a toy plug-in: run directory, checkpoints, best, gate, resume after
kill -9, worker processes, and a plug-in missing a hook."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file
from toy_plugin import ToyPlugin

from engine.config import ConfigError
from engine.loop import PluginError, Run, prepare_run
from engine.loop.run import items_to_learn

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]


def _run(tmp_path: Path, *overrides: str, name: str = "run") -> Run:
    run_dir = tmp_path / name
    config = prepare_run(ToyPlugin, run_dir, ToyPlugin.resolve_config(overrides=list(overrides)),
                         False)
    return Run(ToyPlugin.build(config, run_dir), run_dir)


def _pull_files(run_dir: Path, worker: int | None = None) -> list[Path]:
    pattern = "w*.json" if worker is None else f"w{worker:02d}-*.json"
    return sorted((run_dir / "pulls").glob(pattern))


def test_iterations_write_the_run_directory(tmp_path: Path) -> None:
    run = _run(tmp_path, "iterations=3", "seed=5")
    summary = run.run()
    run_dir = run.run_dir
    assert json.loads((run_dir / "config.json").read_text())["seed"] == 5
    names = {p.name for p in (run_dir / "checkpoints").iterdir()}
    # step-0 (the starting weights) and steps 1-3, pruned to the newest three, and best.
    assert {"step-000000001.json", "step-000000002.json", "step-000000003.json",
            "best.json", "best.safetensors"} <= names and "step-000000000.json" not in names
    meta = json.loads((run_dir / "checkpoints" / "step-000000003.json").read_text())
    assert meta["kind"] == "toy_plugin:ToyPlugin" and meta["iteration"] == 3
    assert meta["step"] == 3 and meta["arms"] == 4 and meta["config"]["seed"] == 5
    assert len(_pull_files(run_dir)) == 3 and run.plugin.replay.total_episodes == 48
    # The learner counted every pull on disk: its logits are log(1 + rewarded pulls).
    counts = torch.zeros(4)
    for path in _pull_files(run_dir):
        for pull in json.loads(path.read_text())["pulls"]:
            counts[pull["arm"]] += pull["reward"]
    best = load_file(str(run_dir / "checkpoints" / "best.safetensors"))["logits"]
    assert torch.allclose(best, torch.log1p(counts))
    assert summary["iteration"] == 3 and summary["progress"] == int(counts.sum())
    assert [h["iteration"] for h in run.state.history] == [1, 2, 3]
    assert list((run_dir / "tensorboard").iterdir())


def test_a_new_run_refuses_a_used_directory_and_resume_allows_only_limits(tmp_path) -> None:
    _run(tmp_path, "iterations=1").run()
    config = ToyPlugin.resolve_config(overrides=["iterations=1"])
    with pytest.raises(ConfigError, match="already holds a run"):
        prepare_run(ToyPlugin, tmp_path / "run", config, False)
    with pytest.raises(Exception, match="nothing to resume"):
        prepare_run(ToyPlugin, tmp_path / "none", None, True)
    with pytest.raises(ConfigError, match="may change"):
        prepare_run(ToyPlugin, tmp_path / "run", None, True, ["pulls_per_round=3"])


def test_a_rejecting_gate_keeps_best_and_workers_play_it(tmp_path: Path) -> None:
    """The gate rejects every candidate: `best` stays the starting weights, and every round
    the worker played was played with them (learner step 0), while the learner moved on."""
    run = _run(tmp_path, "iterations=4", "workers=1", "gate_every=1", "gate_promotes=false",
               "pulls_per_round=8")
    run.run()
    best = json.loads((run.run_dir / "checkpoints" / "best.json").read_text())
    assert best["step"] == 0 and run.plugin.learner.step == 4
    worker_files = _pull_files(run.run_dir, worker=1)
    assert len(worker_files) >= 4 and not _pull_files(run.run_dir, worker=0)
    assert {json.loads(p.read_text())["version"] for p in worker_files} == {0}
    assert run.plugin.gate.judged == 4


def test_between_judgements_a_gated_run_promotes_nothing(tmp_path: Path) -> None:
    run = _run(tmp_path, "iterations=5", "gate_every=2", "gate_promotes=false")
    run.run()
    best = json.loads((run.run_dir / "checkpoints" / "best.json").read_text())
    assert best["step"] == 0 and run.plugin.gate.judged == 2
    assert (run.run_dir / "checkpoints" / "step-000000005.json").is_file()


def test_a_promoting_gate_moves_best_and_workers_follow(tmp_path: Path) -> None:
    run = _run(tmp_path, "iterations=5", "workers=1", "gate_every=1", "pulls_per_round=8",
               "round_seconds=0.05")
    run.run()
    best = json.loads((run.run_dir / "checkpoints" / "best.json").read_text())
    assert best["step"] == 5
    versions = [json.loads(p.read_text())["version"] for p in _pull_files(run.run_dir, 1)]
    assert versions == sorted(versions) and versions[-1] > 0


def test_rounds_waiting_for_a_slow_learner_are_learned_as_one(tmp_path: Path) -> None:
    """The learner's first update takes long enough for the worker to finish several rounds;
    the next iteration is sized by one round's items (16 pulls), not by all that waited."""
    run = _run(tmp_path, "iterations=3", "workers=1", "pulls_per_round=16",
               "round_seconds=0.05")
    learn, sized = run.plugin.learner.learn, []

    def slow_first_learn(replay, new_items):
        sized.append(new_items)
        if len(sized) == 1:
            time.sleep(1.5)
        return learn(replay, new_items)

    run.plugin.learner.learn = slow_first_learn
    waiting = []
    run.on_iteration = lambda metrics: waiting.append(metrics["actor/rounds_waiting"])
    run.run()
    assert waiting[1] >= 3  # the worker did get ahead
    assert sized[1] == 16


def test_items_to_learn_scales_a_backlog_to_one_round() -> None:
    assert items_to_learn(64, 64, 3000) == 3000
    assert items_to_learn(64, 10, 400) == 400  # a deadline cut the round short
    assert items_to_learn(64, 256, 12000) == 3000
    assert items_to_learn(64, 96, 1000) == 667
    assert items_to_learn(64, 0, 0) == 0


def _spawn(run_dir: Path, *args: str) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(HERE), str(REPO)]))
    return subprocess.Popen([sys.executable, "-m", "engine.loop", ToyPlugin.name,
                             str(run_dir), *args], cwd=REPO, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


@pytest.mark.parametrize("workers", [0, 1])
def test_kill_9_then_resume_loses_no_episode_and_no_checkpoint(tmp_path: Path, workers: int,
                                                               kill_9_when) -> None:
    run_dir = tmp_path / "run"
    process = _spawn(run_dir, "iterations=100000", "round_seconds=0.02",
                     f"workers={workers}")
    kill_9_when(process, lambda: len(list((run_dir / "checkpoints").glob("step-*.json"))) >= 3)
    time.sleep(0.5)  # a worker notices its parent is gone
    before = {p.name for p in _pull_files(run_dir)}
    latest = max((run_dir / "checkpoints").glob("step-*.json"))
    iteration = json.loads(latest.read_text())["iteration"]
    resumed = _spawn(run_dir, "--resume", f"iterations={iteration + 1}")
    assert resumed.wait(120) == 0, resumed.stderr.read().decode()[-2000:]
    after = _pull_files(run_dir)
    assert before <= {p.name for p in after}  # no finished episode lost
    newest = max((run_dir / "checkpoints").glob("step-*.json"))
    meta = json.loads(newest.read_text())
    assert meta["iteration"] == iteration + 1
    # The resumed learner learned from every episode on disk, those after the checkpoint too.
    weights = load_file(str(newest.with_suffix(".safetensors")))["logits"]
    learned = torch.load(newest.with_suffix(".train.pt"), weights_only=True)
    learned_files = set(learned["replay"]["learned"])
    expected = torch.zeros(4)
    for path in after:
        if path.name in learned_files:
            for pull in json.loads(path.read_text())["pulls"]:
                expected[pull["arm"]] += pull["reward"]
    assert before <= learned_files
    assert torch.allclose(weights, torch.log1p(expected))


def test_a_plugin_missing_a_hook_is_refused_at_start(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    plugin = ToyPlugin.build(ToyPlugin.resolve_config(), run_dir)
    plugin.gate = type("NoJudge", (), {"every": 0, "gating": False, "begin": lambda s: {},
                                       "state_dict": lambda s: {},
                                       "load_state_dict": lambda s, x: None})()
    with pytest.raises(PluginError, match="gate NoJudge lacks judge"):
        Run(plugin, run_dir)
    assert not (run_dir / "config.json").exists()
