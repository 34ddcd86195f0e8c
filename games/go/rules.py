"""Go rules as Numba kernels over batches of flat `uint8` states (see `layout`).

Each batch kernel loops over the rows of `states [B, state_size]`; the per-state work
(group labelling, capture, scoring, encoding) lives in small helpers shared by all of them.
Scratch arrays are allocated once per batch call; flood fills use stamp marks so that
nothing needs clearing between states. The per-state helpers allocate nothing and are
compiled without reference counting (`_nrt=False`): they only borrow their callers'
arrays, and the atomic reference-count updates Numba would make for every array argument
and view cost more than the rules themselves in a search's one-state steps.

What is enforced: stones with no liberties are captured (the opponent's first, so a move
that captures is never suicide); suicide is illegal; a play may not recreate any position in
the hash ring (positional superko over the last `window` positions; when the window covers
the whole game this is full positional superko); the simple-ko point is also kept (it is
implied by superko and serves the encoding and the random playouts). A pass is always legal.
The game ends after two consecutive passes or `max_moves` moves and is scored by area
(stones plus empty regions that reach only one colour) minus komi for white.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from games.go.layout import HASH, HEADER_BYTES, KO, MOVES, PASSES, POSITIONS, TO_PLAY

_BITSET_WORDS = 256  # 16,384-bit filter in front of the superko ring scan


@njit(cache=True, nogil=True, _nrt=False)
def get16(state: np.ndarray, offset: int) -> int:
    return int(state[offset]) | (int(state[offset + 1]) << 8)


@njit(cache=True, nogil=True, _nrt=False)
def set16(state: np.ndarray, offset: int, value: int) -> None:
    state[offset] = value & 0xFF
    state[offset + 1] = (value >> 8) & 0xFF


@njit(cache=True, nogil=True, _nrt=False)
def is_finished(state: np.ndarray, max_moves: int) -> bool:
    return state[PASSES] >= 2 or get16(state, MOVES) >= max_moves


@njit(cache=True, nogil=True, _nrt=False)
def label_groups(board, n, nbr, zob, group, libs, ghash, stack, mark) -> int:
    """Label the stone groups of `board` (uint8 `[N]`).

    Writes group[p] (group id, -1 on empty points), libs[g] (distinct liberties) and
    ghash[g] (XOR of the group's Zobrist keys). `mark` (int32 `[N]`) is clobbered.
    Returns the number of groups.
    """
    for p in range(n):
        group[p] = -1
        mark[p] = -1
    count = 0
    for p in range(n):
        colour = board[p]
        if colour == 0 or group[p] >= 0:
            continue
        g = count
        count += 1
        group[p] = g
        stack[0] = p
        top = 1
        liberties = 0
        h = np.uint64(0)
        while top > 0:
            top -= 1
            q = stack[top]
            h ^= zob[q, colour]
            for k in range(4):
                r = nbr[q, k]
                if r < 0:
                    break
                v = board[r]
                if v == 0:
                    if mark[r] != g:
                        mark[r] = g
                        liberties += 1
                elif v == colour and group[r] < 0:
                    group[r] = g
                    stack[top] = r
                    top += 1
        libs[g] = liberties
        ghash[g] = h
    return count


@njit(cache=True, nogil=True, _nrt=False)
def _fill_bitset(hashes, count, bits) -> None:
    for w in range(_BITSET_WORDS):
        bits[w] = np.uint64(0)
    for i in range(count):
        h = hashes[i]
        bits[(h >> np.uint64(6)) & np.uint64(_BITSET_WORDS - 1)] |= np.uint64(1) << (h & np.uint64(63))


@njit(cache=True, nogil=True, _nrt=False)
def _seen(h, hashes, count, bits) -> bool:
    word = bits[(h >> np.uint64(6)) & np.uint64(_BITSET_WORDS - 1)]
    if (word >> (h & np.uint64(63))) & np.uint64(1) == 0:
        return False
    for i in range(count):
        if hashes[i] == h:
            return True
    return False


@njit(cache=True, nogil=True, _nrt=False)
def legal_points(state, out, n, window, nbr, zob, group, libs, ghash, stack, mark, bits) -> None:
    """bool `out[:N]`: the points where the player to move may play (ignores game end)."""
    base = HEADER_BYTES + 8 * window
    board = state[base : base + n]
    colour = state[TO_PLAY] + 1
    ko = get16(state, KO) - 1
    label_groups(board, n, nbr, zob, group, libs, ghash, stack, mark)
    current = state[HASH : HASH + 8].view(np.uint64)[0]
    recorded = min(get16(state, POSITIONS), window)
    hashes = state[HEADER_BYTES:base].view(np.uint64)
    if window > 0:
        _fill_bitset(hashes, recorded, bits)
    seen_groups = stack[:4]  # free once the groups are labelled (N >= 25)
    for p in range(n):
        out[p] = False
        if board[p] != 0 or p == ko:
            continue
        breathes = False
        captured = 0
        h = current ^ zob[p, colour]
        for k in range(4):
            q = nbr[p, k]
            if q < 0:
                break
            v = board[q]
            if v == 0:
                breathes = True
            elif v == colour:
                if libs[group[q]] >= 2:
                    breathes = True
            else:
                g = group[q]
                if libs[g] == 1:
                    fresh = True
                    for j in range(captured):
                        if seen_groups[j] == g:
                            fresh = False
                    if fresh:
                        seen_groups[captured] = g
                        captured += 1
                        h ^= ghash[g]
        if not breathes and captured == 0:
            continue  # suicide
        if window > 0 and _seen(h, hashes, recorded, bits):
            continue  # positional superko
        out[p] = True


@njit(cache=True, nogil=True)
def batch_legal(states, n, window, max_moves, nbr, zob) -> np.ndarray:
    """bool `[B, N + 1]` legal actions (all False in finished games)."""
    batch = states.shape[0]
    out = np.zeros((batch, n + 1), dtype=np.bool_)
    # Two scratch allocations, not six: a search steps one state at a time.
    ints = np.empty(4 * n, np.int32)
    group, libs, stack, mark = ints[:n], ints[n : 2 * n], ints[2 * n : 3 * n], ints[3 * n :]
    words = np.empty(n + _BITSET_WORDS, np.uint64)
    ghash, bits = words[:n], words[n:]
    for b in range(batch):
        if is_finished(states[b], max_moves):
            continue
        legal_points(states[b], out[b], n, window, nbr, zob, group, libs, ghash, stack, mark, bits)
        out[b, n] = True
    return out


LIBERTY = -1
"""`flood`'s reach when a group of stones touches an empty point (it has a liberty)."""


@njit(cache=True, nogil=True, _nrt=False)
def flood(board, start, nbr, stack, mark, stamp) -> tuple:
    """Flood the region of `start`'s colour (a group of stones, or an empty region) holding
    `start`, marking its points with `stamp` in `mark` (int32 `[N]`).

    Returns (size, reach): the region's points are left in `stack[:size]` and `reach` is the
    OR of the colours (1 black, 2 white) of the stones bordering it; a group of stones that
    touches an empty point returns `LIBERTY` at once, its size then incomplete.
    """
    colour = board[start]
    mark[start] = stamp
    stack[0] = start
    top = 1
    size = 0
    reach = 0
    while top > size:
        q = stack[size]
        size += 1
        for k in range(4):
            r = nbr[q, k]
            if r < 0:
                break
            w = board[r]
            if w == colour:
                if mark[r] != stamp:
                    mark[r] = stamp
                    stack[top] = r
                    top += 1
            elif w == 0:
                return size, LIBERTY
            else:
                reach |= w
    return size, reach


@njit(cache=True, nogil=True, _nrt=False)
def _remove_if_dead(board, start, nbr, zob, stack, mark, stamp) -> tuple:
    """Clear the group at `start` from `board` if it has no liberty.

    Returns (stones removed, XOR of their keys).
    """
    colour = board[start]
    size, reach = flood(board, start, nbr, stack, mark, stamp)
    if reach == LIBERTY:
        return 0, np.uint64(0)
    h = np.uint64(0)
    for i in range(size):
        board[stack[i]] = 0
        h ^= zob[stack[i], colour]
    return size, h


@njit(cache=True, nogil=True, _nrt=False)
def step_one(src, dst, action, n, window, history, nbr, zob, stack, mark, stamp) -> int:
    """Write into `dst` the state after `action` (assumed legal). Returns the next stamp."""
    # Plain loops, not slice assignments: Numba vectorises these and walks those.
    for i in range(dst.shape[0]):
        dst[i] = src[i]
    base = HEADER_BYTES + 8 * window
    board = dst[base : base + n]
    for k in range(history - 1, 0, -1):
        for i in range(base + k * n, base + (k + 1) * n):
            dst[i + n] = dst[i]
    if history > 0:
        for i in range(n):
            dst[base + n + i] = board[i]
    player = dst[TO_PLAY]
    cur = dst[HASH : HASH + 8].view(np.uint64)
    h = cur[0]
    ko = 0
    if action == n:
        dst[PASSES] = min(dst[PASSES] + 1, 2)
    else:
        colour = player + 1
        board[action] = colour
        h ^= zob[action, colour]
        captured = 0
        captured_at = -1
        for k in range(4):
            q = nbr[action, k]
            if q < 0:
                break
            if board[q] != 0 and board[q] != colour:
                stamp += 1
                removed, keys = _remove_if_dead(board, q, nbr, zob, stack, mark, stamp)
                captured += removed
                h ^= keys
                if removed == 1:
                    captured_at = q
        if captured == 1:
            empty = 0
            friends = 0
            for k in range(4):
                q = nbr[action, k]
                if q < 0:
                    break
                if board[q] == 0:
                    empty += 1
                elif board[q] == colour:
                    friends += 1
            if empty == 1 and friends == 0:
                ko = captured_at + 1
        dst[PASSES] = 0
    set16(dst, KO, ko)
    set16(dst, MOVES, get16(dst, MOVES) + 1)
    dst[TO_PLAY] = 1 - player
    cur[0] = h
    recorded = get16(dst, POSITIONS)
    if window > 0:
        dst[HEADER_BYTES:base].view(np.uint64)[recorded % window] = h
    set16(dst, POSITIONS, recorded + 1)
    return stamp


@njit(cache=True, nogil=True)
def batch_step(states, actions, n, window, history, nbr, zob) -> np.ndarray:
    """`[B, state_size]` successors of `states` after `actions` (int64 `[B]`)."""
    out = np.empty_like(states)
    ints = np.zeros(2 * n, np.int32)
    stack, mark = ints[:n], ints[n:]
    stamp = 0
    for b in range(states.shape[0]):
        stamp = step_one(states[b], out[b], actions[b], n, window, history, nbr, zob, stack,
                         mark, stamp)
    return out


@njit(cache=True, nogil=True, _nrt=False)
def area(board, n, nbr, stack, mark) -> tuple:
    """(black area, white area): stones plus empty regions that reach only that colour."""
    for p in range(n):
        mark[p] = 0
    black = 0
    white = 0
    for p in range(n):
        v = board[p]
        if v == 1:
            black += 1
        elif v == 2:
            white += 1
        elif mark[p] == 0:
            size, reach = flood(board, p, nbr, stack, mark, 1)
            if reach == 1:
                black += size
            elif reach == 2:
                white += size
    return black, white


@njit(cache=True, nogil=True)
def area_owner(board, n, nbr) -> np.ndarray:
    """int8 `[N]`: +1 a black stone or an empty point of a region that reaches only black,
    -1 the same for white, 0 an empty point of a region that reaches both or neither.
    Summed, it is black's area minus white's (`area`)."""
    out = np.zeros(n, np.int8)
    stack = np.empty(n, np.int32)
    mark = np.zeros(n, np.int32)
    for p in range(n):
        v = board[p]
        if v == 1:
            out[p] = 1
        elif v == 2:
            out[p] = -1
        elif mark[p] == 0:
            size, reach = flood(board, p, nbr, stack, mark, 1)
            owner = 1 if reach == 1 else (-1 if reach == 2 else 0)
            for i in range(size):
                out[stack[i]] = owner
    return out


@njit(cache=True, nogil=True)
def batch_score(states, n, window, nbr, komi) -> np.ndarray:
    """float32 `[B]`: black's area minus white's area minus komi."""
    base = HEADER_BYTES + 8 * window
    out = np.empty(states.shape[0], np.float32)
    stack = np.empty(n, np.int32)
    mark = np.empty(n, np.int32)
    for b in range(states.shape[0]):
        black, white = area(states[b, base : base + n], n, nbr, stack, mark)
        out[b] = black - white - komi
    return out


@njit(cache=True, nogil=True)
def batch_terminal(states, n, window, max_moves, nbr, komi) -> tuple:
    """(bool `[B]` finished, float32 `[B]` value for the player to move, 0 if unfinished).
    Only finished games are scored."""
    batch = states.shape[0]
    base = HEADER_BYTES + 8 * window
    done = np.zeros(batch, np.bool_)
    value = np.zeros(batch, np.float32)
    ints = np.empty(2 * n, np.int32)
    stack, mark = ints[:n], ints[n:]
    for b in range(batch):
        if is_finished(states[b], max_moves):
            done[b] = True
            black, white = area(states[b, base : base + n], n, nbr, stack, mark)
            s = np.float32(black - white - komi)
            if states[b, TO_PLAY] == 1:
                s = -s
            value[b] = 1.0 if s > 0 else (-1.0 if s < 0 else 0.0)
    return done, value
