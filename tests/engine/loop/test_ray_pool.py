"""The loop's actors on a real Ray cluster (`ray start --head` on the loopback address).

The toy plug-in (a bandit) keeps these runs short; the board-game and LLM runs through the
CLI, a driver killed with `kill -9` and a wrong address are in `test_ray_runs.py`.
"""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import pytest
from ray_cluster import TOY_DIR
from toy_plugin import ToyPlugin

from engine.loop import Run, prepare_run


@pytest.fixture
def actors_import_toy(monkeypatch):
    # Actors import the toy plug-in from the tests' directory (the driver's PYTHONPATH
    # travels to them with the checkout's root).
    monkeypatch.setenv("PYTHONPATH", str(TOY_DIR))


def toy_run(run_dir: Path, address: str, **fields) -> Run:
    overrides = [f'cluster="{address}"', "workers=2", "pulls_per_round=8",
                 *(f"{k}={v}" for k, v in fields.items())]
    config = prepare_run(ToyPlugin, run_dir, ToyPlugin.resolve_config(overrides=overrides),
                         False)
    return Run(ToyPlugin.build(config, run_dir), run_dir)


def pull_files(run_dir: Path) -> dict[int, list[Path]]:
    by_worker: dict[int, list[Path]] = {}
    for path in sorted((run_dir / "pulls").glob("w*.json")):
        by_worker.setdefault(int(path.name[1:3]), []).append(path)
    return by_worker


def test_two_actors_feed_the_learner(cluster, actors_import_toy, tmp_path, monkeypatch):
    from engine.loop import ray_pool

    pools = []
    start = ray_pool.RayActorPool.start
    monkeypatch.setattr(ray_pool.RayActorPool, "start",
                        lambda pool: (pools.append(pool), start(pool))[1])
    run = toy_run(tmp_path / "run", cluster.address, iterations=3)
    summary = run.run()
    # The actors ran on this machine; their scratch directories went with them.
    assert len(pools[0].scratch_dirs) == 2
    assert not any(path.exists() for path in pools[0].scratch_dirs)
    files = pull_files(tmp_path / "run")
    assert set(files) == {1, 2}  # both actors' episodes reached the driver's replay
    assert run.plugin.learner.progress() > 0
    assert summary["iteration"] == 3
    # The driver wrote each actor's batches under consecutive numbers, as a worker would.
    for paths in files.values():
        assert [int(p.stem[4:]) for p in paths] == list(range(len(paths)))


def test_killed_actors_restart_and_no_batch_is_lost_or_repeated(cluster, actors_import_toy,
                                                                tmp_path):
    import ray

    run = toy_run(tmp_path / "run", cluster.address, iterations=8, round_seconds=0.2)
    seen: dict[str, object] = {}

    def kill(metrics):
        pool = run.pool
        if metrics["iteration"] == 2:
            ray.kill(pool.actors[0], no_restart=False)
        if metrics["iteration"] == 4:
            os.kill(pool.pids[1], signal.SIGKILL)
        seen["restarts"], seen["batches"] = pool.restarts, pool.batches

    run.on_iteration = kill
    summary = run.run()
    assert summary["iteration"] == 8  # the run went on
    assert seen["restarts"] >= 2
    files = [p for paths in pull_files(tmp_path / "run").values() for p in paths]
    contents = [json.loads(p.read_text())["pulls"] for p in files]
    assert len(files) >= seen["batches"]
    # Exactly once: no batch written twice, and no restarted actor replays its first games
    # (a restart derives a fresh seed stream from the batches its earlier lives wrote).
    assert len({json.dumps(c) for c in contents}) == len(contents)


def test_other_code_on_the_cluster_is_refused(cluster, actors_import_toy, tmp_path,
                                              monkeypatch):
    from engine.loop import ray_pool

    run = toy_run(tmp_path / "run", cluster.address, iterations=1)
    monkeypatch.setattr(ray_pool, "code_digest", lambda root=None: "0123456789abcdef")
    with pytest.raises(ray_pool.ClusterError, match="runs other code"):
        run.run()
