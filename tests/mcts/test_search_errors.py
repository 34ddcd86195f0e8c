"""Bad input to the search gets a clear error, never a wrong answer or a crash in a kernel."""

from __future__ import annotations

import numpy as np
import pytest
from mcts_toys import bandit_step, fixed_evaluator

from mcts import BatchSearch, SearchConfig, StepResult, uniform_evaluator

ARMS = np.array([0.1, 0.2, 0.3], dtype=np.float32)


def _run(search: BatchSearch, **overrides):
    b = search.batch_size
    kwargs = {"root_states": np.zeros(b, dtype=np.int64), "step": bandit_step(ARMS),
                  "evaluate": uniform_evaluator(3), "root_to_play": np.zeros(b, np.int8),
                  "root_legal": np.ones((b, 3), bool), "rng": np.random.default_rng(0)}
    kwargs.update(overrides)
    states, step, evaluate = kwargs.pop("root_states"), kwargs.pop("step"), kwargs.pop("evaluate")
    return search.run(states, step, evaluate, **kwargs)


def test_constructor_rejects_bad_sizes() -> None:
    with pytest.raises(ValueError, match="batch_size"):
        BatchSearch(SearchConfig(), 0, 3)
    with pytest.raises(ValueError, match="max_nodes"):
        BatchSearch(SearchConfig(), 1, 3, max_nodes=1)
    with pytest.raises(TypeError, match="SearchConfig"):
        BatchSearch({"num_simulations": 3}, 1, 3)  # type: ignore[arg-type]


@pytest.mark.parametrize("overrides, error, match", [
    ({"root_legal": np.ones((2, 4), bool)}, ValueError, "root_legal"),
    ({"root_legal": np.array([[True] * 3, [False] * 3])}, ValueError, "no legal action"),
    ({"root_to_play": np.zeros(3, np.int8)}, ValueError, "root_to_play"),
    ({"root_states": np.zeros(3)}, ValueError, "rows"),
    ({"rng": None}, TypeError, "rng"),
    ({"seeds": np.array([1, 2, 3])}, ValueError, "seeds"),
    ({"num_simulations": 0}, ValueError, "num_simulations"),
    ({"reuse": np.ones(3, bool)}, ValueError, "reuse"),
    ({"evaluate": fixed_evaluator(np.zeros(4))}, ValueError, "evaluate returned"),
    ({"evaluate": lambda s: None}, ValueError, "evaluate must return"),
    ({"evaluate": lambda s: (np.zeros((len(s), 3)), np.full(len(s), np.nan))}, ValueError,
     "not finite"),
])
def test_run_rejects_bad_input(overrides, error, match) -> None:
    with pytest.raises(error, match=match):
        _run(BatchSearch(SearchConfig(num_simulations=4), 2, 3), **overrides)


def test_step_with_wrong_shapes_or_a_stuck_state_is_reported() -> None:
    def short_step(states, actions):
        result = bandit_step(ARMS)(states, actions)
        return result._replace(legal=np.zeros((len(actions), 2), bool))

    with pytest.raises(ValueError, match="step returned"):
        _run(BatchSearch(SearchConfig(num_simulations=4), 2, 3), step=short_step)

    def stuck(states, actions):  # not finished, yet no legal move
        k = len(actions)
        return StepResult(actions.copy(), np.ones(k, np.int8), np.zeros((k, 3), bool),
                          np.zeros(k, bool), np.zeros(k, np.float32))

    with pytest.raises(ValueError, match="no legal action"):
        _run(BatchSearch(SearchConfig(num_simulations=4), 2, 3), step=stuck)
