"""The GTP engine's only I/O: `serve` reads commands from stdin and writes the responses.

A thread reads stdin into a queue, so that an analysis stream (`lz-analyze`,
`kata-analyze`) notices the next command while its search runs; every other command is read
and answered in order.
"""

from __future__ import annotations

import queue
import sys
import threading
from typing import TextIO

from engine.gtp import GtpEngine, preprocess
from engine.gtp_analyze import stream

END_OF_INPUT = ""
"""What the input queue holds once stdin is exhausted (every line read has its newline or,
the last one, some text)."""


def _read_lines(stdin: TextIO, lines: queue.Queue[str]) -> None:
    for line in stdin:
        lines.put(line)
    lines.put(END_OF_INPUT)


def _next_command(lines: queue.Queue[str]) -> str:
    """The next line that is a command (GTP ignores empty lines and comments), or the end."""
    while True:
        line = lines.get()
        if line == END_OF_INPUT or preprocess(line):
            return line


def _warn(text: str) -> None:
    print(f"move37 gtp: {text}", file=sys.stderr, flush=True)


def serve(engine: GtpEngine, stdin: TextIO, stdout: TextIO) -> None:
    """Read commands from `stdin` until `quit` or end of input; the only I/O of the engine.

    A thread reads stdin into a queue, so that an analysis stream notices the next command
    while its search runs; every other command is read and answered in order as before.
    """
    def write(text: str) -> None:
        stdout.write(text)
        stdout.flush()

    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=_read_lines, args=(stdin, lines), name="gtp-input",
                     daemon=True).start()
    pending: str | None = None
    while True:
        line = lines.get() if pending is None else pending
        pending = None
        if line == END_OF_INPUT:
            break
        response, job = engine.start(line)
        if response is None:
            continue
        write(response)
        if job is not None:
            pending = stream(job, write, lambda: _next_command(lines), _warn)
        if engine.finished:
            break
