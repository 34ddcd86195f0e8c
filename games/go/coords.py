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


def max_fixed_handicap(size: int) -> int:
    """Most stones GTP's fixed handicap places: 9 on odd boards from 7x7, 4 on even ones,
    none below 7x7."""
    if size < 7:
        return 0
    return 9 if size % 2 else 4


def fixed_handicap_points(size: int, stones: int) -> list[int]:
    """GTP 2 fixed handicap placement (section 4.1.1), generalised to any size from 7x7.

    Stones go on the 3rd line (4th from 13x13), in the GTP order: the two opposite corners,
    the other corners, then sides and centre. Raises ValueError for an invalid count.
    """
    if not 2 <= stones <= max_fixed_handicap(size):
        raise ValueError(f"{stones} fixed handicap stones are not possible on {size}x{size}")
    edge = 3 if size >= 13 else 2
    low, high, mid = edge, size - 1 - edge, size // 2

    def point(col: int, row_from_bottom: int) -> int:
        return (size - 1 - row_from_bottom) * size + col

    corners = [point(low, low), point(high, high), point(low, high), point(high, low)]
    sides = [point(low, mid), point(high, mid), point(mid, low), point(mid, high)]
    centre = point(mid, mid)
    if stones <= 4:
        return corners[:stones]
    if stones in (5, 7, 9):
        return corners + sides[: stones - 5] + [centre]
    return corners + sides[: stones - 4]
