"""CustomTask: a user's problems and reward callable behave like any other task."""

from __future__ import annotations

import pytest

from games.base import Termination
from llm_bridge.tasks import CustomTask, Problem, TaskError, split_of, task_reward_fn


def exact(prompts, completions, answer, **kwargs):
    return [float(c.strip() == a) for c, a in zip(completions, answer)]


PROBLEMS = [Problem(id=f"sq/{i}", task="anything", prompt=f"Square {i}.", answer=str(i * i),
                    reference=str(i * i)) for i in range(60)]


def test_splits_follow_the_hash_and_cover_every_problem() -> None:
    task = CustomTask("squares", PROBLEMS, exact)
    ids = {s: {p.id for p in task.generate(s)} for s in ("train", "dev", "test")}
    assert set().union(*ids.values()) == {p.id for p in PROBLEMS}
    assert all(split_of(i) == s for s, group in ids.items() for i in group)
    assert all(p.task == "squares" for p in task.generate("train"))


def test_rewards_come_from_the_callable_and_round_trip_as_a_reward_fn() -> None:
    task = CustomTask("squares", PROBLEMS, exact, instructions="Reply with the number.")
    problems = task.generate("train", 3, seed=1)
    completions = [problems[0].answer, "nope", task.worked_solution(problems[2])]
    assert task.rewards(problems, completions) == [1.0, 0.0, 1.0]
    assert task.outcome(problems[0], problems[0].answer).termination is Termination.VERIFIED
    rows = [task.example(p) for p in problems]
    assert rows[0]["prompt"].endswith("Reply with the number.")
    prompts = [r.pop("prompt") for r in rows]
    columns = {k: [r[k] for r in rows] for k in rows[0]}
    assert task_reward_fn(task)(prompts, completions, **columns) == [1.0, 0.0, 1.0]


def test_a_crashing_callable_gives_zero() -> None:
    def crash(prompts, completions, **kwargs):
        raise KeyError("oops")

    task = CustomTask("squares", PROBLEMS, crash)
    problem = task.generate("train", 1)[0]
    assert task.reward(problem, problem.answer) == 0.0 and task.guard.failures == 1


def test_bad_input_is_rejected() -> None:
    with pytest.raises(TaskError, match="duplicate"):
        CustomTask("x", PROBLEMS + PROBLEMS[:1], exact)
    with pytest.raises(TaskError):
        CustomTask("", PROBLEMS, exact)
    with pytest.raises(TaskError, match="has"):
        CustomTask("x", PROBLEMS, exact).generate("test", 1000)
