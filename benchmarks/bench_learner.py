"""The learner's gradient steps: milliseconds per step and positions per second, by preset.

A run's learner spends its time in `engine.learner.Learner.train_step` (forward of every
head, the losses, backward, optimizer), so this times that call as a run makes it: the
preset's network placed as a run places it, its precision, optimizer and batch size, on
a batch of real encodings from random games (uniform policy targets over the legal moves,
results drawn from win, draw and loss; Go's ownership targets where the net has the head).
`--variant KEY=VALUE[,KEY=VALUE]` (repeatable) times other settings of the same preset in
the same run, in rounds that alternate their order (A B, B A, ...) so that a shared
machine's drift and the order itself hit them alike; the report gives each variant's time
as a ratio to the base.

    python -m benchmarks.bench_learner --preset connect4 --variant model.value_head=wdl
"""

from __future__ import annotations

import statistics
import time
from typing import Any

import numpy as np
import torch

from benchmarks.common import emit, parser_for


def training_batch(config: Any, size: int, seed: int) -> dict[str, np.ndarray]:
    """A learner's batch of `size` random-game positions for `config`'s game."""
    import games as registry
    from benchmarks.bench_inference import _positions
    from engine.gameops import GameOps
    from engine.model import network_shape

    game = registry.make(config.game, **config.game_options)
    ops = GameOps(game)
    states = _positions(ops, size, seed)
    legal = ops.legal(states)
    rng = np.random.default_rng(seed)
    batch = {
        "observations": ops.encode(states),
        "policy": (legal / legal.sum(axis=1, keepdims=True)).astype(np.float32),
        "legal": legal,
        "value": rng.choice([-1.0, 0.0, 1.0], size=size).astype(np.float32),
        "root_value": rng.uniform(-1, 1, size=size).astype(np.float32),
        "policy_weight": np.ones(size, dtype=np.float32),
    }
    if network_shape(game).ownership:
        _, height, width = game.observation_shape
        batch["ownership"] = rng.integers(-1, 2, size=(size, height, width), dtype=np.int8)
        batch["ownership_weight"] = np.ones(size, dtype=np.float32)
    return batch


def make_learner(preset: str, overrides: list[str], seed: int) -> Any:
    """The learner a run of `preset` with `overrides` builds, on a fresh network."""
    import games as registry
    from engine.config import resolve
    from engine.learner import Learner
    from engine.model import build_model, place_model, resolve_device

    config = resolve(preset, [f"seed={seed}"] + overrides)
    game = registry.make(config.game, **config.game_options)
    device = resolve_device(config.device)
    torch.manual_seed(seed)
    model = place_model(build_model(game, config), device)
    return config, Learner(model, config.train, device, config.train.root_value_blend,
                           config.precision)


def settings_of(overrides: list[str], variants: list[str]) -> dict[str, list[str]]:
    """Each timed setting's name and overrides: `base` is `overrides`, and each variant
    `K=V[,K=V]` adds its own on top."""
    return {"base": overrides, **{v: overrides + v.split(",") for v in variants}}


def run(preset: str, overrides: list[str], variants: list[str], steps: int, rounds: int,
        seed: int) -> dict[str, Any]:
    learners = {name: make_learner(preset, items, seed)
                for name, items in settings_of(overrides, variants).items()}
    config = learners["base"][0]
    if config.torch_threads > 0:
        torch.set_num_threads(config.torch_threads)
    batch = training_batch(config, config.train.batch_size, seed)
    times: dict[str, list[float]] = {name: [] for name in learners}
    for _, learner in learners.values():  # warm-up: allocator, oneDNN kernels
        for _ in range(3):
            learner.train_step(batch)
    order = list(learners)
    for round_ in range(rounds):
        # Every other round in reverse (A B, B A, ...): a setting timed right after another
        # ran measurably faster here, whichever it was.
        for name in order if round_ % 2 == 0 else order[::-1]:
            learner = learners[name][1]
            start = time.perf_counter()
            for _ in range(steps):
                learner.train_step(batch)
            times[name].append((time.perf_counter() - start) / steps)
    base = statistics.median(times["base"])
    rows = []
    for name, (cfg, learner) in learners.items():
        per_step = statistics.median(times[name])
        rows.append({"setting": name, "ms_per_step": round(per_step * 1000, 2),
                     "positions_per_sec": round(cfg.train.batch_size / per_step, 1),
                     "ratio_to_base": round(per_step / base, 3),
                     "precision": learner.precision})
    return {"preset": preset, "overrides": overrides, "model": config.model.size,
            "batch_size": config.train.batch_size, "device": str(learners["base"][1].device),
            "torch_threads": torch.get_num_threads(), "steps_per_round": steps,
            "rounds": rounds, "rows": rows}


def report(results: dict[str, Any]) -> str:
    lines = [f"learner steps: {results['preset']} {results['model']}, batch "
             f"{results['batch_size']}, {results['device']}, {results['torch_threads']} "
             f"thread(s); median of {results['rounds']} rounds of {results['steps_per_round']}"]
    for row in results["rows"]:
        lines.append(f"  {row['setting']:<40} {row['ms_per_step']:>9.2f} ms/step "
                     f"{row['positions_per_sec']:>10,.0f} positions/s  x{row['ratio_to_base']:.3f}"
                     f"  ({row['precision']})")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = parser_for(__doc__)
    parser.add_argument("--preset", default="connect4")
    parser.add_argument("--set", dest="overrides", action="append", default=[])
    parser.add_argument("--variant", dest="variants", action="append", default=[])
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    results = run(args.preset, args.overrides, args.variants, args.steps, args.rounds, args.seed)
    emit(results, report, args.json)
    return results


if __name__ == "__main__":
    main()
