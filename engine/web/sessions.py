"""Games in progress on a web board, kept on the server under random ids.

A session holds the moves and every state reached (so undo and replay need no recomputing)
and the analyses the agent made. The store keeps at most `max_games`; a new game beyond
that drops the one left idle longest.
"""

from __future__ import annotations

import secrets
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from engine.play import result_line
from engine.web.boards import board_view
from games.base import Action, Game, State

HUMAN_SIDES = (0, 1)
"""The sides a human may take: 0 moves first."""


@dataclass
class Session:
    """One game on the board.

    Attributes:
        id: the random id the page uses.
        game: the rules, with the options the game was created with.
        options: those options (JSON-ready).
        player: the roster index of the computer side (None when replaying a record).
        human: the side the human plays (0 or 1; None when replaying).
        actions: the moves played from the initial state.
        states: `len(actions) + 1` states: the initial one, then one after each move.
        analyses: the agent's analyses, each with the `ply` of the position it looked at.
        title: what the page shows above a replayed record.
    """

    id: str
    game: Game
    options: dict[str, Any]
    player: int | None
    human: int | None
    actions: list[Action] = field(default_factory=list)
    states: list[State] = field(default_factory=list)
    analyses: list[dict[str, Any]] = field(default_factory=list)
    title: str = ""
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def state(self) -> State:
        return self.states[-1]

    def play(self, action: Action) -> None:
        """Apply a legal action (the caller has checked it)."""
        self.states.append(self.game.next_state(self.state, action))
        self.actions.append(int(action))

    def undo(self) -> int:
        """Take back moves until it is the human's turn again (at least one move); returns
        how many were taken back."""
        taken = 0
        while self.actions and (taken == 0 or self.game.to_play(self.state) != self.human):
            self.actions.pop()
            self.states.pop()
            taken += 1
        ply = len(self.actions)
        self.analyses = [a for a in self.analyses if a["ply"] < ply]
        return taken

    def move_texts(self) -> list[str]:
        return [self.game.action_to_text(self.states[i], a) for i, a in enumerate(self.actions)]

    def snapshot(self, ply: int | None = None, message: str | None = None) -> dict[str, Any]:
        """The page's picture of the game at `ply` (default: the last position)."""
        ply = len(self.actions) if ply is None else ply
        state = self.states[ply]
        outcome = self.game.outcome(state)
        analysis = next((a for a in reversed(self.analyses) if a["ply"] <= ply
                         and a["ply"] >= ply - 1), None)
        return {
            "id": self.id, "game": self.game.name, "options": self.options,
            "mode": "replay" if self.player is None else "play",
            "human": self.human, "player": self.player, "title": self.title,
            "ply": ply, "plies": len(self.actions), "moves": self.move_texts(),
            "to_play": int(self.game.to_play(state)),
            "view": board_view(self.game, state, self.actions[ply - 1] if ply else None),
            "outcome": None if outcome is None else {
                "result": outcome.result_string(),
                "reason": outcome.termination.value.replace("_", " "),
                "text": (result_line(outcome, self.human) if self.human is not None
                         else f"Result: {outcome.result_string()}")},
            "analysis": analysis, "message": message,
        }

    def export(self, form: str) -> dict[str, str]:
        """The game as the game's record (`record`: PGN, SGF, or a move string) or as move
        texts separated by spaces (`moves`)."""
        if form == "moves":
            return {"format": "txt", "text": " ".join(self.move_texts())}
        values = [None] * len(self.actions)
        for a in self.analyses:  # the agent's value for the move it made
            if a["ply"] < len(values) and a.get("played"):
                values[a["ply"]] = a["value"]
        text = self.game.game_record(self.actions, self.game.outcome(self.state), values=values)
        return {"format": self.game.record_extension, "text": text}


class SessionStore:
    """Sessions by id, at most `max_games`, the longest idle dropped first."""

    def __init__(self, max_games: int = 64) -> None:
        if max_games < 1:
            raise ValueError("max_games must be at least 1")
        self.max_games = max_games
        self._sessions: OrderedDict[str, Session] = OrderedDict()
        self._lock = threading.Lock()

    def create(self, game: Game, options: dict[str, Any], player: int | None,
               human: int | None, actions: list[Action] | None = None,
               title: str = "") -> Session:
        session = Session(id=secrets.token_urlsafe(12), game=game, options=options,
                          player=player, human=human, states=[game.initial_state()],
                          title=title)
        for action in actions or []:
            session.play(action)
        with self._lock:
            while len(self._sessions) >= self.max_games:
                self._sessions.popitem(last=False)
            self._sessions[session.id] = session
        return session

    def get(self, session_id: str) -> Session:
        """The session; raises KeyError when there is none (or it was dropped)."""
        with self._lock:
            session = self._sessions[session_id]
            self._sessions.move_to_end(session_id)
            return session

    def __len__(self) -> int:
        return len(self._sessions)
