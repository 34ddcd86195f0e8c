"""The inference benchmark times real positions and checks each mode against float64."""

from __future__ import annotations

from benchmarks.bench_inference import _positions, bench_preset


def test_inference_benchmark_rows_are_checked_against_float64() -> None:
    import torch

    rows = bench_preset("tictactoe", torch.device("cpu"), [1, 8],
                        ["fp32", "placed-fp32", "placed-bf16", "graphs-fp32"],
                        repeats=2, min_seconds=0.0, seed=0)
    # CUDA graphs are a GPU mode: on the CPU they are skipped, not timed as something else
    assert [(r["mode"], r["batch"]) for r in rows] == [
        ("fp32", 1), ("fp32", 8), ("placed-fp32", 1), ("placed-fp32", 8),
        ("placed-bf16", 1), ("placed-bf16", 8)]
    for row in rows:
        assert row["positions_per_sec"] > 0 and row["end_to_end_positions_per_sec"] > 0
        if row["mode"].endswith("fp32"):
            assert 0 < row["rel_err"] < 1e-5  # float32 against float64, never exactly equal
        else:  # bf16 keeps 8 bits of mantissa: about 2-3 significant digits
            assert 1e-5 < row["rel_err"] < 3e-2


def test_positions_are_unfinished_states_of_real_games() -> None:
    import games
    from engine.gameops import GameOps

    ops = GameOps(games.make("tictactoe"))
    states = _positions(ops, 200, seed=1)
    assert len(states) == 200
    assert not ops.terminal(states)[0].any()
    assert len({s.tobytes() for s in states}) > 50  # many distinct positions, not one repeated
