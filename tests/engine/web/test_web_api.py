"""The web board's JSON API: games played through it, and junk refused with a 4xx."""

from __future__ import annotations

import io
from pathlib import Path

import chess.pgn
import pytest
from sgfmill import sgf
from starlette.testclient import TestClient

import games
from engine.web.app import ServeConfig, create_app
from engine.web.players import checkpoint_player


@pytest.fixture(scope="module")
def client(tiny_run, quick_roster) -> TestClient:
    roster = quick_roster(checkpoint_player(str(tiny_run), 8))
    return TestClient(create_app(ServeConfig(runs=[tiny_run], max_games=8), roster))


def new(client: TestClient, **body) -> dict:
    response = client.post("/api/games", json=body)
    assert response.status_code == 200, response.text
    return response.json()


def test_config_names_players_not_paths(client, tiny_run):
    config = client.get("/api/config").json()
    names = [p["name"] for p in config["players"]]
    assert names[:3] == ["random", "mcts:16", "perfect"]
    assert names[3] == "ckpt:ttt:8" and str(tiny_run) not in str(config)
    assert config["games"] == ["tictactoe", "connect4", "go", "chess"]


def test_agent_replies_with_its_analysis(client):
    game = new(client, game="tictactoe", player="mcts:16", human=0)
    assert game["moves"] == [] and game["to_play"] == 0
    after = client.post(f"/api/games/{game['id']}/move", json={"move": "b2"}).json()
    assert after["moves"][0] == "b2" and len(after["moves"]) == 2
    assert after["view"]["cells"][1][1] == "X"
    analysis = after["analysis"]
    assert analysis["ply"] == 1 and analysis["by"] == "mcts:16" and analysis["side"] == 1
    assert 0.0 <= analysis["win_prob"] <= 1.0 and analysis["simulations"] == 16
    visits = [c["visits"] for c in analysis["candidates"]]
    assert visits == sorted(visits, reverse=True) and sum(visits) <= 16
    assert analysis["candidates"][0]["move"] == after["moves"][1]
    heat = analysis["heat"]  # b2 was taken: no heat there; the most visited move is hottest
    assert heat[1][1] is None
    top = analysis["candidates"][0]["move"]
    row, col = 3 - int(top[1]), "abc".index(top[0])
    assert heat[row][col] == 1.0


def test_agent_moves_first_when_the_human_takes_the_second_side(client):
    game = new(client, game="connect4", player="random", human=1)
    assert len(game["moves"]) == 1 and game["to_play"] == 1


def test_illegal_and_malformed_moves_are_refused(client):
    game = new(client, game="tictactoe", player="random", human=0)
    url = f"/api/games/{game['id']}/move"
    client.post(url, json={"move": "a1"})
    taken = client.post(url, json={"move": "a1"})
    assert taken.status_code == 400 and "occupied" in taken.json()["error"]
    for body in ({"move": "z9"}, {"move": 4}, {"move": ""}, {"move": "a" * 40}, {},
                 {"move": None}, {"move": ["a1"]}):
        response = client.post(url, json=body)
        assert response.status_code == 400, body
        assert response.json()["error"]
    assert client.get(f"/api/games/{game['id']}").json()["moves"][0] == "a1"


def test_unknown_games_players_and_ids(client):
    for body, word in (({"game": "checkers"}, "game must be"), ({"game": 3}, "game must be"),
                       ({"game": "go", "size": 4}, "size"), ({"game": "go", "size": "x"}, "size"),
                       ({"game": "go", "komi": "inf"}, "komi"),
                       ({"game": "tictactoe", "human": 2}, "human"),
                       ({"game": "tictactoe", "human": True}, "human"),
                       ({"game": "tictactoe", "player": 99}, "no player"),
                       ({"game": "tictactoe", "player": 1.5}, "index or a name"),
                       ({"game": "go", "player": "perfect"}, "no perfect player"),
                       ({"game": "connect4", "player": "perfect"}, "takes minutes"),
                       ({"game": "connect4", "player": "ckpt:ttt:8"}, "plays tictactoe")):
        response = client.post("/api/games", json=body)
        assert response.status_code == 400, body
        assert word in response.json()["error"], (body, response.json())
    assert client.get("/api/games/nope").status_code == 404
    assert client.post("/api/games/nope/move", json={"move": "a1"}).status_code == 404
    assert client.get("/api/runs/7/plots").status_code == 404


@pytest.mark.parametrize("spec", ["gtp:gnugo --mode gtp", "uci:stockfish", "/etc/passwd",
                                  "ckpt:/tmp", "mcts:100000", "../ttt", "zoo:go9"])
def test_a_spec_from_the_page_is_never_built(client, spec):
    roster = client.app.app.state.roster
    before = len(roster.players)
    response = client.post("/api/games", json={"game": "go", "player": spec})
    assert response.status_code == 400 and "no player named" in response.json()["error"]
    assert len(roster.players) == before


def test_bodies_over_64_kib_and_junk_bodies(client):
    big = b'{"game": "tictactoe", "pad": "' + b"x" * (64 * 1024) + b'"}'
    response = client.post("/api/games", content=big)
    assert response.status_code == 413 and "65536 bytes" in response.json()["error"]

    def chunks():  # no Content-Length: the limit counts what arrives
        for _ in range(20):
            yield b"x" * 8192

    assert client.post("/api/games", content=chunks()).status_code == 413
    for raw in (b"{", b"[1, 2]", b'"game"', b"\xff\xfe"):
        response = client.post("/api/games", content=raw)
        assert response.status_code == 400 and response.json()["error"]
    assert client.post("/api/games", json={"game": "tictactoe"}).status_code == 200


def test_start_moves_then_a_full_column(client):
    game = new(client, game="connect4", player="random", human=0, moves="444444")
    assert game["moves"] == list("444444") and game["to_play"] == 0
    full = client.post(f"/api/games/{game['id']}/move", json={"move": "4"})
    assert full.status_code == 400 and "full" in full.json()["error"]
    bad = client.post("/api/games", json={"game": "connect4", "moves": "4444444"})
    assert bad.status_code == 400 and "start move 7" in bad.json()["error"]


def test_undo_takes_back_to_the_human_turn(client):
    game = new(client, game="tictactoe", player="random", human=0)
    url = f"/api/games/{game['id']}"
    assert client.post(url + "/undo").status_code == 409
    client.post(url + "/move", json={"move": "a1"})
    after = client.post(url + "/undo").json()
    assert after["moves"] == [] and after["analysis"] is None


def test_exports_are_read_back_by_independent_readers(client):
    game = new(client, game="chess", player="random", human=0)
    url = f"/api/games/{game['id']}"
    for move in ("e2e4", "d2d4", "g1f3"):
        assert client.post(url + "/move", json={"move": move}).status_code == 200
    exported = client.get(url + "/export?format=record").json()
    assert exported["format"] == "pgn"
    record = chess.pgn.read_game(io.StringIO(exported["text"]))
    moves = [m.uci() for m in record.mainline_moves()]
    assert moves[0::2] == ["e2e4", "d2d4", "g1f3"] and len(moves) == 6
    san = client.get(url + "/export?format=moves").json()["text"].split()
    assert san[0] == "e4" and len(san) == 6
    assert client.get(url + "/export?format=exe").status_code == 400

    go = new(client, game="go", size=9, player="random", human=0)
    url = f"/api/games/{go['id']}"
    client.post(url + "/move", json={"move": "E5"})
    client.post(url + "/move", json={"move": "pass"})
    text = client.get(url + "/export?format=record").json()["text"]
    tree = sgf.Sgf_game.from_string(text)
    assert tree.get_size() == 9
    assert tree.get_main_sequence()[1].get_move() == ("b", (4, 4))


def test_the_chess_page_promotes_to_a_queen(quick_roster):
    client = TestClient(create_app(ServeConfig(), quick_roster()))
    game = new(client, game="chess", player="random", human=0,
               moves="e4 d5 exd5 c6 dxc6 Nf6 cxb7 Nbd7")
    after = client.post(f"/api/games/{game['id']}/move", json={"move": "b7a8"}).json()
    assert after["moves"][8] == "bxa8=Q"


def test_replay_of_a_run_record(client, tiny_run):
    files = client.get("/api/runs/0/games").json()["files"]
    assert files and all(name.endswith(".txt") for name in files)
    first_line = (tiny_run / "games" / files[0]).read_text().splitlines()[1].split()
    replay = client.post("/api/replays", json={"run": 0, "file": files[0], "index": 1}).json()
    assert replay["mode"] == "replay" and replay["ply"] == 0
    assert replay["moves"] == first_line[:-1]  # the line ends with its result
    end = client.get(f"/api/games/{replay['id']}?ply={replay['plies']}").json()
    assert end["outcome"]["result"] == first_line[-1]
    assert client.post(f"/api/games/{replay['id']}/move", json={"move": "a1"}).status_code == 409
    for body in ({"run": 0, "file": "../config.json"}, {"run": 5, "file": files[0]},
                 {"run": 0, "file": files[0], "index": 10_000}):
        assert client.post("/api/replays", json=body).status_code == 400
    assert client.get(f"/api/games/{replay['id']}?ply=-1").status_code == 400


def test_plots_of_a_checkpoint_run(client):
    names = client.get("/api/runs/0/plots").json()["plots"]
    assert {"losses.png", "throughput.png", "arena.png"} <= set(names)
    image = client.get("/api/runs/0/plots/losses.png")
    assert image.status_code == 200 and image.content[:8] == b"\x89PNG\r\n\x1a\n"
    assert client.get("/api/runs/0/plots/..%2Fconfig.json").status_code == 404


def test_live_games_are_capped(quick_roster):
    client = TestClient(create_app(ServeConfig(max_games=2), quick_roster()))
    ids = [new(client, game="tictactoe", player="random")["id"] for _ in range(3)]
    assert client.get(f"/api/games/{ids[0]}").status_code == 404
    assert all(client.get(f"/api/games/{i}").status_code == 200 for i in ids[1:])


def test_the_page_and_its_script_are_served(client):
    page = client.get("/")
    assert page.status_code == 200 and "/static/app.js" in page.text
    assert client.get("/static/app.js").status_code == 200
    assert client.get("/static/../app.py").status_code == 404


def test_go_heat_map_matches_the_visits(client):
    game = new(client, game="go", size=9, player="mcts:16", human=1)
    analysis = game["analysis"]
    board = games.make("go", size=9)
    top = analysis["candidates"][0]
    point = board.text_to_action(None, top["move"])
    if point < 81:
        assert analysis["heat"][point // 9][point % 9] == 1.0
    assert sum(1 for row in analysis["heat"] for v in row if v is not None) == 81


def test_the_serve_command_binds_the_loopback():
    import socket
    import subprocess
    import sys
    import time

    import httpx

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-m", "engine", "serve", "--port", str(port),
                               "--game", "connect4"], stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
    try:
        deadline, answer = time.monotonic() + 60, None
        while answer is None and time.monotonic() < deadline:
            try:
                answer = httpx.get(f"http://127.0.0.1:{port}/api/config", timeout=5).json()
            except httpx.TransportError:
                time.sleep(0.2)
        assert answer is not None and answer["default_game"] == "connect4"
        tcp = Path("/proc/net/tcp")  # Linux: the addresses listening on the port
        if tcp.exists():
            assert _listening(tcp.read_text(), port) == ["127.0.0.1"]
    finally:
        server.terminate()
        server.wait(timeout=20)
    bad = subprocess.run([sys.executable, "-m", "engine", "serve", "--game", "checkers"],
                         capture_output=True, text=True, timeout=60, check=False)
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "--game" in bad.stderr


def _listening(table: str, port: int) -> list[str]:
    """The IPv4 addresses in a /proc/net/tcp table listening (state 0A) on `port`."""
    found = []
    for line in table.splitlines()[1:]:
        local, state = line.split()[1], line.split()[3]
        address, port_hex = local.split(":")
        if state == "0A" and int(port_hex, 16) == port:
            found.append(".".join(str(b) for b in reversed(bytes.fromhex(address))))
    return found
