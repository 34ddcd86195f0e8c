"""Self-play shards on disk, the replay window, and the training sampler.

Shard format (`*.npz`, written with `numpy.savez_compressed`, never pickled). One shard holds
every position of the games that finished in one self-play step; T = positions, A = actions.

| field          | dtype   | shape          | meaning                                               |
|----------------|---------|----------------|-------------------------------------------------------|
| observations   | float16 | [T, C, H, W]   | the game's encoding, side to move's point of view      |
| policy         | float32 | [T, A]         | search policy target (visits or Gumbel improved policy)|
| legal          | bool    | [T, A]         | legal actions in the position                          |
| value          | float32 | [T]            | final game result for the player to move (-1, 0, 1)    |
| root_value     | float32 | [T]            | search value at the root for the player to move        |
| value_target   | float32 | [T]            | value the learner trains on (`selfplay.value_target_*`)|
| policy_weight  | float32 | [T]            | 1 where the move got the full search, else 0           |
| game_index     | int32   | [T]            | which game of the shard the position belongs to         |
| ply            | int32   | [T]            | move number within its game                             |
| ownership      | int8    | [T, H, W]      | optional (format 2, games counted by area): each point's final owner, side to move's view (+1, -1, 0 dame) |
| ownership_weight | float32 | [T]          | optional, with ownership: 1 where the row has the target, else 0 |
| meta           | str     | []             | JSON: format version, game, worker, network step, games |

Shards are written to a temporary name and renamed, so a shard that exists is complete.
Format 1 shards (before `value_target`) still load: their value target is the game result.
Shards without the optional ownership fields (format 1, and games without ownership targets)
load as before; a batch that mixes them gets zero ownership of weight 0 for their rows.
"""

from __future__ import annotations

import hashlib
import json
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np

from engine.checkpoint import atomic_write

SHARD_FORMAT_VERSION = 2
SHARD_FIELDS = ("observations", "policy", "legal", "value", "root_value", "policy_weight",
                "game_index", "ply", "value_target")
FALLBACK_FIELDS = {"value_target": "value"}
"""Fields that older shards lack, each read as a copy of the field it defaults to."""
AVERAGED_FIELDS = ("value", "root_value", "value_target")
"""Value targets that `ReplayBuffer(average_duplicates=True)` averages over duplicates."""
OPTIONAL_FIELDS = ("ownership", "ownership_weight")
"""Fields a shard may lack (written from format 2 on, for games with ownership targets)."""
CHUNK_POSITIONS = 8192
"""Positions per chunk of the replay window in memory. A batch gathers from every chunk it
draws from, and one shard holds the games of one self-play step (tens to hundreds of
positions), so sampling shard by shard cost the learner more than its network step."""


@dataclass
class GameRecord:
    """One finished self-play game, position by position (T positions)."""

    observations: np.ndarray  # float32 [T, C, H, W]
    policy: np.ndarray  # float32 [T, A]
    legal: np.ndarray  # bool [T, A]
    to_play: np.ndarray  # int8 [T]
    root_value: np.ndarray  # float32 [T]
    policy_weight: np.ndarray  # float32 [T]
    actions: list[int]  # every move of the game, the random opening's included
    outcome_values: tuple[float, ...]  # final result per player
    text: str = ""  # the game in its standard text form
    resigned: bool = False
    value_target: np.ndarray | None = None  # float32 [T]; None: the final result, values()
    ownership: np.ndarray | None = None  # int8 [T, H, W] final owner, side to move's view
    opening: int = 0  # random opening moves before the first position (no search, no target)

    def values(self) -> np.ndarray:
        """float32 [T]: the final result for the player to move at each position."""
        return np.asarray([self.outcome_values[p] for p in self.to_play], dtype=np.float32)


def write_shard(path: Path, games: list[GameRecord], meta: dict[str, Any]) -> int:
    """Write the games' positions as one shard; return the number of positions."""
    arrays = {
        "observations": np.concatenate([g.observations for g in games]).astype(np.float16),
        "policy": np.concatenate([g.policy for g in games]).astype(np.float32),
        "legal": np.concatenate([g.legal for g in games]).astype(bool),
        "value": np.concatenate([g.values() for g in games]),
        "root_value": np.concatenate([g.root_value for g in games]).astype(np.float32),
        "policy_weight": np.concatenate([g.policy_weight for g in games]).astype(np.float32),
        "game_index": np.concatenate(
            [np.full(len(g.to_play), i, dtype=np.int32) for i, g in enumerate(games)]),
        "ply": np.concatenate([np.arange(len(g.to_play), dtype=np.int32) for g in games]),
        "value_target": np.concatenate(
            [g.values() if g.value_target is None else g.value_target for g in games]
        ).astype(np.float32),
    }
    arrays.update(ownership_arrays(games))
    full_meta = {"format_version": SHARD_FORMAT_VERSION, "games": len(games), **meta}

    def write(tmp: Path) -> None:
        with open(tmp, "wb") as handle:
            np.savez_compressed(handle, meta=np.array(json.dumps(full_meta)), **arrays)

    atomic_write(Path(path), write)
    return int(arrays["value"].shape[0])


def ownership_arrays(games: list[GameRecord]) -> dict[str, np.ndarray]:
    """The optional ownership fields of a shard: none when no game has the target, else
    ownership int8 `[T, H, W]` (zeros for games without it) and its weight `[T]`."""
    shapes = [g.ownership.shape[1:] for g in games if g.ownership is not None]
    if not shapes:
        return {}
    planes, weights = [], []
    for g in games:
        t = len(g.to_play)
        has = g.ownership is not None
        planes.append(g.ownership.astype(np.int8) if has else np.zeros((t, *shapes[0]), np.int8))
        weights.append(np.full(t, 1.0 if has else 0.0, dtype=np.float32))
    return {"ownership": np.concatenate(planes), "ownership_weight": np.concatenate(weights)}


def read_shard(path: Path) -> dict[str, np.ndarray]:
    """Load a shard's arrays (observations converted back to float32 lazily by the sampler);
    the optional fields only where the shard has them."""
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {name: data[name] for name in SHARD_FIELDS
                      if name in data.files or name not in FALLBACK_FIELDS}
            arrays.update({name: data[name] for name in OPTIONAL_FIELDS if name in data.files})
        for name, default in FALLBACK_FIELDS.items():
            if name not in arrays:
                arrays[name] = arrays[default].copy()
    except (OSError, ValueError, KeyError, zipfile.BadZipFile, EOFError) as error:
        raise ValueError(f"shard {path} is unreadable: {error}") from None
    return arrays


def desired_window(total_positions: int, window_min: int, exponent: float, scale: float,
                   window_max: int) -> int:
    """KataGo's power-law replay window: how many recent positions to train on.

    With c = window_min, alpha = exponent, beta = scale and N = positions generated so far:
    window = c * (1 + beta * ((N / c)^alpha - 1) / alpha) once N > c, else N.
    It grows like N^alpha, so early (bad) data leaves the window ever more slowly.
    """
    if total_positions <= window_min:
        return total_positions
    grown = window_min * (1 + scale * ((total_positions / window_min) ** exponent - 1) / exponent)
    return int(min(window_max, grown, total_positions))


def position_keys(observations: np.ndarray, legal: np.ndarray) -> np.ndarray:
    """uint64 `[T]`: a 64-bit digest of each position's encoding and legal moves (two rows
    share a key when, and, but for a 2^-64 chance, only when both are equal)."""
    observations = np.ascontiguousarray(observations)
    legal = np.ascontiguousarray(legal)
    keys = np.empty(len(observations), dtype=np.uint64)
    for i in range(len(observations)):
        digest = hashlib.blake2b(observations[i].tobytes(), digest_size=8)
        digest.update(legal[i].tobytes())
        keys[i] = int.from_bytes(digest.digest(), "little")
    return keys


class ReplayBuffer:
    """The most recent shards of a run, kept in memory, sampled uniformly within the window.

    With `average_duplicates`, a sampled position whose encoding (and legal moves) occurs
    several times in the window gets the targets of all its occurrences averaged: the
    policy weighted by `policy_weight` (fast searches are no policy targets), the value
    fields (`AVERAGED_FIELDS`) evenly. How often it is sampled does not change.
    """

    def __init__(self, shard_dirs: list[Path], window: Callable[[int], int],
                 average_duplicates: bool = False,
                 chunk_positions: int = CHUNK_POSITIONS) -> None:
        """`chunk_positions`: consecutive shards are joined into chunks of about this many
        positions (1: one chunk per shard)."""
        self.shard_dirs = [Path(d) for d in shard_dirs]
        self.window = window
        self.average_duplicates = average_duplicates
        self.chunk_positions = chunk_positions
        self._index: _DuplicateIndex | None = None
        self._loaded: set[str] = set()
        self._chunks: list[dict[str, np.ndarray]] = []
        self.total_positions = 0  # positions generated over the run (all shards ever seen)
        self.total_games = 0
        self.bad_shards: list[str] = []

    def refresh(self) -> int:
        """Load shards that appeared since the last call; return how many positions were new."""
        new_files = []
        for directory in self.shard_dirs:
            if directory.is_dir():
                for path in directory.glob("*.npz"):
                    if str(path) not in self._loaded:
                        new_files.append(path)
        new_files.sort(key=lambda p: (p.stat().st_mtime_ns, p.name))
        added = 0
        fresh: list[dict[str, np.ndarray]] = []
        for path in new_files:
            self._loaded.add(str(path))
            try:
                chunk = read_shard(path)
            except ValueError:
                self.bad_shards.append(str(path))
                continue
            if self.average_duplicates:
                chunk["key"] = position_keys(chunk["observations"], chunk["legal"])
            self.total_games += int(chunk["game_index"].max()) + 1 if len(chunk["value"]) else 0
            fresh.append(chunk)
            added += len(chunk["value"])
        self.total_positions += added
        if fresh:
            self._extend(_newest(fresh, self.window(self.total_positions)))
            self._index = None
        self._trim()
        return added

    def _extend(self, fresh: list[dict[str, np.ndarray]]) -> None:
        """Add shards' positions after the newest, in chunks of about `chunk_positions`:
        consecutive shards with the same fields are joined (the newest chunk too, while it
        is smaller), each position copied once per refresh at most."""
        group: list[dict[str, np.ndarray]] = []
        held = 0
        if self._chunks and len(self._chunks[-1]["value"]) < self.chunk_positions:
            group.append(self._chunks.pop())
            held = len(group[0]["value"])
        for chunk in fresh:
            if group and (held >= self.chunk_positions or group[0].keys() != chunk.keys()):
                self._chunks.append(_joined(group))
                group, held = [], 0
            group.append(chunk)
            held += len(chunk["value"])
        if group:
            self._chunks.append(_joined(group))

    def _trim(self) -> None:
        keep = self.window(self.total_positions)
        held = sum(len(c["value"]) for c in self._chunks)
        while self._chunks and held - len(self._chunks[0]["value"]) >= keep:
            held -= len(self._chunks.pop(0)["value"])
            self._index = None

    @property
    def size(self) -> int:
        return sum(len(c["value"]) for c in self._chunks)

    def sample(self, batch_size: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
        """A batch drawn uniformly from the window (with replacement across chunks)."""
        if not self._chunks:
            raise RuntimeError("replay buffer is empty")
        sizes = np.array([len(c["value"]) for c in self._chunks])
        window = min(self.window(self.total_positions), int(sizes.sum()))
        # Positions are numbered from the newest backwards; draw within the window.
        offsets = np.cumsum(sizes[::-1])
        picks = rng.integers(0, window, size=batch_size)
        chunk_from_end = np.searchsorted(offsets, picks, side="right")
        within = picks - np.concatenate([[0], offsets])[chunk_from_end]
        picked = [(self._chunks[len(self._chunks) - 1 - k],
                   within[chunk_from_end == k]) for k in np.unique(chunk_from_end)]
        names = SHARD_FIELDS + (OPTIONAL_FIELDS if any("ownership" in c for c, _ in picked)
                                else ())
        batch: dict[str, list[np.ndarray]] = {name: [] for name in names}
        for chunk, from_end in picked:
            rows = len(chunk["value"]) - 1 - from_end
            for name in names:
                batch[name].append(chunk[name][rows] if name in chunk
                                   else _absent(name, chunk, rows.size))
        out = {name: np.concatenate(parts) for name, parts in batch.items()}
        out["observations"] = out["observations"].astype(np.float32)
        if self.average_duplicates:
            if self._index is None or self._index.window != window:
                self._index = _DuplicateIndex(self._chunks, window)
            # The batch holds the picks chunk by chunk, as gathered above.
            positions = np.concatenate([picks[chunk_from_end == k]
                                        for k in np.unique(chunk_from_end)])
            self._index.average(out, positions)
        return out


class _DuplicateIndex:
    """The window's positions grouped by `position_keys`, with each repeated group's
    averaged targets (computed when first sampled, kept until the window changes).

    Window position p counts from the newest position backwards, as `ReplayBuffer.sample`
    draws them.
    """

    def __init__(self, chunks: list[dict[str, np.ndarray]], window: int) -> None:
        self.chunks, self.window = chunks, window
        newest_first = chunks[::-1]
        self.keys = np.concatenate([c["key"][::-1] for c in newest_first])[:window]
        self.chunk_of = np.concatenate([np.full(len(c["value"]), len(chunks) - 1 - i)
                                        for i, c in enumerate(newest_first)])[:window]
        self.row_of = np.concatenate([np.arange(len(c["value"]))[::-1]
                                      for c in newest_first])[:window]
        self.order = np.argsort(self.keys, kind="stable")
        self.sorted_keys = self.keys[self.order]
        self._means: dict[int, dict[str, np.ndarray]] = {}

    def average(self, batch: dict[str, np.ndarray], positions: np.ndarray) -> None:
        """Overwrite the targets of the batch rows (window `positions`) that are repeated."""
        keys = self.keys[positions]
        starts = np.searchsorted(self.sorted_keys, keys, side="left")
        ends = np.searchsorted(self.sorted_keys, keys, side="right")
        for i in np.flatnonzero(ends - starts > 1):
            means = self._means.get(int(starts[i]))
            if means is None:
                means = self._group_means(self.order[starts[i]:ends[i]])
                self._means[int(starts[i])] = means
            for name, value in means.items():
                batch[name][i] = value

    def _group_means(self, members: np.ndarray) -> dict[str, np.ndarray]:
        parts: dict[str, list[np.ndarray]] = {n: [] for n in ("policy", "policy_weight",
                                                               *AVERAGED_FIELDS)}
        chunk_of = self.chunk_of[members]
        for c in np.unique(chunk_of):
            rows = self.row_of[members[chunk_of == c]]
            for name in parts:
                parts[name].append(self.chunks[c][name][rows])
        arrays = {name: np.concatenate(p) for name, p in parts.items()}
        weight = arrays["policy_weight"].astype(np.float64)
        if weight.sum() <= 0:  # no full search among them: an even mean (not trained anyway)
            weight = np.ones_like(weight)
        policy = (arrays["policy"] * weight[:, None]).sum(axis=0) / weight.sum()
        means = {"policy": policy.astype(np.float32)}
        for name in AVERAGED_FIELDS:
            means[name] = np.float32(arrays[name].astype(np.float64).mean())
        return means


def _newest(chunks: list[dict[str, np.ndarray]], keep: int) -> list[dict[str, np.ndarray]]:
    """The newest of the chunks (oldest first) that hold `keep` positions or more between
    them: the older ones would be trimmed from the window at once."""
    held = 0
    for start in range(len(chunks) - 1, -1, -1):
        held += len(chunks[start]["value"])
        if held >= keep:
            return chunks[start:]
    return chunks


def _joined(chunks: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """One chunk of the given chunks' rows, in order (all have the same fields)."""
    if len(chunks) == 1:
        return chunks[0]
    return {name: np.concatenate([c[name] for c in chunks]) for name in chunks[0]}


def _absent(name: str, chunk: dict[str, np.ndarray], rows: int) -> np.ndarray:
    """An optional field for rows of a shard without it: zeros of weight 0."""
    if name == "ownership":
        return np.zeros((rows, *chunk["observations"].shape[-2:]), dtype=np.int8)
    return np.zeros(rows, dtype=np.float32)


def augment(batch: dict[str, np.ndarray], apply_symmetry: Callable, num_symmetries: int,
            rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Apply an independent random symmetry to each sample (grouped by symmetry for speed)."""
    if num_symmetries <= 1:
        return batch
    out = {k: v.copy() for k, v in batch.items()}
    choice = rng.integers(0, num_symmetries, size=len(batch["value"]))
    for k in range(1, num_symmetries):
        rows = np.flatnonzero(choice == k)
        if rows.size == 0:
            continue
        obs, pol = apply_symmetry(k, batch["observations"][rows], batch["policy"][rows])
        _, legal = apply_symmetry(k, batch["observations"][rows],
                                  batch["legal"][rows].astype(np.float32))
        out["observations"][rows] = obs
        out["policy"][rows] = pol
        out["legal"][rows] = legal > 0.5
        if "ownership" in batch:
            # Ownership planes move as the encoding's planes do (`TerritoryGame`).
            planes, _ = apply_symmetry(k, batch["ownership"][rows][:, None], batch["policy"][rows])
            out["ownership"][rows] = planes[:, 0]
    return out


def shard_name(worker: int, sequence: int) -> str:
    return f"w{worker:02d}-{sequence:08d}.npz"


def next_shard_sequence(directory: Path, worker: int) -> int:
    """The sequence number after the highest existing shard of `worker` (resume-safe)."""
    prefix = f"w{worker:02d}-"
    numbers = [int(p.stem[len(prefix):]) for p in Path(directory).glob(f"{prefix}*.npz")
               if p.stem[len(prefix):].isdigit()]
    return max(numbers, default=-1) + 1


def fsync_directory(directory: Path) -> None:
    """Make renames inside `directory` durable (best effort on platforms without dir fds)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
