"""A task from a user's own problems and reward callable: the adapter from rewards to tasks.

`task_reward_fn` turns a task into a reward callable; `CustomTask` goes the other way, so
anything the training and evaluation code does with a task (splits, prompts, rewards, the
one-player game outcome) works with a plain TRL-style reward function and a list of
problems. The callable sees whole completions and parses them itself; it runs guarded
(deadline, exceptions and malformed results become 0 with a logged warning).

    >>> def exact(prompts, completions, answer, **kwargs):
    ...     return [float(c.strip() == a) for c, a in zip(completions, answer)]
    >>> problems = [Problem(id=f"double/{i}", task="double", prompt=f"Double {i}.",
    ...                     answer=str(2 * i)) for i in range(50)]
    >>> task = CustomTask("double", problems, exact, instructions="Reply with the number.")
    >>> problem = task.generate("train", 1)[0]
    >>> task.reward(problem, problem.answer), task.reward(problem, "0 or " + problem.answer)
    (1.0, 0.0)
"""

from __future__ import annotations

from collections.abc import Sequence

from llm_bridge.tasks.base import DEFAULT_SPLIT_FRACTIONS, ListedTask, Problem, TaskError
from llm_bridge.tasks.rewards import GuardedReward, RewardFn, reward_fn_of


class CustomTask(ListedTask):
    """Problems given as a list, graded by a reward callable.

    Args:
        name: the task's name (rows of this task carry it in their `task` column).
        problems: the problems; ids must be unique. Their `task` is set to `name`.
        reward_fn: `(prompts, completions, **fields) -> list[float | None]`.
        instructions: text appended to each problem's prompt by `format_prompt`.
        split_fractions: train, dev and test shares, assigned by a hash of the id.
        timeout_s: deadline for one call of `reward_fn`.
    """

    def __init__(
        self,
        name: str,
        problems: Sequence[Problem],
        reward_fn: RewardFn,
        instructions: str = "",
        split_fractions: Sequence[float] = DEFAULT_SPLIT_FRACTIONS,
        timeout_s: float = 60.0,
    ) -> None:
        if not isinstance(name, str) or not name:
            raise TaskError(f"a task name must be a non-empty string, got {name!r}")
        self.name = name  # type: ignore[misc] (a per-instance name, unlike built-in tasks)
        self.instructions = instructions
        self.guard = GuardedReward(name, reward_fn_of(reward_fn), timeout_s, on_error=0.0)
        super().__init__([Problem(p.id, name, p.prompt, p.answer, p.reference, dict(p.metadata))
                          for p in problems], split_fractions)

    def format_prompt(self, problem: Problem) -> str:
        return f"{problem.prompt} {self.instructions}".strip()

    def extract_answer(self, completion: str) -> str | None:
        """The whole completion: the reward callable does its own parsing."""
        return completion if isinstance(completion, str) else None

    def grade(self, problem: Problem, answer: str) -> float:
        return self.rewards([problem], [answer])[0]

    def rewards(self, problems: Sequence[Problem], completions: Sequence[str]) -> list[float]:
        """One guarded call of the reward callable for the whole batch; None counts as 0."""
        if len(problems) != len(completions):
            raise TaskError(f"{len(problems)} problems for {len(completions)} completions")
        if not problems:
            return []
        rows = [self.example(p) for p in problems]
        prompts = [row.pop("prompt") for row in rows]
        columns = {key: [row[key] for row in rows] for key in rows[0]}
        values = self.guard(prompts, list(completions), **columns)
        return [0.0 if v is None else float(v) for v in values]

    def reward(self, problem: Problem, completion: str) -> float:
        return self.rewards([problem], [completion])[0]

    def worked_solution(self, problem: Problem) -> str:
        """The problem's `reference`, if it has one."""
        if problem.reference is None:
            raise NotImplementedError(f"problem {problem.id!r} has no reference solution")
        return problem.reference
