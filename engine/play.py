"""A human against an opponent in the terminal: the game loop behind `move37 play`.

The loop never touches stdin or stdout itself: it reads lines through `read_line` (called
with the prompt, like `input`, raising `EOFError` at the end of input) and writes through
`write`. Tests script it with lists; the command passes `input` and `print`.

An opponent is any callable `(game, state) -> action` that returns a legal action.
`parse_opponent` turns a `--opponent` spec into one: `random`, or any player of
`engine.agents` (search, trained networks, exact solvers), which also shows its evaluation.

    >>> import games
    >>> game = games.make("tictactoe")
    >>> script = iter(["b2", "c3", "c1", "a3"])
    >>> result = play_game(game, lambda g, s: int(legal_actions(g, s)[0]),
    ...                    read_line=lambda prompt: next(script), write=lambda text: None)
    >>> result.outcome.result_string(), game.game_record(result.actions)
    ('1-0', 'b2 a1 c3 b1 c1 a2 a3')
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from games.base import Action, Game, GameError, Outcome, Player, State, legal_actions

Opponent = Callable[[Game, State], Action]
"""Chooses the move of the computer side: `(game, state) -> legal action`."""
ReadLine = Callable[[str], str]
"""Shows a prompt and returns one line of input; raises `EOFError` when input ends."""
Write = Callable[[str], None]
"""Writes text (one or more lines) to the user."""

QUIT_WORDS = frozenset({"quit", "exit", "resign", "q"})
"""Input that abandons the game."""
HELP_WORDS = frozenset({"help", "?", "moves"})
"""Input that lists the legal moves."""


class OpponentSpecError(GameError):
    """An `--opponent` spec that names no known kind of player."""


@dataclass
class PlayResult:
    """How a game in the terminal went.

    Attributes:
        outcome: the result, or None if the human left before the end.
        actions: the moves played, from the initial state.
        human: the player the human played (0 moves first).
    """

    outcome: Outcome | None
    human: Player
    actions: list[Action] = field(default_factory=list)


def random_opponent(seed: int) -> Opponent:
    """A player choosing uniformly among the legal moves, reproducibly from `seed`."""
    rng = np.random.default_rng(seed)

    def choose(game: Game, state: State) -> Action:
        return int(rng.choice(legal_actions(game, state)))

    return choose


def parse_opponent(spec: str, game: Game, seed: int = 0, device: str = "auto") -> Opponent:
    """Build the opponent named by `spec` for `game`.

    Args:
        spec: the `--opponent` text: `random`, or any player spec of `engine.agents`
            (`mcts:SIMS`, `perfect`, `ckpt:PATH[:SIMS]`).
        game: the game to play (players that need it, such as search, are built for it).
        seed: seed of the opponent's random choices.

    Raises:
        OpponentSpecError: an unknown spec.
    """
    kind = spec.strip().lower()
    if kind == "random":
        return random_opponent(seed)
    from engine.agents import AgentSpecError, make_agent

    try:
        return AgentOpponent(make_agent(spec, game, device=device, seed=seed))
    except AgentSpecError as error:
        raise OpponentSpecError(f"unknown opponent {spec!r} for {game.name}: {error}") from None


class AgentOpponent:
    """An `engine.agents` player as a terminal opponent; it shows its evaluation of each move."""

    def __init__(self, agent) -> None:
        self.agent = agent
        self.last_comment = ""

    def __call__(self, game: Game, state: State) -> Action:
        analysis = self.agent.analyse(game, state)
        self.last_comment = f"(its evaluation: {analysis.value:+.2f} for itself)"
        return int(analysis.action)


def play_game(game: Game, opponent: Opponent, *, human: Player = 0,
              read_line: ReadLine = input, write: Write = print,
              start: State | None = None) -> PlayResult:
    """Play one game from `start` (default: the initial state), the human as `human`, the
    opponent the other.

    The board is drawn at the start and after every move. A move that cannot be read or is
    illegal gets one line of explanation and a new prompt. `quit` (or the end of input)
    abandons the game; `help` lists the legal moves.

    Returns:
        The outcome (None if abandoned) and the moves played.
    """
    if human not in (0, 1):
        raise ValueError(f"human must be player 0 or 1, got {human!r}")
    state = game.initial_state() if start is None else start
    result = PlayResult(outcome=None, human=human)
    write(f"{game.name}: you move {'first' if human == 0 else 'second'}. "
          f"Type a move, 'help' for the legal moves, 'quit' to leave.")
    write(game.render(state))
    while (outcome := game.outcome(state)) is None:
        if game.to_play(state) == human:
            action = ask_move(game, state, read_line, write)
            if action is None:
                write("Game abandoned.")
                return result
            who = "You play"
        else:
            action = opponent(game, state)
            who = "Opponent plays"
        comment = (opponent.last_comment if who == "Opponent plays"
                   and isinstance(opponent, AgentOpponent) else "")
        write(f"{who} {game.action_to_text(state, action)}" + (f" {comment}" if comment else ""))
        state = game.next_state(state, action)
        result.actions.append(action)
        write(game.render(state))
    result.outcome = outcome
    write(result_line(outcome, human))
    return result


def ask_move(game: Game, state: State, read_line: ReadLine, write: Write) -> Action | None:
    """Prompt until the human types a legal move; None if they quit or input ends."""
    while True:
        try:
            text = read_line("Your move: ")
        except EOFError:
            write("")
            return None
        word = text.strip().lower()
        if word in QUIT_WORDS:
            return None
        if word in HELP_WORDS or not word:
            write(f"Legal moves: {legal_moves_text(game, state)}")
            continue
        try:
            return game.text_to_action(state, text)
        except GameError as error:
            reason = str(error).splitlines()[0] if str(error) else type(error).__name__
            write(f"{reason}. Legal moves: {legal_moves_text(game, state)}")


def legal_moves_text(game: Game, state: State) -> str:
    """The legal moves' texts separated by spaces."""
    return " ".join(game.action_to_text(state, int(a)) for a in legal_actions(game, state))


def result_line(outcome: Outcome, human: Player) -> str:
    """One line with the result, e.g. `Result: 1-0 (four in a row). You win.`."""
    verdict = {1.0: "You win.", 0.0: "Draw.", -1.0: "You lose."}[outcome.value(human)]
    reason = outcome.termination.value.replace("_", " ")
    return f"Result: {outcome.result_string()} ({reason}). {verdict}"
