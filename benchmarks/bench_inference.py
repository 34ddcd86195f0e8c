"""Batched network inference: positions per second by preset, batch size and precision.

Self-play spends most of its time in the network (see `bench_selfplay`), so this measures
the network alone, the way the evaluator calls it (`torch.inference_mode`, one forward per
batch), in these modes:

* `fp32`          eager float32 (on a GPU, cuDNN convolutions use TF32 as torch does by default);
* `placed-fp32`   eager float32 in the memory format `engine.model.place_model` gives the
  network (channels-last on the CPU: what self-play, the learner and play run);
* `bf16`          eager under bf16 autocast (float32 weights), on a GPU or a CPU (fast on CPUs
  with bf16 instructions, emulated and slow on others: `engine.model.resolve_precision`);
* `placed-bf16`   bf16 autocast in the placed memory format (what a run in `bf16` executes);
* `compiled-fp32` / `compiled-bf16`  `torch.compile` of the same network (default mode);
* `graphs-fp32` / `graphs-bf16`      `torch.compile(mode="reduce-overhead")`: CUDA graphs,
  which replay a whole forward as one launch (GPU only).
  Compile time (the first call at each batch size) is reported separately.

Each mode is checked against a float64 run of the same network on the same inputs before it
is timed (`rel_err` = ||out - ref|| / ||ref|| over the logits), so a fast mode that computes
something else shows up. Inputs are real encodings of positions from random playouts. Times
are medians over repeats after warm-up, with the device synchronised around each batch; the
`end_to_end` column adds what the evaluator also does per batch (encode on the host, copy in,
copy logits and values out).

    python -m benchmarks.bench_inference                       # presets on the default device
    python -m benchmarks.bench_inference --device cuda --presets connect4 go9 chess --json
"""

from __future__ import annotations

import argparse
import copy
import json
import statistics
import time

import numpy as np
import torch

MODES = ["fp32", "placed-fp32", "bf16", "placed-bf16", "compiled-fp32", "compiled-bf16",
         "graphs-fp32", "graphs-bf16"]


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _median_seconds(fn, device: torch.device, repeats: int, min_seconds: float) -> float:
    fn()
    _sync(device)
    times: list[float] = []
    spent = 0.0
    while len(times) < repeats or spent < min_seconds:
        start = time.perf_counter()
        fn()
        _sync(device)
        elapsed = time.perf_counter() - start
        times.append(elapsed)
        spent += elapsed
        if len(times) >= 10 * repeats:
            break
    return statistics.median(times)


def _positions(ops, count: int, seed: int) -> np.ndarray:
    """`count` unfinished states from uniformly random games, shuffled across plies."""
    rng = np.random.default_rng(seed)
    collected: list[np.ndarray] = []
    total = 0
    while total < count:
        states = ops.initial(64)
        for _ in range(400):
            done, _ = ops.terminal(states)
            states = states[~done]
            if len(states) == 0:
                break
            collected.append(states)
            total += len(states)
            legal = ops.legal(states)
            # a uniformly random legal action per row: argmax of noise over the legal set
            actions = np.argmax(np.where(legal, rng.random(legal.shape), -1.0), axis=1)
            states = ops.step(states, actions)
    stacked = np.concatenate(collected)
    return stacked[rng.permutation(len(stacked))[:count]]


def _rel_err(out: torch.Tensor, ref: torch.Tensor) -> float:
    out, ref = out.double().cpu(), ref.double().cpu()
    return float(torch.linalg.vector_norm(out - ref) / torch.linalg.vector_norm(ref))


def bench_preset(preset: str, device: torch.device, batches: list[int], modes: list[str],
                 repeats: int, min_seconds: float, seed: int) -> list[dict]:
    import games as registry
    from engine.config import resolve
    from engine.gameops import GameOps
    from engine.model import autocast, build_model, place_model

    config = resolve(preset, [f"seed={seed}"])
    game = registry.make(config.game, **config.game_options)
    ops = GameOps(game)
    torch.manual_seed(seed)
    model = build_model(game, config).eval()
    # BatchNorm with its initial statistics is the identity; a few training-mode passes over
    # real positions give it the statistics a trained net has, so the check is not trivial.
    states = _positions(ops, max(batches), seed)
    encoded = torch.from_numpy(ops.encode(states))
    with torch.no_grad():
        model.train()
        for _ in range(3):
            model(encoded[: min(len(encoded), 256)])
        model.eval()
        reference = model.double()(encoded[:64].double())[0]
    model = model.float().to(device)
    precision = autocast(device, "bf16")

    results = []
    for mode in modes:
        execution, _, precision_name = mode.rpartition("-") if "-" in mode else ("eager", "", mode)
        if execution == "graphs" and device.type != "cuda":
            continue
        net = model
        compile_s = None
        if execution == "placed":
            net = place_model(copy.deepcopy(model), device)
        elif execution == "compiled":
            net = torch.compile(model, dynamic=False)
        elif execution == "graphs":
            net = torch.compile(model, mode="reduce-overhead", dynamic=False)
        use_bf16 = precision_name == "bf16"

        def forward(x: torch.Tensor, net=net, use_bf16=use_bf16):
            with torch.inference_mode():
                if use_bf16:
                    with precision:
                        return net(x)
                return net(x)

        for batch in batches:
            x = encoded[:batch].to(device)
            if execution in ("compiled", "graphs"):
                start = time.perf_counter()
                forward(x)
                _sync(device)
                compile_s = time.perf_counter() - start  # first call at this shape compiles
            # checked at the timed shape (no recompile), cloned before CUDA graphs reuse it
            check = forward(encoded[:batch].to(device))[0][:64].float().clone()
            seconds = _median_seconds(lambda x=x: forward(x), device, repeats, min_seconds)
            host = states[:batch]

            def end_to_end(host=host):
                obs = torch.from_numpy(ops.encode(host)).to(device, non_blocking=True)
                logits, values = forward(obs)
                return logits.float().cpu().numpy(), values.float().cpu().numpy()

            e2e = _median_seconds(end_to_end, device, repeats, min_seconds)
            row = {
                "preset": preset, "model": config.model.size, "device": str(device),
                "mode": mode, "batch": batch,
                "positions_per_sec": round(batch / seconds, 1),
                "end_to_end_positions_per_sec": round(batch / e2e, 1),
                "ms_per_batch": round(1000 * seconds, 3),
                "rel_err": float(f"{_rel_err(check, reference[: len(check)]):.2e}"),
            }
            if compile_s is not None:
                row["compile_s"] = round(compile_s, 2)
            results.append(row)
    return results


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--presets", nargs="+", default=["connect4", "go9"])
    parser.add_argument("--batches", nargs="+", type=int, default=[1, 32, 256, 1024])
    parser.add_argument("--modes", nargs="+",
                        default=["fp32", "placed-fp32", "bf16", "placed-bf16",
                                 "compiled-fp32"],
                        choices=MODES)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: leave)")
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--min-seconds", type=float, default=0.5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)

    from engine.model import resolve_device

    device = resolve_device(args.device)
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    rows = []
    for preset in args.presets:
        rows += bench_preset(preset, device, args.batches, args.modes, args.repeats,
                             args.min_seconds, args.seed)
    header = f"{'preset':>10} {'model':>8} {'mode':>13} {'batch':>6} {'pos/s':>12} " \
             f"{'e2e pos/s':>12} {'ms/batch':>9} {'rel_err':>9} {'compile_s':>9}"
    print(f"device: {device}" + (f" ({torch.cuda.get_device_name(device)})"
                                 if device.type == "cuda" else f", {torch.get_num_threads()} threads"))
    print(header)
    for r in rows:
        print(f"{r['preset']:>10} {r['model']:>8} {r['mode']:>13} {r['batch']:>6} "
              f"{r['positions_per_sec']:>12,.0f} {r['end_to_end_positions_per_sec']:>12,.0f} "
              f"{r['ms_per_batch']:>9.3f} {r['rel_err']:>9.1e} {r.get('compile_s', ''):>9}")
    if args.json:
        print(json.dumps(rows))
    return rows


if __name__ == "__main__":
    main()
