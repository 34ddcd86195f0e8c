"""The GTP engine replayed on scripted transcripts (no subprocess), with a test double as
the agent, and the GNU Go-compatible replies that controllers depend on."""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.gtp import GtpEngine, parse_vertex, preprocess
from engine.gtp_serve import serve
from games.go import Go
from games.go.sgf import write_sgf


@dataclass
class Reply:
    action: int
    value: float


class FirstLegal:
    """Test double: plays the first legal point (row-major from A-top), or passes."""

    name = "first-legal"

    def __init__(self, game: Go, value: float = 0.0) -> None:
        self.game, self.value, self.calls = game, value, 0

    def analyse(self, game: Go, state: np.ndarray, **kwargs: object) -> Reply:
        self.calls += 1
        points = np.flatnonzero(game.legal_mask(state)[:-1])
        return Reply(int(points[0]) if len(points) else game.pass_action, self.value)

    def ownership(self, game: Go, state: np.ndarray) -> None:
        return None  # no network: dead stones by playouts


def engine(**kwargs: object) -> GtpEngine:
    value = kwargs.pop("value", 0.0)
    return GtpEngine(lambda game: FirstLegal(game, value), **kwargs)  # type: ignore[arg-type]


def check(gtp: GtpEngine, transcript: list[tuple[str, str]]) -> None:
    for command, expected in transcript:
        assert gtp.handle(command) == expected, command


def test_administrative_commands() -> None:
    gtp = engine()
    check(gtp, [
        ("protocol_version", "= 2\n\n"),
        ("1 name", "=1 move37\n\n"),
        ("2 known_command genmove", "=2 true\n\n"),
        ("known_command kgs-chat", "= false\n\n"),
        ("frobnicate", "? unknown command\n\n"),
        ("17 frobnicate now", "?17 unknown command\n\n"),
        ("known_command", "? syntax error\n\n"),
    ])
    listed = gtp.handle("list_commands")[2:-2].split("\n")
    for command in ("protocol_version", "name", "version", "known_command", "list_commands",
                    "quit", "boardsize", "clear_board", "komi", "play", "genmove", "undo",
                    "showboard", "final_score", "time_settings", "time_left", "fixed_handicap",
                    "place_free_handicap", "set_free_handicap", "loadsgf"):
        assert command in listed
    assert gtp.handle("version").startswith("= ")


def test_input_is_preprocessed_as_gtp_says() -> None:
    gtp = engine()
    assert gtp.handle("") is None and gtp.handle("   # a comment only") is None
    assert gtp.handle("3\tname # trailing comment\r\n") == "=3 move37\n\n"
    assert preprocess("na\x01me\x7f") == "name"


def test_play_errors_and_captures() -> None:
    gtp = engine()
    check(gtp, [
        ("boardsize 9", "= \n\n"),
        ("boardsize 4", "? unacceptable size\n\n"),
        ("boardsize nine", "? syntax error\n\n"),
        ("clear_board", "= \n\n"),
        ("play black E5", "= \n\n"),
        ("play white e5", "? illegal move\n\n"),  # occupied
        ("play white K5", "? illegal move\n\n"),  # a vertex, but off 9x9
        ("play white I5", "? syntax error\n\n"),  # no column I
        ("play white A0", "? syntax error\n\n"),
        ("play purple A1", "? syntax error\n\n"),
        ("play black", "? syntax error\n\n"),
        # Surround and capture a white stone on A1 (moves need not alternate in GTP).
        ("play white A1", "= \n\n"),
        ("play black A2", "= \n\n"),
        ("play black B1", "= \n\n"),
    ])
    assert gtp.game.board(gtp.state)[8, 0] == 0
    check(gtp, [("play white A1", "? illegal move\n\n")])  # suicide
    board = gtp.handle("showboard")
    assert board.startswith("= \n") and board.endswith("\n\n")
    assert " 1 . X . . . . . . . 1" in board


def test_ko_retake_is_refused_then_allowed_after_a_threat() -> None:
    gtp = engine()
    check(gtp, [(f"play {c} {v}", "= \n\n") for c, v in (
        ("b", "B9"), ("b", "A8"), ("b", "B7"), ("w", "C9"), ("w", "C7"), ("w", "D8"),
        ("w", "B8"), ("b", "C8"))])
    check(gtp, [("play w B8", "? illegal move\n\n"), ("play w J1", "= \n\n"),
                ("play b J2", "= \n\n"), ("play w B8", "= \n\n")])


def test_genmove_undo_and_resignation() -> None:
    gtp = engine()
    check(gtp, [
        ("genmove black", "= A9\n\n"),
        ("genmove w", "= B9\n\n"),
        ("undo", "= \n\n"),
        ("undo", "= \n\n"),
        ("undo", "? cannot undo\n\n"),
        ("genmove white", "= A9\n\n"),  # out of turn: white moves first
        ("genmove orange", "? syntax error\n\n"),
    ])
    hopeless = engine(value=-0.99, resign_threshold=-0.9)
    check(hopeless, [("genmove b", "= resign\n\n")])
    assert not hopeless.game.board(hopeless.state).any()
    fine = engine(value=-0.5, resign_threshold=-0.9)
    check(fine, [("genmove b", "= A9\n\n")])


def test_passes_end_nothing_at_the_protocol_level() -> None:
    gtp = engine(size=5)
    check(gtp, [("play b pass", "= \n\n"), ("play w pass", "= \n\n"),
                ("genmove b", "= pass\n\n"),  # both passed: nothing left to play
                ("play b C3", "= \n\n"), ("final_score", "= B+17.5\n\n")])


def test_final_score_and_komi() -> None:
    gtp = engine()
    check(gtp, [
        ("final_score", "= W+7.5\n\n"),
        ("play black E5", "= \n\n"),
        ("final_score", "= B+73.5\n\n"),
        ("komi 81", "= \n\n"),
        ("final_score", "= 0\n\n"),  # the komi change kept the position
        ("komi x", "? syntax error\n\n"),
        ("komi nan", "? syntax error\n\n"),
    ])


def test_handicap_commands() -> None:
    gtp = engine(size=19)
    check(gtp, [
        ("fixed_handicap 9", "= D4 Q16 D16 Q4 D10 Q10 K4 K16 K10\n\n"),
        ("fixed_handicap 2", "? board not empty\n\n"),
        ("genmove white", "= A19\n\n"),  # white moves after a handicap
        ("clear_board", "= \n\n"),
        ("fixed_handicap 10", "? invalid number of stones\n\n"),
        ("fixed_handicap 1", "? invalid number of stones\n\n"),
        ("set_free_handicap A1 A1", "? bad vertex list\n\n"),
        ("set_free_handicap A1 pass", "? bad vertex list\n\n"),
        ("set_free_handicap A1", "? bad vertex list\n\n"),
        ("set_free_handicap A1 T19 K10", "= \n\n"),
    ])
    assert (gtp.game.board(gtp.state) == 1).sum() == 3 and gtp.game.to_play(gtp.state) == 1
    small = engine(size=9)
    reply = small.handle("place_free_handicap 12")
    vertices = reply[2:-2].split()
    assert len(set(vertices)) == 12 and {"C3", "G7", "C7", "G3", "E5"} <= set(vertices)
    check(engine(size=6), [("fixed_handicap 2", "? invalid number of stones\n\n")])


def test_time_commands() -> None:
    check(engine(), [("time_settings 300 30 5", "= \n\n"), ("time_left white 120 3", "= \n\n"),
                     ("time_settings 300 thirty 5", "? syntax error\n\n"),
                     ("time_left red 1 1", "? syntax error\n\n")])


def test_loadsgf_sets_up_the_position_before_a_move(tmp_path: Path) -> None:
    go = Go(size=7, komi=5.5)
    path = tmp_path / "game.sgf"
    path.write_bytes(write_sgf(go, [24, 25, 17, 18]))
    gtp = engine()
    check(gtp, [(f"loadsgf {path} 3", "= black\n\n"), ("final_score", "= W+5.5\n\n")])
    assert gtp.game.size == 7 and (gtp.game.board(gtp.state) != 0).sum() == 2
    check(gtp, [(f"loadsgf {path}", "= black\n\n"),
                (f"loadsgf {tmp_path / 'missing.sgf'}", "? cannot load file\n\n")])
    assert (gtp.game.board(gtp.state) != 0).sum() == 4


def test_serve_stops_at_quit() -> None:
    gtp = engine()
    out = io.StringIO()
    serve(gtp, io.StringIO("1 name\n\n# hello\n2 quit\n3 name\n"), out)
    assert out.getvalue() == "=1 move37\n\n=2 \n\n"


def test_vertex_parsing() -> None:
    assert parse_vertex("pass", 9) == 81 and parse_vertex("a9", 9) == 0
    assert parse_vertex("T1", 19) == 360


def test_gtp_command_plays_with_a_checkpoint(tmp_path: Path) -> None:
    """A 7x7 network with 2 history planes: the engine must build boards that fit it."""
    import torch
    from typer.testing import CliRunner

    from engine.checkpoint import save_checkpoint
    from engine.cli import app
    from engine.config import resolve
    from engine.model import build_model

    config = resolve("go9", ['game_options={size = 7, komi = 5.5, history = 2}',
                             'model.size="b1c8"'])
    game = Go(**config.game_options)
    torch.manual_seed(0)
    stem = tmp_path / "net"
    save_checkpoint(stem, build_model(game, config), config, step=0, positions_trained=0,
                    positions_generated=0)
    script = "1 boardsize 9\n2 boardsize 7\n3 genmove b\n4 genmove w\n5 final_score\n6 quit\n"
    done = CliRunner().invoke(app, ["gtp", "--checkpoint", str(stem), "--sims", "4"],
                              input=script)
    assert done.exit_code == 0, done.output
    replies = done.output.split("\n\n")
    assert replies[0] == "?1 unacceptable size" and replies[1] == "=2 "
    moves = [reply.split(" ", 1)[1] for reply in replies[2:4]]
    for move in moves:
        assert game.text_to_action(None, move) is not None
    assert replies[5] == "=6 "


# Two living walls (eyes at A1/A9 and J1/J9), each with an enemy stone inside that has one
# liberty the enemy cannot fill: the white stone at B5 and the black one at H5 are dead.
DEAD_STONES_DIAGRAM = """
    . X X X O O O O .
    X X X X O O O O O
    X X X X O O O O O
    X X X X O O O O O
    . O X X O O O X .
    X X X X O O O O O
    X X X X O O O O O
    X X X X O O O O O
    . X X X O O O O .
"""


def test_final_status_list_finds_stones_that_cannot_live() -> None:
    gtp = engine()
    gtp.state = gtp.game.from_text(DEAD_STONES_DIAGRAM)
    check(gtp, [("final_status_list dead", "= B5 H5\n\n"),
                ("final_status_list seki", "= \n\n"),
                ("final_status_list", "? syntax error\n\n"),
                ("final_status_list undead", "? syntax error\n\n")])
    alive = gtp.handle("final_status_list alive")[2:-2].split()
    assert len(alive) == 81 - 6 - 2 and "B5" not in alive and "A2" in alive and "J2" in alive
    # With B5 and H5 off, black owns columns A-D (36 points) and white E-J (45).
    check(gtp, [("final_score", "= W+16.5\n\n")])


def test_final_status_list_on_a_board_without_dead_stones() -> None:
    gtp = engine(size=5)
    check(gtp, [("final_status_list dead", "= \n\n"), ("play b C3", "= \n\n"),
                ("final_status_list dead", "= \n\n"), ("final_status_list alive", "= C3\n\n")])


def test_who_names_the_dead_stones_is_the_endgame_config(other_side_owner) -> None:
    """Black's wall on column D is alive, the black stone at H7 dead. The head (every point
    the side not to move's) calls the whole wall dead; the playouts only H7."""
    from engine.agents import load_checkpoint_agent
    from engine.config import EndgameConfig

    owner = other_side_owner()
    walls = [f"play {colour} {column}{row}" for row in range(1, 10)
             for colour, column in (("black", "D"), ("white", "E"))]
    by_source = {}
    for source in ("playouts", "ownership"):
        gtp = GtpEngine(lambda game: load_checkpoint_agent(owner, game, 0),
                        endgame=EndgameConfig(dead_stones=source))
        check(gtp, [(command, "= \n\n") for command in [*walls, "play black H7",
                                                           "play white pass"]])
        by_source[source] = (gtp.handle("final_status_list dead")[2:-2].split(),
                             gtp.handle("final_score")[2:-2])
    assert by_source["playouts"] == (["H7"], "W+16.5")  # 36 - 45 - 7.5
    dead, score = by_source["ownership"]
    assert sorted(dead) == sorted([f"D{row}" for row in range(1, 10)] + ["H7"])
    assert score == "W+88.5"  # white's 81 points and komi
    alive = gtp.handle("final_status_list alive")[2:-2].split()
    assert sorted(alive) == sorted(f"E{row}" for row in range(1, 10))
