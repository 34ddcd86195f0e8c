"""The actors of a run on a Ray cluster (`cluster = "auto"` or `"HOST:PORT"`).

Each Ray actor hosts the run's plug-in as a worker process would (worker numbers from 1),
but shares no filesystem with the driver: it plays rounds with the weights the driver sends
(`ray.put` once per new `best`, fetched by an actor only when its version changed) and
streams every finished batch of episodes back as it finishes (a Ray streaming generator).
A thread of the driver writes each batch into the run's replay as it arrives, so episodes
reach the disk as soon as with worker processes, and the learner's loop waits for them the
same way.

Faults: an actor that dies (`ray.kill`, SIGKILL, a lost node) is restarted by Ray
(`max_restarts=-1`); the batches it streamed before dying are already the driver's, and a
task is never retried (`max_task_retries=0`), so each finished batch is written exactly
once. The restarted actor is told how many batches its earlier lives wrote and derives a
fresh seed stream from that, so it plays new games rather than repeating the old ones.
"""

from __future__ import annotations

import hashlib
import json
import os
import queue
import shutil
import socket
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from engine.config import ConfigError, to_json

CODE_PACKAGES = ("engine", "games", "mcts", "llm_bridge")
"""Packages whose sources must be the same on the driver and on every actor."""


class ClusterError(ConfigError):
    """No cluster at the address, a Ray or code version mismatch: one line, exit 2."""


def code_root() -> Path:
    """The directory that holds the `engine` package (put on the actors' `PYTHONPATH`)."""
    return Path(__file__).resolve().parents[2]


def code_digest(root: Path | None = None) -> str:
    """A digest of the Python sources of `CODE_PACKAGES` under `root`: the driver and each
    actor compare theirs, so that no run mixes two versions of the code."""
    root = root or code_root()
    digest = hashlib.sha256()
    for package in CODE_PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            digest.update(str(path.relative_to(root)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _reachable(address: str, timeout: float = 3.0) -> bool:
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit():
        raise ClusterError(f"--cluster {address!r}: expected auto or HOST:PORT")
    try:
        with socket.create_connection((host, int(port)), timeout=timeout):
            return True
    except OSError:
        return False


def connect(address: str, actors: int = 0) -> str:
    """Join the Ray cluster at `address` (`auto`: the running one, else start a local one
    with room for `actors`); return a one-line description of it.

    Raises:
        ClusterError: Ray missing, nothing listening at the address, or a version mismatch.
    """
    _present_token()
    try:
        import ray
    except ImportError:
        raise ClusterError("--cluster needs Ray: pip install 'move37[dist]'") from None
    if ray.is_initialized():
        return _describe(ray)
    options: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False,
                               "logging_level": "ERROR"}
    try:
        if address == "auto":
            running = _running_cluster()
            if running and _reachable(running):
                ray.init(address=running, **options)
            else:  # none, or a stale record of a stopped one: start a fresh local cluster
                ray.init(address="local", num_cpus=max(os.cpu_count() or 1, actors), **options)
        else:
            # Ray aborts the whole process when a GCS it was pointed at never answers: look
            # for a listener first, so a wrong address is one line and nothing written.
            if not _reachable(address):
                raise ClusterError(f"no Ray cluster at {address} (start one with "
                                   f"`ray start --head --port PORT`)")
            ray.init(address=address, **options)
    except ClusterError:
        raise
    except Exception as error:  # noqa: BLE001 (Ray's errors: version mismatch, auth, ...)
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise ClusterError(f"cannot join the Ray cluster at {address}: {first}") from None
    check_nodes(ray)
    return _describe(ray)


def _node_stamp() -> dict[str, Any]:
    import ray

    return {"code": code_digest(), "ray": ray.__version__,
            "node": ray.get_runtime_context().get_node_id()}


def check_nodes(ray: Any) -> None:
    """Run a probe on every live node and refuse a cluster whose nodes run other code.

    Raises:
        ClusterError: naming the first node whose move37 sources or Ray version differ.
    """
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    probe = ray.remote(num_cpus=0)(_node_stamp)
    nodes = [n["NodeID"] for n in ray.nodes() if n.get("Alive")]
    stamps = ray.get([probe.options(
        scheduling_strategy=NodeAffinitySchedulingStrategy(node, soft=False),
        runtime_env=actor_runtime_env()).remote() for node in nodes], timeout=120)
    for stamp in stamps:
        _compare(stamp)


def _compare(stamp: dict[str, Any]) -> None:
    import ray

    ours = code_digest()
    if stamp["code"] != ours or stamp["ray"] != ray.__version__:
        raise ClusterError(
            f"node {stamp['node'][:8]} runs other code (move37 sources {stamp['code']}, Ray "
            f"{stamp['ray']}) than this machine ({ours}, Ray {ray.__version__}): install the "
            f"same version on every node")


def actor_runtime_env() -> dict[str, Any]:
    """Actors import the driver's checkout where it exists on their node (a local cluster,
    a shared filesystem), else the installed package; `check_nodes` compares the two."""
    paths = [str(code_root())] + [p for p in os.environ.get("PYTHONPATH", "").split(
        os.pathsep) if p]
    return {"env_vars": {"PYTHONPATH": os.pathsep.join(paths)}}


def _running_cluster() -> str | None:
    """The address of the cluster `ray start` last started on this machine (or
    `RAY_ADDRESS`), as Ray itself records it; None when there is no record."""
    if os.environ.get("RAY_ADDRESS"):
        return os.environ["RAY_ADDRESS"]
    record = Path(os.environ.get("RAY_TMPDIR", tempfile.gettempdir())) / "ray" / \
        "ray_current_cluster"
    try:
        return record.read_text().strip() or None
    except OSError:
        return None


def _present_token() -> None:
    """Put this driver in Ray's token mode when a token is at hand: a cluster started by
    `ray start` authenticates by token by default, and a driver presents its token only in
    token mode (read when Ray is imported, hence before)."""
    if "RAY_AUTH_MODE" in os.environ or not (
            os.environ.get("RAY_AUTH_TOKEN") or (Path.home() / ".ray" / "auth_token").is_file()):
        return
    os.environ["RAY_AUTH_MODE"] = "token"
    if "ray" in sys.modules:  # imported already: make its config read the mode again
        try:
            from ray._raylet import Config

            Config.initialize("")
        except ImportError:
            pass


def _describe(ray: Any) -> str:
    resources = ray.cluster_resources()
    nodes = [n for n in ray.nodes() if n.get("Alive")]
    return (f"Ray {ray.__version__}: {len(nodes)} node(s), {resources.get('CPU', 0):.0f} CPUs, "
            f"{resources.get('GPU', 0):.0f} GPUs")


class ActorHost:
    """What runs inside one Ray actor: the plug-in built as worker `worker`."""

    def __init__(self, plugin_name: str, config_json: str, worker: int) -> None:
        self.plugin_name, self.config_json, self.worker = plugin_name, config_json, worker
        self.plugin: Any = None
        self.version = -1
        self.scratch = Path(tempfile.mkdtemp(prefix="move37-actor-"))
        """The plug-in's run directory on this node (it writes nothing the driver reads)."""

    def stamp(self) -> dict[str, Any]:
        """What the driver checks before the run: the code's digest and Ray's version (and,
        for the record, the process and its scratch directory)."""
        return {**_node_stamp(), "pid": os.getpid(), "scratch": str(self.scratch)}

    def release(self) -> None:
        """Close the plug-in and remove the scratch directory (before the driver ends the
        actor: a killed process cleans nothing)."""
        if self.plugin is not None:
            self.plugin.close()
            self.plugin = None
        shutil.rmtree(self.scratch, ignore_errors=True)

    def play(self, weights_box: list[Any], version: int, written: int) -> Iterator[Any]:
        """One round of the plug-in's actor with the weights of learner step `version`;
        yields each finished batch of episodes as the actor hands it to its replay."""
        import ray

        if self.plugin is None:
            import torch

            from engine.loop.registry import plugin_class

            torch.set_num_threads(1)
            cls = plugin_class(self.plugin_name)
            config = cls.resolve_config(base=json.loads(self.config_json))
            self.plugin = cls.build(config, self.scratch, worker=self.worker, written=written)
        if version != self.version and weights_box:
            self.plugin.load_weights(ray.get(weights_box[0]))
            self.version = version
        batches: queue.Queue = queue.Queue()
        thread = threading.Thread(target=self._act, args=(batches, version), daemon=True)
        thread.start()
        while (item := batches.get()) is not _END:
            if isinstance(item, BaseException):
                raise item
            yield item

    def _act(self, batches: queue.Queue, version: int) -> None:
        try:
            self.plugin.actor.act(_Forward(batches), version)
        except BaseException as error:  # noqa: BLE001 (re-raised in the generator)
            batches.put(error)
        batches.put(_END)


_END = object()


class _Forward:
    """The replay an actor sees inside a Ray actor: every batch goes to the driver."""

    total_episodes = total_items = 0

    def __init__(self, batches: queue.Queue) -> None:
        self.batches = batches

    def add(self, episodes: Any, *, worker: int, version: int) -> int:
        self.batches.put(episodes)
        return len(episodes)


class RayActorPool:
    """`count` Ray actors feeding the driver's replay (see the module docstring)."""

    def __init__(self, plugin_name: str, config: Any, replay: Any, store: Any,
                 count: int) -> None:
        self.plugin_name, self.config, self.replay, self.store = (plugin_name, config,
                                                                  replay, store)
        self.count = count
        self.actors: list[Any] = []
        self.restarts = 0
        self.pids: list[int] = []
        self.scratch_dirs: list[Path] = []
        self.batches = 0
        self._error: BaseException | None = None
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._weights: tuple[Any, list[Any], int] = (None, [], 0)

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> None:
        import ray

        connect(self.config.cluster, self.count)
        remote = ray.remote(ActorHost).options(
            num_cpus=1, max_restarts=-1, max_task_retries=0, runtime_env=actor_runtime_env())
        config_json = to_json(self.config)
        self.actors = [remote.remote(self.plugin_name, config_json, k + 1)
                       for k in range(self.count)]
        try:
            stamps = ray.get([a.stamp.remote() for a in self.actors], timeout=300)
            for stamp in stamps:
                _compare(stamp)  # a node may have joined since `connect` looked
        except ray.exceptions.GetTimeoutError:
            self.stop(0)
            raise ClusterError(f"the cluster found no room for {self.count} actors of one CPU "
                               f"each within 5 minutes") from None
        except ClusterError:
            self.stop(0)
            raise
        self.pids = [s["pid"] for s in stamps]
        self.scratch_dirs = [Path(s["scratch"]) for s in stamps]
        self._thread = threading.Thread(target=self._drain, name="move37-ray-drain",
                                        daemon=True)
        self._thread.start()

    def check(self) -> None:
        """Raise if the actors can no longer feed the run (an actor's task failed)."""
        if self._error is not None:
            raise RuntimeError(f"a Ray actor failed: {self._error}") from self._error

    def alive(self) -> int:
        return 0 if self._error is not None else len(self.actors)

    def stop(self, timeout: float = 30.0) -> None:
        """Let the rounds in flight finish (at most `timeout` seconds), then end the actors."""
        import ray

        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        try:  # best effort: an actor that is dead or busy keeps its scratch directory
            ray.get([actor.release.remote() for actor in self.actors], timeout=10)
        except Exception:  # noqa: BLE001 (the actors end below in any case)
            pass
        for actor in self.actors:
            ray.kill(actor, no_restart=True)
        self.actors = []

    # ------------------------------------------------------------------ the driver's thread
    def _weights_box(self) -> tuple[list[Any], int]:
        """The `best` weights as one object in the cluster's store, put once per change."""
        import ray

        stem = self.store.playing()
        if stem is None:
            return [], 0
        key = stem.with_suffix(".json").stat()
        key = (key.st_ino, key.st_mtime_ns)
        if key != self._weights[0]:
            weights, meta = self.store.load_weights(stem)
            self._weights = (key, [ray.put(weights)], int(meta.get("step", 0)))
        return self._weights[1], self._weights[2]

    def _launch(self, worker: int) -> Any:
        for _ in range(3):
            try:
                box, version = self._weights_box()
                break
            except (OSError, ValueError):  # best replaced while reading: read it again
                time.sleep(0.1)
        else:
            box, version = self._weights[1], self._weights[2]
        actor = self.actors[worker - 1]
        return actor.play.options(num_returns="streaming").remote(
            box, version, self.replay.written(worker)), version

    def _drain(self) -> None:
        import ray

        try:
            running = {k + 1: self._launch(k + 1) for k in range(self.count)}
            while running:
                generators = {id(g): k for k, (g, _) in running.items()}
                ready, _ = ray.wait([g for g, _ in running.values()], num_returns=1,
                                    timeout=0.5)
                for generator in ready:
                    worker = generators[id(generator)]
                    version = running[worker][1]
                    try:
                        episodes = ray.get(next(generator))
                    except StopIteration:
                        episodes = None
                    except ray.exceptions.RayActorError:
                        self.restarts += 1  # Ray restarts it; its next round starts afresh
                        episodes = None
                    if episodes is not None:
                        self.replay.add(episodes, worker=worker, version=version)
                        self.batches += 1
                        continue
                    if self._stopping.is_set():
                        del running[worker]
                    else:
                        running[worker] = self._launch(worker)
        except BaseException as error:  # noqa: BLE001 (reported to the loop by check())
            self._error = error
