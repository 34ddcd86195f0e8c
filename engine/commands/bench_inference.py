"""`move37 bench inference`: batched network forward passes per second, by precision."""

from __future__ import annotations

from typing import Optional

import typer

from engine.cli import bench_app


@bench_app.command("inference")
def bench_inference_command(
    presets: Optional[list[str]] = typer.Option(
        None, "--preset", help="Preset whose network to time, repeatable [default: connect4, go9]."),
    batches: Optional[list[int]] = typer.Option(
        None, "--batch", help="Batch size, repeatable [default: 1, 32, 256, 1024]."),
    modes: Optional[list[str]] = typer.Option(
        None, "--mode", help="fp32, bf16 (autocast, GPU only), compiled-fp32/-bf16 (torch.compile), "
        "graphs-fp32/-bf16 (compiled with CUDA graphs, GPU only); repeatable "
        "[default: fp32, bf16, compiled-fp32]."),
    device: str = typer.Option("auto", help="auto, cpu or cuda[:N]."),
    threads: int = typer.Option(0, help="Torch threads (0: torch's default)."),
    seed: int = typer.Option(0),
    as_json: bool = typer.Option(False, "--json", help="Print a JSON last line."),
) -> None:
    """Network positions/s by preset, batch size and precision, checked against float64."""
    from benchmarks.bench_inference import main

    argv = ["--presets", *(presets or ["connect4", "go9"]),
            "--batches", *map(str, batches or [1, 32, 256, 1024]),
            "--modes", *(modes or ["fp32", "bf16", "compiled-fp32"]),
            "--device", device, "--threads", str(threads), "--seed", str(seed)]
    if as_json:
        argv.append("--json")
    main(argv)
