"""Random playouts to the end of the game, on an incremental board built for speed.

The state kernels in `rules` recompute groups by flood fill, which suits one step per tree
node. A playout makes hundreds of moves in a row, so it keeps chains as circular linked
lists with pseudo-liberty counts (each stone/empty-neighbour adjacency counted once; a
chain is captured exactly when its count reaches 0) and a list of empty points.

Playout policy (the usual one for Monte Carlo Go): the player to move picks uniformly among
the empty points that are legal and are not its own single-point eye, and passes only when
no such point is left. An eye of colour c is an empty point whose orthogonal neighbours are
all c and whose diagonal neighbours hold at most one opponent stone (none on the edge or in
a corner). Playouts enforce suicide and the simple-ko rule, not superko, and stop after two
passes or at the game's `max_moves`; the final board is scored by area with komi. The
ownership estimate (dead stones) also turns away moves that would put a chain of four or
more stones in atari without capturing, the move that breaks a seki.

Random numbers come from xorshift64* generators seeded from (seed, playout index) with
splitmix64, so results do not depend on thread count or batch order.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from games.go.layout import HEADER_BYTES, KO, MOVES, PASSES, TO_PLAY
from games.go.rules import area, flood, get16, is_finished

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MUL = np.uint64(0x2545F4914F6CDD1D)


@njit(cache=True, nogil=True)
def splitmix64(x: np.uint64) -> np.uint64:
    z = x + _GOLDEN
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


@njit(cache=True, nogil=True)
def _below(rng, k: int) -> int:
    """Uniform integer in [0, k) from the xorshift64* state `rng` (uint64 `[1]`)."""
    x = rng[0]
    x ^= x >> np.uint64(12)
    x ^= x << np.uint64(25)
    x ^= x >> np.uint64(27)
    rng[0] = x
    r = (x * _MUL) >> np.uint64(32)
    return int((r * np.uint64(k)) >> np.uint64(32))


@njit(cache=True, nogil=True)
def _seed_rng(rng, seed: int, index: int) -> None:
    s = splitmix64(np.uint64(seed) ^ splitmix64(np.uint64(index)))
    rng[0] = s if s != np.uint64(0) else _GOLDEN


class _Board:
    """Documentation only: the fast board is a bundle of arrays, indexed by point.

    colour uint8 `[N]`, chain int32 `[N]` (chain id = one of its stones), nxt int32 `[N]`
    (circular list of a chain's stones), plibs / csize int32 `[N]` (per chain id), empties
    int32 `[N]` with epos int32 `[N]` (position of each empty point in `empties`), and
    count int32 `[1]` (number of empty points).
    """


@njit(cache=True, nogil=True)
def _load(board, n, nbr, colour, chain, nxt, plibs, csize, empties, epos, count) -> None:
    """Build the fast board from a plain board (uint8 `[N]`)."""
    count[0] = 0
    for p in range(n):
        colour[p] = board[p]
        chain[p] = -1
        if board[p] == 0:
            empties[count[0]] = p
            epos[p] = count[0]
            count[0] += 1
    for p in range(n):
        if colour[p] == 0 or chain[p] >= 0:
            continue
        chain[p] = p
        nxt[p] = p
        size = 1
        tail = p
        cursor = p
        while True:  # breadth-first over the chain, appending to the circular list
            for k in range(4):
                r = nbr[cursor, k]
                if r < 0:
                    break
                if colour[r] == colour[p] and chain[r] < 0:
                    chain[r] = p
                    nxt[r] = p
                    nxt[tail] = r
                    tail = r
                    size += 1
            cursor = nxt[cursor]
            if cursor == p:
                break
        csize[p] = size
        plibs[p] = 0
    for p in range(n):
        if colour[p] != 0:
            for k in range(4):
                r = nbr[p, k]
                if r < 0:
                    break
                if colour[r] == 0:
                    plibs[chain[p]] += 1


@njit(cache=True, nogil=True)
def _is_eye(colour, p, c, nbr, diag) -> bool:
    for k in range(4):
        q = nbr[p, k]
        if q < 0:
            break
        if colour[q] != c:
            return False
    on_board = 0
    enemies = 0
    for k in range(4):
        q = diag[p, k]
        if q < 0:
            break
        on_board += 1
        if colour[q] == 3 - c:
            enemies += 1
    return enemies == 0 or (on_board == 4 and enemies == 1)


@njit(cache=True, nogil=True)
def _legal(colour, chain, plibs, p, c, nbr) -> bool:
    """Whether colour c may play at the empty point p (suicide check; ko is the caller's)."""
    for k in range(4):
        q = nbr[p, k]
        if q < 0:
            break
        if colour[q] == 0:
            return True
    for k in range(4):
        q = nbr[p, k]
        if q < 0:
            break
        cid = chain[q]
        # Stones of the chain beside p, counted inline (as `_fills_seki` does too): through
        # a shared helper the playouts ran a quarter slower (`move37 bench go`).
        adjacent = 0
        for j in range(4):
            r = nbr[p, j]
            if r < 0:
                break
            if colour[r] != 0 and chain[r] == cid:
                adjacent += 1
        if colour[q] == c:
            if plibs[cid] > adjacent:
                return True
        elif plibs[cid] == adjacent:
            return True
    return False


# The ownership playouts turn away self-atari of chains this large. Sacrifices of one to
# three stones (the straight and bent three shapes) are common kills and stay allowed. On
# 100 finished boards against GNU Go, its 60 self-play games and a corner seki, 4 agreed
# with GNU Go's count on 158 of 161; 2 on 154, 3 on 156, 5 and 7 and no rule on 157
# (the seki lost: its filling chain has 4 stones). It can stall a capturing race whose
# winner must fill a shared liberty: over 221 boards, 216 with the rule and without.
SEKI_MIN_CHAIN = 4


@njit(cache=True, nogil=True)
def _fills_seki(colour, chain, nxt, plibs, csize, p, c, nbr, min_chain) -> bool:
    """Whether colour c playing at the empty point p (legal) captures nothing and leaves a
    chain of `min_chain` or more stones with a single liberty.

    Such a move gives the chain away for nothing. Random players who make it break every
    seki (two groups sharing the last liberties, where whoever fills one first is captured).
    Smaller chains in atari stay allowed: throw-ins and sacrifices inside an eye space are
    how dead groups get captured."""
    lib = -1
    for k in range(4):
        q = nbr[p, k]
        if q < 0:
            break
        if colour[q] == 0:
            if lib >= 0:
                return False
            lib = q
    size = 1
    seen0 = seen1 = seen2 = -1
    for k in range(4):
        q = nbr[p, k]
        if q < 0:
            break
        if colour[q] == 0:
            continue
        cid = chain[q]
        adjacent = 0
        for j in range(4):
            r = nbr[p, j]
            if r < 0:
                break
            if colour[r] != 0 and chain[r] == cid:
                adjacent += 1
        if colour[q] != c:
            if plibs[cid] == adjacent:
                return False  # captures
            continue
        if cid == seen0 or cid == seen1 or cid == seen2:
            continue
        size += csize[cid]
        if seen0 < 0:
            seen0 = cid
        elif seen1 < 0:
            seen1 = cid
        else:
            seen2 = cid
        x = cid
        while True:  # the chain's liberties other than p: two distinct ones end the test
            for j in range(4):
                r = nbr[x, j]
                if r < 0:
                    break
                if colour[r] == 0 and r != p and r != lib:
                    if lib >= 0:
                        return False
                    lib = r
            x = nxt[x]
            if x == cid:
                break
    return size >= min_chain


@njit(cache=True, nogil=True)
def _capture(cid, nbr, colour, chain, nxt, plibs, empties, epos, count) -> int:
    x = cid
    removed = 0
    while True:
        colour[x] = 0
        empties[count[0]] = x
        epos[x] = count[0]
        count[0] += 1
        removed += 1
        x = nxt[x]
        if x == cid:
            break
    while True:
        for k in range(4):
            y = nbr[x, k]
            if y < 0:
                break
            if colour[y] != 0:
                plibs[chain[y]] += 1
        x = nxt[x]
        if x == cid:
            break
    return removed


@njit(cache=True, nogil=True)
def _play(p, c, nbr, colour, chain, nxt, plibs, csize, empties, epos, count) -> int:
    """Play colour c at p (legal). Returns the new simple-ko point, or -1."""
    last = empties[count[0] - 1]
    i = epos[p]
    empties[i] = last
    epos[last] = i
    count[0] -= 1
    colour[p] = c
    chain[p] = p
    nxt[p] = p
    csize[p] = 1
    libs = 0
    for k in range(4):
        q = nbr[p, k]
        if q < 0:
            break
        if colour[q] == 0:
            libs += 1
        else:
            plibs[chain[q]] -= 1
    plibs[p] = libs
    head = p
    for k in range(4):
        q = nbr[p, k]
        if q < 0:
            break
        other = chain[q]
        if colour[q] == c and other != head:
            a, b = head, other
            if csize[a] < csize[b]:
                a, b = b, a
            x = b
            while True:
                chain[x] = a
                x = nxt[x]
                if x == b:
                    break
            na = nxt[a]
            nxt[a] = nxt[b]
            nxt[b] = na
            csize[a] += csize[b]
            plibs[a] += plibs[b]
            head = a
    captured = 0
    captured_at = -1
    for k in range(4):
        q = nbr[p, k]
        if q < 0:
            break
        if colour[q] == 3 - c and plibs[chain[q]] == 0:
            captured += _capture(chain[q], nbr, colour, chain, nxt, plibs, empties, epos, count)
            captured_at = q
    if captured == 1 and csize[head] == 1 and plibs[head] == 1:
        return captured_at
    return -1


@njit(cache=True, nogil=True)
def _run(c, passes, moves, ko, max_moves, nbr, diag, colour, chain, nxt, plibs, csize, empties,
         epos, count, rng, seki_chain=0) -> int:
    """Play randomly until two passes or `max_moves`; `c` is the colour to move. Returns the
    number of moves made. With `seki_chain` > 0, neither player makes a move that
    `_fills_seki` for chains of that many stones."""
    made = 0
    while moves < max_moves and passes < 2:
        k = count[0]
        chosen = -1
        while k > 0:
            j = _below(rng, k)
            p = empties[j]
            if p != ko and not _is_eye(colour, p, c, nbr, diag) and _legal(
                    colour, chain, plibs, p, c, nbr) and not (
                    seki_chain > 0 and _fills_seki(colour, chain, nxt, plibs, csize, p, c, nbr,
                                                   seki_chain)):
                chosen = p
                break
            k -= 1
            other = empties[k]
            empties[j] = other
            epos[other] = j
            empties[k] = p
            epos[p] = k
        if chosen < 0:
            passes += 1
            ko = -1
        else:
            ko = _play(chosen, c, nbr, colour, chain, nxt, plibs, csize, empties, epos, count)
            passes = 0
        moves += 1
        made += 1
        c = 3 - c
    return made


@njit(cache=True, nogil=True)
def _scratch(n: int) -> tuple:
    """Fresh fast-board arrays for an `n`-point board (see `_Board`), a flood-fill stack and
    mark, and one generator state."""
    return (np.empty(n, np.uint8), np.empty(n, np.int32), np.empty(n, np.int32),
            np.empty(n, np.int32), np.empty(n, np.int32), np.empty(n, np.int32),
            np.empty(n, np.int32), np.empty(n, np.int32), np.empty(n, np.int32),
            np.zeros(1, np.int32), np.zeros(1, np.uint64))


@njit(cache=True, nogil=True)
def batch_rollout(states, seed, n, window, max_moves, nbr, diag, komi) -> np.ndarray:
    """float32 `[B]`: result (1, 0, -1) of one random playout from each state, for the
    player to move in that state."""
    base = HEADER_BYTES + 8 * window
    out = np.empty(states.shape[0], np.float32)
    colour, chain, nxt, plibs, csize, empties, epos, stack, mark, count, rng = _scratch(n)
    for b in range(states.shape[0]):
        state = states[b]
        _load(state[base : base + n], n, nbr, colour, chain, nxt, plibs, csize, empties, epos,
              count)
        if not is_finished(state, max_moves):
            _seed_rng(rng, seed, b)
            _run(state[TO_PLAY] + 1, state[PASSES], get16(state, MOVES), get16(state, KO) - 1,
                 max_moves, nbr, diag, colour, chain, nxt, plibs, csize, empties, epos, count,
                 rng)
        black, white = area(colour, n, nbr, stack, mark)
        score = black - white - komi
        if state[TO_PLAY] == 1:
            score = -score
        out[b] = 1.0 if score > 0 else (-1.0 if score < 0 else 0.0)
    return out


@njit(cache=True, nogil=True)
def _bulk_range(first, last, seed, n, max_moves, nbr, diag, komi, scores, lengths) -> None:
    """Playouts `first..last-1` from the empty board into `scores` / `lengths`."""
    colour, chain, nxt, plibs, csize, empties, epos, stack, mark, count, rng = _scratch(n)
    empty_board = np.zeros(n, np.uint8)
    for i in range(first, last):
        _load(empty_board, n, nbr, colour, chain, nxt, plibs, csize, empties, epos, count)
        _seed_rng(rng, seed, i)
        lengths[i] = _run(1, 0, 0, -1, max_moves, nbr, diag, colour, chain, nxt, plibs, csize,
                          empties, epos, count, rng)
        black, white = area(colour, n, nbr, stack, mark)
        scores[i] = black - white - komi


@njit(cache=True, nogil=True)
def bulk_playouts(num_playouts, seed, n, max_moves, nbr, diag, komi) -> tuple:
    """Random playouts from the empty board, fused: nothing but the fast board, one thread.

    Returns:
        (float32 `[num_playouts]` black's area minus white's minus komi,
         int32 `[num_playouts]` moves per game, passes included).
    """
    scores = np.empty(num_playouts, np.float32)
    lengths = np.empty(num_playouts, np.int32)
    _bulk_range(0, num_playouts, seed, n, max_moves, nbr, diag, komi, scores, lengths)
    return scores, lengths


@njit(cache=True, nogil=True, parallel=True)
def bulk_playouts_parallel(num_playouts, seed, n, max_moves, nbr, diag, komi, chunks) -> tuple:
    """`bulk_playouts` split into `chunks` ranges run on Numba's threads; the results do not
    depend on the split."""
    scores = np.empty(num_playouts, np.float32)
    lengths = np.empty(num_playouts, np.int32)
    per_chunk = (num_playouts + chunks - 1) // chunks
    for w in prange(chunks):
        _bulk_range(w * per_chunk, min(num_playouts, (w + 1) * per_chunk), seed, n, max_moves,
                    nbr, diag, komi, scores, lengths)
    return scores, lengths


@njit(cache=True, nogil=True)
def _owner_map(colour, n, nbr, stack, mark, out) -> None:
    """Add each point's owner on the board `colour` to `out` (+1 black, -1 white, 0 for a
    stone-free region touching both or neither): stones own their point, an empty region
    belongs to the one colour it reaches (area scoring)."""
    for p in range(n):
        mark[p] = 0
    for p in range(n):
        v = colour[p]
        if v == 1:
            out[p] += 1.0
        elif v == 2:
            out[p] -= 1.0
        elif mark[p] == 0:
            size, reach = flood(colour, p, nbr, stack, mark, 1)
            sign = 1.0 if reach == 1 else (-1.0 if reach == 2 else 0.0)
            for i in range(size):
                out[stack[i]] += sign


@njit(cache=True, nogil=True)
def ownership(state, seed, num_playouts, n, window, nbr, diag, extra_moves) -> np.ndarray:
    """float32 `[N]`: mean owner of each point (+1 black, -1 white) at the end of
    `num_playouts` random playouts from `state`, each up to `extra_moves` moves long.

    The playouts restart from the board even when the game has ended by two passes: that is
    the point of the estimate, as dead stones are only captured by playing on. The
    no-own-eye rule keeps groups with two eyes alive, so the estimate finds stones that
    cannot live; and no player fills a seki's shared liberty (`_fills_seki`), so stones in
    seki keep their points and the liberties they share stay neutral."""
    base = HEADER_BYTES + 8 * window
    out = np.zeros(n, np.float32)
    board = state[base : base + n]
    colour, chain, nxt, plibs, csize, empties, epos, stack, mark, count, rng = _scratch(n)
    for i in range(num_playouts):
        _load(board, n, nbr, colour, chain, nxt, plibs, csize, empties, epos, count)
        _seed_rng(rng, seed, i)
        _run(state[TO_PLAY] + 1, 0, 0, get16(state, KO) - 1, extra_moves, nbr, diag, colour,
             chain, nxt, plibs, csize, empties, epos, count, rng, SEKI_MIN_CHAIN)
        _owner_map(colour, n, nbr, stack, mark, out)
    for p in range(n):
        out[p] /= max(num_playouts, 1)
    return out
