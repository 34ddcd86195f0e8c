"""Go vertices in GTP notation: columns A-T without I, row 1 at the bottom, and `pass`.

Points are numbered `row * size + col` with row 0 at the top, so `A1` on 9x9 is point 72
and `J9` is point 8. Action `size * size` is a pass.
"""

from __future__ import annotations

from games.base import MoveParseError

COLUMNS = "ABCDEFGHJKLMNOPQRST"


def point_to_vertex(point: int, size: int) -> str:
    """`point` (0..N-1) or `N` (pass) -> `'D4'` / `'pass'`."""
    if point == size * size:
        return "pass"
    if not 0 <= point < size * size:
        raise ValueError(f"point {point} is not on a {size}x{size} board")
    row, col = divmod(point, size)
    return f"{COLUMNS[col]}{size - row}"


def vertex_to_point(text: str, size: int) -> int:
    """`'D4'` / `'pass'` (any case) -> point index, or `size * size` for a pass.

    Raises:
        MoveParseError: the text is not a vertex, or the vertex lies off this board.
    """
    word = text.strip().upper()
    if word == "PASS":
        return size * size
    if len(word) < 2 or word[0] not in COLUMNS or not word[1:].isdigit():
        raise MoveParseError(f"{text!r} is not a Go vertex (e.g. D4, pass)")
    col = COLUMNS.index(word[0])
    number = int(word[1:])
    if col >= size or not 1 <= number <= size:
        raise MoveParseError(f"{text!r} is off the {size}x{size} board")
    return (size - number) * size + col
