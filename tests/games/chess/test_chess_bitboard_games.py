"""The bitboard kernels and the `Chess` game against python-chess along random games.

Games start from random positions of the perft suites, with a random halfmove clock, and
often move a piece back to where it came from, so that the clock rules and repetitions do
happen. At every ply, three players of the same game are compared: a python-chess board
(the oracle, with `chess_reference`'s rules and planes), a kernel position (`games.chess.position`)
and a `ChessState` stepped through the `Chess` game by actions. Checked: the legal moves,
check, the FEN, the Zobrist hash (incremental against from scratch), the repetition count,
the game's end and its reason (with and without the draw rules), the legal actions (against
`actions.moves_to_actions`) and the input planes.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import chess
import numpy as np
from chess_reference import reference_outcome, reference_planes
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from games.chess import (
    Chess,
    ChessState,
    bitrules,
    movegen,
    moves_to_actions,
    position,
    position_key,
)

HISTORY = 8
RULES = Chess(max_moves=None, history=HISTORY)
PERFT_RULES = Chess(max_moves=None, history=HISTORY, draw_rules=False)
MAX_PLIES = 120
SETTINGS = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@dataclass
class Ply:
    """One position of a game, in the three representations."""

    board: chess.Board
    board_keys: list
    pos: np.ndarray
    keys: list[int]
    state: ChessState
    last: chess.Move | None

    @property
    def repetitions(self) -> int:
        return self.board_keys.count(self.board_keys[-1])


def start_board(data: st.DataObject, records) -> chess.Board:
    record = data.draw(st.sampled_from(records), label="position")
    board = chess.Board(record.fen)
    board.halfmove_clock = data.draw(st.sampled_from([0, 0, 0, 40, 90, 97, 150]),
                                     label="clock")
    return board


def choose(data: st.DataObject, plies: list[Ply], moves: list[chess.Move]) -> chess.Move:
    """A random legal move, often the one that undoes the side's previous move."""
    if len(plies) >= 3 and data.draw(st.integers(0, 3), label="back") == 0:
        last = plies[-2].last
        if last is not None:
            back = chess.Move(last.to_square, last.from_square)
            if back in moves:
                return back
    return moves[data.draw(st.integers(0, len(moves) - 1), label="move")]


def advance(ply: Ply, move: chess.Move) -> Ply:
    board = ply.board.copy(stack=False)
    board.push(move)
    board_keys = [position_key(board)]
    if board.halfmove_clock:
        board_keys = ply.board_keys + board_keys
    pos = position.make(ply.pos, position.move_from_uci(ply.pos, move.uci()))
    key = position.repetition_key(pos)
    keys = [key] if pos[position.bb.HALFMOVE] == 0 else ply.keys + [key]
    state = RULES.next_state(ply.state, RULES.move_to_action(ply.state, move))
    return Ply(board, board_keys, pos, keys, state, move)


def play(data: st.DataObject, records) -> Iterator[list[Ply]]:
    """The plies of a random game, newest first, until it ends or `MAX_PLIES`."""
    board = start_board(data, records)
    pos = position.from_board(board)
    plies = [Ply(board, [position_key(board)], pos, [position.repetition_key(pos)],
                 RULES.state_from_board(board), None)]
    for _ in range(MAX_PLIES):
        yield plies[::-1]
        ply = plies[-1]
        moves = list(ply.board.legal_moves)
        if reference_outcome(ply.board, ply.repetitions) is not None:
            return
        plies.append(advance(ply, choose(data, plies, moves)))


@given(data=st.data())
@SETTINGS
def test_moves_check_and_game_end_match_python_chess(data, perftsuite, tricky) -> None:
    for ply, *_ in play(data, perftsuite + tricky):
        board = ply.board
        expected_moves = sorted(m.uci() for m in board.legal_moves)
        assert sorted(position.move_to_uci(m) for m in position.legal_moves(ply.pos)) == (
            expected_moves), board.fen()
        assert sorted(m.uci() for m in ply.state.legal_moves().values()) == expected_moves
        assert bool(movegen.in_check(ply.pos)) == board.is_check()
        assert position.to_fen(ply.pos) == ply.state.fen() == board.fen()
        assert ply.pos[position.bb.HASH] == movegen.compute_hash(ply.pos)
        assert ply.keys.count(ply.keys[-1]) == ply.state.repetitions == ply.repetitions
        expected = reference_outcome(board, ply.repetitions)
        assert position.outcome(ply.pos, ply.keys) == RULES.outcome(ply.state) == expected
        without_draws = reference_outcome(board, ply.repetitions, draw_rules=False)
        assert position.outcome(ply.pos, ply.keys, draw_rules=False) == without_draws
        assert PERFT_RULES.outcome(ply.state) == without_draws
        if expected is not None:
            event(expected.termination.value)


@given(data=st.data())
@SETTINGS
def test_actions_and_planes_match(data, perftsuite) -> None:
    for plies in play(data, perftsuite):
        ply = plies[0]
        actions, moves = position.legal_actions(ply.pos)
        expected = moves_to_actions(ply.board.turn, ply.board.legal_moves)
        assert sorted(actions.tolist()) == sorted(expected)
        assert sorted(ply.state.legal_moves()) == sorted(expected)
        for action, move in zip(actions.tolist(), moves.tolist()):
            assert ply.state.legal_moves()[action] == position.move_to_chess(move)
        mask = np.empty(4672, dtype=bool)
        assert bitrules.legal_mask(ply.pos, mask) == len(expected)
        assert sorted(np.flatnonzero(mask).tolist()) == sorted(expected)
        boards = [p.board for p in plies[:HISTORY]]
        reps = [p.repetitions for p in plies[:HISTORY]]
        np.testing.assert_array_equal(RULES.encode(ply.state),
                                      reference_planes(boards, reps, HISTORY))
