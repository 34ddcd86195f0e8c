"""The search's results are pinned: speed work on the tree and the game kernels must not
change a single visit.

The digests below were computed by the search before its kernels dropped reference
counting and gained the equal-logits prior (a 5x5 Go position three random plies in, four
trees of 96 simulations, seeds 0-3), on each path a search can take: fused with a uniform
or a rollout evaluator, Python steps with a network-like evaluator (random logits, so the
softmax runs), Gumbel, and several leaves per round (virtual loss). A deliberate change to
the search's rules changes them; then recompute them and say why in the commit.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

import games
from engine.search_adapter import batch_game_rollout, batch_game_roots, batch_game_step
from mcts import BatchSearch, SearchConfig, uniform_evaluator

PINNED = {
    "uniform": "608bfc0a34d8360d",
    "rollout": "b9f9f4f6fa450945",
    "logits": "73f7f38573c9fc36",
    "logits-gumbel": "80ec89dac8f38051",
    "logits-vl": "31a9ddf031942887",
}


def _digest(out) -> str:
    h = hashlib.sha256()
    for array in (out.visit_counts, out.q_values, out.root_value, out.action):
        h.update(np.ascontiguousarray(array).tobytes())
    return h.hexdigest()[:16]


def _logits_evaluator(num_actions: int):
    """Random logits and values that depend on the states only (a stand-in network)."""
    def evaluate(states):
        flat = np.asarray(states).reshape(len(states), -1).astype(np.float64)
        rng = np.random.default_rng(int(flat.sum()) % 1000)
        logits = rng.normal(size=(len(states), num_actions)).astype(np.float32)
        return logits, np.tanh(rng.normal(size=len(states))).astype(np.float32)
    return evaluate


@pytest.fixture(scope="module")
def go_roots():
    game = games.make("go", size=5, komi=7.5)
    states = game.batch_initial(4)
    rng = np.random.default_rng(1)
    for _ in range(3):
        legal = game.batch_legal_mask(states)
        scores = np.where(legal, rng.random(legal.shape), -1)
        states = game.batch_step(states, scores.argmax(1).astype(np.int64))
    return game, states


@pytest.mark.parametrize("label", list(PINNED))
def test_search_results_are_unchanged(go_roots, label: str) -> None:
    game, states = go_roots
    to_play, legal = batch_game_roots(game, states)
    evaluator, kernels, algorithm, leaves = {
        "uniform": (uniform_evaluator(game.num_actions), True, "puct", 1),
        "rollout": (batch_game_rollout(game, 7), True, "puct", 1),
        "logits": (_logits_evaluator(game.num_actions), False, "puct", 1),
        "logits-gumbel": (_logits_evaluator(game.num_actions), False, "gumbel", 1),
        "logits-vl": (_logits_evaluator(game.num_actions), False, "puct", 4),
    }[label]
    config = SearchConfig(num_simulations=96, algorithm=algorithm, leaves_per_round=leaves)
    search = BatchSearch(config, 4, game.num_actions)
    out = search.run(states, batch_game_step(game, kernels=kernels), evaluator,
                     root_to_play=to_play, root_legal=legal, seeds=np.arange(4))
    assert _digest(out) == PINNED[label]
