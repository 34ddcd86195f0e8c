"""Players: anything that picks a move in a position, behind one `Agent` interface.

Specs (used by `move37 arena`, `play`, `eval`, the UCI/GTP front ends):

* `random`: a uniformly random legal move;
* `mcts:SIMS`: the search with a uniform prior and value 0 (no knowledge);
* `perfect`: an exact solver (tic-tac-toe: full minimax; Connect Four: the bitboard solver);
* `ckpt:PATH[:SIMS]` (or just a path): a trained network, raw policy when SIMS is 0,
  otherwise the search guided by the network;
* `gtp:COMMAND`: an external Go engine (`engine.gtp_client`);
* `uci:COMMAND[;KEY=VALUE]...`: an external chess engine, each move limited by `movetime`
  (ms), `nodes` or `depth`, other keys set as engine options (`engine.uci_client`).

The shared types (`Analysis`, `Agent`, `AgentSpecError`) live in `engine.agent_types`.
Agents analyse batches of positions at once (`analyse_batch`), so the arena can play many
games in parallel and the network still sees full batches.
"""

from __future__ import annotations

import abc
import dataclasses
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from engine.agent_types import Agent, AgentSpecError, Analysis
from engine.config import EndgameConfig, RunConfig
from engine.endgame import OwnershipFn, apply_pass_rules, best_move_value
from engine.gameops import Evaluator, GameOps, uniform_evaluator
from engine.zoo import zoo_spec
from games.base import Action, Game, GameError, State, TerritoryGame
from mcts import BatchSearch, SearchConfig

FIRST_CHUNK = 8
"""Simulations of an interruptible search's first chunk (`SearchAgent.analyse`)."""


class _BatchAgent(abc.ABC):
    """Shared `analyse` for agents that only define `analyse_batch`."""

    name = "agent"
    ops: GameOps

    @abc.abstractmethod
    def analyse_batch(self, states: np.ndarray) -> list[Analysis]:
        """One `Analysis` per state of the batch."""

    def analyse(self, game: Game, state: State, *, simulations: int | None = None,
                stop: threading.Event | None = None,
                on_progress: Callable[[Analysis], None] | None = None) -> Analysis:
        result = self.analyse_batch(self.ops.stack([state]))[0]
        if on_progress is not None:
            on_progress(result)
        return result

    def close(self) -> None:
        """Nothing to release: the agent runs in this process."""

    def ownership(self, game: Game, state: State) -> np.ndarray | None:
        """Who the agent expects to own each point of a Go board at the end, for the player
        to move (+1 theirs, -1 the opponent's), float32 `[size * size]` in action order (row
        by row from the top-left point); None when the agent has no source for it (only a
        network with the ownership head has one: `SearchAgent`)."""
        return None


class RandomAgent(_BatchAgent):
    def __init__(self, game: Game, seed: int = 0) -> None:
        self.name = "random"
        self.ops = GameOps(game)
        self.rng = np.random.default_rng(seed)

    def analyse_batch(self, states: np.ndarray) -> list[Analysis]:
        legal = self.ops.legal(states)
        return [Analysis(action=int(self.rng.choice(np.flatnonzero(row)))) for row in legal]


class SearchAgent(_BatchAgent):
    """The search guided by `evaluator` (uniform prior, or a network); SIMS 0 = raw policy."""

    def __init__(self, game: Game, evaluator: Evaluator, simulations: int,
                 search_config: SearchConfig | None = None, seed: int = 0,
                 name: str = "search", endgame: EndgameConfig | None = None,
                 ownership: OwnershipFn | None = None) -> None:
        """`endgame`: the pass rules of games counted by area (`engine.endgame`), applied
        to every chosen move (None: the search's choice as it is); `ownership`: the
        network's ownership head, for those rules, `ownership` and the dead-stone count."""
        self.name = name
        self.game = game
        self.endgame = endgame if isinstance(game, TerritoryGame) else None
        self.ownership_fn = ownership
        self.ops = GameOps(game)
        self.evaluator = evaluator
        self.simulations = simulations
        base = search_config or SearchConfig()
        # Evaluation play: no root noise, deterministic choice of the most visited move, and
        # none of the self-play exploration tricks (forced playouts, a flattened root prior).
        self.search_config = SearchConfig(**{**base.__dict__, "num_simulations": max(1, simulations),
                                            "dirichlet_fraction": 0.0, "temperature": 0.0,
                                            "forced_playouts": 0.0,
                                            "root_policy_temperature": 1.0})
        self.rng = np.random.default_rng(seed)

    def analyse_batch(self, states: np.ndarray,
                      simulations: int | None = None) -> list[Analysis]:
        sims = self.simulations if simulations is None else simulations
        to_play, legal = self.ops.roots(states)
        if sims <= 0:
            logits, values = self.evaluator(states)
            logits = np.where(legal, logits, -np.inf)
            policy = np.exp(logits - logits.max(axis=1, keepdims=True))
            policy /= policy.sum(axis=1, keepdims=True)
            actions = self._pass_rules(states, policy.argmax(axis=1), policy, legal,
                                       [float(v) for v in values])
            return [Analysis(action=int(actions[i]), value=float(values[i]),
                             policy=policy[i].astype(np.float32), pv=[int(actions[i])],
                             prior=policy[i].astype(np.float32))
                    for i in range(len(states))]
        search = BatchSearch(self.search_config, len(states), self.game.num_actions)
        out = search.run(states, self.ops.search_step, self.evaluator, root_to_play=to_play,
                         root_legal=legal, rng=self.rng, num_simulations=sims)
        actions = np.asarray(out.action, dtype=np.int64)
        if self.search_config.algorithm == "puct":
            # Break ties between equally visited moves at random, not by index order.
            for i, row in enumerate(out.visit_counts):
                best = np.flatnonzero(row == row.max())
                if best.size > 1:
                    actions[i] = int(self.rng.choice(best))
        actions = self._pass_rules(states, actions, out.policy_target + 1e-6 * out.prior, legal,
                                   self._move_values(out))
        results = []
        for i in range(len(states)):
            results.append(Analysis(
                action=int(actions[i]), value=float(out.root_value[i]),
                policy=np.asarray(out.policy_target[i], dtype=np.float32),
                visits=np.asarray(out.visit_counts[i]), pv=_principal_variation(search, out, i),
                simulations=sims, prior=np.asarray(out.prior[i], dtype=np.float32)))
        return results

    def analyse(self, game: Game, state: State, *, simulations: int | None = None,
                stop: threading.Event | None = None,
                on_progress: Callable[[Analysis], None] | None = None,
                chunk: int = 64) -> Analysis:
        """One position; with `stop` or `on_progress`, the search runs in chunks on one tree
        (reusing it) so that it can be interrupted and report as it goes. Chunks start at
        `FIRST_CHUNK` simulations and double up to `chunk`: a stop is honoured only between
        chunks, after the first, so a short timed search must not start with a long one."""
        sims = self.simulations if simulations is None else simulations
        if sims <= 0 or (stop is None and on_progress is None):
            result = self.analyse_batch(self.ops.stack([state]), sims)[0]
            if on_progress is not None:
                on_progress(result)
            return result
        states = self.ops.stack([state])
        to_play, legal = self.ops.roots(states)
        search = BatchSearch(self.search_config, 1, game.num_actions, max_nodes=sims + 1)
        done, result, size = 0, None, min(FIRST_CHUNK, chunk)
        while done < sims and not (stop is not None and stop.is_set() and result is not None):
            n = min(size, sims - done)
            size = min(chunk, 2 * size)
            out = search.run(states, self.ops.search_step, self.evaluator, root_to_play=to_play,
                             root_legal=legal, rng=self.rng, num_simulations=n,
                             reuse=np.array([done > 0]))
            done += n
            visits = np.asarray(out.visit_counts[0])
            depth, seldepth = tree_depths(search.tree, 0)
            lines = {int(a): line_from(search.tree, 0, int(a)) for a in np.flatnonzero(visits)}
            action = self._pass_rules(states, out.action, out.policy_target + 1e-6 * out.prior,
                                      legal, self._move_values(out))[0]
            result = Analysis(action=int(action), value=float(out.root_value[0]),
                              policy=np.asarray(out.policy_target[0], dtype=np.float32),
                              visits=visits, pv=_principal_variation(search, out, 0),
                              simulations=done, q=np.asarray(out.q_values[0], dtype=np.float32),
                              lines=lines, depth=depth, seldepth=seldepth,
                              line_visits={a: line_visits(search.tree, 0, line)
                                           for a, line in lines.items()},
                              prior=np.asarray(out.prior[0], dtype=np.float32))
            if on_progress is not None:
                on_progress(result)
        assert result is not None
        return result


    def _move_values(self, out: Any) -> list[float | None]:
        if self.endgame is None:
            return []
        pass_action = self._territory().pass_action
        return [best_move_value(out.q_values[i], out.visit_counts[i], pass_action,
                                float(out.root_value[i])) for i in range(len(out.action))]

    def _territory(self) -> TerritoryGame:
        assert isinstance(self.game, TerritoryGame)
        return self.game

    def _pass_rules(self, states: np.ndarray, actions: np.ndarray, weights: np.ndarray,
                    legal: np.ndarray, values: list[float | None]) -> np.ndarray:
        """`actions` with the pass rules applied (unchanged without `endgame`)."""
        if self.endgame is None:
            return np.asarray(actions, dtype=np.int64)
        singles = [self.ops.single(states, i) for i in range(len(states))]
        return apply_pass_rules(self._territory(), singles, actions, weights, legal, values,
                                self.ownership_fn, self.endgame)

    def ownership(self, game: Game, state: State) -> np.ndarray | None:
        """The network's ownership of `state` for the player to move, float32
        `[size * size]` in action order, or None (no network, or a network without the
        ownership head, e.g. a checkpoint saved before it)."""
        if self.ownership_fn is None:
            return None
        owned = self.ownership_fn(self.ops.stack([state]))
        return None if owned is None else owned[0].reshape(-1)


def _principal_variation(search: BatchSearch, out: Any, index: int) -> list[Action]:
    """The most-visited line from the root, as far as the tree goes."""
    line = [int(a) for a in search.principal_variation(index)]
    return line or [int(np.argmax(out.visit_counts[index]))]


def line_from(tree: Any, b: int, action: int, max_length: int = 64) -> list[Action]:
    """`action` from the root of tree `b`, then the most visited line below it."""
    line = [int(action)]
    node = int(tree.children[b, 0, action])
    while node >= 0 and not tree.terminal[b, node] and len(line) < max_length:
        visits = tree.children_visits[b, node]
        if visits.max(initial=0) <= 0:
            break
        line.append(int(np.argmax(visits)))
        node = int(tree.children[b, node, line[-1]])
    return line


def line_visits(tree: Any, b: int, line: list[Action]) -> list[int]:
    """Visits of the nodes `line` (from the root of tree `b`) leads through, one per move."""
    counts: list[int] = []
    node = 0
    for action in line:
        if node < 0:
            break
        counts.append(int(tree.children_visits[b, node, action]))
        node = int(tree.children[b, node, action])
    return counts


def tree_depths(tree: Any, b: int) -> tuple[float, int]:
    """(mean, greatest) depth of the nodes below the root of tree `b`: each simulation adds
    one node at the end of its path, so the mean is the simulations' mean depth."""
    count = int(tree.num_nodes[b])
    if count <= 1:
        return 0.0, 0
    # Pointer jumping: after k rounds each node knows its distance to its 2^k-th ancestor.
    jump = tree.parent[b, :count].astype(np.int64)
    dist = (jump >= 0).astype(np.int64)
    while (jump >= 0).any():
        has = jump >= 0
        target = jump[has]
        dist[has] = dist[has] + dist[target]
        new_jump = jump.copy()
        new_jump[has] = jump[target]
        jump = new_jump
    below = dist[1:]
    return float(below.mean()), int(below.max())


class PerfectAgent(_BatchAgent):
    """An exact solver's move: tic-tac-toe by minimax, Connect Four by the bitboard solver."""

    def __init__(self, game: Game, seed: int = 0) -> None:
        from engine.solvers import make_solver

        self.name = "perfect"
        self.ops = GameOps(game)
        self.solver = make_solver(game)
        self.rng = np.random.default_rng(seed)

    def analyse_batch(self, states: np.ndarray) -> list[Analysis]:
        results = []
        for i in range(len(states)):
            state = self.ops.single(states, i)
            action, value = self.solver.best(state, self.rng)
            results.append(Analysis(action=int(action), value=float(value)))
        return results


def make_agent(spec: str, game: Game, *, device: str = "auto", seed: int = 0,
               search_config: SearchConfig | None = None) -> Agent:
    """Build an agent from a spec string (see the module docstring)."""
    text = zoo_spec(spec)  # zoo:NAME[:SIMS], an agent shipped with the package
    kind, _, rest = text.partition(":")
    kind = kind.lower()
    if kind == "random":
        return RandomAgent(game, seed)
    if kind == "perfect":
        return PerfectAgent(game, seed)
    if kind == "mcts":
        sims = _parse_sims(rest or "100", spec)
        # With value 0 everywhere, a first-play reduction would make every unvisited move look
        # worse than a visited one and the search would walk a single line: use none.
        config = dataclasses.replace(search_config or SearchConfig(), fpu="reduction",
                                     fpu_reduction=0.0)
        return SearchAgent(game, uniform_evaluator(game.num_actions), sims, config,
                           seed, name=f"mcts:{sims}")
    if kind in ("ckpt", "checkpoint"):
        path, sims = _split_checkpoint_spec(rest, spec)
        return load_checkpoint_agent(path, game, sims, device=device, seed=seed,
                                     search_config=search_config)
    if kind in ("gtp", "uci"):
        return _external_agent(kind, rest, game, spec)
    if Path(text).exists():
        return load_checkpoint_agent(text, game, 0, device=device, seed=seed,
                                     search_config=search_config)
    raise AgentSpecError(f"unknown player {spec!r}; use random, mcts:SIMS, perfect, "
                         "ckpt:PATH[:SIMS], gtp:COMMAND or uci:COMMAND")


def check_agent_spec(spec: str, game: Game) -> None:
    """Check, without building it, that `make_agent(spec, game)` could: the spec parses, a
    checkpoint exists, an external engine's command is on the PATH, a solver knows the game.

    Raises:
        AgentSpecError, CheckpointError or GameError: why the player could not be built.
    """
    import shlex
    import shutil

    from engine.checkpoint import checkpoint_stem
    from engine.solvers import make_solver

    text = zoo_spec(spec)  # zoo:NAME[:SIMS], an agent shipped with the package
    kind, _, rest = text.partition(":")
    kind = kind.lower()
    if kind == "random" or (kind == "perfect" and make_solver(game)):
        return
    if kind == "mcts":
        _parse_sims(rest or "100", spec)
    elif kind in ("ckpt", "checkpoint"):
        path, _ = _split_checkpoint_spec(rest, spec)
        if not checkpoint_stem(path).with_suffix(".json").is_file():
            raise AgentSpecError(f"no checkpoint at {path!r}")
    elif kind in ("gtp", "uci"):
        words = shlex.split(rest.split(";")[0]) if kind == "uci" else shlex.split(rest)
        if not words or shutil.which(words[0]) is None:
            raise AgentSpecError(f"command {words[0] if words else ''!r} not found")
    elif not Path(text).exists():
        raise AgentSpecError(f"unknown player {spec!r}; use random, mcts:SIMS, perfect, "
                             "ckpt:PATH[:SIMS], gtp:COMMAND or uci:COMMAND")


def _parse_sims(text: str, spec: str) -> int:
    try:
        sims = int(text)
    except ValueError:
        raise AgentSpecError(f"bad simulation count in player {spec!r}") from None
    if sims < 0:
        raise AgentSpecError(f"negative simulation count in player {spec!r}")
    return sims


def checkpoint_game_options(spec: str) -> dict[str, Any] | None:
    """The game options a checkpoint player was trained with (`ckpt:PATH[:SIMS]` or a path),
    read from its metadata alone; None for players that are not checkpoints.

    A network only fits the encoding it learned (chess and Go history planes, the Go board
    size), so commands that build the game for a checkpoint start from these options.

    Raises:
        CheckpointError: a run directory without checkpoints, or corrupt metadata.
    """
    import json

    from engine.checkpoint import CheckpointError, checkpoint_stem

    text = zoo_spec(spec)  # zoo:NAME[:SIMS], an agent shipped with the package
    kind, _, rest = text.partition(":")
    if kind.lower() in ("ckpt", "checkpoint"):
        path, _ = _split_checkpoint_spec(rest, spec)
    elif kind.lower() in ("random", "perfect", "mcts", "gtp", "uci") or not (
            Path(text).exists() or Path(text + ".json").exists()):
        return None
    else:
        path = text
    meta_path = checkpoint_stem(path).with_suffix(".json")
    if not meta_path.is_file():
        return None  # loading the checkpoint will say what is missing
    try:
        meta = json.loads(meta_path.read_text())
    except (OSError, json.JSONDecodeError) as error:
        raise CheckpointError(f"checkpoint metadata {meta_path} is corrupt: {error}") from None
    options = meta.get("game_options") if isinstance(meta, dict) else None
    return dict(options) if isinstance(options, dict) else {}


def _split_checkpoint_spec(rest: str, spec: str) -> tuple[str, int]:
    if not rest:
        raise AgentSpecError(f"player {spec!r} needs a checkpoint path")
    path, sep, maybe_sims = rest.rpartition(":")
    if sep and maybe_sims.isdigit():
        return path, int(maybe_sims)
    return rest, 0


def _external_agent(kind: str, command: str, game: Game, spec: str) -> Agent:
    if not command:
        raise AgentSpecError(f"player {spec!r} needs a command")
    if kind == "gtp":
        from engine.gtp_client import GtpAgent

        return GtpAgent(command, game)
    from engine.uci_client import UciAgent

    return UciAgent.from_spec(command, game)


def load_checkpoint_agent(path: str | Path, game: Game | None = None, simulations: int = 0, *,
                          device: str = "auto", seed: int = 0,
                          search_config: SearchConfig | None = None,
                          play_config: RunConfig | None = None) -> SearchAgent:
    """A `SearchAgent` driven by the network stored at `path` (file stem, .json or run dir).

    It plays by `play_config`'s `play_search`, `play_symmetries` and `precision` (default:
    the run's own config); `search_config`, when given, replaces the search altogether."""
    import games as games_registry
    from engine.checkpoint import CheckpointError, load_checkpoint
    from engine.config import play_search_config
    from engine.gameops import NetworkEvaluator
    from engine.model import (
        PolicyValueNet,
        has_ownership_weights,
        network_shape,
        place_model,
        resolve_device,
    )

    checkpoint = load_checkpoint(path)
    if game is None:
        game = games_registry.make(checkpoint.game_name, **checkpoint.game_options)
    elif checkpoint.game_name != game.name:
        raise CheckpointError(
            f"checkpoint {checkpoint.path} was trained on {checkpoint.game_name}, not {game.name}")
    torch_device = resolve_device(device)
    # A checkpoint saved before the ownership head loads without it (`has_ownership` False).
    model = PolicyValueNet(network_shape(game, has_ownership_weights(checkpoint.state_dict)),
                           checkpoint.model_config)
    try:
        model.load_state_dict(checkpoint.state_dict)
    except RuntimeError as error:
        raise CheckpointError(f"checkpoint {checkpoint.path} does not fit its model config: "
                              f"{str(error).splitlines()[0]}") from None
    model = place_model(model, torch_device)
    played = play_config or checkpoint.run_config
    evaluator = NetworkEvaluator(model, GameOps(game), torch_device,
                                 average_symmetries=played.play_symmetries,
                                 precision=played.precision)
    config = search_config or play_search_config(played)
    return SearchAgent(game, evaluator, simulations, config, seed,
                       name=f"ckpt:{checkpoint.path.name}:{simulations}",
                       endgame=checkpoint.run_config.endgame, ownership=evaluator.ownership)


class LoadedAgent:
    """A trained agent for scripts and other programs: `agent.move("connect4", ["4", "4"])`."""

    def __init__(self, agent: SearchAgent) -> None:
        self.agent = agent
        self.game = agent.game

    def move(self, game: str | Game | None, moves: Sequence[str]) -> dict[str, Any]:
        """The agent's move after `moves` (move texts from the initial position).

        Returns a dict: move (text), action (index), value (for the player to move).
        """
        from games.base import play_moves

        if game is not None and (game if isinstance(game, str) else game.name) != self.game.name:
            raise AgentSpecError(f"agent plays {self.game.name}, not {game}")
        state = play_moves(self.game, list(moves))
        if self.game.outcome(state) is not None:
            raise GameError("the game is already over after these moves")
        analysis = self.agent.analyse(self.game, state)
        return {"move": self.game.action_to_text(state, analysis.action),
                "action": analysis.action, "value": round(analysis.value, 4)}


def load_agent(path: str | Path, sims: int = 0, device: str = "auto", seed: int = 0) -> LoadedAgent:
    """Load a trained agent from a checkpoint (or run directory) for programmatic use."""
    return LoadedAgent(load_checkpoint_agent(path, None, sims, device=device, seed=seed))
