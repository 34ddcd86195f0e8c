"""Tasks and reward functions by name: `make("countdown", use_all=True)`, and registration.

Built-in tasks are imported only when made, so listing them does not load the HumanEval
data or the sandbox. A user registers a task class (or any factory returning a `Task`)
or a reward callable:

    >>> from llm_bridge.tasks import register_reward, combine_rewards
    >>> @register_reward("short")
    ... def short(prompts, completions, **kwargs):
    ...     return [float(len(c) < 10) for c in completions]
    >>> combine_rewards({"short": 1.0, "answer_format": 0.5}).weights
    {'short': 1.0, 'answer_format': 0.5}
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from llm_bridge.tasks.base import Task, TaskError
from llm_bridge.tasks.builtin_rewards import BUILTIN_REWARDS
from llm_bridge.tasks.rewards import (
    CombinedReward,
    RewardError,
    RewardFn,
    check_signature,
    reward_fn_of,
    task_reward_fn,
)

# name -> ("module", "class", "one-line description")
_BUILTIN_TASKS: dict[str, tuple[str, str, str]] = {
    "arithmetic": ("llm_bridge.tasks.arithmetic", "ArithmeticTask",
                   "multi-digit + - * with precedence; digits=, terms=, ops="),
    "countdown": ("llm_bridge.tasks.countdown", "CountdownTask",
                  "reach a target from given numbers with + - * /; count=, use_all="),
    "humaneval": ("llm_bridge.tasks.humaneval", "HumanEvalTask",
                  "HumanEval's 164 Python problems, tests run in the sandbox"),
}
_USER_TASKS: dict[str, tuple[Callable[..., Task], str]] = {}
_REWARDS: dict[str, RewardFn] = dict(BUILTIN_REWARDS)

F = TypeVar("F", bound=Callable[..., Any])


class UnknownTaskError(TaskError, KeyError):
    """`make` was given a name that is not registered."""

    def __str__(self) -> str:
        return str(self.args[0])


def normalize(name: str) -> str:
    """The registry key for `name`: stripped, lower case, `-` read as `_`."""
    if not isinstance(name, str) or not name.strip():
        raise TaskError(f"a name must be a non-empty string, got {name!r}")
    return name.strip().lower().replace("-", "_")


def available() -> dict[str, str]:
    """Registered task names with a one-line description each."""
    found = {name: description for name, (_, _, description) in _BUILTIN_TASKS.items()}
    found.update({name: description for name, (_, description) in _USER_TASKS.items()})
    return dict(sorted(found.items()))


def make(name: str, **kwargs: Any) -> Task:
    """Build the task registered as `name`, or read from a data file named `jsonl:PATH` or
    `hf:DIR` (`llm_bridge.tasks.datafile`); keyword arguments go to its constructor."""
    from llm_bridge.tasks.datafile import make_data_task

    data_task = make_data_task(name, **kwargs) if isinstance(name, str) else None
    if data_task is not None:
        return data_task
    key = normalize(name)
    if key in _USER_TASKS:
        task = _USER_TASKS[key][0](**kwargs)
    elif key in _BUILTIN_TASKS:
        module, attribute, _ = _BUILTIN_TASKS[key]
        task = getattr(importlib.import_module(module), attribute)(**kwargs)
    else:
        raise UnknownTaskError(f"unknown task {name!r}; known tasks: {', '.join(available())}")
    if not isinstance(task, Task):
        raise TaskError(f"the factory registered as {name!r} returned {task!r}, not a Task")
    return task


def register_task(name: str, factory: Callable[..., Task] | None = None, *,
                  description: str = "", overwrite: bool = False) -> Any:
    """Register a `Task` subclass or factory under `name`; usable as a class decorator.

    Raises:
        TaskError: the name is taken (pass `overwrite=True` to replace a user task).
    """
    key = normalize(name)

    def register(obj: F) -> F:
        if not callable(obj):
            raise TaskError(f"a task factory must be callable, got {obj!r}")
        if key in _BUILTIN_TASKS or (key in _USER_TASKS and not overwrite):
            raise TaskError(f"a task named {key!r} is already registered")
        doc = description or (obj.__doc__ or "").strip().split("\n")[0]
        _USER_TASKS[key] = (obj, doc)
        return obj

    return register if factory is None else register(factory)


def register_reward(name: str, fn: RewardFn | None = None, *, overwrite: bool = False) -> Any:
    """Register a reward callable `(prompts, completions, **kwargs)`; usable as a decorator.

    Raises:
        RewardError: bad signature, or the name is taken (see `overwrite`).
    """
    key = normalize(name)

    def register(obj: F) -> F:
        check_signature(obj)
        if key in _REWARDS and not overwrite:
            raise RewardError(f"a reward named {key!r} is already registered")
        _REWARDS[key] = obj
        return obj

    return register if fn is None else register(fn)


def unregister(name: str) -> None:
    """Remove a user-registered task or reward (built-in tasks stay)."""
    key = normalize(name)
    _USER_TASKS.pop(key, None)
    if key not in BUILTIN_REWARDS:
        _REWARDS.pop(key, None)


def rewards_available() -> list[str]:
    """Registered reward names (tasks are usable as rewards too, by task name)."""
    return sorted(_REWARDS)


def resolve_reward(name: str) -> RewardFn:
    """The reward callable registered as `name`, else the reward of the task `name`."""
    key = normalize(name)
    if key in _REWARDS:
        return _REWARDS[key]
    if key in available():
        return task_reward_fn(make(key))
    raise RewardError(f"unknown reward {name!r}; rewards: {', '.join(rewards_available())}; "
                      f"tasks: {', '.join(available())}")


def as_reward_fn(obj: RewardFn | Task | str) -> RewardFn:
    """A batch reward callable from a callable, a `Task`, or a registered name.

    Raises:
        RewardError: an unknown name, or a callable that cannot take
            `(prompts, completions, **fields)`.
    """
    return resolve_reward(obj) if isinstance(obj, str) else reward_fn_of(obj)


def combine_rewards(weights: Mapping[str, float], *,
                    functions: Mapping[str, RewardFn | Task] | None = None,
                    timeout_s: float = 60.0, on_error: float | None = None,
                    workers: int = 2) -> CombinedReward:
    """A `CombinedReward` from a config mapping of reward name -> weight.

    Args:
        weights: name -> weight, e.g. `{"countdown": 1.0, "answer_format": 0.1}`.
        functions: callables or tasks for names that are not registered (they win).
        timeout_s: per-function deadline for one batch.
        on_error: the value a failed function gives every sample (None: skipped).
        workers: most reward worker processes.
    """
    functions = dict(functions or {})
    return CombinedReward(
        {name: (as_reward_fn(functions.get(name, name)), weight)
         for name, weight in weights.items()},
        timeout_s=timeout_s, on_error=on_error, workers=workers,
    )
