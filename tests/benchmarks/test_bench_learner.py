"""The learner benchmark times the run's own learner on real positions, and its command
refuses bad settings."""

from __future__ import annotations

import numpy as np
import pytest


def test_the_batch_is_real_positions_with_targets_a_learner_takes() -> None:
    from benchmarks.bench_learner import training_batch
    from engine.config import resolve

    batch = training_batch(resolve("go9"), 32, seed=0)
    assert batch["observations"].shape[0] == 32 and batch["ownership"].shape == (32, 9, 9)
    np.testing.assert_allclose(batch["policy"].sum(axis=1), 1.0, rtol=1e-6)
    assert not (batch["policy"] > 0)[~batch["legal"]].any()  # no target on an illegal move
    assert set(np.unique(batch["value"])) <= {-1.0, 0.0, 1.0}
    assert "ownership" not in training_batch(resolve("connect4"), 8, seed=0)


def test_each_setting_is_timed_with_its_own_learner_and_the_base_is_the_unit() -> None:
    from benchmarks.bench_learner import run

    results = run("connect4", ["model.size=b1c8", "train.batch_size=16"],
                  ["model.value_head=wdl", "precision=fp32,model.size=b2c8"], steps=2,
                  rounds=2, seed=0)
    rows = {row["setting"]: row for row in results["rows"]}
    assert list(rows) == ["base", "model.value_head=wdl", "precision=fp32,model.size=b2c8"]
    assert rows["base"]["ratio_to_base"] == 1.0
    assert rows["precision=fp32,model.size=b2c8"]["precision"] == "fp32"
    for row in rows.values():
        assert row["ms_per_step"] > 0
        # positions/s is the batch over the time of a step (both rounded in the report)
        assert row["positions_per_sec"] * row["ms_per_step"] / 1000 == pytest.approx(16, rel=0.01)


def test_the_learner_trains_as_it_is_timed() -> None:
    import torch

    from benchmarks.bench_learner import make_learner, training_batch

    config, learner = make_learner("connect4", ["model.size=b1c8"], seed=0)
    before = [p.detach().clone() for p in learner.model.parameters()]
    learner.train_step(training_batch(config, 16, seed=0))
    assert learner.step == 1
    assert any(not torch.equal(a, b) for a, b in zip(before, learner.model.parameters()))


@pytest.mark.parametrize("argv, message", [
    (["--variant", "model.value_head=mse"], "model.value_head must be one of scalar, wdl"),
    (["--steps", "0"], "--steps and --rounds must be at least 1"),
])
def test_a_bad_setting_is_a_one_line_usage_error(capsys, argv, message) -> None:
    from engine.cli import main

    with pytest.raises(SystemExit) as exit_:
        main(["bench", "learner", *argv])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert message in err and err.strip().count("\n") == 0
