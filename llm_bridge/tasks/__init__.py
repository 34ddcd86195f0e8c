"""Verifiable-reward tasks for the LLM bridge, and the reward contract training uses.

    >>> from llm_bridge import tasks
    >>> task = tasks.make("arithmetic", digits=2, ops="+-")
    >>> problem = task.generate("train", 1, seed=0)[0]
    >>> task.reward(problem, task.worked_solution(problem))
    1.0

How training uses them: build rows with `task.example(problem)` (a formatted `prompt` plus
the problem's columns), sample completions, then call a reward callable with the prompts,
completions and the rows' other columns as keyword lists; `combine_rewards` gives a
weighted, guarded `CombinedReward` whose `metrics()` are ready to log. The other way round,
`CustomTask` makes a task of a user's problems and reward callable.
"""

from __future__ import annotations

from llm_bridge.tasks.base import (
    SPLITS,
    GeneratedTask,
    ListedTask,
    Problem,
    Split,
    Task,
    TaskError,
    split_of,
)
from llm_bridge.tasks.custom import CustomTask
from llm_bridge.tasks.registry import (
    UnknownTaskError,
    as_reward_fn,
    available,
    combine_rewards,
    make,
    register_reward,
    register_task,
    resolve_reward,
    rewards_available,
    unregister,
)
from llm_bridge.tasks.rewards import (
    CombinedReward,
    GuardedReward,
    RewardBreakdown,
    RewardError,
    RewardFn,
    from_sample_fn,
    reward_fn_of,
    task_reward_fn,
)

__all__ = [
    "SPLITS",
    "CombinedReward",
    "CustomTask",
    "GeneratedTask",
    "GuardedReward",
    "ListedTask",
    "Problem",
    "RewardBreakdown",
    "RewardError",
    "RewardFn",
    "Split",
    "Task",
    "TaskError",
    "UnknownTaskError",
    "as_reward_fn",
    "available",
    "combine_rewards",
    "from_sample_fn",
    "make",
    "register_reward",
    "register_task",
    "resolve_reward",
    "reward_fn_of",
    "rewards_available",
    "split_of",
    "task_reward_fn",
    "unregister",
]
