"""Network planes of known positions, and the eight symmetries against transformed games."""

from __future__ import annotations

import numpy as np
import pytest

from games.go import Go, vertex_to_point
from games.go.encode import point_permutation, transform_planes, transform_policy


def at(planes: np.ndarray, plane: int, vertex: str, size: int) -> float:
    return float(planes[plane].reshape(-1)[vertex_to_point(vertex, size)])


def test_planes_of_a_known_position() -> None:
    go = Go(size=5, history=2)
    assert go.observation_shape == (15, 5, 5)
    state = go.from_text("""
        . . . . .
        . X O . .
        . . X . .
        . . . . .
        O . . . .""", to_play=1)
    planes = go.encode(state)
    assert planes.dtype == np.float32 and planes.shape == (15, 5, 5)
    # White to move: "own" is white.
    assert at(planes, 0, "C4", 5) == 1 and at(planes, 0, "A1", 5) == 1 and planes[0].sum() == 2
    assert at(planes, 1, "B4", 5) == 1 and planes[1].sum() == 2
    assert planes[2:6].sum() == 0  # no earlier positions after a setup
    assert planes[6].sum() == 0  # white to move
    # White C4 has liberties C5, D4: two. A1 has A2, B1: two. Black B4: A4, B5, B3 (3+).
    own1, own2, own3, _, _, opp3 = planes[7:13]
    assert own2.sum() == 2 and own1.sum() == 0 and own3.sum() == 0
    assert opp3.sum() == 2 and at(planes, 10 + 2, "C3", 5) == 1  # C3 has B3, D3, C2
    assert planes[13].sum() == 0 and planes[14].sum() == 25


def test_history_planes_follow_the_moves() -> None:
    go = Go(size=5, history=2)
    state = go.initial_state()
    for vertex in ("C3", "D3", "B2"):
        state = go.next_state(state, go.text_to_action(state, vertex))
    planes = go.encode(state)  # white to move; black has C3, B2; white D3
    assert at(planes, 0, "D3", 5) == 1 and at(planes, 1, "B2", 5) == 1
    # One move ago: C3 (black = opponent) and D3 (white = own), no B2.
    assert at(planes, 2, "D3", 5) == 1 and at(planes, 3, "C3", 5) == 1
    assert at(planes, 3, "B2", 5) == 0
    # Two moves ago: only C3.
    assert planes[4].sum() == 0 and planes[5].sum() == 1 and at(planes, 5, "C3", 5) == 1


def test_illegal_plane_marks_suicide_points() -> None:
    go = Go(size=5)
    state = go.from_text("""
        . O . . .
        O . . . .
        . . . . .
        . . . . .
        . . . . .""")
    planes = go.encode(state)
    illegal = planes[-2]
    assert illegal.sum() == 1 and at(planes, go.observation_shape[0] - 2, "A5", 5) == 1


@pytest.mark.parametrize("k", range(8))
def test_symmetry_of_a_played_game_equals_the_transformed_encoding(k: int) -> None:
    size = 7
    go = Go(size=size)
    perm = point_permutation(k, size)
    rng = np.random.default_rng(k)
    state, image = go.initial_state(), go.initial_state()
    for _ in range(40):
        legal = go.legal_mask(state)
        moved = np.zeros_like(legal)
        moved[perm] = legal[:-1]
        moved[-1] = legal[-1]
        assert np.array_equal(go.legal_mask(image), moved)
        action = int(rng.choice(np.flatnonzero(legal[:-1])))
        state = go.next_state(state, action)
        image = go.next_state(image, int(perm[action]))
    obs, policy = go.apply_symmetry(k, go.encode(state)[None], np.eye(go.num_actions)[None])
    assert np.array_equal(obs[0], go.encode(image))
    # One-hot policies: point p goes to perm[p], the pass stays.
    assert np.array_equal(np.argmax(policy[0], axis=-1), np.append(perm, go.points))


def test_symmetries_are_a_group_of_eight_distinct_maps() -> None:
    grid = np.arange(16).reshape(4, 4)
    images = {transform_planes(k, grid).tobytes() for k in range(8)}
    assert len(images) == 8
    assert np.array_equal(transform_planes(0, grid), grid)
    policies = np.arange(17, dtype=np.float32)
    assert transform_policy(3, policies, 4)[-1] == 16
    with pytest.raises(ValueError):
        transform_planes(8, grid)
