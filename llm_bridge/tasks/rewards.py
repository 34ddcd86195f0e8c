"""The reward contract (TRL's): plain callables over a batch, guarded, weighted and logged.

A reward function is any callable

    reward_fn(prompts: list[str], completions: list[str], **example_fields: list) -> list[float | None]

returning one value per completion; None means "not applicable to this sample" (a row of
another task in a mixture). `example_fields` are the dataset's other columns, one list
each (for our tasks: `Problem.to_fields`). As in TRL, everything is passed by keyword, so a
function may name only what it uses: `def f(completions, answer, **kwargs)`.

* `task_reward_fn(task)` turns a task into such a callable (its grader over its own rows).
* `from_sample_fn(fn)` lifts a per-sample `fn(prompt, completion, **row) -> float | None`.
* `reward_fn_of(obj)` accepts either of these or a task and checks the signature
  (`registry.as_reward_fn` also takes a registered name).
* `GuardedReward` makes a call safe for training: it runs on a worker process with a
  deadline (killed past it), and an exception, a hang or a malformed result becomes
  `on_error` (None by default: no signal) for the batch, with a logged warning naming the
  function.
* `CombinedReward` sums several guarded functions with weights from config (None values
  are skipped, as TRL's nansum does) and reports each one separately under
  `rewards/<name>/mean`, `rewards/<name>/std` and `rewards/<name>/failed`; its functions run
  side by side on a pool of `workers` processes.

    >>> combined = CombinedReward({"length": (lambda prompts, completions, **kw:
    ...     [float(len(c) < 5) for c in completions], 0.5)})
    >>> breakdown = combined(["p", "p"], ["short", "ok"])
    >>> breakdown.total, breakdown.metrics()["rewards/length/mean"]
    ([0.0, 0.5], 0.5)
"""

from __future__ import annotations

import inspect
import logging
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from llm_bridge.tasks import workers
from llm_bridge.tasks.base import Problem, Task
from llm_bridge.tasks.workers import RewardPool

RewardFn = Callable[..., list]
"""`(prompts, completions, **example_fields) -> list[float | None]`."""

log = logging.getLogger(__name__)


class RewardError(ValueError):
    """A reward function that cannot be used (bad signature, unknown name, bad weight)."""


def task_reward_fn(task: Task) -> RewardFn:
    """A reward callable grading `task`'s own rows (None for rows of other tasks).

    Rows need the columns of `Problem.to_fields` (`task.example` writes them).
    """

    def reward(prompts: list[str], completions: list[str], **fields: list) -> list:
        rows = _rows(len(completions), fields)
        mine = [i for i, row in enumerate(rows) if row.get("task") == task.name]
        values: list[float | None] = [None] * len(completions)
        problems = [Problem.from_fields(rows[i]) for i in mine]
        for i, value in zip(mine, task.rewards(problems, [completions[i] for i in mine])):
            values[i] = value
        return values

    reward.__name__ = task.name
    return reward


def from_sample_fn(fn: Callable[..., float | None], name: str | None = None) -> RewardFn:
    """Lift a per-sample `fn(prompt, completion, **row) -> float | None` to a batch one."""

    def reward(prompts: list[str], completions: list[str], **fields: list) -> list:
        rows = _rows(len(completions), fields)
        return [fn(p, c, **row) for p, c, row in zip(prompts, completions, rows)]

    reward.__name__ = name or getattr(fn, "__name__", "reward")
    return reward


def reward_fn_of(obj: RewardFn | Task) -> RewardFn:
    """A batch reward callable from a callable or a `Task` (names: `registry.as_reward_fn`).

    Raises:
        RewardError: a callable that cannot take `(prompts, completions, **fields)`.
    """
    if isinstance(obj, Task):
        return task_reward_fn(obj)
    if not callable(obj):
        raise RewardError(f"a reward must be a callable, a Task or a name, got {obj!r}")
    check_signature(obj)
    return obj


def check_signature(fn: Callable[..., Any]) -> None:
    """Raise RewardError unless `fn` accepts `prompts=`, `completions=` and `**kwargs`."""
    try:
        signature = inspect.signature(fn)
    except (TypeError, ValueError):
        return  # builtins and some C callables have no signature: trust them
    kinds = [p.kind for p in signature.parameters.values()]
    positional_only = [p.name for p in signature.parameters.values()
                       if p.kind is inspect.Parameter.POSITIONAL_ONLY and p.default is p.empty]
    try:
        if positional_only:
            raise TypeError(positional_only)
        signature.bind_partial(prompts=[], completions=[])
    except TypeError:
        raise RewardError(f"{_name(fn)} must take the keywords prompts= and completions= "
                          "(or **kwargs)") from None
    if inspect.Parameter.VAR_KEYWORD not in kinds:
        raise RewardError(f"{_name(fn)} must accept **kwargs (the example's other fields)")


@dataclass
class GuardedReward:
    """A reward function made safe to call from training.

    Calls run on a worker process (`llm_bridge.tasks.workers`), which is killed when a call
    passes its deadline: a hung or spinning function stops using a core at once, and the
    next call gets a fresh worker.

    Attributes:
        name: the name it is logged under.
        fn: the batch reward callable.
        timeout_s: deadline for one batch call.
        on_error: the value every sample gets when the call fails (None: no signal).
        failures: how many calls failed so far (exception, timeout, malformed result).
        kills: how many of those were timeouts, whose worker was killed.
    """

    name: str
    fn: RewardFn
    timeout_s: float = 60.0
    on_error: float | None = None
    failures: int = 0
    kills: int = 0

    def __post_init__(self) -> None:
        if not self.timeout_s > 0:
            raise RewardError(f"timeout_s must be positive, got {self.timeout_s}")
        self._pool: RewardPool | None = None

    def __call__(self, prompts: list[str], completions: list[str], **fields: list) -> list:
        """One value (float or None) per completion; never raises, never hangs past the
        deadline."""
        call = self.call(prompts, completions, fields)
        if workers.IN_WORKER:  # already on a guarded worker: no second process
            return self.finish(run_inline(self.fn, call[1]), len(completions))
        if self._pool is None:
            self._pool = RewardPool({self.name: self.fn}, size=1)
        return self.finish(self._pool.run([call], self.timeout_s)[0], len(completions))

    def call(self, prompts: list[str], completions: list[str],
             fields: Mapping[str, list]) -> tuple[str, dict[str, Any]]:
        """The `(name, kwargs)` a pool runs for one batch."""
        return self.name, {"prompts": list(prompts), "completions": list(completions),
                           **{k: list(v) for k, v in fields.items()}}

    def finish(self, result: tuple[str, Any], n: int) -> list:
        """A pool's result as n values, failures counted and logged."""
        status, value = result
        if status == "timeout":
            self.kills += 1
            return self._fail(n, f"timed out after {self.timeout_s:g} s (worker killed)")
        if status == "error":
            return self._fail(n, f"raised {value}")
        try:
            return _validated(value, n)
        except RewardError as exc:
            return self._fail(n, str(exc))

    def _fail(self, n: int, why: str) -> list:
        self.failures += 1
        log.warning("reward %r %s; using %r for %d samples", self.name, why, self.on_error, n)
        return [self.on_error] * n


def run_inline(fn: RewardFn, kwargs: dict[str, Any]) -> tuple[str, Any]:
    """A call on this process, as a pool would report it (no deadline)."""
    try:
        return "ok", fn(**kwargs)
    except Exception as error:  # noqa: BLE001 (any failure becomes on_error)
        return "error", f"{type(error).__name__}: {error}"


def _validated(values: Any, n: int) -> list[float | None]:
    """`values` as a list of n floats or Nones, or RewardError."""
    if isinstance(values, (str, bytes)) or not isinstance(values, Sequence):
        raise RewardError(f"returned {type(values).__name__}, not a list")
    if len(values) != n:
        raise RewardError(f"returned {len(values)} values for {n} completions")
    out: list[float | None] = []
    for value in values:
        if value is None:
            out.append(None)
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise RewardError(f"returned a {type(value).__name__}, not a number")
        if not math.isfinite(value):
            raise RewardError(f"returned a non-finite value {value}")
        out.append(float(value))
    return out


@dataclass(frozen=True)
class RewardBreakdown:
    """The rewards of one batch.

    Attributes:
        total: per completion, the weighted sum of the values that are not None.
        per_function: per reward name, its raw values (None where not applicable).
        weights: per reward name, its weight.
        failures: per reward name, 1 if its call failed on this batch, else 0.
    """

    total: list[float]
    per_function: dict[str, list[float | None]]
    weights: dict[str, float]
    failures: dict[str, int] = field(default_factory=dict)

    def metrics(self, num_generations: int | None = None) -> dict[str, float]:
        """Scalars to log: `reward`, `reward_std`, `rewards/<name>/mean|std|failed`, and
        with `num_generations` (completions per prompt, consecutive) `frac_reward_zero_std`.

        Means and stds skip None; a function with no value on the batch logs NaN.
        """
        out = {"reward": _mean(self.total), "reward_std": _std(self.total)}
        for name, values in self.per_function.items():
            present = [v for v in values if v is not None]
            out[f"rewards/{name}/mean"] = _mean(present)
            out[f"rewards/{name}/std"] = _std(present)
            out[f"rewards/{name}/failed"] = float(self.failures.get(name, 0))
        if num_generations:
            if len(self.total) % num_generations:
                raise RewardError(f"{len(self.total)} completions are not groups of "
                                  f"{num_generations}")
            groups = [self.total[i:i + num_generations]
                      for i in range(0, len(self.total), num_generations)]
            out["frac_reward_zero_std"] = _mean([float(_std(g) == 0.0) for g in groups])
        return out


class CombinedReward:
    """Several named reward functions with weights, each guarded.

    Args:
        functions: name -> (reward callable or Task, weight); `registry.combine_rewards`
            builds one from registered names.
        timeout_s: per-function deadline for one batch.
        on_error: the value a failed function gives every sample (None: skipped).
        workers: most worker processes (the functions of a batch run side by side).
    """

    def __init__(self, functions: Mapping[str, tuple[RewardFn | Task, float]], *,
                 timeout_s: float = 60.0, on_error: float | None = None,
                 workers: int = 2) -> None:
        if not functions:
            raise RewardError("at least one reward function is needed")
        self.guards: dict[str, GuardedReward] = {}
        self.weights: dict[str, float] = {}
        for name, (fn, weight) in functions.items():
            if isinstance(weight, bool) or not isinstance(weight, (int, float)) \
                    or not math.isfinite(weight):
                raise RewardError(f"weight of {name!r} must be a finite number, got {weight!r}")
            self.guards[name] = GuardedReward(name, reward_fn_of(fn), timeout_s, on_error)
            self.weights[name] = float(weight)
        self.pool = RewardPool({name: guard.fn for name, guard in self.guards.items()},
                               size=max(1, min(workers, len(self.guards))))

    @property
    def timeout_s(self) -> float:
        return max(guard.timeout_s for guard in self.guards.values())

    def __call__(self, prompts: list[str], completions: list[str],
                 **fields: list) -> RewardBreakdown:
        if len(prompts) != len(completions):
            raise RewardError(f"{len(prompts)} prompts for {len(completions)} completions")
        calls = [guard.call(prompts, completions, fields) for guard in self.guards.values()]
        if workers.IN_WORKER:
            results = [run_inline(guard.fn, kwargs)
                       for guard, (_, kwargs) in zip(self.guards.values(), calls)]
        else:
            results = self.pool.run(calls, self.timeout_s)
        per_function: dict[str, list[float | None]] = {}
        failures: dict[str, int] = {}
        for (name, guard), result in zip(self.guards.items(), results):
            before = guard.failures
            per_function[name] = guard.finish(result, len(completions))
            failures[name] = guard.failures - before
        total = []
        for i in range(len(completions)):
            values = [(self.weights[n], v[i]) for n, v in per_function.items()]
            if all(v is None for _, v in values):
                log.warning("no reward function applies to completion %d; its reward is 0", i)
            total.append(sum(w * v for w, v in values if v is not None))
        return RewardBreakdown(total, per_function, dict(self.weights), failures)


def _rows(n: int, fields: Mapping[str, Sequence[Any]]) -> list[dict[str, Any]]:
    """Column lists to n row dicts (every column must have n entries)."""
    for key, column in fields.items():
        if len(column) != n:
            raise RewardError(f"field {key!r} has {len(column)} entries for {n} completions")
    return [{key: column[i] for key, column in fields.items()} for i in range(n)]


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else math.nan


def _std(values: Sequence[float]) -> float:
    """Population standard deviation (NaN when empty)."""
    if not values:
        return math.nan
    mean = _mean(values)
    return math.sqrt(sum((v - mean) ** 2 for v in values) / len(values))


def _name(fn: Callable[..., Any]) -> str:
    return getattr(fn, "__name__", repr(fn))
