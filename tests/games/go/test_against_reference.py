"""The batch kernels against an independent reference on random games.

The reference plays on sgfmill's board (its own capture code), forbids suicide and any
repetition of an earlier position itself, and scores with sgfmill's `area_score`. Games are
played in lockstep as one batch through `batch_*`, and one of them also through the
single-state API, so batch and single-state paths are both checked move by move.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sgfmill import boards

from games.go import Go, playout


class Reference:
    """Go by the book, independent of our kernels (sgfmill rows count from the bottom)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.board = boards.Board(size)
        self.to_play = "b"
        self.passes = 0
        self.seen = {self.key(self.board)}

    @staticmethod
    def key(board: boards.Board) -> tuple:
        return tuple(tuple(row) for row in board.board)

    def rc(self, point: int) -> tuple[int, int]:
        row, col = divmod(point, self.size)
        return self.size - 1 - row, col

    def after(self, point: int) -> boards.Board | None:
        """The board after playing `point`, or None if it is illegal."""
        row, col = self.rc(point)
        if self.board.get(row, col) is not None:
            return None
        board = self.board.copy()
        board.play(row, col, self.to_play)
        if board.get(row, col) is None or self.key(board) in self.seen:
            return None  # suicide (sgfmill removed the stone) or positional superko
        return board

    def legal(self) -> np.ndarray:
        n = self.size * self.size
        mask = np.zeros(n + 1, dtype=bool)
        if self.passes < 2:
            mask[n] = True
            for p in range(n):
                mask[p] = self.after(p) is not None
        return mask

    def play(self, action: int) -> None:
        if action == self.size * self.size:
            self.passes += 1
        else:
            self.board = self.after(action)
            self.seen.add(self.key(self.board))
            self.passes = 0
        self.to_play = "w" if self.to_play == "b" else "b"

    def grid(self) -> np.ndarray:
        out = np.zeros((self.size, self.size), dtype=np.int8)
        for row in range(self.size):
            for col in range(self.size):
                value = self.board.get(row, col)
                if value is not None:
                    out[self.size - 1 - row, col] = 1 if value == "b" else 2
        return out


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(size=st.sampled_from([5, 6, 7, 9]), seed=st.integers(0, 2**31 - 1))
def test_random_games_match_the_reference(size: int, seed: int) -> None:
    go = Go(size=size, komi=6.5, max_moves=3 * size * size)
    rng = np.random.default_rng(seed)
    batch = 4
    states = go.batch_initial(batch)
    single = go.initial_state()
    refs = [Reference(size) for _ in range(batch)]
    moves = 0
    for _ in range(go.max_moves):
        legal = go.batch_legal_mask(states)
        done, _ = go.batch_terminal(states)
        actions = np.zeros(batch, dtype=np.int64)
        for b, ref in enumerate(refs):
            assert np.array_equal(go.board(states[b]), ref.grid())
            assert np.array_equal(legal[b], ref.legal()), (b, go.render(states[b]))
            assert done[b] == (ref.passes >= 2)
            if done[b]:
                black_minus_white = ref.board.area_score()
                assert go.score(states[b]) == pytest.approx(black_minus_white - 6.5)
                continue
            points = np.flatnonzero(legal[b][:-1])
            # Pass now and then, more often late, so games also end by two passes.
            pass_now = len(points) == 0 or rng.random() < 0.02 + 0.5 * (ref.passes == 1)
            actions[b] = go.points if pass_now else int(rng.choice(points))
        assert np.array_equal(go.legal_mask(single), legal[0])
        if done.all():
            break
        live = ~done
        stepped = go.batch_step(states[live], actions[live])
        states = states.copy()
        states[live] = stepped
        if live[0]:
            single = go.next_state(single, int(actions[0]))
            assert np.array_equal(single, states[0])
        for b in np.flatnonzero(live):
            refs[b].play(int(actions[b]))
            moves += 1
    assert moves > 20


@pytest.mark.parametrize("size", [9, 13, 19])
def test_fast_playout_board_matches_the_rules(size: int) -> None:
    """The incremental board of the playouts against the flood-fill kernels (simple ko)."""
    go = Go(size=size, superko_window=0, max_moves=4 * size * size)
    nbr = go._nbr
    n = go.points
    colour = np.zeros(n, np.uint8)
    arrays = [np.empty(n, np.int32) for _ in range(6)]
    chain, nxt, plibs, csize, empties, epos = arrays
    count = np.zeros(1, np.int32)
    playout._load(np.zeros(n, np.uint8), n, nbr, colour, chain, nxt, plibs, csize, empties,
                  epos, count)
    state = go.initial_state()
    rng = np.random.default_rng(size)
    ko = -1
    for move in range(300 if size < 19 else 400):
        c = move % 2 + 1
        fast_legal = np.array([colour[p] == 0 and p != ko and playout._legal(
            colour, chain, plibs, p, c, nbr) for p in range(n)])
        assert np.array_equal(fast_legal, go.legal_mask(state)[:n]), move
        assert sorted(empties[: count[0]]) == list(np.flatnonzero(colour == 0))
        points = np.flatnonzero(fast_legal)
        if len(points) == 0:
            break
        p = int(rng.choice(points))
        ko = playout._play(p, c, nbr, colour, chain, nxt, plibs, csize, empties, epos, count)
        state = go.next_state(state, p)
        assert np.array_equal(colour, go.board(state).reshape(-1).astype(np.uint8)), move
        assert ko == go.ko_point(state)
    assert move > 100


def test_rollouts_are_seeded_and_exact_where_the_end_is_forced() -> None:
    go = Go(size=5, komi=7.5)
    states = go.batch_initial(64)
    a = go.batch_random_rollout(states, seed=3)
    assert np.array_equal(a, go.batch_random_rollout(states, seed=3))
    assert not np.array_equal(a, go.batch_random_rollout(states, seed=4))
    assert set(np.unique(a)) <= {-1.0, 1.0}
    # Black owns the board with two single-point eyes: nobody has a move but to pass, and
    # black wins by 25 - 7.5 whoever is to move.
    full = """
        . X X X X
        X X X X X
        X X X X X
        X X X X X
        X X X X ."""
    for to_play, expected in ((0, 1.0), (1, -1.0)):
        state = go.from_text(full, to_play=to_play)
        assert np.all(go.batch_random_rollout(np.stack([state] * 8), seed=1) == expected)
    finished = go.next_state(go.next_state(go.initial_state(), 25), 25)
    assert go.batch_random_rollout(finished[None], seed=0)[0] == go.batch_terminal(
        finished[None])[1][0]


def test_bulk_playouts_do_not_depend_on_the_split() -> None:
    go = Go(size=9)
    one_scores, one_lengths = go.bulk_playouts(200, seed=11, chunks=1)
    three_scores, three_lengths = go.bulk_playouts(200, seed=11, chunks=3)
    assert np.array_equal(one_scores, three_scores)
    assert np.array_equal(one_lengths, three_lengths)
    assert np.all(np.abs(one_scores + go.komi) <= go.points)
    assert np.all(one_lengths <= go.max_moves) and one_lengths.mean() > 60
