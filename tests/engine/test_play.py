"""`move37 play`: the terminal game loop scripted line by line, and the real command."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import games
from engine.play import OpponentSpecError, parse_opponent, play_game
from games import legal_actions


class Script:
    """Feeds scripted lines to the loop and records everything it writes."""

    def __init__(self, lines: list[str]) -> None:
        self.lines = list(lines)
        self.prompts = 0
        self.output: list[str] = []

    def read_line(self, prompt: str) -> str:
        self.prompts += 1
        if not self.lines:
            raise EOFError
        return self.lines.pop(0)

    def write(self, text: str) -> None:
        self.output.append(text)

    def messages(self, word: str) -> list[str]:
        return [text for text in self.output if word in text]


def first_legal(game, state) -> int:
    return int(legal_actions(game, state)[0])


def test_bad_inputs_get_one_line_each_and_the_game_goes_on() -> None:
    game = games.make("tictactoe")
    # Human X against an opponent taking the first free square (a1, then b1, ...).
    script = Script(["garbage", "b2", "a1", "d4", "", "help", "c3", "b1", "11", "c1", "a3"])
    result = play_game(game, first_legal, human=0, read_line=script.read_line,
                       write=script.write)
    # X: b2 c3 c1 a3 (the diagonal c1-b2-a3); O: a1 b1 a2.
    assert game.game_record(result.actions) == "b2 a1 c3 b1 c1 a2 a3"
    assert result.outcome.winner == 0 and script.output[-1].startswith("Result: 1-0")
    assert "You win" in script.output[-1]
    not_squares = script.messages("is not a square")
    assert len(not_squares) == 3  # garbage, d4, 11
    assert len(script.messages("a1 is occupied")) == 1
    assert len(script.messages("b1 is occupied")) == 1
    assert len(script.messages("Legal moves:")) == 7  # every refusal, plus '' and 'help'
    for text in not_squares + script.messages("occupied"):
        assert "\n" not in text and "Traceback" not in text
    # The board is drawn at the start and after each of the 7 moves.
    assert sum(text.endswith("  a b c") for text in script.output) == 8
    assert script.lines == []


def test_full_column_and_out_of_range_in_connect_four() -> None:
    game = games.make("connect4")
    # The opponent (X, first) always takes the leftmost free column and the human answers
    # in the same column, so each column fills X, O, X, O, X, O from the bottom. Then X
    # holds the whole bottom row and wins with its stone in column 4.
    lines = ["1", "1", "1", "1", "0", "8", "x", "2", "2", "2", "3", "3", "3"]
    script = Script(lines)
    result = play_game(game, first_legal, human=1, read_line=script.read_line,
                       write=script.write)
    assert game.game_record(result.actions) == "111111222222333333" + "4"
    assert result.outcome.winner == 0 and "You lose" in script.output[-1]
    assert len(script.messages("column 1 is full")) == 1
    assert len(script.messages("is not a column")) == 3
    assert script.output[-2].splitlines()[-2] == "X X X X . . ."


def test_end_of_input_and_quit_leave_cleanly() -> None:
    game = games.make("connect4")
    script = Script(["4", "4"])
    result = play_game(game, first_legal, human=0, read_line=script.read_line,
                       write=script.write)
    assert result.outcome is None and len(result.actions) == 4
    assert script.output[-1] == "Game abandoned."
    script = Script(["quit"])
    result = play_game(game, first_legal, human=1, read_line=script.read_line,
                       write=script.write)
    assert result.outcome is None and len(result.actions) == 1


@pytest.mark.parametrize("name", ["tictactoe", "connect4"])
@pytest.mark.parametrize("human", [0, 1])
def test_random_opponent_plays_legal_moves_to_the_end(name: str, human: int) -> None:
    game = games.make(name)
    rng = np.random.default_rng(human)
    for seed in range(10):
        human_side = RandomHuman(game, rng)
        result = play_game(game, parse_opponent("random", game, seed), human=human,
                           read_line=human_side.read_line, write=human_side.track)
        final = game.initial_state()
        for action in result.actions:
            final = game.next_state(final, action)
        assert result.outcome is not None and result.outcome == game.outcome(final)
        np.testing.assert_array_equal(final, human_side.state)


class RandomHuman:
    """Types random legal moves, following the game from the loop's announcements."""

    def __init__(self, game, rng: np.random.Generator) -> None:
        self.game, self.rng = game, rng
        self.state = game.initial_state()

    def read_line(self, prompt: str) -> str:
        action = int(self.rng.choice(legal_actions(self.game, self.state)))
        return self.game.action_to_text(self.state, action)

    def track(self, text: str) -> None:
        for who in ("You play ", "Opponent plays "):
            if text.startswith(who):
                action = self.game.text_to_action(self.state, text[len(who):])
                self.state = self.game.next_state(self.state, action)


def test_random_opponent_is_reproducible_and_unknown_specs_fail() -> None:
    game = games.make("connect4")
    state = game.initial_state()
    first = parse_opponent("random", game, 5)
    picks = [first(game, state) for _ in range(20)]
    again = parse_opponent(" Random ", game, 5)
    assert [again(game, state) for _ in range(20)] == picks
    other = parse_opponent("random", game, 6)
    assert [other(game, state) for _ in range(20)] != picks
    assert set(picks) <= set(range(7)) and len(set(picks)) > 1
    with pytest.raises(OpponentSpecError, match="unknown opponent"):
        parse_opponent("grandmaster", game)


def _cli() -> list[str]:
    script = Path(sys.executable).with_name("move37")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from engine.cli import main; main()"]


def test_cli_plays_a_game_from_piped_input() -> None:
    # b2 twice (the second is refused), then every square in turn until the game ends.
    moves = "b2\nb2\n" + "\n".join(a + r for r in "123" for a in "abc") + "\n"
    run = subprocess.run([*_cli(), "play", "tictactoe", "--opponent", "random", "--seed", "4"],
                         input=moves, capture_output=True, text=True, timeout=120,
                         check=False)
    assert run.returncode == 0, run.stderr
    assert "Traceback" not in run.stdout + run.stderr
    assert "Result: " in run.stdout and "is occupied" in run.stdout


def test_cli_in_process_end_of_input_and_bad_opponent(monkeypatch, capsys) -> None:
    from engine.cli import main

    monkeypatch.setattr(sys, "stdin", io.StringIO("4\n"))
    with pytest.raises(SystemExit) as leave:
        main(["play", "connect4", "--human-second"])
    assert leave.value.code in (0, None)
    assert capsys.readouterr().out.rstrip().endswith("Game abandoned.")
    with pytest.raises(SystemExit) as leave:
        main(["play", "connect4", "--opponent", "nobody"])
    assert leave.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "unknown opponent" in err
