"""Problems, splits and the task registry: splits are disjoint, generation is seeded."""

from __future__ import annotations

import json
import random

import pytest

from games.base import Outcome, Termination
from llm_bridge import tasks
from llm_bridge.tasks import GeneratedTask, Problem, Task, TaskError, split_of
from llm_bridge.tasks.base import SPLITS


@pytest.mark.parametrize(
    "name, kwargs, n",
    [
        ("arithmetic", {"digits": (1, 2), "terms": 2}, 40),
        ("countdown", {"count": 3}, 30),
    ],
)
def test_generated_splits_are_disjoint_and_follow_the_hash(name: str, kwargs: dict,
                                                           n: int) -> None:
    task = tasks.make(name, **kwargs)
    seen: dict[str, set[str]] = {}
    for split in SPLITS:
        ids: set[str] = set()
        for seed in range(3):
            problems = task.generate(split, n, seed=seed)
            assert len({p.id for p in problems}) == n  # distinct within a call
            assert all(split_of(p.id) == split for p in problems)
            ids |= {p.id for p in problems}
        seen[split] = ids
    assert not seen["train"] & seen["dev"]
    assert not seen["train"] & seen["test"]
    assert not seen["dev"] & seen["test"]


def test_a_small_problem_space_is_partitioned_exactly() -> None:
    task = tasks.make("arithmetic", digits=1, terms=2, ops="+")
    everything = {f"arithmetic/{a} + {b}" for a in range(10) for b in range(10)}
    by_split = {s: {p.id for p in task.generate(s, sum(split_of(k) == s for k in everything))}
                for s in SPLITS}
    assert set().union(*by_split.values()) == everything
    assert sum(len(ids) for ids in by_split.values()) == len(everything)
    with pytest.raises(TaskError, match="found only"):
        task.generate("test", len(by_split["test"]) + 1)


def test_generation_is_deterministic_per_seed() -> None:
    task = tasks.make("countdown")
    assert task.generate("train", 5, seed=7) == task.generate("train", 5, seed=7)
    assert task.generate("train", 5, seed=7) != task.generate("train", 5, seed=8)


def test_split_of_shares_are_roughly_as_asked() -> None:
    counts = {s: 0 for s in SPLITS}
    for i in range(5000):
        counts[split_of(f"key-{i}")] += 1
    assert 3800 < counts["train"] < 4200 and 350 < counts["dev"] < 650
    assert [split_of(f"k{i}", (0, 0, 1)) for i in range(20)] == ["test"] * 20


@pytest.mark.parametrize("fractions", [(0.5, 0.5), (0.9, 0.2, -0.1), (0.5, 0.3, 0.3)])
def test_bad_split_fractions_are_rejected(fractions: tuple) -> None:
    with pytest.raises(TaskError):
        split_of("k", fractions)


@pytest.mark.parametrize("split, n, seed", [("valid", 1, 0), ("train", 0, 0),
                                            ("train", 2.0, 0), ("train", 1, "x")])
def test_bad_generate_arguments_are_rejected(split: str, n: object, seed: object) -> None:
    with pytest.raises(TaskError):
        tasks.make("arithmetic").generate(split, n, seed)  # type: ignore[arg-type]


def test_problem_round_trips_through_dataset_columns() -> None:
    task = tasks.make("countdown")
    problem = task.generate("train", 1)[0]
    row = json.loads(json.dumps(task.example(problem)))  # columns are JSON-serialisable
    assert row["prompt"] == task.format_prompt(problem)
    assert Problem.from_fields(row) == problem
    with pytest.raises(TaskError, match="problem columns"):
        Problem.from_fields({"prompt": "x"})


def test_outcome_is_a_verified_one_player_result() -> None:
    task = tasks.make("arithmetic")
    problem = task.generate("dev", 1)[0]
    good = task.outcome(problem, task.worked_solution(problem))
    bad = task.outcome(problem, "no idea")
    assert good == Outcome(Termination.VERIFIED, reward=1.0) and good.value(0) == 1.0
    assert bad.reward == 0.0 and bad.result_string() == "0"


def test_registry_lists_and_makes_builtin_tasks() -> None:
    assert {"arithmetic", "countdown", "humaneval"} <= set(tasks.available())
    assert tasks.make("Count-Down".replace("-", "")).name == "countdown"
    with pytest.raises(tasks.UnknownTaskError, match="known tasks"):
        tasks.make("sudoku")
    with pytest.raises(TaskError):
        tasks.make("arithmetic", ops="/")


class Parity(GeneratedTask):
    """Say whether a number is even."""

    name = "parity"

    def sample(self, rng: random.Random) -> Problem:
        n = rng.randint(0, 10**6)
        return Problem(id=f"parity/{n}", task=self.name, prompt=f"Is {n} even?",
                       answer="yes" if n % 2 == 0 else "no")

    def format_prompt(self, problem: Problem) -> str:
        return problem.prompt + " Answer yes or no."

    def extract_answer(self, completion: str) -> str | None:
        words = completion.strip().lower().split()
        return words[-1] if words else None

    def grade(self, problem: Problem, answer: str) -> float:
        return float(answer == problem.answer)


def test_a_user_task_class_can_be_registered_and_made() -> None:
    tasks.register_task("parity", Parity)
    try:
        task = tasks.make("parity", split_fractions=(0.5, 0.25, 0.25))
        problem = task.generate("test", 1)[0]
        assert task.reward(problem, problem.answer) == 1.0
        assert "parity" in tasks.available()
        with pytest.raises(TaskError, match="already registered"):
            tasks.register_task("parity", Parity)
        with pytest.raises(TaskError, match="already registered"):
            tasks.register_task("arithmetic", Parity, overwrite=True)
        with pytest.raises(NotImplementedError):
            task.worked_solution(problem)
    finally:
        tasks.unregister("parity")
    assert "parity" not in tasks.available()


def test_a_factory_must_return_a_task() -> None:
    tasks.register_task("broken", lambda: object())
    try:
        with pytest.raises(TaskError, match="not a Task"):
            tasks.make("broken")
    finally:
        tasks.unregister("broken")


def test_task_is_abstract() -> None:
    with pytest.raises(TypeError):
        Task()  # type: ignore[abstract]
