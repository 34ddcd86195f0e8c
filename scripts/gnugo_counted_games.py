"""Finished 9x9 games between two GNU Go players, counted by GNU Go, for the dead-stone tests.

Each game starts with 2 to 14 uniformly random legal moves (so that stones die), then GNU Go
plays both sides at levels drawn from 1, 3, 6 and 10 (seeded per game) until two passes or
200 moves; a resignation counts as a pass. A third GNU Go (level 1, Chinese rules, komi 7.5)
replays the game and answers `final_score` and `final_status_list dead`. Writes JSON:
`{"about": ..., "komi": 7.5, "games": [{"levels", "moves", "gnugo_score", "dead"}]}`,
the moves as GTP vertices. Needs `gnugo` on the PATH.

    python scripts/gnugo_counted_games.py --games 60 --out tests/engine/data/gnugo_counted_games.json
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

from engine.gtp_client import GtpClient
from games.go import Go

LEVELS = (1, 3, 6, 10)
KOMI = 7.5


def gnugo(level: int, seed: int) -> GtpClient:
    client = GtpClient(f"gnugo --mode gtp --chinese-rules --level {level} --seed {seed}")
    for command in ("boardsize 9", f"komi {KOMI:g}", "clear_board"):
        client.send(command)
    return client


def play_game(index: int, go: Go) -> dict:
    rng = random.Random(index)
    levels = [rng.choice(LEVELS) for _ in range(2)]
    players = [gnugo(levels[k], 2 * index + k + 1) for k in range(2)]
    moves: list[str] = []
    state, colour, passes = go.initial_state(), 0, 0
    try:
        for _ in range(rng.randint(2, 14)):
            action = int(rng.choice(list(go.legal_mask(state)[:-1].nonzero()[0])))
            vertex = go.action_to_text(None, action)
            for player in players:
                player.send(f"play {'bw'[colour]} {vertex}")
            moves.append(vertex)
            state, colour = go.next_state(state, action), 1 - colour
        while passes < 2 and len(moves) < 200:
            vertex = players[colour].send(f"genmove {'bw'[colour]}", timeout=60).strip().lower()
            vertex = "pass" if vertex == "resign" else vertex
            players[1 - colour].send(f"play {'bw'[colour]} {vertex}")
            passes = passes + 1 if vertex == "pass" else 0
            moves.append(vertex)
            colour = 1 - colour
    finally:
        for player in players:
            player.close()
    with gnugo(1, 0) as counter:
        for number, vertex in enumerate(moves):
            counter.send(f"play {'bw'[number % 2]} {vertex}")
        score = counter.send("final_score", timeout=60)
        dead = counter.send("final_status_list dead", timeout=60).split()
    return {"levels": levels, "moves": moves, "gnugo_score": score, "dead": dead}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--games", type=int, default=60)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    go = Go(size=9, komi=KOMI)
    games = []
    for index in range(args.games):
        games.append(play_game(index, go))
        print(index, games[-1]["gnugo_score"], len(games[-1]["dead"]), "dead", flush=True)
    about = ("9x9 games of GNU Go 3.8 against itself after random opening moves, counted by "
             "GNU Go (Chinese rules); made by scripts/gnugo_counted_games.py")
    args.out.write_text(json.dumps({"about": about, "komi": KOMI, "games": games}) + "\n")


if __name__ == "__main__":
    main()
