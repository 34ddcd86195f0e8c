"""What the web page draws for a position, and the game records of a run read back.

A board view is a JSON-ready dict the page's script turns into SVG:

* `kind`: `grid` (tic-tac-toe), `columns` (Connect Four), `go` or `chess`;
* `rows`, `cols`, and `cells` `[rows][cols]`: what stands on each cell, row 0 at the top
  (`""` empty, `X`/`O` for tic-tac-toe and Connect Four, `b`/`w` for Go stones, a
  python-chess piece symbol `P n k ...` for chess);
* `texts` `[rows][cols]`: the move text a click on that cell means (`b2`, a column `4`,
  `D4`, a chess square `e2`); the page sends that text back, so the server's rules alone
  decide what is legal;
* `last`: `[row, col]` of the last move's cell, or None.

`heat_map` spreads an analysis' visits (or policy) over the same cells.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from games.base import Action, Game, GameError, MoveParseError, State

RESULT_TOKENS = frozenset({"1-0", "0-1", "1/2-1/2", "*"})
"""Result marks that end a line of a tic-tac-toe or Connect Four record."""


def board_view(game: Game, state: State, last_action: Action | None) -> dict[str, Any]:
    """The view of `state` (see the module docstring); `last_action` led to it."""
    if game.name == "tictactoe":
        grid = game.board(state)  # [rank - 1, file]
        cells = [["" if grid[2 - r, c] == 0 else ".XO"[grid[2 - r, c]] for c in range(3)]
                 for r in range(3)]
        texts = [["abc"[c] + str(3 - r) for c in range(3)] for r in range(3)]
        last = None if last_action is None else list(action_cell(game, state, last_action))
        return _view("grid", cells, texts, last)
    if game.name == "connect4":
        grid = game.board(state)  # [row from the bottom, column]
        rows = grid.shape[0]
        cells = [["" if grid[rows - 1 - r, c] == 0 else ".XO"[grid[rows - 1 - r, c]]
                  for c in range(grid.shape[1])] for r in range(rows)]
        texts = [[str(c + 1) for c in range(grid.shape[1])] for _ in range(rows)]
        last = None
        if last_action is not None:  # the top stone of that column
            column = [cells[r][last_action] for r in range(rows)]
            last = [next(r for r, v in enumerate(column) if v), int(last_action)]
        return _view("columns", cells, texts, last)
    if game.name == "go":
        from games.go.coords import point_to_vertex

        grid = game.board(state)  # row 0 at the top
        size = grid.shape[0]
        cells = [["" if v == 0 else "bw"[v - 1] for v in row] for row in grid]
        texts = [[point_to_vertex(r * size + c, size) for c in range(size)]
                 for r in range(size)]
        last = (None if last_action is None or last_action >= size * size
                else list(divmod(int(last_action), size)))
        view = _view("go", cells, texts, last)
        view["pass_text"] = "pass"
        view["ko"] = _go_ko(game, state)
        return view
    if game.name == "chess":
        import chess

        board = state.board
        cells = [[_piece(board.piece_at(chess.square(c, 7 - r))) for c in range(8)]
                 for r in range(8)]
        texts = [[chess.square_name(chess.square(c, 7 - r)) for c in range(8)]
                 for r in range(8)]
        move = state.move  # the move that led here
        last = None if move is None else [7 - chess.square_rank(move.to_square),
                                          chess.square_file(move.to_square)]
        view = _view("chess", cells, texts, last)
        view["check"] = board.is_check()
        return view
    raise GameError(f"the web board does not draw {game.name}")


def _view(kind: str, cells: list[list[str]], texts: list[list[str]],
          last: list[int] | None) -> dict[str, Any]:
    return {"kind": kind, "rows": len(cells), "cols": len(cells[0]), "cells": cells,
            "texts": texts, "last": last}


def _go_ko(game: Game, state: State) -> list[int] | None:
    point = game.ko_point(state)
    return None if point < 0 else list(divmod(point, game.size))


def _piece(piece: Any) -> str:
    return "" if piece is None else piece.symbol()


def action_cell(game: Game, state: State, action: Action) -> tuple[int, int] | None:
    """The cell `[row, col]` (row 0 at the top) where `action` shows on the board view of
    `state`: the square taken (tic-tac-toe, Go), the cell a Connect Four stone would land
    on, a chess move's destination; None for a Go pass."""
    action = int(action)
    if game.name == "tictactoe":
        return 2 - action // 3, action % 3
    if game.name == "connect4":
        column = game.board(state)[:, action]  # row 0 at the bottom
        return len(column) - 1 - min(int((column != 0).sum()), len(column) - 1), action
    if game.name == "go":
        return None if action >= game.size * game.size else divmod(action, game.size)
    if game.name == "chess":
        import chess

        move = game.action_to_move(state, action)
        return 7 - chess.square_rank(move.to_square), chess.square_file(move.to_square)
    raise GameError(f"the web board does not draw {game.name}")


def heat_map(game: Game, state: State, weights: np.ndarray, rows: int,
             cols: int) -> list[list[float | None]]:
    """`weights` `[A]` (visits or a policy) summed per cell and scaled to a maximum of 1;
    None on cells no legal move reaches."""
    heat = np.zeros((rows, cols))
    reached = np.zeros((rows, cols), dtype=bool)
    legal = np.flatnonzero(game.legal_mask(state))
    for action in legal:
        cell = action_cell(game, state, int(action))
        if cell is not None:
            heat[cell] += float(weights[action])
            reached[cell] = True
    top = heat.max() if heat.size and heat.max() > 0 else 1.0
    return [[round(float(heat[r, c] / top), 4) if reached[r, c] else None
             for c in range(cols)] for r in range(rows)]


def parse_click(game: Game, state: State, text: str) -> Action:
    """The action of a move text sent by the page; a chess `e7e8` that only a promotion
    makes legal is read as a queen's promotion (the page draws no promotion menu).

    Raises:
        GameError: an unreadable or illegal move, with the game's own reason.
    """
    try:
        return game.text_to_action(state, text)
    except GameError:
        if game.name == "chess" and re.fullmatch(r"[a-h][1-8][a-h][1-8]", text.strip().lower()):
            try:
                return game.text_to_action(state, text.strip().lower() + "q")
            except GameError:
                pass
        raise


# --- game records written by a run (RUN/games/) -------------------------------------------

def read_records(game_name: str, text: str) -> list[tuple[dict[str, Any], list[str]]]:
    """The games of one record file of a run: (game options, move texts from the start).

    Tic-tac-toe and Connect Four files hold one game a line (`b2 a1 c3 1-0`, `4453 1-0`),
    Go files SGF records one after another, chess files PGN games.

    Raises:
        MoveParseError: a record that cannot be read.
    """
    if game_name == "tictactoe":
        return [({}, [t for t in line.split() if t not in RESULT_TOKENS])
                for line in text.splitlines() if line.strip()]
    if game_name == "connect4":
        return [({}, list("".join(t for t in line.split() if t not in RESULT_TOKENS)))
                for line in text.splitlines() if line.strip()]
    if game_name == "go":
        from games.go.sgf import read_sgf, replay

        out = []
        for chunk in re.split(r"(?=\(\s*;)", text):
            if chunk.strip():
                record = read_sgf(chunk.strip())
                go = record.game()
                _, actions = replay(go, record)
                out.append(({"size": record.size, "komi": record.komi},
                            [go.action_to_text(None, a) for a in actions]))
        return out
    if game_name == "chess":
        import chess

        from games.chess.actions import action_to_move
        from games.chess.pgn import actions_from_pgn

        out = []
        for chunk in re.split(r"\n(?=\[Event )", text):
            if chunk.strip():
                actions, _ = actions_from_pgn(chunk)
                board, moves = chess.Board(), []
                for action in actions:
                    move = action_to_move(board, action)
                    moves.append(move.uci())
                    board.push(move)
                out.append(({}, moves))
        return out
    raise MoveParseError(f"no reader for {game_name} records")
