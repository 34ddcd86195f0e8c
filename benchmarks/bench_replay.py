"""The learner's batch sampling from the replay window: shards joined into chunks against one
chunk per shard.

Writes `--shards` shards of `--positions` 9x9 Go positions each (the go9 preset's encoding
and ownership targets; random contents) into a temporary directory, loads them into a
`ReplayBuffer` with a window of `--window` positions, once with one chunk per shard and once
with the default `CHUNK_POSITIONS`, and times `sample(B)` for each batch size `B` (the
mean over `--repeats` draws), then the symmetry augmentation the learner applies after it.
The learner samples one batch per training step; on a GPU this is the step's CPU share.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.common import emit, parser_for
from engine.replay import (
    CHUNK_POSITIONS,
    GameRecord,
    ReplayBuffer,
    augment,
    shard_name,
    write_shard,
)
from games.go import Go

BATCHES = (256, 512, 1024)


def write_shards(directory: Path, go: Go, shards: int, positions: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    channels, size = go.observation_shape[0], go.size
    for k in range(shards):
        game = GameRecord(
            observations=rng.integers(0, 2, (positions, channels, size, size)).astype(np.float32),
            policy=rng.dirichlet(np.ones(go.num_actions), positions).astype(np.float32),
            legal=np.ones((positions, go.num_actions), dtype=bool),
            to_play=(np.arange(positions) % 2).astype(np.int8),
            root_value=np.zeros(positions, dtype=np.float32),
            policy_weight=np.ones(positions, dtype=np.float32),
            actions=list(range(positions)),
            outcome_values=(1.0, -1.0),
        )
        game.ownership = rng.integers(-1, 2, (positions, size, size)).astype(np.int8)
        write_shard(directory / shard_name(0, k), [game], {"game": "go"})


def time_sampling(directory: Path, window: int, chunk_positions: int, go: Go,
                  repeats: int) -> dict[str, Any]:
    buffer = ReplayBuffer([directory], lambda total: window, chunk_positions=chunk_positions)
    start = time.perf_counter()
    buffer.refresh()
    result: dict[str, Any] = {"chunk_positions": chunk_positions,
                              "load_s": round(time.perf_counter() - start, 2),
                              "chunks": len(buffer._chunks), "window": buffer.size}
    rng = np.random.default_rng(0)
    for batch_size in BATCHES:
        start = time.perf_counter()
        for _ in range(repeats):
            batch = buffer.sample(batch_size, rng)
        result[f"sample_{batch_size}_ms"] = round((time.perf_counter() - start) / repeats * 1e3, 2)
        start = time.perf_counter()
        for _ in range(repeats):
            augment(batch, go.apply_symmetry, go.num_symmetries, rng)
        result[f"augment_{batch_size}_ms"] = round((time.perf_counter() - start) / repeats * 1e3, 2)
    return result


def run(shards: int, positions: int, window: int, repeats: int) -> dict[str, Any]:
    go = Go(size=9, komi=7.5, history=3)
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        write_shards(directory, go, shards, positions, seed=0)
        rows = [time_sampling(directory, window, chunk, go, repeats)
                for chunk in (1, CHUNK_POSITIONS)]
    return {"benchmark": "replay", "shards": shards, "positions_per_shard": positions,
            "per_shard": rows[0], "joined": rows[1],
            "speedup_512": round(rows[0]["sample_512_ms"] / rows[1]["sample_512_ms"], 2)}


def report(results: dict[str, Any]) -> str:
    lines = [f"replay sampling: {results['shards']} shards of {results['positions_per_shard']} "
             f"9x9 Go positions"]
    for name in ("per_shard", "joined"):
        row = results[name]
        samples = ", ".join(f"{b}: {row[f'sample_{b}_ms']} ms" for b in BATCHES)
        augments = ", ".join(f"{b}: {row[f'augment_{b}_ms']} ms" for b in BATCHES)
        lines.append(f"  chunks of {row['chunk_positions']} positions ({row['chunks']} chunks, "
                     f"window {row['window']}, load {row['load_s']} s): sample {samples}; "
                     f"augment {augments}")
    lines.append(f"  joined chunks sample a batch of 512 {results['speedup_512']}x faster")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    """`python -m benchmarks.bench_replay [--json] [--shards N] [--positions P] ...`."""
    parser = parser_for(__doc__)
    parser.add_argument("--shards", type=int, default=2000, help="shards to write")
    parser.add_argument("--positions", type=int, default=128, help="positions per shard")
    parser.add_argument("--window", type=int, default=200_000, help="replay window")
    parser.add_argument("--repeats", type=int, default=20, help="draws per measurement")
    args = parser.parse_args(argv)
    if min(args.shards, args.positions, args.window, args.repeats) < 1:
        parser.error("--shards, --positions, --window and --repeats must be at least 1")
    emit(run(args.shards, args.positions, args.window, args.repeats), report, args.json)


if __name__ == "__main__":
    main()
