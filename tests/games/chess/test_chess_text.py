"""Move text (SAN and UCI in, SAN out), rendering, and PGN records with evaluations."""

from __future__ import annotations

import io

import chess
import chess.pgn
import pytest

from games import GameOverError, IllegalMoveError, MoveParseError, Outcome, Termination
from games.chess import (
    Chess,
    actions_from_pgn,
    eval_comment,
    move_to_action,
    pgn_from_game,
    value_to_centipawns,
)

PROMOTION = "2k5/4P3/8/8/8/8/8/4K3 w - - 0 1"
CASTLING = "r3k2r/8/8/8/8/8/8/R3K2R w KQkq - 0 1"


@pytest.mark.parametrize(
    "fen, texts, uci",
    [
        (chess.STARTING_FEN, ["Nf3", "g1f3", "G1F3", " Nf3 "], "g1f3"),
        (CASTLING, ["O-O", "0-0", "e1g1"], "e1g1"),
        (CASTLING, ["O-O-O", "e1c1"], "e1c1"),
        (PROMOTION, ["e8=Q", "e8=Q+", "e7e8q", "e8Q"], "e7e8q"),
        (PROMOTION, ["e8=N", "e7e8n"], "e7e8n"),
        ("4k3/8/8/3p4/4P3/8/8/4K3 w - - 0 1", ["exd5", "e4d5"], "e4d5"),
    ],
)
def test_san_and_uci_name_the_same_action(fen: str, texts: list[str], uci: str) -> None:
    game = Chess()
    state = game.state_from_fen(fen)
    expected = move_to_action(state.turn, chess.Move.from_uci(uci))
    for text in texts:
        assert game.text_to_action(state, text) == expected, text


@pytest.mark.parametrize("text", ["z9", "hello", "e9e4", "Nf", "e2-e4-e5", "!"])
def test_unreadable_text_is_a_parse_error(text: str) -> None:
    with pytest.raises(MoveParseError):
        Chess().text_to_action(Chess().initial_state(), text)


@pytest.mark.parametrize("text", ["e2e5", "Nf6", "Ke2", "e5", "--", "0000", "a1a1", "e1g1"])
def test_readable_but_illegal_text_is_illegal(text: str) -> None:
    with pytest.raises(IllegalMoveError):
        Chess().text_to_action(Chess().initial_state(), text)


def test_ambiguous_san_is_illegal_and_says_so() -> None:
    state = Chess().state_from_fen("4k3/8/8/8/8/8/8/1N2KN2 w - - 0 1")
    with pytest.raises(IllegalMoveError, match="ambiguous"):
        Chess().text_to_action(state, "Nd2")
    assert Chess().action_to_text(state, Chess().text_to_action(state, "b1d2")) == "Nbd2"


def test_empty_text_and_finished_games() -> None:
    game = Chess()
    with pytest.raises(MoveParseError, match="empty"):
        game.text_to_action(game.initial_state(), "  ")
    mated = game.state_from_fen("rnb1kbnr/pppp1ppp/8/4p3/6Pq/5P2/PPPPP2P/RNBQKBNR w KQkq - 1 3")
    with pytest.raises(GameOverError, match="checkmate"):
        game.text_to_action(mated, "e4")


def test_action_to_text_is_san_with_check_marks() -> None:
    game = Chess()
    state = game.state_from_fen("6k1/5ppp/8/8/8/8/8/R5K1 w - - 0 1")
    assert game.action_to_text(state, game.text_to_action(state, "a1a8")) == "Ra8#"
    state = game.state_from_fen(PROMOTION)
    assert game.action_to_text(state, game.text_to_action(state, "e7e8q")) == "e8=Q+"
    with pytest.raises(IllegalMoveError):
        game.action_to_text(state, 0)


def test_render_has_coordinates_and_plain_letters() -> None:
    text = Chess().render(Chess().initial_state())
    assert text.splitlines() == [
        "8 r n b q k b n r",
        "7 p p p p p p p p",
        "6 . . . . . . . .",
        "5 . . . . . . . .",
        "4 . . . . . . . .",
        "3 . . . . . . . .",
        "2 P P P P P P P P",
        "1 R N B Q K B N R",
        "  a b c d e f g h",
        "White to move",
    ]


def play(game: Chess, texts: list[str]) -> list[int]:
    state, actions = game.initial_state(), []
    for text in texts:
        actions.append(game.text_to_action(state, text))
        state = game.next_state(state, actions[-1])
    return actions


def test_game_record_is_pgn_that_python_chess_reads_back() -> None:
    game = Chess()
    actions = play(game, ["f3", "e5", "g4", "Qh4#"])
    text = game.game_record(actions, Outcome(Termination.CHECKMATE, winner=1))
    record = chess.pgn.read_game(io.StringIO(text))
    assert record is not None and not record.errors
    assert record.headers["Result"] == "0-1"
    assert [m.uci() for m in record.mainline_moves()] == ["f2f3", "e7e5", "g2g4", "d8h4"]
    assert record.end().board().is_checkmate()
    assert actions_from_pgn(text) == (actions, "0-1")
    assert "1. f3 e5 2. g4 Qh4# 0-1" in text
    assert game.record_extension == "pgn"


def test_game_record_takes_the_search_values() -> None:
    game = Chess()
    actions = play(game, ["d4", "d5"])
    text = game.game_record(actions, None, values=[0.5, -0.5], headers={"White": "net"})
    record = chess.pgn.read_game(io.StringIO(text))
    assert record is not None and record.headers["White"] == "net"
    assert record.headers["Result"] == "*"
    # White thought +0.5; Black thought -0.5 for itself, i.e. +0.5 for White.
    assert [node.eval().white().score() for node in record.mainline()] == [111, 111]


def test_pgn_with_evaluations_comments_and_headers() -> None:
    game = Chess()
    actions = play(game, ["e4", "e5", "Nf3"])
    text = pgn_from_game(
        actions, values=[0.1, 0.2, None], comments={2: "book"},
        headers={"White": "move37 ckpt", "Round": "3"},
        outcome=Outcome(Termination.MAX_LENGTH),
    )
    record = chess.pgn.read_game(io.StringIO(text))
    assert record is not None
    assert record.headers["White"] == "move37 ckpt" and record.headers["Round"] == "3"
    assert record.headers["Termination"] == "adjudication"
    nodes = list(record.mainline())
    # The first value is White's: +0.1; the second Black's 0.2, i.e. White's -0.2.
    assert nodes[0].eval().white().score() == value_to_centipawns(0.1)
    assert nodes[1].eval().white().score() == -value_to_centipawns(0.2)
    assert nodes[2].eval() is None and "book" in nodes[2].comment
    assert "max length" in nodes[2].comment
    assert record.headers["Result"] == "1/2-1/2"


def test_pgn_from_a_fen_and_bad_input() -> None:
    game = Chess()
    state = game.state_from_fen(PROMOTION)
    text = pgn_from_game([game.text_to_action(state, "e8=N")], start=PROMOTION)
    record = chess.pgn.read_game(io.StringIO(text))
    assert record is not None and record.headers["FEN"] == PROMOTION
    assert actions_from_pgn(text)[0] == [game.text_to_action(state, "e8=N")]
    with pytest.raises(ValueError, match="values"):
        pgn_from_game([1, 2], values=[0.0])
    with pytest.raises(IllegalMoveError, match="move 1"):
        pgn_from_game([0])
    with pytest.raises(MoveParseError):
        actions_from_pgn("")


def test_centipawns_follow_leelas_curve() -> None:
    assert value_to_centipawns(0.0) == 0
    assert value_to_centipawns(0.5) == 111  # 111.714640912 * tan(1.5620688421 * 0.5)
    assert value_to_centipawns(-0.5) == -111
    assert value_to_centipawns(1.0) == value_to_centipawns(7.0) == 12800
    values = [value_to_centipawns(v / 20) for v in range(-20, 21)]
    assert values == sorted(values)
    assert eval_comment(0.5, mover_is_white=False) == "[%eval -1.11]"
