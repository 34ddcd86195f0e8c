"""External engines that are not what they claim: a program that is not a GTP engine (`cat`,
GNU Go in its default ASCII mode), one that exits, one that is silent, a UCI engine that exits
or answers garbage. Each ends the match with one `move37: error:` line and exit code 2, never
a hang or a background-thread traceback."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from engine.gtp_client import GtpAgent, GtpClient, GtpError
from engine.uci_client import UciAgent, UciEngineError
from games.chess import Chess
from games.go import Go

REPO_ROOT = Path(__file__).resolve().parents[2]


def move37(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    env = {**os.environ, "PATH": os.environ.get("PATH", "") + ":/usr/games"}
    return subprocess.run([sys.executable, "-m", "engine", *args], capture_output=True,
                          text=True, timeout=timeout, cwd=REPO_ROOT, env=env, check=False)


def assert_one_line_error(done: subprocess.CompletedProcess, *expected: str) -> None:
    """Exit 2 and one error line, the last; before it at most the arena's progress lines
    (its header and a tick per finished game)."""
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert lines and lines[-1].startswith("move37: error:"), done.stderr
    assert all(line.startswith(("arena ", "game ")) for line in lines[:-1]), done.stderr
    lines = lines[-1:]
    assert "Traceback" not in done.stderr + done.stdout
    for text in expected:
        assert text in lines[0]


def test_cat_is_not_a_gtp_engine() -> None:
    started = time.monotonic()
    done = move37("arena", "go", "--size", "9", "--a", "gtp:cat", "--b", "random", "--games", "2")
    assert_one_line_error(done, "malformed response", "--mode gtp")
    assert time.monotonic() - started < 60


def test_gnugo_in_ascii_mode_fails_at_once_with_a_hint(gnugo: str) -> None:
    # GNU Go without --mode gtp writes a prompt of non-UTF-8 bytes and no newline.
    started = time.monotonic()
    with pytest.raises(GtpError, match="malformed response to 'boardsize'.*--mode gtp"):
        GtpAgent(gnugo, Go(size=9))
    assert time.monotonic() - started < 10
    done = move37("arena", "go", "--size", "9", "--a", f"gtp:{gnugo}", "--b", "random")
    assert_one_line_error(done, "malformed response", "--mode gtp")


def test_silent_and_exiting_engines(tmp_path: Path) -> None:
    with pytest.raises(GtpError, match="did not answer 'boardsize' within 1 s"):
        GtpAgent("sleep 30", Go(size=9), setup_timeout=1)
    with pytest.raises(GtpError, match="exited"):
        GtpAgent("true", Go(size=9))
    # Non-UTF-8 garbage is read, not a crash of the reader thread.
    script = tmp_path / "garbage.py"
    script.write_text("import sys\nfor line in sys.stdin:\n"
                      "    sys.stdout.buffer.write(b'= \\xff\\xfe\\xa1\\n\\n'); sys.stdout.flush()\n")
    with GtpClient([sys.executable, str(script)]) as client:
        assert client.send("name") == "\ufffd\ufffd\ufffd"
    done = move37("arena", "go", "--size", "9", "--a", f"gtp:{sys.executable} {script}",
                  "--b", "random", "--games", "2")
    assert_one_line_error(done, "answered genmove")


BAD_UCI = textwrap.dedent("""
    import sys
    mode, out = sys.argv[1], sys.stdout.buffer
    for line in sys.stdin:
        line = line.strip()
        if line == "uci":
            out.write(b"id name bad\\nuciok\\n"); out.flush()
        elif line == "isready":
            out.write(b"readyok\\n"); out.flush()
        elif line.startswith("go"):
            if mode == "exit":
                sys.exit(3)
            out.write(b"\\xff\\xfe\\xa1 nonsense\\n"); out.flush()  # and never a bestmove
        elif line == "quit":
            break
""")


@pytest.mark.parametrize("mode, message", [("exit", "died"), ("garbage", "no move within")])
def test_bad_uci_engines(tmp_path: Path, mode: str, message: str) -> None:
    script = tmp_path / "bad_uci.py"
    script.write_text(BAD_UCI)
    game = Chess()
    agent = UciAgent([sys.executable, str(script), mode], game, move_timeout=1)
    try:
        with pytest.raises(UciEngineError, match=message):
            agent.analyse(game, game.initial_state())
    finally:
        agent.close()


def test_uci_engine_that_exits_ends_the_arena(tmp_path: Path) -> None:
    script = tmp_path / "bad_uci.py"
    script.write_text(BAD_UCI)
    done = move37("arena", "chess", "--a", f"uci:{sys.executable} {script} exit", "--b", "random",
                  "--games", "2")
    assert_one_line_error(done, "died")
