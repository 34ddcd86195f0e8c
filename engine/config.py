"""Run configuration: dataclasses with a doc per field, presets, and `key=value` overrides.

Resolution order: the dataclass defaults, then a preset (a TOML file in `configs/`, or a
path), then `--set section.key=value` overrides. Unknown keys and values of the wrong type
are errors (`ConfigError`), never silently ignored. The resolved config is written as JSON
beside every run's checkpoints, so a run can be rebuilt from its directory alone.
"""

from __future__ import annotations

import dataclasses
import json
import tomllib
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mcts import SearchConfig

CONFIG_DIR = Path(__file__).resolve().parent.parent / "configs"


class ConfigError(ValueError):
    """A config key that does not exist, a value of the wrong type, or a bad preset."""


@dataclass
class ModelConfig:
    size: str = "b4c64"
    """Residual tower as `b<blocks>c<channels>` (KataGo-style names: b6c96 = 6 blocks x 96)."""
    squeeze_excitation: bool = False
    """Add squeeze-excitation to every residual block (global context per channel)."""
    global_pool_value: bool = True
    """Feed mean- and max-pooled features to the value head (helps on large boards)."""
    global_pool_blocks: int = 0
    """Residual blocks, spread evenly through the tower, whose first convolution gives a
    quarter of its channels to global pooling (mean and max over the board) that sets a bias
    on the other channels: KataGo's global pooling in the trunk (non-local context such as
    ko threats or the whole board's balance). 0: plain blocks only."""
    soft_policy_head: bool = False
    """Add KataGo's auxiliary soft-policy output: a second policy layer trained toward the
    search's policy raised to 1/`train.soft_policy_temperature` (a target that tells apart
    the moves the main target gives little weight); used in training only."""
    policy_channels: int = 8
    """Channels of the 1x1 conv in front of the policy head's linear layer."""
    value_hidden: int = 64
    """Width of the value head's hidden layer."""
    value_head: str = "scalar"
    """`scalar`: one tanh output trained by squared error toward the result (AlphaZero).
    `wdl`: three logits for win, draw and loss, trained by cross-entropy (Leela Chess Zero,
    KataGo); the search sees P(win) - P(loss). A drawn result is then a class of its own,
    not the midpoint between a win and a loss."""

    @property
    def blocks(self) -> int:
        return parse_model_size(self.size)[0]

    @property
    def channels(self) -> int:
        return parse_model_size(self.size)[1]


def parse_model_size(size: str) -> tuple[int, int]:
    """`"b6c64"` -> (6, 64). Raises ConfigError for anything else."""
    text = size.strip().lower()
    try:
        if not text.startswith("b") or "c" not in text:
            raise ValueError
        blocks_text, channels_text = text[1:].split("c", 1)
        blocks, channels = int(blocks_text), int(channels_text)
    except ValueError:
        raise ConfigError(f"model size {size!r} is not of the form b<blocks>c<channels>, e.g. b6c64")
    if blocks < 1 or channels < 1:
        raise ConfigError(f"model size {size!r} needs at least one block and one channel")
    return blocks, channels


@dataclass
class SelfPlayConfig:
    concurrent_games: int = 128
    """Games played at once by one actor; the network sees batches of this size."""
    games_per_iteration: int = 256
    """Finished games an actor contributes per training iteration."""
    temperature_moves: int = 8
    """Moves per game sampled in proportion to visit counts; later moves take the most visited."""
    temperature: float = 1.0
    """Temperature for those first moves."""
    max_moves: int = 0
    """Stop a game after this many moves as a draw (0 = the game's own limit)."""
    resign_threshold: float = -1.0
    """Resign when the root value stays below this for the player to move (-1 disables)."""
    resign_check_fraction: float = 0.1
    """Share of games that never resign, to measure how often resignation would be wrong."""
    playout_cap_fraction: float = 1.0
    """KataGo playout-cap randomization: share of moves that get the full search and become
    policy targets; the others use `fast_simulations` (1.0 = every move full)."""
    fast_simulations: int = 0
    """Simulations of the fast (non-target) moves when playout_cap_fraction < 1."""
    random_opening_moves: int = 0
    """Each game starts with k uniformly random legal moves, k drawn uniformly from 0 to
    this; they are not searched and not trained on. A net that plays well visits few
    positions after a blunder, so its raw policy never learns to punish one; these openings
    put self-play in such positions (0 = every game starts at the rules' start)."""
    tree_reuse: bool = True
    """Keep the chosen child's subtree for the next move (PUCT only)."""
    value_target_blend: float = 0.0
    """Value target = (1 - blend) * game result + blend * short-term search value, written
    into the shards (`engine.selfplay.value_targets`); 0 trains on the result alone."""
    value_target_horizon: float = 1.0
    """Plies the short-term value looks ahead (>= 1): an exponentially weighted mean of the
    next ~horizon root values, ending in the result; 1 = the position's own root value."""


@dataclass
class ReplayConfig:
    window_min: int = 20_000
    """Positions kept at least (KataGo power-law window: c)."""
    window_exponent: float = 0.75
    """Power-law growth of the window with the positions generated so far (alpha)."""
    window_scale: float = 0.4
    """Slope of the window's growth (beta)."""
    window_max: int = 500_000
    """Never keep more than this many positions."""
    symmetries: bool = True
    """Augment samples with a random symmetry of the game."""
    average_duplicates: bool = False
    """Give a sampled position the averaged targets of every occurrence of the same encoded
    position in the window (openings above all); symmetric variants are not merged."""


@dataclass
class TrainConfig:
    batch_size: int = 256
    """Positions per gradient step."""
    sample_reuse: float = 4.0
    """Average number of times each new self-play position is trained on. With workers
    faster than the learner an iteration learns one round's worth and the surplus is
    trained on less often (`engine.loop.run.items_to_learn`)."""
    min_steps: int = 1
    """At least this many gradient steps per iteration."""
    optimizer: str = "adamw"
    """`adamw` or `sgd` (momentum 0.9, Nesterov)."""
    lr: float = 2e-3
    """Peak learning rate."""
    lr_schedule: str = "cosine"
    """`constant` or `cosine` (decays towards lr_min over lr_decay_positions trained)."""
    lr_min: float = 2e-4
    """Floor of the cosine schedule."""
    lr_decay_positions: int = 5_000_000
    """Positions trained over which the cosine schedule decays."""
    warmup_steps: int = 20
    """Linear warm-up of the learning rate over the first steps."""
    weight_decay: float = 1e-4
    """L2 / decoupled weight decay."""
    grad_clip: float = 5.0
    """Clip the global gradient norm (0 disables)."""
    value_loss_weight: float = 1.0
    """Weight of the value loss beside the policy loss."""
    root_value_blend: float = 0.0
    """Value target = (1 - blend) * game result + blend * search root value, blended by the
    learner (`selfplay.value_target_blend` does it in self-play, with a look-ahead)."""
    soft_policy_weight: float = 8.0
    """Weight of the soft-policy loss (networks with `model.soft_policy_head`): KataGo's 8,
    since the flattened target's cross-entropy has small gradients."""
    soft_policy_temperature: float = 4.0
    """The soft-policy target is the policy target to the power 1 / this, renormalised."""
    ownership_loss_weight: float = 1.5
    """Weight of the ownership head's loss (games that declare ownership targets, i.e. Go;
    ignored elsewhere): cross-entropy of each point's final owner, averaged over the board."""
    learner_processes: int = 1
    """Processes that share every gradient step through DistributedDataParallel, each on
    its own GPU (`cuda:0..K-1`) or, on the CPU, joined by gloo; each takes 1/K of every
    batch (`batch_size` must divide by it). `--learner-gpus K` sets it."""


@dataclass
class EndgameConfig:
    """How games counted by area (Go) end: dead stones, scoring, and when the agent passes.
    Ownership comes from the network's ownership head, from the side to move's view; a
    network without the head falls back as each field says."""

    scoring: str = "tromp-taylor"
    """How self-play and the arena's games are counted at the end: `tromp-taylor` (every
    stone on the board counts) or `ownership` (stones that the network's ownership gives to
    the opponent are taken off first; Tromp-Taylor where the network has no head). Under
    `ownership` the ownership target also has those stones off, so the head learns from its
    own calls (docs/measurements.md)."""
    dead_threshold: float = 0.5
    """A stone is dead when the ownership of its point is at least this strongly the
    opponent's (ownership times the stone's colour <= -dead_threshold)."""
    settled_threshold: float = 0.8
    """A point is settled when |ownership| >= this."""
    max_unsettled: int = 4
    """Never pass first (the opponent not having just passed) while more than this many
    points are unsettled (friendly pass; needs the ownership head). An answer to a pass
    does not look at it: passing back then depends only on the count and the best move's
    value (`engine.endgame`)."""
    early_pass_share: float = 0.25
    """The move choice never takes pass while more than this share of the board is empty
    and unsettled (every empty point counts as unsettled without the ownership head),
    unless pass is the only legal move."""
    friendly_pass: bool = True
    """Apply the pass rules above to the move the search chose (self-play and play)."""
    dead_stones: str = "playouts"
    """Who names the dead stones when a finished game is counted for a user (GTP
    `final_status_list` and `final_score`): `playouts` (random playouts from the final board;
    a stone is dead when the other colour owns its point in most of them) or `ownership`
    (the network's ownership head at `dead_threshold`; playouts where it has none). On
    finished 9x9 boards the playouts agreed with GNU Go's count far more often than a
    60-minute CPU net's head (docs/measurements.md)."""


@dataclass
class ArenaConfig:
    every_iterations: int = 5
    """Play the arena after every this many iterations (0 disables)."""
    games: int = 40
    """Games per arena match (half with each colour)."""
    opponents: list[str] = field(default_factory=lambda: ["random"])
    """Opponent specs: random, mcts:SIMS, perfect, ckpt:PATH[:SIMS], gtp:CMD, uci:CMD, and
    previous (the run's checkpoint before the newest)."""
    simulations: int = 0
    """Simulations of the trained agent in the arena (0 = raw policy, argmax)."""
    gate: bool = False
    """Promote a new network to `best` only if it beats the incumbent `best` in an arena of
    `games` games every `every_iterations` iterations; self-play then plays with `best`
    (AlphaGo Zero gated; AlphaZero did not: without the gate every checkpoint is `best`)."""
    gate_threshold: float = 0.55
    """Score needed against the incumbent to be promoted when gating."""


@dataclass
class LoopConfig:
    """What the training loop (`engine.loop`) reads of every plug-in's config."""

    seed: int = 0
    """Root seed; every worker, game, problem order and sampler derives its own stream
    from it."""
    device: str = "auto"
    """`auto` (CUDA when present), `cpu`, `cuda`, `cuda:1`, ..."""
    iterations: int = 0
    """Stop after this many iterations (0 = no limit; use minutes)."""
    minutes: float = 0.0
    """Stop after this much wall-clock time in this invocation (0 = no limit)."""
    workers: int = 0
    """Actor processes besides the learner (0 = the learner's process acts); with
    `cluster`, the number of Ray actors."""
    cluster: str = ""
    """Run the actors on a Ray cluster: `auto` (the running cluster, else a local one
    started for the run), `HOST:PORT` (a cluster's head), or empty (no Ray)."""
    checkpoint_every: int = 1
    """Write a checkpoint every this many iterations (and whenever the gate promotes)."""
    keep_checkpoints: int = 5
    """`step-*` checkpoints kept on disk (older ones are deleted; `best` is kept apart)."""


@dataclass
class RunConfig(LoopConfig):
    game: str = "tictactoe"
    """Registered game name (see `move37 games`)."""
    game_options: dict[str, Any] = field(default_factory=dict)
    """Keyword arguments for the game's constructor (e.g. size, komi)."""
    compile: str = "off"
    """How self-play runs the network: `off` (eager), `default` (`torch.compile`),
    `cuda-graphs` (compiled and replayed as CUDA graphs) or `auto` (CUDA graphs on a GPU,
    eager on the CPU). Needs a torch with a working compiler (Triton on a GPU), and compiles
    each padded batch size once per process (10-40 s). On an H100: the connect4 net ran 4.5x
    and a b10c128 Go net 1.8x faster than eager bf16 at batch 256; Connect Four self-play
    with 256 games at once went from 1,565 to 2,320 positions/s, with 1,024 at once it gained
    nothing (5,182 vs 4,751)."""
    precision: str = "auto"
    """How the network computes in self-play, training and play: `bf16` (autocast: bf16
    matrix products and convolutions, float32 weights), `fp32`, or `auto`: bf16 on a GPU
    and on a CPU with bf16 instructions (AVX512-BF16 or AMX), where oneDNN runs them faster
    than float32; float32 on other CPUs, which only emulate bf16."""
    torch_threads: int = 0
    """CPU threads for torch in this process (0 = torch's default; 1 avoids oversubscription
    when self-play workers or other jobs share the cores)."""
    model: ModelConfig = field(default_factory=ModelConfig)
    search: SearchConfig = field(default_factory=SearchConfig)
    play_search: dict[str, Any] = field(default_factory=dict)
    """`search` fields that take other values when the agent plays (eval, arena, play, move,
    UCI, GTP) instead of generating training games, e.g. `{fpu_reduction = 0.0}`: self-play
    search is tuned to explore cheaply, play search to find the best move."""
    play_symmetries: bool = False
    """When the agent plays (as for `play_search`), evaluate every position under each of the
    game's symmetries and average the network's answers: as many network evaluations per
    simulation as the game has symmetries (2 in Connect Four, 8 in Go), for a steadier prior
    and value."""
    selfplay: SelfPlayConfig = field(default_factory=SelfPlayConfig)
    replay: ReplayConfig = field(default_factory=ReplayConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    arena: ArenaConfig = field(default_factory=ArenaConfig)
    endgame: EndgameConfig = field(default_factory=EndgameConfig)
    """Dead stones, scoring and passing for games counted by area (Go)."""


# ----------------------------------------------------------------------------- resolution


def available_presets() -> list[str]:
    """Presets of the game loop (`llm-*` files configure the LLM bridge's own loop)."""
    return sorted(p.stem for p in CONFIG_DIR.glob("*.toml") if not p.stem.startswith("llm-"))


def load_preset(name_or_path: str) -> dict[str, Any]:
    """Read a preset by name (`configs/<name>.toml`) or by file path."""
    path = Path(name_or_path)
    if not path.suffix:
        path = CONFIG_DIR / f"{name_or_path}.toml"
    if not path.is_file():
        raise ConfigError(
            f"preset {name_or_path!r} not found; known presets: {', '.join(available_presets())}"
        )
    try:
        return tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"preset {path.name} is not valid TOML: {error}") from None


def parse_override(text: str) -> tuple[list[str], Any]:
    """`"train.lr=0.01"` -> (["train", "lr"], 0.01). The value is read as TOML when it can be
    (numbers, booleans, lists, quoted strings) and as a bare string otherwise."""
    if "=" not in text:
        raise ConfigError(f"override {text!r} is not of the form key=value")
    key, raw = text.split("=", 1)
    key = key.strip().lstrip("-")
    if not key:
        raise ConfigError(f"override {text!r} has an empty key")
    try:
        value = tomllib.loads(f"v = {raw.strip()}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw.strip()
    return key.split("."), value


def resolve_config(config_type: type[Any], preset: str | None = None,
                   overrides: list[str] | None = None, base: dict[str, Any] | None = None) -> Any:
    """A `config_type` dataclass: defaults <- base (e.g. a saved config) <- preset <-
    `key=value` overrides, each checked for unknown keys and types (not yet validated)."""
    config = config_type()
    if base:
        config = apply_dict(config, base)
    if preset:
        config = apply_dict(config, load_preset(preset))
    for text in overrides or []:
        path, value = parse_override(text)
        nested: Any = value
        for part in reversed(path):
            nested = {part: nested}
        config = apply_dict(config, nested)
    return config


def resolve(
    preset: str | None = None,
    overrides: list[str] | None = None,
    base: dict[str, Any] | None = None,
) -> RunConfig:
    """The game loop's config: defaults <- base <- preset <- overrides, validated."""
    config = resolve_config(RunConfig, preset, overrides, base)
    validate(config)
    return config


def apply_dict(obj: Any, values: dict[str, Any], where: str = "") -> Any:
    """A copy of dataclass `obj` with `values` applied recursively and type-checked."""
    if not isinstance(values, dict):
        raise ConfigError(f"{where or 'config'} must be a table, got {values!r}")
    hints = typing.get_type_hints(type(obj))
    names = {f.name for f in dataclasses.fields(obj)}
    changes: dict[str, Any] = {}
    for key, value in values.items():
        dotted = f"{where}.{key}" if where else key
        if key not in names:
            raise ConfigError(f"unknown config key {dotted!r}; known: {', '.join(sorted(names))}")
        current = getattr(obj, key)
        if dataclasses.is_dataclass(current):
            changes[key] = apply_dict(current, value, dotted)
        elif isinstance(current, dict) and isinstance(value, dict):
            # Tables merge key by key, so that `--set rewards.a=1 --set rewards.b=0.5` (or a
            # preset's table and an override) add up instead of the last one winning.
            changes[key] = {**current, **coerce(value, hints[key], dotted)}
        else:
            changes[key] = coerce(value, hints[key], dotted)
    try:
        return dataclasses.replace(obj, **changes)
    except (ValueError, TypeError) as error:  # a dataclass's own __post_init__ validation
        raise ConfigError(f"{where or 'config'}: {error}") from None


def coerce(value: Any, hint: Any, where: str) -> Any:
    """Check `value` against a simple type hint, converting int -> float where safe."""
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        for option in typing.get_args(hint):
            try:
                return coerce(value, option, where)
            except ConfigError:
                continue
        raise ConfigError(f"{where} = {value!r} does not have type {hint}")
    if hint is type(None):
        if value is None:
            return None
        raise ConfigError(f"{where} must be empty")
    if origin is list:
        if not isinstance(value, list):
            raise ConfigError(f"{where} must be a list, got {value!r}")
        (item,) = typing.get_args(hint) or (Any,)
        return [coerce(v, item, f"{where}[{i}]") for i, v in enumerate(value)]
    if origin is dict or hint is dict:
        if not isinstance(value, dict):
            raise ConfigError(f"{where} must be a table, got {value!r}")
        return dict(value)
    if hint is Any:
        return value
    if hint is bool:
        if isinstance(value, bool):
            return value
    elif hint is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    elif hint is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
    elif hint is str:
        if isinstance(value, str):
            return value
    raise ConfigError(f"{where} = {value!r} should be of type {getattr(hint, '__name__', hint)}")


COMPILE_MODES = ("off", "default", "cuda-graphs", "auto")
PRECISIONS = ("auto", "bf16", "fp32")
VALUE_HEADS = ("scalar", "wdl")


def check_precision(name: str) -> str:
    """`name` when it is a precision a run can name.

    Raises:
        ConfigError: any other name.
    """
    if name not in PRECISIONS:
        raise ConfigError(f"precision must be one of {', '.join(PRECISIONS)}, not {name!r}")
    return name


def validate(config: RunConfig) -> None:
    """Cross-field checks that a single type hint cannot express."""
    parse_model_size(config.model.size)
    check_precision(config.precision)
    checks = [
        (config.selfplay.concurrent_games >= 1, "selfplay.concurrent_games must be >= 1"),
        (config.selfplay.games_per_iteration >= 1, "selfplay.games_per_iteration must be >= 1"),
        (0.0 < config.selfplay.playout_cap_fraction <= 1.0,
         "selfplay.playout_cap_fraction must be in (0, 1]"),
        (config.train.batch_size >= 1, "train.batch_size must be >= 1"),
        (config.train.optimizer in ("adamw", "sgd"), "train.optimizer must be adamw or sgd"),
        (config.train.lr_schedule in ("constant", "cosine"),
         "train.lr_schedule must be constant or cosine"),
        (0.0 <= config.train.root_value_blend <= 1.0, "train.root_value_blend must be in [0, 1]"),
        (0.0 <= config.selfplay.value_target_blend <= 1.0,
         "selfplay.value_target_blend must be in [0, 1]"),
        (1.0 <= config.selfplay.value_target_horizon < float("inf"),
         "selfplay.value_target_horizon must be a finite number >= 1"),
        (config.model.value_head in VALUE_HEADS,
         f"model.value_head must be one of {', '.join(VALUE_HEADS)}"),
        (0 <= config.model.global_pool_blocks <= config.model.blocks,
         "model.global_pool_blocks must be from 0 to the tower's blocks"),
        (config.model.global_pool_blocks == 0 or config.model.channels >= 8,
         "model.global_pool_blocks needs at least 8 channels"),
        (config.train.soft_policy_weight >= 0, "train.soft_policy_weight must be >= 0"),
        (config.train.soft_policy_temperature >= 1,
         "train.soft_policy_temperature must be >= 1"),
        (config.train.root_value_blend == 0 or config.selfplay.value_target_blend == 0,
         "set one of train.root_value_blend and selfplay.value_target_blend, not both"),
        (config.train.learner_processes >= 1, "train.learner_processes must be >= 1"),
        (config.train.batch_size % config.train.learner_processes == 0,
         "train.batch_size must divide by train.learner_processes"),
        (config.workers >= 0, "workers must be >= 0"),
        (config.compile in COMPILE_MODES, f"compile must be one of {', '.join(COMPILE_MODES)}"),
        (config.replay.window_min >= 1, "replay.window_min must be >= 1"),
        (config.arena.every_iterations >= 0, "arena.every_iterations must be >= 0"),
        (config.arena.games >= 2 or not config.arena.every_iterations,
         "arena.games must be >= 2"),
        (0.0 < config.arena.gate_threshold <= 1.0, "arena.gate_threshold must be in (0, 1]"),
        (not config.arena.gate or config.arena.every_iterations > 0,
         "arena.gate needs arena.every_iterations > 0"),
        (config.checkpoint_every >= 0, "checkpoint_every must be >= 0"),
        (config.endgame.scoring in ("tromp-taylor", "ownership"),
         "endgame.scoring must be tromp-taylor or ownership"),
        (0.0 < config.endgame.dead_threshold <= 1.0, "endgame.dead_threshold must be in (0, 1]"),
        (config.endgame.dead_stones in ("playouts", "ownership"),
         "endgame.dead_stones must be playouts or ownership"),
        (0.0 < config.endgame.settled_threshold <= 1.0,
         "endgame.settled_threshold must be in (0, 1]"),
        (config.endgame.max_unsettled >= 0, "endgame.max_unsettled must be >= 0"),
        (0.0 <= config.endgame.early_pass_share <= 1.0,
         "endgame.early_pass_share must be in [0, 1]"),
        (config.train.ownership_loss_weight >= 0.0, "train.ownership_loss_weight must be >= 0"),
    ]
    for ok, message in checks:
        if not ok:
            raise ConfigError(message)
    play_search_config(config)


def play_search_config(config: RunConfig) -> SearchConfig:
    """The search an agent of this run plays with: `search` updated by `play_search`.

    Raises:
        ConfigError: a `play_search` key that is not a search field, or a bad value.
    """
    unknown = sorted(set(config.play_search) - {f.name for f in dataclasses.fields(SearchConfig)})
    if unknown:
        raise ConfigError(f"play_search.{unknown[0]} is not a search setting")
    values = {name: coerce(value, type(getattr(config.search, name)), f"play_search.{name}")
              for name, value in config.play_search.items()}
    try:
        return dataclasses.replace(config.search, **values)
    except ValueError as error:
        raise ConfigError(f"play_search: {error}") from None


def with_play_overrides(config: RunConfig, overrides: list[str]) -> RunConfig:
    """`config` with `play_search.KEY=VALUE`, `play_symmetries=BOOL` and `precision=NAME`
    overrides: how a trained agent plays. Any other key would describe another run, so it
    is refused.

    Raises:
        ConfigError: another key, or a bad setting.
    """
    for text in overrides:
        path, _ = parse_override(text)
        if path not in (["play_symmetries"], ["precision"]) and (
                len(path) != 2 or path[0] != "play_search"):
            raise ConfigError(f"a trained agent takes play_search.KEY=VALUE, "
                              f"play_symmetries=BOOL and precision=NAME overrides only, "
                              f"not {text!r}")
    changed = resolve_config(RunConfig, overrides=overrides, base=to_dict(config))
    play_search_config(changed)
    check_precision(changed.precision)
    return changed


def to_dict(config: Any) -> dict[str, Any]:
    return dataclasses.asdict(config)


def to_json(config: Any) -> str:
    """Any config dataclass as sorted, indented JSON (the run directory's `config.json`)."""
    return json.dumps(to_dict(config), indent=2, sort_keys=True)


def read_json(path: Path) -> dict[str, Any]:
    """A saved config file's contents (resolve it with the matching `resolve`)."""
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, json.JSONDecodeError) as error:
        raise ConfigError(f"cannot read config {path}: {error}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"config {path} is not a table")
    return data


def from_json_file(path: Path) -> RunConfig:
    return resolve(base=read_json(path))
