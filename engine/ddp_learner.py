"""The learner on K devices: torch DistributedDataParallel over K processes of one machine.

Rank 0 is the run's own learner (in the driver, beside the replay); ranks 1..K-1 are
replica processes started at the first step, each with a copy of the model and of the
optimizer's state. Every step, rank 0 splits its batch into K equal shards and sends one to
each replica; every rank computes the losses of its shard, DDP averages the gradients, and
every rank takes the same optimizer step, so the replicas stay identical to rank 0's model
(which is what checkpoints save and self-play uses). The gradient is the mean of the
shards' gradients: with batch norm, each shard is normalised by its own statistics, as
data-parallel training always does.

Devices: `cuda:k` for rank k on a GPU machine (NCCL); on the CPU, K processes joined by
gloo (what the tests use).
"""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import queue
import socket
from typing import Any

import numpy as np
import torch

from engine.config import TrainConfig
from engine.learner import Learner

REPLY_SECONDS = 600.0
"""How long rank 0 waits for a replica's step before calling it lost."""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rank_device(device: torch.device, rank: int) -> torch.device:
    """Rank `rank`'s device: the rank-th GPU when training on CUDA, else the CPU."""
    return torch.device("cuda", rank) if device.type == "cuda" else torch.device("cpu")


def shards(batch: dict[str, np.ndarray], count: int) -> list[dict[str, np.ndarray]]:
    """`batch` cut into `count` equal consecutive shards (the remainder is dropped)."""
    size = len(batch["value"]) // count
    if size == 0:
        raise ValueError(f"a batch of {len(batch['value'])} cannot feed {count} learners")
    return [{k: v[i * size:(i + 1) * size] for k, v in batch.items()} for i in range(count)]


def _join(rank: int, world: int, port: int, device: torch.device) -> None:
    import torch.distributed as dist

    dist.init_process_group("nccl" if device.type == "cuda" else "gloo",
                            init_method=f"tcp://127.0.0.1:{port}", rank=rank,
                            world_size=world)


def _wrap(model: torch.nn.Module, device: torch.device) -> torch.nn.Module:
    from torch.nn.parallel import DistributedDataParallel

    return DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda"
                                   else None)


def replica_main(rank: int, world: int, port: int, build: tuple[str, str], device_text: str,
                 inbox: Any, outbox: Any, parent: int) -> None:
    """A replica's process: build the model, take rank 0's state, then train on the shards
    it is sent until told to stop (or until rank 0's process is gone)."""
    import games
    from engine.config import resolve
    from engine.model import build_model

    torch.set_num_threads(1)
    config = resolve(None, None, json.loads(build[1]))
    device = rank_device(torch.device(device_text), rank)
    model = build_model(games.make(build[0], **config.game_options), config).to(device)
    learner = Learner(model, config.train, device, config.train.root_value_blend,
                      config.precision)
    weights, optimizer_state = inbox.get()
    if any(w.dim() == 4 and not w.is_contiguous()
           and w.is_contiguous(memory_format=torch.channels_last) for w in weights.values()):
        # Rank 0's layout (`place_model` on the CPU): DDP checks that every rank's
        # parameters have the same strides.
        model = model.to(memory_format=torch.channels_last)
    model.load_state_dict(weights)
    learner.optimizer.load_state_dict(optimizer_state)
    _join(rank, world, port, device)
    learner.model = _wrap(model, device)
    while os.getppid() == parent:
        try:
            message = inbox.get(timeout=1.0)
        except queue.Empty:
            continue
        if message[0] == "stop":
            break
        if message[0] == "checksum":
            outbox.put(float(sum(p.detach().double().sum() for p in model.parameters())))
            continue
        _, shard, step, positions = message
        learner.step, learner.positions_trained = step, positions
        outbox.put(learner.train_step(shard))
    import torch.distributed as dist

    dist.destroy_process_group()


class DistributedLearner(Learner):
    """`Learner` whose every step is shared by `processes` DDP ranks (module docstring)."""

    def __init__(self, model: torch.nn.Module, config: TrainConfig, device: torch.device,
                 root_value_blend: float, processes: int, build: tuple[str, str],
                 precision: str = "auto") -> None:
        super().__init__(model, config, device, root_value_blend, precision)
        self.processes, self.build = processes, build
        self.plain = model
        self._replicas: list[tuple[Any, Any, Any]] = []

    def _start(self) -> None:
        context = mp.get_context("spawn")
        port = _free_port()
        for rank in range(1, self.processes):
            inbox, outbox = context.Queue(), context.Queue()
            process = context.Process(
                target=replica_main, daemon=True, name=f"move37-learner-{rank}",
                args=(rank, self.processes, port, self.build, str(self.device), inbox, outbox,
                      os.getpid()))
            process.start()
            inbox.put(({k: v.cpu() for k, v in self.plain.state_dict().items()},
                       self.optimizer.state_dict()))
            self._replicas.append((process, inbox, outbox))
        _join(0, self.processes, port, self.device)
        self.model = _wrap(self.plain, self.device)

    def train_step(self, batch: dict[str, np.ndarray]) -> dict[str, float]:
        if not self._replicas:
            self._start()
        parts = shards(batch, self.processes)
        for (_, inbox, _), shard in zip(self._replicas, parts[1:]):
            inbox.put(("step", shard, self.step, self.positions_trained))
        figures = [super().train_step(parts[0])]
        figures += [self._reply(outbox) for _, _, outbox in self._replicas]
        self.positions_trained += sum(len(p["value"]) for p in parts[1:])
        return {k: float(np.mean([f[k] for f in figures])) for k in figures[0]}

    def _reply(self, outbox: Any) -> Any:
        try:
            return outbox.get(timeout=REPLY_SECONDS)
        except queue.Empty:
            raise RuntimeError("a learner replica did not answer; is its process alive?") \
                from None

    def replica_checksums(self) -> list[float]:
        """The sum of every parameter, on rank 0 and on each replica (equal when in step)."""
        for _, inbox, _ in self._replicas:
            inbox.put(("checksum",))
        ours = float(sum(p.detach().double().sum() for p in self.plain.parameters()))
        return [ours] + [self._reply(outbox) for _, _, outbox in self._replicas]

    def close(self) -> None:
        """Stop the replicas and leave the process group."""
        if not self._replicas:
            return
        import torch.distributed as dist

        for process, inbox, _ in self._replicas:
            inbox.put(("stop",))
        dist.destroy_process_group()
        for process, _, _ in self._replicas:
            process.join(30)
            if process.is_alive():
                process.terminate()
        self._replicas = []
        self.model = self.plain
