"""What the training commands print: one clean line per event, and progress in between.

Written to a file or a pipe, every event is one plain line (no colours, no timestamps or
source columns, no hyperlinks, never wrapped), so `grep` and `cut` work on a log; progress
inside a long iteration (games finished so far) is a line at most every
`PIPE_PROGRESS_SECONDS`. On a terminal the same event lines are printed and the progress is a
live status line under them that is rewritten in place.

`Budget` turns a run's limits into the elapsed / budget / ETA fields of the lines.
"""

from __future__ import annotations

import os
import sys
import time
import warnings
from dataclasses import dataclass
from typing import Any, TextIO

PIPE_PROGRESS_SECONDS = 10.0
"""Least time between two progress lines when the output is not a terminal."""


def clock(seconds: float) -> str:
    """`m:ss`, or `h:mm:ss` from an hour on.

    >>> clock(5), clock(125.4), clock(3725)
    ('0:05', '2:05', '1:02:05')
    """
    seconds = max(0, round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


@dataclass
class Budget:
    """A run's limits in this call: a time budget and a last iteration, either may be off."""

    started: float
    """`time.monotonic()` when the command started (the budget counts from there)."""
    minutes: float = 0.0
    """Time budget (0 = none)."""
    first_iteration: int = 0
    """Iterations finished before this call (a resumed run's)."""
    last_iteration: int = 0
    """Stop after this iteration (0 = no limit)."""

    def elapsed(self, now: float | None = None) -> float:
        return (time.monotonic() if now is None else now) - self.started

    def remaining(self, iteration: int, now: float | None = None) -> float | None:
        """Seconds left: the nearer of the time budget and the iterations left at the mean
        pace so far; None with neither limit."""
        elapsed = self.elapsed(now)
        left = []
        if self.minutes:
            left.append(self.minutes * 60 - elapsed)
        done = iteration - self.first_iteration
        if self.last_iteration and done > 0:
            left.append((self.last_iteration - iteration) * elapsed / done)
        return max(0.0, min(left)) if left else None

    def describe(self, more: bool = False) -> str:
        """`5 iterations / 2 minutes` (what the run will do in this call; `more`: a
        resumed run's `5 more iterations / 2 more minutes`)."""
        extra = "more " if more else ""
        parts = []
        if self.last_iteration:
            count = self.last_iteration - self.first_iteration
            parts.append(f"{count} {extra}iteration{'s' if count != 1 else ''}")
        if self.minutes:
            parts.append(f"{self.minutes:g} {extra}minute{'s' if self.minutes != 1 else ''}")
        return " / ".join(parts) if parts else f"one {extra}iteration"

    def fields(self, iteration: int) -> str:
        """`1:23/2:00 eta 0:37` (elapsed, the time budget if any, the ETA if known)."""
        text = clock(self.elapsed())
        if self.minutes:
            text += f"/{clock(self.minutes * 60)}"
        eta = self.remaining(iteration)
        return text + (f" eta {clock(eta)}" if eta is not None else "")


class Display:
    """Event lines and progress for one command (see the module docstring).

    Args:
        stream: where to write (default stdout).
        live: rewrite a status line in place; default: when `stream` is a terminal.
    """

    def __init__(self, stream: TextIO | None = None, live: bool | None = None) -> None:
        self.stream = stream or sys.stdout
        self.live = is_terminal(self.stream) if live is None else live
        self._last_progress = float("-inf")
        self._status: Any = None
        self._console: Any = None
        if self.live:
            from rich.console import Console

            # soft_wrap: the terminal wraps a long line, rich never inserts a break.
            self._console = Console(file=self.stream, soft_wrap=True, highlight=False,
                                    markup=False, emoji=False)

    def __call__(self, text: str) -> None:
        self.event(text)

    def event(self, text: str) -> None:
        """One line that stays."""
        if self._console is not None:
            self._console.print(text)
        else:
            self.stream.write(text + "\n")
            self.stream.flush()

    def progress(self, text: str) -> None:
        """Where a long step is: the live status on a terminal, else an occasional line."""
        if self._console is None:
            now = time.monotonic()
            if now - self._last_progress >= PIPE_PROGRESS_SECONDS:
                self._last_progress = now
                self.event(text)
            return
        if self._status is None:
            self._status = self._console.status(text)
            self._status.start()
        else:
            self._status.update(text)

    def clear_progress(self) -> None:
        """End the live status (before an event that closes a step). In a file or pipe the
        next step's progress waits `PIPE_PROGRESS_SECONDS`: only a long step shows any."""
        if self._status is not None:
            self._status.stop()
            self._status = None
        self._last_progress = time.monotonic()

    def close(self) -> None:
        self.clear_progress()


def exit_now(code: int) -> None:
    """Flush the output and end the process at once, skipping the interpreter's teardown
    (seconds after torch, during which another Ctrl-C would print a traceback); for after
    an interrupted run has saved its checkpoint."""
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    os._exit(code)


def run_saving_on_interrupt(run: Any, display: Display, started: float,
                            resume_command: str) -> dict[str, Any]:
    """`run.run(started=...)`; on Ctrl-C, save a checkpoint, say in one line how to resume
    (`resume_command`, e.g. `move37 train --resume RUN`) and exit with code 130."""
    import signal

    try:
        return run.run(started=started)
    except KeyboardInterrupt:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not cut the save
        display.close()
        stem = run.save()
        display.event(f"interrupted; saved checkpoint {stem.name}; resume with: "
                      f"{resume_command}")
        exit_now(130)
        raise  # not reached: exit_now ends the process
    finally:
        display.close()


def is_terminal(stream: TextIO) -> bool:
    """Whether `stream` is an interactive terminal (`TERM=dumb` counts as not)."""
    try:
        return stream.isatty() and os.environ.get("TERM", "") != "dumb"
    except (AttributeError, ValueError):
        return False


def quiet_libraries() -> None:
    """Keep Hugging Face's warnings and download bars out of the command's output (the
    command reports its own progress); call before transformers is imported."""
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("HF_DATASETS_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_NO_ADVISORY_WARNINGS", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    # transformers' notices of renamed arguments (FutureWarning) are for library authors.
    warnings.filterwarnings("ignore", category=FutureWarning,
                            message=r".*(deprecated|will be removed)")
    try:
        import transformers
    except ImportError:
        return
    transformers.utils.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()
