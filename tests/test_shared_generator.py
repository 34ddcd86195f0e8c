"""`games.prng` and `mcts.rng` are the same splitmix64 generator, written twice on purpose:
`games` and `mcts` import nothing from each other (and nothing of ours besides), so each
keeps its copy. This test keeps the copies from drifting apart."""

from __future__ import annotations

import numpy as np

from games import prng
from mcts import rng


def test_both_copies_mix_and_split_streams_alike() -> None:
    values = [np.uint64(v) for v in (0, 1, 7, 0x9E3779B97F4A7C15, 2**64 - 1)]
    for value in values:
        assert prng.mix(value) == rng.mix(value)
        for index in (0, 1, 2, 1000):
            assert prng.stream(value, index) == rng.tree_stream(value, index)
