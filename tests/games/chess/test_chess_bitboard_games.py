"""The bitboard kernels against python-chess along random games from the perft suites.

At every ply: the legal move set, check, the FEN, the Zobrist hash (incremental against
from scratch), the repetition count and the game's end with its reason (`Chess`'s rules:
checkmate, stalemate, insufficient material, the 50 and 75-move rules, three and fivefold
repetition), the legal actions and the input planes. Games start from random suite
positions with a random halfmove clock, and often move a piece back to where it came from,
so the clock rules and repetitions do happen.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import chess
import numpy as np
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from games.chess import Chess, ChessState, bitrules, movegen, position
from games.chess.planes import encode_state

RULES = Chess(max_moves=None)
HISTORY = 8
MAX_PLIES = 120
SETTINGS = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@dataclass
class Ply:
    """One position of a game, in both representations."""

    state: ChessState
    pos: np.ndarray
    keys: list[int]
    repetitions: int


def start_position(data: st.DataObject, records) -> ChessState:
    record = data.draw(st.sampled_from(records), label="position")
    board = chess.Board(record.fen)
    board.halfmove_clock = data.draw(st.sampled_from([0, 0, 0, 40, 90, 97, 150]),
                                     label="clock")
    return ChessState.from_board(board)


def choose(data: st.DataObject, plies: list[Ply], moves: list[chess.Move]) -> chess.Move:
    """A random legal move, often the one that undoes the side's previous move."""
    if len(plies) >= 3 and data.draw(st.integers(0, 3), label="back") == 0:
        last = plies[-2].state.move
        if last is not None:
            back = chess.Move(last.to_square, last.from_square)
            if back in moves:
                return back
    return moves[data.draw(st.integers(0, len(moves) - 1), label="move")]


def play(data: st.DataObject, records) -> Iterator[Ply]:
    """The plies of a random game, each checked for legal moves before it is yielded."""
    state = start_position(data, records)
    pos = position.from_board(state.board)
    key = position.repetition_key(pos)
    plies = [Ply(state, pos, [key], 1)]
    for _ in range(MAX_PLIES):
        yield plies[-1]
        moves = list(state.legal_moves().values())
        if not moves or RULES.outcome(state) is not None:
            return
        move = choose(data, plies, moves)
        state = state.child(move)
        pos = position.make(pos, position.move_from_uci(pos, move.uci()))
        key = position.repetition_key(pos)
        keys = [key] if pos[position.bb.HALFMOVE] == 0 else plies[-1].keys + [key]
        plies.append(Ply(state, pos, keys, keys.count(key)))


@given(data=st.data())
@SETTINGS
def test_moves_check_and_game_end_match_python_chess(data, perftsuite, tricky) -> None:
    for ply in play(data, perftsuite + tricky):
        board = ply.state.board
        ours = sorted(position.move_to_uci(m) for m in position.legal_moves(ply.pos))
        assert ours == sorted(m.uci() for m in board.legal_moves), board.fen()
        assert bool(movegen.in_check(ply.pos)) == board.is_check()
        assert position.to_fen(ply.pos) == board.fen()
        assert ply.pos[position.bb.HASH] == movegen.compute_hash(ply.pos)
        assert ply.repetitions == ply.state.repetitions
        expected = RULES.outcome(ply.state)
        assert position.outcome(ply.pos, ply.keys) == expected, board.fen()
        if expected is not None:
            event(expected.termination.value)
        perft_rules = Chess(max_moves=None, draw_rules=False).outcome(ply.state)
        assert position.outcome(ply.pos, ply.keys, draw_rules=False) == perft_rules


@given(data=st.data())
@SETTINGS
def test_actions_and_planes_match(data, perftsuite) -> None:
    history: list[Ply] = []
    planes = np.empty((14 * HISTORY + 7, 8, 8), dtype=np.float32)
    for ply in play(data, perftsuite):
        history.insert(0, ply)
        actions, moves = position.legal_actions(ply.pos)
        by_action = ply.state.legal_moves()
        assert sorted(actions.tolist()) == sorted(by_action)
        for action, move in zip(actions.tolist(), moves.tolist()):
            assert by_action[action] == position.move_to_chess(move)
        mask = np.empty(4672, dtype=bool)
        assert bitrules.legal_mask(ply.pos, mask) == len(by_action)
        assert sorted(np.flatnonzero(mask).tolist()) == sorted(by_action)
        recent = history[:HISTORY]
        stack = np.zeros((HISTORY, position.bb.POSITION_SIZE), dtype=np.int64)
        present = np.zeros(HISTORY, dtype=bool)
        repetitions = np.zeros(HISTORY, dtype=np.int64)
        for t, past in enumerate(recent):
            stack[t], present[t], repetitions[t] = past.pos, True, past.repetitions
        bitrules.encode_planes(stack, present, repetitions, planes)
        np.testing.assert_array_equal(planes, encode_state(ply.state, HISTORY))
