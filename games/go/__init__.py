"""Go: rules as batched Numba kernels, network encoding, random playouts, GTP vertices, SGF.

    >>> import games
    >>> go = games.make("go", size=9, komi=7.5)
    >>> go.num_actions, go.observation_shape
    (82, (17, 9, 9))

Modules: `layout` (the flat state), `rules` (legality, step, scoring), `encode` (planes and
symmetries), `playout` (fast random playouts), `coords` (GTP vertices), `sgf` (records),
`game` (the `Go` class).
"""

from games.go.coords import COLUMNS, point_to_vertex, vertex_to_point
from games.go.game import Go

__all__ = ["COLUMNS", "Go", "point_to_vertex", "vertex_to_point"]
