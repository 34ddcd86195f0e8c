"""SGF records: writing and reading back, setup in any node, `loadsgf`-style positions, and
GNU Go's regression games replayed under our rules."""

from __future__ import annotations

import random
import re
from pathlib import Path

import numpy as np
import pytest
from sgfmill import boards, sgf

from games.base import IllegalMoveError, Outcome, Termination
from games.go import Go, vertex_to_point
from games.go.sgf import SgfError, read_sgf, replay, write_sgf

BROKEN = {"owl42.sgf", "pending/nightmare.sgf"}  # truncated and empty upstream


def test_written_game_reads_back_with_values_and_result() -> None:
    go = Go(size=9, komi=6.5)
    rng = np.random.default_rng(0)
    state, actions = go.initial_state(), []
    while not go.is_over(state) and len(actions) < 60:
        action = int(rng.choice(np.flatnonzero(go.legal_mask(state))))
        actions.append(action)
        state = go.next_state(state, action)
    values = [0.25 * (i % 3) - 0.25 for i in range(len(actions))]
    outcome = Outcome(Termination.RESIGNATION, winner=1)
    data = write_sgf(go, actions, outcome=outcome, values=values, names=("a", "b"))
    parsed = sgf.Sgf_game.from_bytes(data)
    root = parsed.get_root()
    assert (parsed.get_size(), parsed.get_komi()) == (9, 6.5)
    assert root.get("RU") == "Chinese" and root.get("RE") == "W+R"
    assert (root.get("PB"), root.get("PW")) == ("a", "b")
    nodes = parsed.get_main_sequence()[1:]
    assert nodes[1].get("C") == "value +0.000" and nodes[0].get("C") == "value -0.250"
    record = read_sgf(data)
    end, played = replay(go, record)
    assert played == actions and np.array_equal(end, state)
    scored = Outcome(Termination.SCORE, winner=0, margin=3.5)
    assert b"RE[B+3.5]" in write_sgf(go, [], outcome=scored)
    assert b"RE[0]" in write_sgf(go, [], outcome=Outcome(Termination.SCORE))


def test_setup_stones_in_later_nodes_and_out_of_turn_moves() -> None:
    text = b"(;GM[1]FF[4]SZ[5]KM[0.5];B[cc];AB[aa][ba]AW[ab]PL[w];W[bb];AE[aa]AB[ee];B[ed])"
    record = read_sgf(text)
    go = record.game()
    state, played = replay(go, record)
    board = go.board(state)
    assert board[0, 0] == 0 and board[0, 1] == 1 and board[1, 0] == 2 and board[4, 4] == 1
    assert board[1, 1] == 2 and board[2, 2] == 1 and board[3, 4] == 1
    assert go.to_play(state) == 1 and len(played) == 3
    # Stop before move 2 (W[bb]): setup of the earlier nodes is applied, PL says white.
    before, played = replay(go, record, before_move=2)
    assert go.board(before)[1, 1] == 0 and go.board(before)[0, 0] == 1
    assert go.to_play(before) == 1 and len(played) == 1


def test_bad_records_give_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(SgfError, match="not Go"):
        read_sgf(b"(;GM[3]SZ[8])")
    with pytest.raises(SgfError, match="outside"):
        read_sgf(b"(;GM[1]SZ[3])")
    with pytest.raises(SgfError, match="cannot read"):
        read_sgf(tmp_path / "missing.sgf")
    record = read_sgf(b"(;GM[1]SZ[5];B[cc];W[cc])")
    with pytest.raises(IllegalMoveError, match="move 2 .* occupied"):
        replay(record.game(), record)


def repeats_an_earlier_position(path: Path, move_number: int) -> bool:
    """Independent check (sgfmill's board): does move `move_number` recreate a position seen
    since the last setup node?"""
    game = sgf.Sgf_game.from_bytes(path.read_bytes())
    board = boards.Board(game.get_size())
    seen: set = set()
    number = 0
    for node in game.get_main_sequence():
        black, white, empty = node.get_setup_stones()
        if black or white or empty:
            board.apply_setup(black, white, empty)
            seen = set()
        seen.add(tuple(map(tuple, board.board)))
        colour, move = node.get_move()
        if colour is None:
            continue
        number += 1
        if move is not None:
            board.play(move[0], move[1], colour)
        if number == move_number:
            return tuple(map(tuple, board.board)) in seen
    return False


def replay_regression_games(files: list[Path], root: Path) -> int:
    """Replay each file; a move our rules reject must truly repeat an earlier position (a
    superko cycle, legal under the simple-ko rules those games were played with), and the
    game must then replay with superko off. Returns the number of moves replayed."""
    moves = 0
    for path in files:
        try:
            record = read_sgf(path)
        except SgfError as error:
            assert "outside 5..19" in str(error), f"{path.relative_to(root)}: {error}"
            continue
        go = record.game(max_moves=max(4 * record.size ** 2, record.num_moves + 1))
        try:
            moves += len(replay(go, record)[1])
        except IllegalMoveError as error:
            number = int(re.match(r"move (\d+) ", str(error)).group(1))
            assert "superko" in str(error), f"{path.relative_to(root)}: {error}"
            assert repeats_an_earlier_position(path, number), f"{path.relative_to(root)}"
            simple_ko = record.game(max_moves=go.max_moves, superko_window=0)
            moves += len(replay(simple_ko, record)[1])
    return moves


def regression_files(shared_benchmarks: Path) -> tuple[Path, list[Path]]:
    root = shared_benchmarks / "go" / "gnugo-regression" / "games"
    files = sorted(p for p in root.rglob("*.sgf")
                   if str(p.relative_to(root)) not in BROKEN)
    assert len(files) > 1600
    return root, files


def test_sample_of_gnugo_regression_games_replays(shared_benchmarks: Path) -> None:
    root, files = regression_files(shared_benchmarks)
    sample = random.Random(2024).sample(files, 250)
    known_cycles = [root / name for name in ("incident74.sgf", "verybad.sgf")]
    assert replay_regression_games(sample + known_cycles, root) > 20_000


@pytest.mark.slow
def test_all_gnugo_regression_games_replay(shared_benchmarks: Path) -> None:
    root, files = regression_files(shared_benchmarks)
    assert replay_regression_games(files, root) > 190_000


def expected_moves(tst: Path) -> list[tuple[str, int | None, int, list[str]]]:
    """(sgf path, move number or None, player, answers) of each positive `reg_genmove`."""
    found = []
    lines = tst.read_text(errors="replace").splitlines()
    position = None
    for i, line in enumerate(lines):
        load = re.match(r"\s*loadsgf\s+(\S+)(?:\s+(\d+))?", line)
        if load:
            position = (load.group(1), int(load.group(2)) if load.group(2) else None)
            continue
        command = re.match(r"\s*\d+\s+reg_genmove\s+(\w+)", line)
        answer = re.match(r"#\?\s*\[(.*)\]", lines[i + 1]) if i + 1 < len(lines) else None
        if command and answer and position and not answer.group(1).startswith("!"):
            player = 0 if command.group(1).lower().startswith("b") else 1
            answers = [a.strip("() ") for a in answer.group(1).split("|")]
            found.append((*position, player, [a for a in answers if a.upper() != "PASS"]))
    return found


def check_expected_answers(tsts: list[Path], base: Path) -> int:
    """GNU Go's expected answers must be empty, legal points in our `loadsgf` position."""
    positions: dict = {}
    checked = 0
    for tst in tsts:
        for name, number, player, answers in expected_moves(tst):
            if (name, number) not in positions:
                try:
                    record = read_sgf(base / name)
                except SgfError:
                    positions[name, number] = None  # missing or unreadable upstream
                    continue
                go = record.game(superko_window=0, max_moves=4 * record.size ** 2)
                positions[name, number] = (go, replay(go, record, before_move=number)[0])
            if positions[name, number] is None:
                continue
            go, state = positions[name, number]
            legal = go.legal_mask(go.replace(state, to_play=player, passes=0))
            for vertex in answers:
                assert legal[vertex_to_point(vertex, go.size)], (tst.name, name, number, vertex)
                checked += 1
    return checked


def test_expected_answers_of_small_board_suites_are_legal(shared_benchmarks: Path) -> None:
    base = shared_benchmarks / "go" / "gnugo-regression"
    assert check_expected_answers(sorted(base.glob("*x*.tst")), base) > 250


@pytest.mark.slow
def test_expected_answers_of_all_suites_are_legal(shared_benchmarks: Path) -> None:
    base = shared_benchmarks / "go" / "gnugo-regression"
    assert check_expected_answers(sorted(base.glob("*.tst")), base) > 3000


def test_game_record_is_sgf_with_value_comments() -> None:
    go = Go(size=5, komi=0.5)
    actions = [12, 13, go.pass_action, go.pass_action]
    state = go.initial_state()
    for action in actions:
        state = go.next_state(state, action)
    text = go.game_record(actions, go.outcome(state), values=[0.5, -0.25, None, 1.0])
    parsed = sgf.Sgf_game.from_string(text)
    assert parsed.get_root().get("RE") == "W+0.5" and parsed.get_komi() == 0.5  # 1 - 1 - 0.5
    nodes = parsed.get_main_sequence()[1:]
    assert [n.get_move() for n in nodes] == [("b", (2, 2)), ("w", (2, 3)), ("b", None),
                                             ("w", None)]
    assert nodes[0].get("C") == "value +0.500" and not nodes[2].has_property("C")
