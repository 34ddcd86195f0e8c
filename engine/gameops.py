"""Batched operations over any `Game`, and the glue between games, networks and the search.

Games with Numba kernels (`BatchGame`: tic-tac-toe, Connect Four, Go, chess) keep a batch
of states in one array and every operation is one kernel call. Other games (LLM tasks)
keep an object array of states and loop in Python. Self-play, the arena and the search see
the same interface either way, so nothing above this module special-cases a game.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from games.base import BatchGame, Game
from mcts import StepResult


class GameOps:
    """Batch operations on states of `game`: `[B, *state_shape]` arrays or object arrays `[B]`."""

    def __init__(self, game: Game) -> None:
        self.game = game
        self.batched = isinstance(game, BatchGame)
        self.num_actions = game.num_actions

    # --- construction and indexing -----------------------------------------------------
    def initial(self, n: int) -> np.ndarray:
        if self.batched:
            return self.game.batch_initial(n)  # type: ignore[attr-defined]
        return self.stack([self.game.initial_state() for _ in range(n)])

    def stack(self, states: list[Any]) -> np.ndarray:
        """A batch from a list of single states."""
        if self.batched:
            return self.game.batch_stack(states)  # type: ignore[attr-defined]
        batch = np.empty(len(states), dtype=object)
        for i, state in enumerate(states):
            batch[i] = state
        return batch

    # --- rules ---------------------------------------------------------------------------
    def legal(self, states: np.ndarray) -> np.ndarray:
        """bool [B, A]."""
        if self.batched:
            return self.game.batch_legal_mask(states)  # type: ignore[attr-defined]
        if len(states) == 0:
            return np.zeros((0, self.num_actions), dtype=bool)
        return np.stack([self.game.legal_mask(s) for s in states])

    def step(self, states: np.ndarray, actions: np.ndarray) -> np.ndarray:
        if self.batched:
            return self.game.batch_step(states, np.asarray(actions, dtype=np.int64))  # type: ignore[attr-defined]
        return self.stack([self.game.next_state(s, int(a)) for s, a in zip(states, actions)])

    def to_play(self, states: np.ndarray) -> np.ndarray:
        """int8 [B]."""
        if self.batched:
            return np.asarray(self.game.batch_to_play(states), dtype=np.int8)  # type: ignore[attr-defined]
        return np.array([self.game.to_play(s) for s in states], dtype=np.int8)

    def terminal(self, states: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(bool [B] finished, float32 [B] value for the player to move)."""
        if self.batched:
            done, value = self.game.batch_terminal(states)  # type: ignore[attr-defined]
            return np.asarray(done, dtype=bool), np.asarray(value, dtype=np.float32)
        done = np.zeros(len(states), dtype=bool)
        value = np.zeros(len(states), dtype=np.float32)
        for i, state in enumerate(states):
            outcome = self.game.outcome(state)
            if outcome is not None:
                done[i] = True
                value[i] = outcome.value(self.game.to_play(state))
        return done, value

    def encode(self, states: np.ndarray) -> np.ndarray:
        """float32 [B, C, H, W]."""
        if self.batched:
            return self.game.batch_encode(states)  # type: ignore[attr-defined]
        if len(states) == 0:
            return np.zeros((0, *self.game.observation_shape), dtype=np.float32)
        return np.stack([self.game.encode(s) for s in states]).astype(np.float32, copy=False)

    def single(self, states: np.ndarray, index: int) -> Any:
        """One state out of a batch, as the single-state `Game` API expects it."""
        state = states[index]
        return state.copy() if self.batched else state

    # --- search glue -----------------------------------------------------------------------
    def search_step(self, states: np.ndarray, actions: np.ndarray) -> StepResult:
        """The `step` function the search calls: successors plus what it needs to know of them."""
        nxt = self.step(states, actions)
        done, value = self.terminal(nxt)
        return StepResult(nxt, self.to_play(nxt), self.legal(nxt), done, value)

    def roots(self, states: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(to_play int8 [B], legal bool [B, A]) for search roots."""
        return self.to_play(states), self.legal(states)


def symmetry_action_maps(game: Game) -> list[np.ndarray]:
    """Per symmetry k of `game`, int64 `[A]`: entry j is the move of the original position
    that is move j of the position seen under symmetry k."""
    moves = np.arange(game.num_actions, dtype=np.float32)[None]
    blank = np.zeros((1, *game.observation_shape), dtype=np.float32)
    return [np.rint(game.apply_symmetry(k, blank, moves)[1][0]).astype(np.int64)
            for k in range(game.num_symmetries)]


Evaluator = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]
"""states [B] -> (prior logits float32 [B, A], value float32 [B] for the player to move)."""


def uniform_evaluator(num_actions: int) -> Evaluator:
    """Uniform prior and value 0: the search alone, no knowledge."""

    def evaluate(states: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        n = len(states)
        return np.zeros((n, num_actions), dtype=np.float32), np.zeros(n, dtype=np.float32)

    return evaluate


class NetworkEvaluator:
    """Evaluate states with a `PolicyValueNet` in inference mode, in `precision` (`auto`,
    `bf16` or `fp32`; `engine.model.resolve_precision`).

    `compile` ("off", "default", "cuda-graphs", or "auto": CUDA graphs on a GPU, eager on
    the CPU) runs the network through `torch.compile`; then every batch is padded up to a
    power of two, so a handful of shapes are compiled once each instead of one per batch
    size that self-play happens to produce.
    """

    def __init__(self, model: Any, ops: GameOps, device: Any, max_batch: int = 1024,
                 compile: str = "off", average_symmetries: bool = False,
                 precision: str = "auto") -> None:
        import torch

        from engine.model import resolve_precision

        if compile == "auto":
            compile = "cuda-graphs" if torch.device(device).type == "cuda" else "off"

        self.model = model.eval()
        self.ops = ops
        self.device = device
        self.precision = resolve_precision(precision, torch.device(device))
        self.max_batch = max_batch
        self._torch = torch
        self.calls = 0
        self.positions = 0
        self.compiled = compile != "off"
        # With `average_symmetries` each state is evaluated under every symmetry of its game
        # and the answers averaged (log-priors and values), which evens out the network's
        # errors where they differ between equivalent views of one position.
        self.action_maps = symmetry_action_maps(ops.game) if average_symmetries else None
        if compile == "off":
            self._forward = self.model
        else:
            mode = "reduce-overhead" if compile == "cuda-graphs" else "default"
            self._forward = torch.compile(self.model, mode=mode, dynamic=False)

    def warm_up(self, largest: int) -> None:
        """Compile every padded batch size up to `largest` now, not in the middle of a timed
        or interactive stretch (nothing to do for an eager evaluator)."""
        if not self.compiled:
            return
        size = 1
        while True:
            self(self.ops.initial(min(size, self.max_batch)))
            if size >= min(largest, self.max_batch):
                break
            size *= 2

    def _padded(self, obs: Any) -> Any:
        n = len(obs)
        size = min(self.max_batch, 1 << max(0, n - 1).bit_length())
        if size == n:
            return obs
        # Zero rows: in eval mode BatchNorm is per-sample, so they change no real row's output.
        pad = obs.new_zeros((size - n, *obs.shape[1:]))
        return self._torch.cat([obs, pad])

    @property
    def has_ownership(self) -> bool:
        """Whether the network has an ownership head."""
        return bool(self.model.has_ownership)

    def ownership(self, states: np.ndarray) -> np.ndarray | None:
        """float32 `[B, H, W]`: each point's expected final owner from the player to move's
        view, or None where the network has no ownership head. Eager, outside the compiled
        forward (it is asked for a few positions at the end of games)."""
        if not self.has_ownership:
            return None
        from engine.model import autocast

        torch = self._torch
        if self.model.training:
            self.model.eval()
        out = []
        for start in range(0, len(states), self.max_batch):
            obs = torch.from_numpy(self.ops.encode(states[start : start + self.max_batch]))
            with torch.inference_mode(), autocast(self.device, self.precision):
                _, _, owned = self.model(obs.to(self.device), with_ownership=True)
            out.append(owned.float().cpu().numpy())
        if not out:
            return np.zeros((0, *self.ops.game.observation_shape[1:]), dtype=np.float32)
        return np.concatenate(out)

    def __call__(self, states: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        from engine.model import autocast

        torch = self._torch
        if self.model.training:
            # The learner shares this module and leaves it in training mode; self-play must see
            # BatchNorm's running statistics, not each batch's, so an answer never depends on
            # which other positions happen to share its batch.
            self.model.eval()
        n = len(states)
        logits_out = np.empty((n, self.ops.num_actions), dtype=np.float32)
        values_out = np.empty(n, dtype=np.float32)
        views = 1 if self.action_maps is None else len(self.action_maps)
        step = max(1, self.max_batch // views)
        for start in range(0, n, step):
            chunk = states[start : start + step]
            encoded = self.ops.encode(chunk)
            if self.action_maps is not None:
                encoded = np.concatenate([self._view(k, encoded) for k in range(views)])
            obs = torch.from_numpy(encoded).to(self.device, non_blocking=True)
            if self.compiled:
                obs = self._padded(obs)
            with torch.inference_mode(), autocast(self.device, self.precision):
                logits, values = self._forward(obs)
            k = len(chunk)
            logits, values = logits[: k * views].float(), values[: k * views].float()
            if self.action_maps is not None:  # the views' log-priors are what is averaged
                logits = logits.log_softmax(dim=1)
            logits_np, values_np = logits.cpu().numpy(), values.cpu().numpy()
            if self.action_maps is not None:
                logits_np, values_np = self._averaged(logits_np, values_np, k)
            logits_out[start : start + k] = logits_np
            values_out[start : start + k] = values_np
        self.calls += 1
        self.positions += n
        return logits_out, values_out

    def _view(self, k: int, encoded: np.ndarray) -> np.ndarray:
        """Encodings under symmetry `k` of the game."""
        no_policy = np.zeros((len(encoded), self.ops.num_actions), dtype=np.float32)
        return self.ops.game.apply_symmetry(k, encoded, no_policy)[0]

    def _averaged(self, log_prior: np.ndarray, values: np.ndarray, n: int
                  ) -> tuple[np.ndarray, np.ndarray]:
        """Mean log-prior (each view's moves put back in place) and mean value over the
        views of `n` states, stacked view by view."""
        assert self.action_maps is not None
        total = np.zeros((n, self.ops.num_actions), dtype=np.float32)
        for k, action_map in enumerate(self.action_maps):
            total[:, action_map] += log_prior[k * n : (k + 1) * n]
        views = len(self.action_maps)
        return total / views, values.reshape(views, n).mean(axis=0)
