"""The shipped agents: each loads as `zoo:NAME`, and one figure of its run card is measured
again, cheaply."""

from __future__ import annotations

import io
import json
import sys

import pytest

import games
from engine.agents import AgentSpecError, check_agent_spec, checkpoint_game_options, make_agent
from engine.arena import play_match
from engine.evaluate import evaluate_connect4, evaluate_tictactoe
from engine.zoo import NAMES, card, zoo_path


@pytest.mark.parametrize("name", NAMES)
def test_each_agent_is_shipped_with_its_card(name):
    directory = zoo_path(name)
    assert (directory / "best.safetensors").stat().st_size < 4_000_000
    entry = card(name)
    run_config = json.loads((directory / "config.json").read_text())
    assert entry["seed"] == run_config["seed"] and entry["machine"] == "2-core shared CPU"
    assert entry["command"].startswith("move37 train") and entry["minutes"] > 0
    assert f"--seed {entry['seed']}" in entry["command"]
    assert entry["figures"]


def test_zoo_specs_resolve_and_unknown_names_are_refused():
    game = games.make("connect4")
    check_agent_spec("zoo:connect4", game)
    check_agent_spec("zoo:connect4:16", game)
    assert make_agent("zoo:connect4:16", game).name.endswith(":16")
    assert checkpoint_game_options("zoo:go9")["size"] == 9
    with pytest.raises(AgentSpecError, match="no shipped agent 'chess'"):
        check_agent_spec("zoo:chess", games.make("chess"))


def test_tictactoe_card_losses_again():
    # The raw policy against perfect play from every reachable position, as on the card.
    figure = card("tictactoe")["figures"]["eval_sims0"]
    game = games.make("tictactoe")
    report = evaluate_tictactoe(game, make_agent("zoo:tictactoe:0", game))
    assert report["losses"] == figure["losses"]
    assert report["suboptimal"] == figure["suboptimal"]


def test_connect4_card_pons_accuracy_again():
    figure = card("connect4")["figures"]["pons_sims0_first200"]
    game = games.make("connect4")
    report = evaluate_connect4(game, make_agent("zoo:connect4:0", game), limit=200,
                               sets=list(figure))
    for set_name, correct in figure.items():
        assert report[set_name]["correct"] == pytest.approx(correct, abs=0.011)


def test_go9_card_wins_against_random_again():
    figure = card("go9")["figures"]["arena_sims0_vs_random"]
    game = games.make("go", **checkpoint_game_options("zoo:go9"))
    # Four games of the raw policy; it won all fifty on the card.
    result = play_match(game, make_agent("zoo:go9:0", game), make_agent("random", game, seed=1),
                        4, seed=0)
    assert figure["score"] == 1.0 and result.score == 1.0


def test_play_connect4_against_the_zoo_agent(monkeypatch, capsys):
    from engine.cli import main

    monkeypatch.setattr(sys, "stdin", io.StringIO("4\nquit\n"))
    with pytest.raises(SystemExit) as leave:
        main(["play", "connect4", "--checkpoint", "zoo:connect4"])
    assert leave.value.code in (0, None)
    out = capsys.readouterr().out
    assert "Opponent plays" in out and "Game abandoned." in out


def test_the_web_board_offers_a_zoo_agent_and_its_run_plots():
    from starlette.testclient import TestClient

    from engine.web.app import ServeConfig, create_app

    client = TestClient(create_app(ServeConfig(checkpoints=["zoo:tictactoe"], sims=64)))
    config = client.get("/api/config").json()
    assert "zoo:tictactoe:64" in [p["name"] for p in config["players"]]
    assert [r["name"] for r in config["runs"]] == ["tictactoe"]
    assert {"losses.png", "arena.png"} <= set(client.get("/api/runs/0/plots").json()["plots"])
    # X (b2 a1) to move against O (a2 c3) has a forced win (c1 or b1 makes two threats).
    game = client.post("/api/games", json={"game": "tictactoe", "player": "zoo:tictactoe:64",
                                           "human": 1, "moves": "b2 a2 a1 c3"}).json()
    assert game["analysis"]["win_prob"] > 0.8
    from engine.solvers import MinimaxSolver
    from games.base import play_moves

    rules = games.make("tictactoe")
    after = play_moves(rules, game["moves"])
    assert len(game["moves"]) == 5 and MinimaxSolver(rules).value(after) == -1  # O is lost
