"""Network input planes for Go, and the eight board symmetries.

`batch_encode` writes float32 `[B, C, size, size]` with C = 11 + 2H (H = `history`), from
the point of view of the player to move ("own" = the player to move):

==============  =============================================================
plane           content
==============  =============================================================
0, 1            own stones, opponent stones
2 + 2k, 3 + 2k  own / opponent stones k + 1 moves ago (k < H; zeros before the start)
2 + 2H          1 where black is to move (all ones or all zeros)
3 + 2H ..       own groups with 1, 2, 3+ liberties (each stone of the group marked)
6 + 2H ..       opponent groups with 1, 2, 3+ liberties
9 + 2H          empty points the player to move may not play: simple ko, suicide, superko
10 + 2H         ones (marks the board, so zero padding reads as off-board)
==============  =============================================================
"""

from __future__ import annotations

import numpy as np
from numba import njit

from games.go.layout import HEADER_BYTES, TO_PLAY
from games.go.rules import legal_points

BASE_PLANES = 11


def num_planes(history: int) -> int:
    return BASE_PLANES + 2 * history


@njit(cache=True, nogil=True)
def batch_encode(states, size, window, history, nbr, zob) -> np.ndarray:
    """float32 `[B, 11 + 2H, size, size]` encodings of `states [B, state_size]`."""
    n = size * size
    base = HEADER_BYTES + 8 * window
    batch = states.shape[0]
    planes = 11 + 2 * history
    out = np.zeros((batch, planes, n), np.float32)
    group = np.empty(n, np.int32)
    libs = np.empty(n, np.int32)
    ghash = np.empty(n, np.uint64)
    stack = np.empty(n, np.int32)
    mark = np.empty(n, np.int32)
    bits = np.empty(256, np.uint64)
    legal = np.empty(n + 1, np.bool_)
    extra = 2 + 2 * history
    for b in range(batch):
        state = states[b]
        own = state[TO_PLAY] + 1
        # legal_points labels the groups (group/libs) as a side effect.
        legal_points(state, legal, n, window, nbr, zob, group, libs, ghash, stack, mark, bits)
        for k in range(history + 1):
            start = base + k * n
            for p in range(n):
                v = state[start + p]
                if v == own:
                    out[b, 2 * k, p] = 1.0
                elif v != 0:
                    out[b, 2 * k + 1, p] = 1.0
        black_to_move = 1.0 if own == 1 else 0.0
        for p in range(n):
            out[b, extra, p] = black_to_move
            out[b, extra + 8, p] = 1.0
            v = state[base + p]
            if v == 0:
                if not legal[p]:
                    out[b, extra + 7, p] = 1.0
            else:
                lib_plane = min(libs[group[p]], 3) - 1
                side = 0 if v == own else 3
                out[b, extra + 1 + side + lib_plane, p] = 1.0
    return out.reshape(batch, planes, size, size)


def transform_planes(k: int, planes: np.ndarray) -> np.ndarray:
    """Symmetry `k` (0..7) of the dihedral group on the last two axes of `planes`.

    k & 3 quarter turns counter-clockwise, then a transpose when k >= 4; k = 0 is identity.
    """
    if not 0 <= k < 8:
        raise ValueError(f"symmetry index {k} is not in 0..7")
    out = np.rot90(planes, k & 3, axes=(-2, -1))
    if k >= 4:
        out = np.swapaxes(out, -2, -1)
    return np.ascontiguousarray(out)


def transform_policy(k: int, policies: np.ndarray, size: int) -> np.ndarray:
    """Symmetry `k` on policies `[..., size*size + 1]`: points permuted, pass unchanged."""
    n = size * size
    points = policies[..., :n].reshape(*policies.shape[:-1], size, size)
    moved = transform_planes(k, points).reshape(*policies.shape[:-1], n)
    return np.concatenate([moved, policies[..., n:]], axis=-1)


def point_permutation(k: int, size: int) -> np.ndarray:
    """int64 `[N]`: `perm[p]` is where point `p` goes under symmetry `k`."""
    n = size * size
    image = transform_planes(k, np.arange(n).reshape(size, size)).reshape(n)
    perm = np.empty(n, dtype=np.int64)
    perm[image] = np.arange(n)
    return perm
