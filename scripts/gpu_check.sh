#!/usr/bin/env bash
# The GPU checks: CUDA tests, network inference by precision, self-play throughput.
# Usage: scripts/gpu_check.sh OUTDIR [part]   (part: tests | inference | compile | selfplay | all)
# Run from the repository root on a machine with a CUDA GPU; each part writes OUTDIR/<part>.log.
set -uo pipefail
out=${1:?output directory}; part=${2:-all}
mkdir -p "$out"
export PYTHONUNBUFFERED=1 PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
py=${PYTHON:-python3}
run() { local name=$1; shift; echo "== $name: $*"; timeout 420 "$@" 2>&1 | tee "$out/$name.log" | tail -40; }

if [[ $part == all || $part == tests ]]; then
    nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
    $py -c "import torch, transformers, numba; print('torch', torch.__version__, 'transformers', transformers.__version__, 'numba', numba.__version__)"
    run tests $py -m pytest -q -p no:cacheprovider -o addopts= -rs \
        tests/engine/test_cuda_training.py tests/llm_bridge/test_cuda_policy.py
fi
if [[ $part == all || $part == inference ]]; then
    run inference $py -m benchmarks.bench_inference --presets connect4 go9 chess go19 \
        --batches 1 32 256 1024 --modes fp32 bf16 --json
fi
if [[ $part == all || $part == compile ]]; then
    run compile $py -m benchmarks.bench_inference --presets connect4 go19 \
        --batches 256 --modes compiled-fp32 compiled-bf16 graphs-fp32 graphs-bf16 --json
fi
if [[ $part == all || $part == selfplay ]]; then
    for mode in off cuda-graphs; do
        for games in 256 1024; do
            run "selfplay-$mode-$games" $py -m benchmarks.bench_selfplay --game connect4 \
                --games $games --set 'device="cuda"' --set "compile=\"$mode\"" \
                --set selfplay.concurrent_games=$games --json
        done
    done
fi
if [[ $part == all || $part == train ]]; then
    # Two minutes of the Connect Four preset on the GPU, eager and with CUDA graphs.
    for mode in off cuda-graphs; do
        rm -rf "$out/run-$mode"
        run "train-$mode" $py -m engine train connect4 --minutes 2 --seed 1 --device cuda \
            --set "compile=\"$mode\"" --out "$out/run-$mode" --quiet
        $py - "$out/run-$mode" <<'PY'
import json, pathlib, sys
run = pathlib.Path(sys.argv[1])
meta = json.loads(sorted((run / "checkpoints").glob("step-*.json"))[-1].read_text())
games = sum(len(p.read_text().splitlines()) for p in (run / "games").glob("*.txt"))
print(run.name, "iterations", meta["iteration"], "positions_trained", meta["positions_trained"], "games", games)
PY
        rm -rf "$out/run-$mode"
    done
fi
