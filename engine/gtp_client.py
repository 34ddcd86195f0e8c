"""Talking to external GTP engines (GNU Go, KataGo, ...): a client and an `Agent` over it.

`GtpClient` runs the engine as a subprocess and sends one command at a time, returning the
response text or raising `GtpError` on a `?` reply, a timeout, or an engine that exits.

`GtpAgent` makes such an engine a player for `engine.arena` (`gtp:"gnugo --mode gtp"`). An
agent only sees states, while an external engine needs the moves that led to them (for ko
and its own history), so the agent remembers the move list of every state it has answered
from and of each of their successors; asked about a state, it looks it up, brings the
engine's board to it with the fewest commands (the missing `play`s, or `clear_board` and a
replay), then calls `genmove`. A state it has never seen (a random opening played by the
arena) is set up by playing its stones in order, which loses only the ko point. The reply
is checked against our rules; `resign` is returned as a pass with value -1 (the arena has no
resignation) and counted in `resignations`.
"""

from __future__ import annotations

import hashlib
import os
import queue
import shlex
import subprocess
import threading
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from engine.agent_types import Analysis
from games.base import GameError

if TYPE_CHECKING:
    from typing_extensions import Self


class GtpError(GameError):
    """The engine failed a command, stopped answering, or played an illegal move."""


SETUP_TIMEOUT = 30.0
"""Seconds an engine gets to answer a command other than `genmove` (those answer at once)."""
_NOT_GTP = " (is it a GTP engine? GNU Go needs --mode gtp)"


class GtpClient:
    """A GTP engine in a subprocess.

    The engine's output is read as bytes by a thread and decoded leniently, so that a program
    that is not a GTP engine (GNU Go in its default ASCII mode, `cat`) is reported as one
    `GtpError` (a malformed response, a timeout or an exit), never a hang or a traceback.

    Args:
        command: the engine's command line (a string split like a shell, or a list).
        timeout: seconds to wait for a `genmove` response.
        setup_timeout: seconds to wait for any other response.
    """

    def __init__(self, command: str | Sequence[str], *, timeout: float = 120.0,
                 setup_timeout: float = SETUP_TIMEOUT) -> None:
        argv = shlex.split(command) if isinstance(command, str) else list(command)
        if not argv:
            raise GtpError("empty GTP engine command")
        self.command = " ".join(argv)
        self.timeout = timeout
        self.setup_timeout = setup_timeout
        try:
            self.process = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                            stderr=subprocess.DEVNULL)
        except OSError as error:
            raise GtpError(f"cannot start GTP engine {self.command!r}: {error.strerror}") from None
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._partial = b""  # the unfinished line the engine is writing
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        """Split the engine's output into lines (raw reads: a partial line stays visible)."""
        assert self.process.stdout is not None
        fd = self.process.stdout.fileno()
        buffer = b""
        try:
            while chunk := os.read(fd, 65536):
                *lines, buffer = (buffer + chunk).split(b"\n")
                for raw in lines:
                    self._lines.put(raw.decode("utf-8", errors="replace") + "\n")
                self._partial = buffer
        except OSError:  # the pipe closed under us while closing
            pass
        self._lines.put(None)

    def _line(self, timeout: float, command: str, first: bool = False) -> str:
        """The next line of output. For the `first` line of a response, output that cannot
        start one (GNU Go's ASCII mode writes a prompt without a newline) fails at once."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self._lines.get(timeout=0.05 if first else timeout)
                break
            except queue.Empty:
                partial = self._partial.strip()
                if first and partial and partial[:1] not in (b"=", b"?"):
                    raise GtpError(f"{self.command!r} sent a malformed response to "
                                   f"{command.split()[0]!r}: {partial[:60]!r}{_NOT_GTP}") \
                        from None
                if not first or time.monotonic() >= deadline:
                    raise GtpError(f"{self.command!r} did not answer {command.split()[0]!r} "
                                   f"within {timeout:g} s{_NOT_GTP}") from None
        if line is None:
            self._lines.put(None)  # later reads see the exit too
            raise GtpError(f"{self.command!r} exited")
        return line

    def send(self, command: str, *, timeout: float | None = None) -> str:
        """Send one command; return the response text (without `=` and the blank line).

        Waits `timeout` seconds (default: `self.timeout` for `genmove`, else
        `self.setup_timeout`) for each line of the response.
        """
        if timeout is None:
            genmove = command.split()[:1] == ["genmove"]
            timeout = self.timeout if genmove else self.setup_timeout
        if self.process.poll() is not None:
            raise GtpError(f"{self.command!r} exited (exit code {self.process.returncode})")
        assert self.process.stdin is not None
        try:
            self.process.stdin.write((command.strip() + "\n").encode())
            self.process.stdin.flush()
        except OSError:
            raise GtpError(f"{self.command!r} exited") from None
        line = self._line(timeout, command, first=True)
        while not line.strip():  # stray blank lines between responses
            line = self._line(timeout, command, first=True)
        head = line.strip()
        if head[0] not in "=?":  # not GTP: fail now rather than wait for a blank line
            raise GtpError(f"{self.command!r} sent a malformed response to "
                           f"{command.split()[0]!r}: {head[:60]!r}{_NOT_GTP}")
        lines = [head]
        while True:
            line = self._line(timeout, command).rstrip("\r\n")
            if not line.strip():
                break
            lines.append(line)
        status, text = head[0], head[1:].lstrip("0123456789").strip()
        body = "\n".join([text, *lines[1:]]).strip("\n") if len(lines) > 1 else text
        if status == "?":
            raise GtpError(f"{self.command!r} failed {command.split()[0]!r}: {body}")
        return body

    def close(self) -> None:
        """Ask the engine to quit; kill it if it does not within a few seconds."""
        if self.process.poll() is None:
            try:
                assert self.process.stdin is not None
                self.process.stdin.write(b"quit\n")
                self.process.stdin.close()
            except OSError:
                pass
            try:
                self.process.wait(timeout=3)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


Plays = tuple[tuple[int, int], ...]
"""(player, action) pairs in order."""
_COLOURS = ("black", "white")


def _key(state: np.ndarray) -> bytes:
    return hashlib.blake2b(state.tobytes(), digest_size=16).digest()


class GtpAgent:
    """An external GTP engine as an `Agent` for Go.

    Args:
        command: the engine's command line, e.g. `gnugo --mode gtp --level 1`.
        game: a `games.go.Go` (board size and komi are sent to the engine).
        name: the agent's name (default `gtp:<command>`).
        timeout, setup_timeout: seconds to wait for `genmove` and for other commands.
    """

    def __init__(self, command: str, game, *, name: str | None = None,
                 timeout: float = 120.0, setup_timeout: float = SETUP_TIMEOUT) -> None:
        from games.go import Go

        if not isinstance(game, Go):
            raise GtpError(f"GTP players play Go, not {getattr(game, 'name', game)}")
        self.game = game
        self.name = name or f"gtp:{command}"
        self.client = GtpClient(command, timeout=timeout, setup_timeout=setup_timeout)
        self.resignations = 0
        # state -> the (player, action) plays that lead to it from the empty board
        self._plays: dict[bytes, Plays] = {}
        self._siblings: dict[bytes, list[bytes]] = {}
        self._engine_plays: Plays = ()
        try:
            self.client.send(f"boardsize {game.size}")
            self.client.send(f"komi {game.komi:g}")
            self.client.send("clear_board")
        except GtpError:
            self.client.close()
            raise
        self._remember(game.initial_state(), ())

    # --- bookkeeping of play lists ----------------------------------------------------------
    def _remember(self, state: np.ndarray, plays: Plays) -> None:
        """Record the plays that reach `state` and each of its successors."""
        game = self.game
        self._plays[_key(state)] = plays
        legal = np.flatnonzero(game.legal_mask(state))
        if legal.size == 0:
            return
        player = game.to_play(state)
        children = game.batch_step(np.repeat(state[None], legal.size, axis=0), legal)
        keys = [_key(child) for child in children]
        for key, action in zip(keys, legal):
            self._plays.setdefault(key, plays + ((player, int(action)),))
            self._siblings[key] = keys

    def _plays_to(self, state: np.ndarray) -> Plays | None:
        """The plays that reach `state`, forgetting the branches not taken."""
        key = _key(state)
        plays = self._plays.get(key)
        for sibling in self._siblings.pop(key, []):
            if sibling != key:
                self._siblings.pop(sibling, None)
                self._plays.pop(sibling, None)
        return plays

    # --- engine synchronisation -------------------------------------------------------------
    def _sync(self, state: np.ndarray) -> Plays:
        """Bring the engine's board to `state`; return the plays that reach it."""
        plays = self._plays_to(state)
        if plays is None:
            # Never seen (e.g. a random opening): play its stones one by one. In a legal
            # position this never captures: a partly built group either misses one of its
            # own stones (an empty neighbour) or is complete (it keeps a final liberty).
            board = self.game.board(state).reshape(-1)
            plays = tuple((player, int(point)) for player in (0, 1)
                          for point in np.flatnonzero(board == player + 1))
            self._plays[_key(state)] = plays
        known = self._engine_plays
        if plays[: len(known)] != known:
            self.client.send("clear_board")
            known = ()
        for player, action in plays[len(known):]:
            self.client.send(f"play {_COLOURS[player]} {self.game.action_to_text(None, action)}")
        self._engine_plays = plays
        return plays

    # --- Agent protocol -----------------------------------------------------------------------
    def analyse(self, game, state: np.ndarray, **kwargs: object) -> Analysis:
        """The engine's `genmove` in `state` (the `Agent` protocol; search options ignored)."""
        plays = self._sync(state)
        player = self.game.to_play(state)
        reply = self.client.send(f"genmove {_COLOURS[player]}").strip()
        value = 0.0
        if reply.lower() == "resign":
            self.resignations += 1
            action, value = self.game.pass_action, -1.0  # the engine's board is unchanged
        else:
            try:
                action = self.game.text_to_action(None, reply)
            except GameError:
                raise GtpError(f"{self.name} answered genmove with {reply!r}") from None
            if not self.game.legal_mask(state)[action]:
                raise GtpError(f"{self.name} played {reply}, illegal here: "
                               f"{self.game.why_illegal(state, action)}")
            self._engine_plays = plays + ((player, action),)
        after = self.game.batch_step(state[None], np.array([action]))[0]
        self._remember(after, plays + ((player, action),))
        return Analysis(action=int(action), value=value)

    def final_score(self, state: np.ndarray) -> str | None:
        """The engine's own count of the finished game `state` (GTP `final_score`, e.g.
        `B+3.5`), or None when it has not seen the game or cannot count."""
        if _key(state) not in self._plays:
            return None
        try:
            self._sync(state)
            return self.client.send("final_score", timeout=self.client.timeout).strip()
        except GtpError:
            return None

    def analyse_batch(self, states: np.ndarray) -> list[Analysis]:
        return [self.analyse(self.game, state) for state in states]

    def close(self) -> None:
        self.client.close()

