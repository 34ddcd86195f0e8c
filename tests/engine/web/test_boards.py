"""Board views and the reading of a run's records, against positions worked out by hand
and the games' own record writers."""

from __future__ import annotations

import numpy as np

import games
from engine.web.boards import board_view, heat_map, parse_click, read_records
from games.base import play_moves


def test_tictactoe_view():
    game = games.make("tictactoe")
    state = play_moves(game, ["b2", "a3", "c1"])
    view = board_view(game, state, 2)
    assert view["cells"] == [["O", "", ""], ["", "X", ""], ["", "", "X"]]
    assert view["texts"][0] == ["a3", "b3", "c3"] and view["last"] == [2, 2]


def test_connect4_view_and_landing_cells():
    game = games.make("connect4")
    state = play_moves(game, ["4", "4", "3"])
    view = board_view(game, state, 2)
    assert view["cells"][5] == ["", "", "X", "X", "", "", ""]
    assert view["cells"][4] == ["", "", "", "O", "", "", ""] and view["last"] == [5, 2]
    weights = np.arange(7, dtype=float)  # column 7 heaviest
    heat = heat_map(game, state, weights, 6, 7)
    assert heat[3][3] == round(3 / 6, 4)  # column 4 lands on its third row from the bottom
    assert heat[5][6] == 1.0 and heat[5][3] is None


def test_go_view():
    game = games.make("go", size=9)
    state = play_moves(game, ["E5", "C3", "pass"])
    view = board_view(game, state, 81)
    assert view["cells"][4][4] == "b" and view["cells"][6][2] == "w"
    assert view["texts"][0][0] == "A9" and view["texts"][8][8] == "J1"
    assert view["last"] is None  # a pass


def test_chess_view_and_clicks():
    game = games.make("chess")
    state = play_moves(game, ["e4"])
    view = board_view(game, state, None)
    assert view["cells"][0] == list("rnbqkbnr") and view["cells"][4][4] == "P"
    assert view["cells"][6][4] == "" and view["last"] == [4, 4]
    assert view["texts"][7][0] == "a1"
    assert game.action_to_text(state, parse_click(game, state, "e7e5")) == "e5"


def test_records_read_back_what_the_games_wrote():
    for name, options, moves in (
            ("tictactoe", {}, ["b2", "a1", "c3", "a3", "a2", "c1", "b1", "b3", "c2"]),
            ("connect4", {}, ["4", "4", "3", "5", "2", "1", "5"]),
            ("go", {"size": 9, "komi": 6.5}, ["E5", "C3", "D4", "pass", "G7"]),
            ("chess", {}, ["e4", "e5", "Nf3", "Nc6", "Bb5"])):
        game = games.make(name, **options)
        state, actions = game.initial_state(), []
        for text in moves:
            actions.append(game.text_to_action(state, text))
            state = game.next_state(state, actions[-1])
        one = game.game_record(actions, game.outcome(state))
        records = read_records(name, one + "\n" + one)
        assert len(records) == 2
        read_options, texts = records[1]
        if name == "go":
            assert read_options == options
        replayed = play_moves(games.make(name, **options), texts)
        assert np.array_equal(game.encode(replayed), game.encode(state)), name
