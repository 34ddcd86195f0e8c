"""`Go`: the `Game` and `BatchGame` protocols over the kernels in `rules`, `encode`, `playout`.

    >>> from games.go import Go
    >>> go = Go(size=9, komi=7.5)
    >>> state = go.next_state(go.initial_state(), go.text_to_action(go.initial_state(), "E5"))
    >>> go.action_to_text(state, 40), go.to_play(state)
    ('E5', 1)

Rules: area scoring (Tromp-Taylor counting) with komi, suicide illegal, positional superko,
game over after two consecutive passes or `max_moves` moves (then scored the same way,
termination `MAX_LENGTH`). Player 0 is black.

Superko and memory: a state carries the hashes of the last `superko_window` positions.
The default window holds every position a game can reach (`max_moves + 1`), so the rules
are exact full positional superko, for single games and inside the search alike. This
costs 8 bytes per move of the cap in every state (with `history=3`): 9x9 states (cap 162)
are 1,648 bytes, 19x19 (cap 722) 7,248 bytes. A window of 32 shrinks them to 600 and
1,720 bytes; the rules then forbid returning to one of the last `window` positions only
(simple ko and every cycle shorter than the window, which covers triple ko and
sending-two-returning-one) and let longer cycles pass. Speed hardly depends on it (per
state, 19x19 after 300 random moves: step 1-6 us, the longer copy being the difference;
legal mask about 22 us either way, dominated by group labelling, not by the ring).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from games.base import (
    NO_PLAYER,
    Action,
    Outcome,
    Player,
    SearchKernels,
    Termination,
)
from games.batched import KernelGame
from games.go import encode, playout, rules
from games.go.coords import COLUMNS, point_to_vertex, vertex_to_point
from games.go.kernels import configured_kernels
from games.go.layout import (
    HASH,
    HEADER_BYTES,
    KO,
    MAX_RECORDED,
    MAX_SIZE,
    MIN_SIZE,
    MOVES,
    PASSES,
    POSITIONS,
    TO_PLAY,
    ZOBRIST,
    Layout,
    neighbour_tables,
)
from games.go.sgf_writer import write_sgf


class Go(KernelGame):
    """Go on a `size` x `size` board. Actions: `row * size + col` (row 0 at the top), and
    `size * size` for a pass. States: uint8 `[state_size]` (see `games.go.layout`).

    Args:
        size: board side, 5 to 19.
        komi: points added to white's area.
        max_moves: game length cap (plays and passes); default `2 * size * size`.
        superko_window: positions kept for superko; default all (`max_moves + 1`).
        history: earlier boards in the encoding.
    """

    name = "go"
    record_extension = "sgf"
    title = "Go"
    num_symmetries = 8
    state_dtype = np.dtype(np.uint8)

    def __init__(self, size: int = 9, komi: float = 7.5, max_moves: int | None = None,
                 superko_window: int | None = None, history: int = 3) -> None:
        if not isinstance(size, (int, np.integer)) or not MIN_SIZE <= size <= MAX_SIZE:
            raise ValueError(f"Go board size must be an integer from {MIN_SIZE} to {MAX_SIZE}, "
                             f"got {size!r}")
        if not math.isfinite(float(komi)):
            raise ValueError(f"komi must be a finite number, got {komi!r}")
        max_moves = 2 * size * size if max_moves is None else int(max_moves)
        if not 1 <= max_moves < MAX_RECORDED:
            raise ValueError(f"max_moves must be in 1..{MAX_RECORDED - 1}, got {max_moves}")
        window = max_moves + 1 if superko_window is None else int(superko_window)
        if not 0 <= window <= max_moves + 1:
            raise ValueError(f"superko_window must be in 0..{max_moves + 1}, got {window}")
        if not 0 <= history <= 16:
            raise ValueError(f"history must be in 0..16, got {history}")
        self.size = int(size)
        self.komi = float(komi)
        self.max_moves = max_moves
        self.layout = Layout(self.size, window, int(history))
        self.points = self.size * self.size
        self.num_actions = self.points + 1
        self.pass_action = self.points
        self.observation_shape = (encode.num_planes(history), self.size, self.size)
        self.state_shape = (self.layout.state_size,)
        self._nbr, self._diag = neighbour_tables(self.size)
        self._zob = ZOBRIST[: self.points]

    def __repr__(self) -> str:
        return (f"Go(size={self.size}, komi={self.komi:g}, max_moves={self.max_moves}, "
                f"superko_window={self.layout.window}, history={self.layout.history})")

    # --- kernel hooks (see games.batched) -----------------------------------------------
    def _initial(self, batch_size: int) -> np.ndarray:
        states = np.zeros((batch_size, self.layout.state_size), dtype=np.uint8)
        if self.layout.window > 0:
            states[:, POSITIONS] = 1  # the empty board (hash 0) is position 0 of the ring
        return states

    def _legal(self, rows: np.ndarray) -> np.ndarray:
        return rules.batch_legal(rows, self.points, self.layout.window, self.max_moves,
                                 self._nbr, self._zob)

    def _step(self, rows: np.ndarray, actions: np.ndarray) -> np.ndarray:
        return rules.batch_step(rows, actions, self.points, self.layout.window,
                                self.layout.history, self._nbr, self._zob)

    def _to_play(self, rows: np.ndarray) -> np.ndarray:
        return rows[:, TO_PLAY].astype(np.int8)

    def _terminal(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return rules.batch_terminal(rows, self.points, self.layout.window, self.max_moves,
                                    self._nbr, self.komi)

    def _encode(self, rows: np.ndarray) -> np.ndarray:
        return encode.batch_encode(rows, self.size, self.layout.window, self.layout.history,
                                   self._nbr, self._zob)

    def _rollout(self, rows: np.ndarray, seed: np.uint64) -> np.ndarray:
        return playout.batch_rollout(rows, int(seed) & (2**63 - 1), self.points,
                                     self.layout.window, self.max_moves, self._nbr,
                                     self._diag, self.komi)

    def search_kernels(self) -> SearchKernels:
        """This configuration's rules as kernels of the states alone (see `games.go.kernels`),
        compiled once per configuration and shared by every `Go` of that configuration."""
        return configured_kernels(self.size, self.komi, self.max_moves, self.layout.window,
                                      self.layout.history)

    def _finished(self, row: np.ndarray) -> bool:
        return self.is_over(row[0])

    def _illegal_message(self, state: np.ndarray, action: Action) -> str:
        return (f"{self.action_to_text(state, action)} is illegal: "
                f"{self.why_illegal(state, action)}")

    # --- Go's own batch methods -------------------------------------------------------------
    def batch_score(self, states: np.ndarray) -> np.ndarray:
        """float32 `[B]`: black's area minus white's area minus komi."""
        return rules.batch_score(self._rows(states), self.points, self.layout.window,
                                 self._nbr, self.komi)

    def bulk_playouts(self, num_playouts: int, seed: int, chunks: int = 1
                      ) -> tuple[np.ndarray, np.ndarray]:
        """Fused random playouts from the empty board (see `playout.bulk_playouts`); with
        `chunks` > 1, split over Numba's threads (same results)."""
        args = (int(num_playouts), int(seed) & (2**63 - 1), self.points, self.max_moves,
                self._nbr, self._diag, self.komi)
        if chunks <= 1:
            return playout.bulk_playouts(*args)
        return playout.bulk_playouts_parallel(*args, int(chunks))

    def ownership(self, state: np.ndarray, playouts: int = 200, seed: int = 0) -> np.ndarray:
        """float32 `[size * size]`: each point's mean owner (+1 black, -1 white) after
        `playouts` random playouts that continue from this board, even from a finished game
        (see `playout.ownership`). Dead-stone estimation for `final_status_list`."""
        row = self._one(state)[0]
        return playout.ownership(row, int(seed) & (2**63 - 1), int(playouts), self.points,
                                 self.layout.window, self._nbr, self._diag, 4 * self.points)

    def dead_stones(self, state: np.ndarray, playouts: int = 200, seed: int = 0) -> list[int]:
        """Points of stones that the other colour owns in most playouts from `state`."""
        board = self.board(state).reshape(-1)
        owner = self.ownership(state, playouts, seed)
        sign = np.where(board == 1, 1.0, np.where(board == 2, -1.0, 0.0))
        return [int(p) for p in np.flatnonzero((board != 0) & (owner * sign < 0.0))]

    def score_without(self, state: np.ndarray, dead: Sequence[int]) -> float:
        """Black's area minus white's minus komi once the stones on `dead` are taken off:
        the count of a finished game whose players agree on (or a referee names) dead stones."""
        return self.score(self.setup(state, empty=[int(p) for p in dead]))

    # --- TerritoryGame (games.base): ownership targets and dead stones ---------------------
    def final_ownership(self, state: np.ndarray, dead: Sequence[int] = ()) -> np.ndarray:
        """float32 `[size, size]`: the area owner of each point (+1 black, -1 white, 0 dame)
        once the stones on `dead` are taken off; its sum minus komi is `score_without`."""
        board = np.ascontiguousarray(self.board(state).reshape(-1).astype(np.uint8))
        board[np.asarray(dead, dtype=np.int64)] = 0
        owner = rules.area_owner(board, self.points, self._nbr)
        return owner.astype(np.float32).reshape(self.size, self.size)

    def stones(self, state: np.ndarray) -> np.ndarray:
        """int8 `[size, size]`: +1 black stone, -1 white stone, 0 empty."""
        board = self.board(state)
        return (board == 1).astype(np.int8) - (board == 2).astype(np.int8)

    # --- single-state protocol (the rest is KernelGame's) ------------------------------------
    def is_over(self, state: np.ndarray) -> bool:
        return bool(state[PASSES] >= 2 or self.move_count(state) >= self.max_moves)

    def outcome(self, state: np.ndarray) -> Outcome | None:
        if not self.is_over(state):
            return None
        score = float(self.score(state))
        winner = 0 if score > 0 else (1 if score < 0 else NO_PLAYER)
        why = Termination.SCORE if state[PASSES] >= 2 else Termination.MAX_LENGTH
        return Outcome(why, winner=winner, margin=abs(score))

    def score(self, state: np.ndarray) -> float:
        """Black's area minus white's area minus komi (positive: black leads)."""
        return float(self.batch_score(state[None])[0])

    def apply_symmetry(self, k: int, observations: np.ndarray, policies: np.ndarray
                       ) -> tuple[np.ndarray, np.ndarray]:
        return (encode.transform_planes(k, observations),
                encode.transform_policy(k, policies, self.size))

    def action_to_text(self, state: np.ndarray | None, action: Action) -> str:
        return point_to_vertex(int(action), self.size)

    def text_to_action(self, state: np.ndarray | None, text: str) -> Action:
        action = vertex_to_point(text, self.size)
        return action if state is None else self._playable(self._one(state), action)

    def render(self, state: np.ndarray) -> str:
        board = self.board(state)
        letters = "   " + " ".join(COLUMNS[: self.size])
        rows = [letters]
        ko = self.ko_point(state)
        for r in range(self.size):
            cells = []
            for c in range(self.size):
                p = r * self.size + c
                cells.append("X" if board[r, c] == 1 else "O" if board[r, c] == 2
                             else "*" if p == ko else ".")
            rows.append(f"{self.size - r:2d} {' '.join(cells)} {self.size - r}")
        rows.append(letters)
        side = "black (X)" if self.to_play(state) == 0 else "white (O)"
        rows.append(f"{side} to move; move {self.move_count(state)}; komi {self.komi:g}")
        return "\n".join(rows)

    def game_record(self, actions: Sequence[Action], outcome: Outcome | None = None, *,
                    values: Sequence[float | None] | None = None) -> str:
        """The game as SGF; `values` (one per move, the search's value for the player who
        made it) become move comments."""
        return write_sgf(self, actions, outcome=outcome, values=values).decode()

    # --- Go-specific helpers ----------------------------------------------------------------
    def board(self, state: np.ndarray) -> np.ndarray:
        """int8 `[size, size]`: 0 empty, 1 black, 2 white (row 0 at the top)."""
        start = self.layout.board
        return state[start : start + self.points].astype(np.int8).reshape(self.size, self.size)

    def move_count(self, state: np.ndarray) -> int:
        return int(state[MOVES]) | (int(state[MOVES + 1]) << 8)

    def passes(self, state: np.ndarray) -> int:
        return int(state[PASSES])

    def ko_point(self, state: np.ndarray) -> int:
        """The simple-ko point the player to move may not retake, or -1."""
        return (int(state[KO]) | (int(state[KO + 1]) << 8)) - 1

    def position_hash(self, state: np.ndarray) -> int:
        return int(state[HASH : HASH + 8].view(np.uint64)[0])

    def why_illegal(self, state: np.ndarray, action: Action) -> str:
        """A short reason why `action` is illegal (for error messages)."""
        if self.is_over(state):
            return "the game is over"
        if action == self.pass_action:
            return "legal"
        if self.board(state).reshape(-1)[action] != 0:
            return "the point is occupied"
        if action == self.ko_point(state):
            return "ko"
        probe = self.replace(state, window_off=True)
        if not self.legal_mask(probe)[action]:
            return "suicide"
        return "positional superko (it repeats an earlier position)"

    def replace(self, state: np.ndarray, *, to_play: Player | None = None,
                passes: int | None = None, window_off: bool = False) -> np.ndarray:
        """A copy of `state` with the player to move or the pass count changed (for GTP's
        out-of-turn moves), or with its superko ring emptied (`window_off`)."""
        out = state.copy()
        if to_play is not None:
            if to_play not in (0, 1):
                raise ValueError(f"player must be 0 or 1, got {to_play}")
            if to_play != out[TO_PLAY]:
                out[TO_PLAY] = to_play
                out[KO : KO + 2] = 0  # a ko ban is on the other player only
        if passes is not None:
            out[PASSES] = min(max(int(passes), 0), 2)
        if window_off:
            out[POSITIONS : POSITIONS + 2] = 0
        return out

    def from_text(self, diagram: str, to_play: Player = 0) -> np.ndarray:
        """A set-up position from rows of `X` (black), `O` (white) and `.`/`+` (empty), top
        row first; spaces are ignored. Raises ValueError if the shape is wrong."""
        rows = [line.replace(" ", "") for line in diagram.strip().splitlines()]
        if len(rows) != self.size or any(len(row) != self.size for row in rows):
            raise ValueError(f"a diagram for {self.size}x{self.size} needs {self.size} rows of "
                             f"{self.size} points")
        cells = "".join(rows)
        if set(cells) - set("XO.+"):
            raise ValueError(f"unexpected characters {sorted(set(cells) - set('XO.+'))}")
        black = [p for p, ch in enumerate(cells) if ch == "X"]
        white = [p for p, ch in enumerate(cells) if ch == "O"]
        return self.setup(self.initial_state(), black=black, white=white, to_play=to_play)

    def setup(self, state: np.ndarray, *, black: Sequence[int] = (), white: Sequence[int] = (),
              empty: Sequence[int] = (), to_play: Player | None = None) -> np.ndarray:
        """Place or remove stones without playing a move (SGF AB/AW/AE, handicap).

        The result starts a new history: the ring of earlier positions holds only the new
        position, the earlier boards are cleared, no ko, no passes; the move count is kept.
        Groups left without liberties are left on the board, as SGF setup allows.
        """
        board = state[self.layout.board : self.layout.board + self.points].copy()
        for points, colour in ((empty, 0), (black, 1), (white, 2)):
            for p in points:
                if not 0 <= int(p) < self.points:
                    raise ValueError(f"point {p} is not on a {self.size}x{self.size} board")
                board[int(p)] = colour
        out = np.zeros_like(state)
        out[TO_PLAY] = state[TO_PLAY] if to_play is None else to_play
        out[MOVES : MOVES + 2] = state[MOVES : MOVES + 2]
        out[self.layout.board : self.layout.board + self.points] = board
        keys = self._zob[np.arange(self.points), board]
        h = np.bitwise_xor.reduce(keys) if self.points else np.uint64(0)
        out[HASH : HASH + 8] = np.array([h], dtype=np.uint64).view(np.uint8)
        if self.layout.window > 0:
            out[HEADER_BYTES : HEADER_BYTES + 8] = out[HASH : HASH + 8]
            out[POSITIONS] = 1
        return out
