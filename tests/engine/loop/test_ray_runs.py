"""Runs of `move37 train` and `move37 llm train` with two Ray actors on a real local cluster,
a driver killed with `kill -9` and resumed, and a cluster address with nothing behind it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from ray_cluster import REPO, free_port, require_ray

from engine.checkpoint import latest_checkpoint, load_checkpoint
from engine.replay import read_shard

GAME_SETS = [
    "model.size=b1c8", "model.policy_channels=2", "model.value_hidden=8",
    "search.num_simulations=4", "selfplay.concurrent_games=8", "selfplay.games_per_iteration=8",
    "train.batch_size=16", "arena.every_iterations=0",
]
LLM_SETS = [
    "threads=1", "task_options.digits=1", "task_options.terms=2", 'task_options.ops="+"',
    "tiny.layers=1", "tiny.d_model=32", "tiny.heads=2", "tiny.ffn=64", "tiny.max_len=64",
    "warm_start.steps=5", "warm_start.batch_size=8", "warm_start.problems=40",
    "sampling.max_new_tokens=12", "optim.prompts_per_iteration=4", "grpo.group_size=4",
    "train_problems=10", "eval.every_iterations=2", "eval.dev_problems=8",
    "eval.test_problems=8",
]


def cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "engine", *args]


def sets(items: list[str]) -> list[str]:
    return [part for item in items for part in ("--set", item)]


def run_cli(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(cli(*args), capture_output=True, text=True, timeout=timeout,
                          cwd=REPO, env={**os.environ, "RAY_USAGE_STATS_ENABLED": "0"})


def shard_workers(run: Path) -> set[int]:
    return {int(p.name[1:3]) for p in (run / "selfplay").glob("w*.npz")}


def test_connect4_with_two_ray_actors(cluster, tmp_path):
    run = tmp_path / "c4"
    result = run_cli("train", "connect4", "--cluster", cluster.address, "--actors", "2",
                     "--iterations", "2", "--quiet", "--out", str(run), *sets(GAME_SETS))
    assert result.returncode == 0, result.stderr
    assert shard_workers(run) == {1, 2}  # the learner did not play: both actors did
    assert json.loads((run / "config.json").read_text())["cluster"] == cluster.address
    assert load_checkpoint(latest_checkpoint(run)).meta["iteration"] == 2


def test_tiny_llm_with_two_ray_actors(cluster, tmp_path):
    run = tmp_path / "llm"
    result = run_cli("llm", "train", "--task", "arithmetic", "--model", "tiny", "--algo",
                     "grpo", "--cluster", cluster.address, "--actors", "2", "--iterations",
                     "2", "--quiet", "--out", str(run), "--set",
                     f'cache_dir="{tmp_path / "cache"}"', *sets(LLM_SETS))
    assert result.returncode == 0, result.stderr
    workers = {int(p.name[1:3]) for p in (run / "replay").glob("w*.json")}
    assert workers == {1, 2}
    assert json.loads((run / "summary.json").read_text())["iterations"] == 2


def test_driver_killed_then_resumed_loses_no_finished_game(cluster, tmp_path, kill_9_when):
    run = tmp_path / "run"
    process = subprocess.Popen(
        cli("train", "tictactoe", "--cluster", cluster.address, "--actors", "2",
            "--iterations", "1000", "--quiet", "--out", str(run), *sets(GAME_SETS)),
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=REPO)
    kill_9_when(process, lambda: len(list((run / "checkpoints").glob("step-*.json"))) >= 3,
                settle=0.3)
    shards_before = {p.name for p in (run / "selfplay").glob("*.npz")}
    iteration_before = load_checkpoint(latest_checkpoint(run)).meta["iteration"]
    result = run_cli("train", "--resume", str(run), "--iterations", "2", "--quiet")
    assert result.returncode == 0, result.stderr
    shards_after = {p.name for p in (run / "selfplay").glob("*.npz")}
    assert shards_before <= shards_after  # every game on disk before the kill is still there
    for name in shards_after:
        read_shard(run / "selfplay" / name)  # and whole
    newest = load_checkpoint(latest_checkpoint(run))
    assert newest.meta["iteration"] == iteration_before + 2
    assert newest.meta["positions_generated"] >= sum(
        len(read_shard(run / "selfplay" / n)["value"]) for n in shards_before)


def test_no_cluster_at_the_address_is_one_line_and_writes_nothing(tmp_path):
    require_ray()
    address = f"127.0.0.1:{free_port()}"
    result = run_cli("train", "tictactoe", "--cluster", address, "--actors", "2",
                     "--out", str(tmp_path / "run"), timeout=60)
    assert result.returncode == 2
    assert f"no Ray cluster at {address}" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "run").exists()
