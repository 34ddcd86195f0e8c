"""The network evaluator: answers never depend on batch-mates, padding, or the learner's mode."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import games
from engine.config import resolve
from engine.gameops import GameOps, NetworkEvaluator
from engine.model import build_model


def _setup():
    game = games.make("connect4")
    ops = GameOps(game)
    torch.manual_seed(0)
    model = build_model(game, resolve("connect4", ["model.size=b1c8"]))
    rng = np.random.default_rng(0)
    states = ops.initial(24)
    for _ in range(6):
        legal = ops.legal(states)
        states = ops.step(states, np.argmax(np.where(legal, rng.random(legal.shape), -1), 1))
    return ops, model, states


def test_a_position_gets_the_same_answer_alone_or_in_a_batch_after_training_mode() -> None:
    ops, model, states = _setup()
    evaluator = NetworkEvaluator(model, ops, torch.device("cpu"))
    model.train()  # what the learner leaves behind after a step
    alone = evaluator(states[:1])
    batch = evaluator(states)
    assert not model.training
    np.testing.assert_allclose(alone[0][0], batch[0][0], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(alone[1][0], batch[1][0], rtol=1e-5, atol=1e-6)


def test_padding_to_a_power_of_two_changes_no_answer() -> None:
    ops, model, states = _setup()
    plain = NetworkEvaluator(model, ops, torch.device("cpu"))
    padded = NetworkEvaluator(model, ops, torch.device("cpu"), max_batch=16)
    padded.compiled = True  # pad as a compiled evaluator does, without paying for compilation
    assert len(padded._padded(torch.zeros(5, 3))) == 8 and len(padded._padded(torch.zeros(16, 3))) == 16
    for n in (1, 3, 13, 24):  # 24 > max_batch: two chunks of 16 and 8
        a, b = plain(states[:n]), padded(states[:n])
        np.testing.assert_allclose(a[0], b[0], rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(a[1], b[1], rtol=1e-5, atol=1e-6)


@pytest.mark.slow
def test_compiled_evaluator_matches_eager() -> None:
    ops, model, states = _setup()
    eager = NetworkEvaluator(model, ops, torch.device("cpu"))(states[:5])
    compiled = NetworkEvaluator(model, ops, torch.device("cpu"), compile="default")(states[:5])
    np.testing.assert_allclose(eager[0], compiled[0], rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(eager[1], compiled[1], rtol=1e-4, atol=1e-5)
