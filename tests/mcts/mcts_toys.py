"""Small games for the search's tests, written here so they share no code with `mcts` or `games`.

* a bandit: one move, then the game is over with a known value per arm;
* tic-tac-toe over plain Python loops, with an exact minimax;
* a random tree game driven by a hash: random legal moves, players who sometimes move twice,
  random terminal results and a deterministic pseudo-network.
"""

from __future__ import annotations

from functools import cache

import numpy as np

from mcts import BatchSearch, SearchConfig, StepResult


# --- bandit ----------------------------------------------------------------------------------
def bandit_step(arm_values: np.ndarray, two_player: bool = True):
    """A one-move game: arm a ends the game with `arm_values[a]` for the root's player.

    In the two-player version the opponent is to move after the arm, so the terminal value
    (for the player to move) is the negation; in the one-player version it is the value.
    """
    arm_values = np.asarray(arm_values, dtype=np.float32)
    num_arms = arm_values.size

    def step(states: np.ndarray, actions: np.ndarray) -> StepResult:
        k = len(actions)
        value = arm_values[actions]
        return StepResult(
            states=actions.astype(np.int64),
            to_play=np.full(k, 1 if two_player else 0, dtype=np.int8),
            legal=np.zeros((k, num_arms), dtype=bool),
            terminal=np.ones(k, dtype=bool),
            terminal_value=(-value if two_player else value).astype(np.float32),
        )

    return step


def fixed_evaluator(logits: np.ndarray, value: float = 0.0):
    """Every state gets the same prior logits `[A]` and value."""
    logits = np.asarray(logits, dtype=np.float32)

    def evaluate(states):
        n = len(states)
        return np.tile(logits, (n, 1)), np.full(n, value, dtype=np.float32)

    return evaluate


def run_bandit(arm_values, config: SearchConfig, *, logits=None, two_player=True, seed=0,
               legal=None):
    """Search the bandit once from one root; return (search, output)."""
    arm_values = np.asarray(arm_values, dtype=np.float32)
    num_arms = arm_values.size
    logits = np.zeros(num_arms) if logits is None else logits
    legal = np.ones((1, num_arms), dtype=bool) if legal is None else np.asarray(legal)[None]
    search = BatchSearch(config, 1, num_arms)
    out = search.run(np.zeros(1, dtype=np.int64), bandit_step(arm_values, two_player),
                     fixed_evaluator(logits), root_to_play=np.zeros(1, dtype=np.int8),
                     root_legal=legal, seeds=np.array([seed]))
    return search, out


# --- tic-tac-toe -----------------------------------------------------------------------------
LINES = ((0, 1, 2), (3, 4, 5), (6, 7, 8), (0, 3, 6), (1, 4, 7), (2, 5, 8), (0, 4, 8), (2, 4, 6))


def line_owner(board) -> int:
    """1 or 2 if that mark fills a line, else 0."""
    for i, j, k in LINES:
        if board[i] != 0 and board[i] == board[j] == board[k]:
            return int(board[i])
    return 0


def ttt_state(moves: str) -> np.ndarray:
    """int8 `[10]` board after moves like "4 0 8" (squares 0..8, X first); entry 9 = to move."""
    state = np.zeros(10, dtype=np.int8)
    for square in moves.split():
        state[int(square)] = state[9] + 1
        state[9] = 1 - state[9]
    return state


def ttt_facts(state) -> tuple[int, bool, float, np.ndarray]:
    """(player to move, finished, value for the player to move, legal bool [9])."""
    board = [int(x) for x in state[:9]]
    to_play = int(state[9])
    owner = line_owner(board)
    if owner:
        # Only the player who just moved can own a line: a loss for the player to move.
        return to_play, True, -1.0, np.zeros(9, dtype=bool)
    legal = np.array([x == 0 for x in board])
    if not legal.any():
        return to_play, True, 0.0, legal
    return to_play, False, 0.0, legal


def ttt_step(states, actions) -> StepResult:
    """Tic-tac-toe transitions over int8 `[K, 10]` states with plain Python loops."""
    k = len(actions)
    new = np.array(states, dtype=np.int8, copy=True).reshape(k, 10)
    to_play = np.zeros(k, dtype=np.int8)
    legal = np.zeros((k, 9), dtype=bool)
    terminal = np.zeros(k, dtype=bool)
    value = np.zeros(k, dtype=np.float32)
    for i in range(k):
        assert new[i, actions[i]] == 0, "the search played an occupied square"
        new[i, actions[i]] = new[i, 9] + 1
        new[i, 9] = 1 - new[i, 9]
        to_play[i], terminal[i], value[i], legal[i] = ttt_facts(new[i])
    return StepResult(new, to_play, legal, terminal, value)


def ttt_object_step(states, actions) -> StepResult:
    """The same rules over states that are Python tuples (the search's object-state path)."""
    arrays = np.array([np.array(s, dtype=np.int8) for s in states])
    result = ttt_step(arrays, actions)
    objects = np.empty(len(actions), dtype=object)
    for i, row in enumerate(result.states):
        objects[i] = tuple(int(x) for x in row)
    return result._replace(states=objects)


@cache
def minimax(board: tuple[int, ...], to_play: int) -> int:
    """Exact value (1, 0, -1) of a position for the player to move."""
    if line_owner(board):
        return -1
    if all(board):
        return 0
    best = -2
    for square in range(9):
        if board[square] == 0:
            child = board[:square] + (to_play + 1,) + board[square + 1:]
            best = max(best, -minimax(child, 1 - to_play))
    return best


def optimal_moves(state) -> set[int]:
    """The moves that keep the minimax value of the position."""
    board = tuple(int(x) for x in state[:9])
    to_play = int(state[9])
    value = minimax(board, to_play)
    return {s for s in range(9) if board[s] == 0
            and -minimax(board[:s] + (to_play + 1,) + board[s + 1:], 1 - to_play) == value}


# --- random tree game ------------------------------------------------------------------------
def _mix(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.uint64)
    with np.errstate(over="ignore"):
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


class RandomTreeGame:
    """A game whose tree is drawn by a hash of (node id, action).

    State: int64 `[3]` = (node id, depth, player to move). Each node has a random non-empty
    set of legal actions; a move usually passes the turn but sometimes (one time in
    `repeat_one_in`) the same player moves again; a state is finished at `max_depth` or by
    chance, with a result of -1, 0 or 1. The evaluator is a fixed pseudo-network: logits and
    a value in [-1, 1] drawn from the id.
    """

    def __init__(self, num_actions: int, max_depth: int, seed: int, repeat_one_in: int = 4,
                 one_player: bool = False):
        self.num_actions = num_actions
        self.max_depth = max_depth
        self.seed = np.uint64(seed)
        self.repeat_one_in = repeat_one_in
        self.one_player = one_player

    def _bits(self, ids: np.ndarray, salt: int) -> np.ndarray:
        with np.errstate(over="ignore"):
            return _mix(ids.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)
                        + self.seed + np.uint64(salt))

    def legal(self, ids: np.ndarray) -> np.ndarray:
        bits = self._bits(ids, 1)
        shifts = np.arange(self.num_actions, dtype=np.uint64)
        legal = ((bits[:, None] >> shifts) & np.uint64(3)) != 0  # each legal with p = 3/4
        legal[np.arange(len(ids)), (bits % np.uint64(self.num_actions)).astype(np.int64)] = True
        return legal

    def roots(self, batch_size: int, first_id: int = 1):
        ids = np.arange(first_id, first_id + batch_size, dtype=np.int64)
        states = np.stack([ids, np.zeros_like(ids), np.zeros_like(ids)], axis=1)
        return states, np.zeros(batch_size, dtype=np.int8), self.legal(ids)

    def step(self, states: np.ndarray, actions: np.ndarray) -> StepResult:
        states = np.asarray(states, dtype=np.int64)
        ids = (self._bits(states[:, 0] * self.num_actions + actions, 2) >> np.uint64(2))
        ids = ids.astype(np.int64)
        depth = states[:, 1] + 1
        bits = self._bits(ids, 3)
        if self.one_player:
            to_play = np.zeros(len(ids), dtype=np.int64)
        else:
            repeat = (bits % np.uint64(self.repeat_one_in)) == 0
            to_play = np.where(repeat, states[:, 2], 1 - states[:, 2])
        terminal = (depth >= self.max_depth) | ((bits >> np.uint64(8)) % np.uint64(5) == 0)
        value = ((bits >> np.uint64(16)) % np.uint64(3)).astype(np.float32) - 1.0
        new = np.stack([ids, depth, to_play], axis=1)
        return StepResult(new, to_play.astype(np.int8), self.legal(ids), terminal, value)

    def evaluate(self, states):
        states = np.asarray(states, dtype=np.int64)
        ids = states[:, 0]
        shifts = np.arange(self.num_actions, dtype=np.uint64) * np.uint64(5)
        logits = ((self._bits(ids, 4)[:, None] >> shifts) % np.uint64(32)).astype(np.float32)
        values = (self._bits(ids, 5) % np.uint64(2001)).astype(np.float32) / 1000.0 - 1.0
        return logits / 8.0, values
