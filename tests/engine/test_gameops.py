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
    cpu = torch.device("cpu")
    # float32 on both sides: a compiled bf16 graph rounds in other places than eager bf16
    eager = NetworkEvaluator(model, ops, cpu, precision="fp32")(states[:5])
    compiled = NetworkEvaluator(model, ops, cpu, compile="default", precision="fp32")(states[:5])
    np.testing.assert_allclose(eager[0], compiled[0], rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(eager[1], compiled[1], rtol=1e-4, atol=1e-5)


def _log_softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))



COLUMNS = "ABCDEFGHJ"


def _connect4_image(game, action: int) -> int:
    return 6 - action


def _go9_quarter_turn_image(game, action: int) -> int:
    """(column, row) -> (10 - row, column), counted from 1: a symmetry of the 9x9 board."""
    start = game.initial_state()
    text = game.action_to_text(start, action)
    if text == "pass":
        return action
    column, row = COLUMNS.index(text[0]) + 1, int(text[1:])
    return game.text_to_action(start, f"{COLUMNS[10 - row - 1]}{column}")


@pytest.mark.parametrize("name, moves, image", [
    ("connect4", "4 3 3 5 2", _connect4_image),
    ("go9", "C3 D4 G3 pass E5", _go9_quarter_turn_image),
])
def test_symmetry_averaging_answers_a_position_and_its_image_alike(name, moves, image) -> None:
    """An untrained net answers a position and its mirror image differently; averaged over
    the game's symmetries, every move of the image gets the prior of the move it is the image
    of, both get one value, and that value is the mean of the plain values of the views."""
    from games.base import play_moves

    game = games.make("go", size=9) if name == "go9" else games.make(name)
    ops = GameOps(game)
    torch.manual_seed(0)
    model = build_model(game, resolve(name, ["model.size=b1c8"]))
    start = game.initial_state()
    played = [game.text_to_action(start, t) for t in moves.split()]
    imaged = [game.action_to_text(start, image(game, a)) for a in played]
    states = ops.stack([play_moves(game, moves.split()), play_moves(game, imaged)])
    plain_logits, plain_values = NetworkEvaluator(model, ops, torch.device("cpu"))(states)
    averaged = NetworkEvaluator(model, ops, torch.device("cpu"), average_symmetries=True)
    logits, values = averaged(states)
    assert abs(plain_values[0] - plain_values[1]) > 1e-4  # the net alone is not symmetric
    np.testing.assert_allclose(values[0], values[1], rtol=1e-4, atol=1e-5)
    legal = np.flatnonzero(ops.legal(states[:1])[0])
    position, its_image = _log_softmax(logits)
    np.testing.assert_allclose(position[legal], its_image[[image(game, a) for a in legal]],
                               rtol=1e-4, atol=1e-4)
    assert np.abs(_log_softmax(plain_logits)[0] - position).max() > 1e-4
    if name == "connect4":  # two views: the position and its image
        np.testing.assert_allclose(values[0], plain_values.mean(), rtol=1e-4, atol=1e-5)


def test_bf16_answers_are_float32_answers_to_two_or_three_digits() -> None:
    """bf16 autocast rounds products to 8 bits of mantissa: each answer moves a little (and
    does move: it is not float32 under another name), and no more than that."""
    ops, model, states = _setup()
    with torch.no_grad():  # BatchNorm statistics of real positions, as a trained net has
        model.train()
        model(torch.from_numpy(ops.encode(states)))
    exact = NetworkEvaluator(model, ops, torch.device("cpu"), precision="fp32")(states)
    rounded = NetworkEvaluator(model, ops, torch.device("cpu"), precision="bf16")(states)
    (logits, values), (logits_bf16, values_bf16) = exact, rounded
    error = np.linalg.norm(logits - logits_bf16) / np.linalg.norm(logits)
    assert 1e-5 < error < 3e-2, error
    assert 0 < np.abs(values - values_bf16).max() < 1e-2  # values lie in [-1, 1]
