"""Writing game records to files that other programs read whole.

* PGN (chess): one file, games separated by a blank line (the PGN standard's export format;
  python-chess and every GUI read each game).
* SGF (Go): one game per file (`STEM-001.sgf`, `STEM-002.sgf`, ...): a file holding a
  collection is read as its first game by most readers (sgfmill's `Sgf_game.from_bytes`).
* Text (tic-tac-toe, Connect Four): one game per line, under a `#` header line that says how
  to read them: the moves from the initial position, the first player moving first.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from engine.checkpoint import atomic_write_text
from games.base import Game


def text_header(game: Game) -> str:
    """The header line of a text record file."""
    return (f"# {game.name} games, one per line: the moves from the initial position, the "
            "first player (X) moving first; result 1-0: the first player won, 0-1: the "
            "second, 1/2-1/2: a draw")


def write_records(game: Game, records: Sequence[str], path: Path) -> list[Path]:
    """Write `records` (texts of `game.game_record`) at `path` as the module docstring says;
    for SGF, `path`'s stem names the files. Returns the files written."""
    path = Path(path)
    extension = game.record_extension
    if extension == "sgf":
        width = max(3, len(str(len(records))))
        written = []
        for number, record in enumerate(records, 1):
            target = path.with_name(f"{path.stem}-{number:0{width}d}.sgf")
            atomic_write_text(target, record.strip("\n") + "\n")
            written.append(target)
        return written
    texts = [record.strip("\n") for record in records]
    if extension == "pgn":
        text = "\n\n".join(texts) + "\n"
    else:
        text = "\n".join([text_header(game), *texts]) + "\n"
    atomic_write_text(path, text)
    return [path]
