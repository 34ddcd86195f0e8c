"""Record files that other programs read whole: every PGN game back through python-chess,
every Go game back through sgfmill, and text records that say who moved first."""

from __future__ import annotations

import io
import re
from pathlib import Path

import chess.pgn
from sgfmill import sgf

import games
from engine.agents import make_agent
from engine.arena import play_match
from engine.game_records import write_records
from games.chess import Chess
from games.go import Go


def match_records(game, games: int, **options) -> list[str]:
    result = play_match(game, make_agent("random", game, seed=1),
                        make_agent("mcts:2", game, seed=2), games, keep_records=True, **options)
    return result.records


def test_pgn_games_read_back_whole(tmp_path: Path) -> None:
    game = Chess(max_moves=60)
    records = match_records(game, 5, max_moves=0)
    path = write_records(game, records, tmp_path / "games.pgn")[0]
    stream = io.StringIO(path.read_text())
    read = []
    while (pgn := chess.pgn.read_game(stream)) is not None:
        assert not pgn.errors
        read.append(pgn)
    assert len(read) == 5
    for pgn, record in zip(read, records):
        expected = chess.pgn.read_game(io.StringIO(record))
        assert pgn.headers["Result"] == expected.headers["Result"] != "*"
        assert list(pgn.mainline_moves()) == list(expected.mainline_moves())
        assert {pgn.headers["White"], pgn.headers["Black"]} == {"random", "mcts:2"}


def test_go_games_one_per_file(tmp_path: Path) -> None:
    go = Go(size=5, komi=0.5, max_moves=50)
    records = match_records(go, 3)
    files = write_records(go, records, tmp_path / "w00-000001.sgf")
    assert [f.name for f in files] == [f"w00-000001-00{k}.sgf" for k in (1, 2, 3)]
    for path, record in zip(files, records):
        read = sgf.Sgf_game.from_bytes(path.read_bytes())
        root = read.get_root()
        assert {root.get("PB"), root.get("PW")} == {"random", "mcts:2"}
        assert read.get_size() == 5 and root.get("RE")
        moves = [node.get_move() for node in read.get_main_sequence()[1:]]
        assert len(moves) == len(re.findall(r";\s*[BW]\[", record)) > 10


def test_text_records_say_who_moved_first(tmp_path: Path) -> None:
    game = games.make("connect4")
    records = match_records(game, 2)
    lines = write_records(game, records, tmp_path / "games.txt")[0].read_text().splitlines()
    assert lines[0].startswith("# connect4 games") and "first player (X) moving first" in lines[0]
    assert lines[1:] == records
