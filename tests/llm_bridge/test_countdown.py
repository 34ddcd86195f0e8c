"""Countdown against an independent brute-force solver, and the verifier's rules."""

from __future__ import annotations

import itertools
import random
from fractions import Fraction

import pytest

from llm_bridge.tasks import TaskError, make
from llm_bridge.tasks.countdown import CountdownTask, check_solution


def solve(numbers: list[int], target: int) -> str | None:
    """Brute force: combine any two values with + - * / (Fractions) until one matches.

    Searches every subset (each number at most once), so it finds a solution whenever one
    exists under the task's rules.
    """
    start = [(Fraction(n), str(n)) for n in numbers]
    seen: set[tuple[Fraction, ...]] = set()

    def search(items: list[tuple[Fraction, str]]) -> str | None:
        for value, text in items:
            if value == target:
                return text
        key = tuple(sorted(v for v, _ in items))
        if key in seen or len(items) < 2:
            return None
        seen.add(key)
        for i, j in itertools.permutations(range(len(items)), 2):
            (a, ta), (b, tb) = items[i], items[j]
            rest = [items[k] for k in range(len(items)) if k not in (i, j)]
            options = [(a + b, f"({ta} + {tb})"), (a - b, f"({ta} - {tb})"),
                       (a * b, f"({ta} * {tb})")]
            if b != 0:
                options.append((a / b, f"({ta} / {tb})"))
            for value, text in options:
                found = search(rest + [(value, text)])
                if found:
                    return found
        return None

    return search(start)


def random_expression(numbers: list[int], rng: random.Random) -> tuple[str, Fraction]:
    """A random expression over a random subset, with its value computed independently."""
    items = [(Fraction(n), str(n)) for n in rng.sample(numbers, rng.randint(1, len(numbers)))]
    while len(items) > 1:
        (a, ta), (b, tb) = items.pop(), items.pop()
        op = rng.choice("+-*/" if b != 0 else "+-*")
        value = {"+": a + b, "-": a - b, "*": a * b, "/": a / b if b else a}[op]
        items.append((value, f"({ta} {op} {tb})"))
    return items[0][1], items[0][0]


def test_every_generated_problem_is_solvable_and_the_solver_is_accepted() -> None:
    task = make("countdown", count=(3, 4))
    for problem in task.generate("train", 25, seed=11):
        numbers, target = problem.metadata["numbers"], problem.metadata["target"]
        found = solve(numbers, target)
        assert found is not None, problem.id
        assert check_solution(found, numbers, target)
        assert task.reward(problem, f"<answer>{found}</answer>") == 1.0
        assert task.reward(problem, task.worked_solution(problem)) == 1.0


def test_verifier_agrees_with_independent_values_on_random_expressions() -> None:
    rng = random.Random(3)
    task = make("countdown")
    checked = 0
    for problem in task.generate("dev", 10, seed=1):
        numbers, target = problem.metadata["numbers"], problem.metadata["target"]
        for _ in range(60):
            text, value = random_expression(numbers, rng)
            assert check_solution(text, numbers, target) == (value == target)
            checked += 1
            # Same expression aimed at its own value: always accepted.
            if value.denominator == 1:
                assert check_solution(text, numbers, int(value))
    assert checked == 600


def test_unsolvable_instance_is_never_accepted() -> None:
    numbers, target = [1, 1, 1], 100
    assert solve(numbers, target) is None
    for text in ["1 + 1 + 1", "(1 + 1) * 1", "100", "1 * 100"]:
        assert not check_solution(text, numbers, target)


@pytest.mark.parametrize(
    "expression, ok",
    [
        ("(6 - 2) * 5", True),
        ("5 * (6 - 2)", True),
        ("6 * 5 - 2 * 5", False),  # 5 used twice
        ("(6 - 2) * 5 + 0", False),  # 0 was not given
        ("20", False),  # a number not given
        ("6 * 5 - 10", False),
        ("4 * 5", False),  # 4 not given
        ("(6 - 2) ** 1 * 5", False),
        ("(6 - 2) * 5.0", False),
        ("-(2 - 6) * 5", False),  # unary minus is not allowed
        ("(6 - 2) * 5 = 20", False),
        ("5 / (6 - 6) * 2", False),
    ],
)
def test_check_solution_rules(expression: str, ok: bool) -> None:
    assert check_solution(expression, [2, 5, 6], 20) is ok


def test_fractions_along_the_way_are_allowed() -> None:
    assert check_solution("8 / (3 - 8 / 3)", [3, 3, 8, 8], 24)


def test_use_all_requires_every_number() -> None:
    assert check_solution("6 * 5 - 2", [2, 5, 6, 9], 28)
    assert not check_solution("6 * 5 - 2", [2, 5, 6, 9], 28, use_all=True)
    assert check_solution("6 * 5 - 2", [2, 5, 6], 28, use_all=True)


def test_problems_respect_their_settings() -> None:
    task = CountdownTask(count=4, max_number=10, max_target=50)
    for problem in task.generate("train", 30, seed=4):
        numbers, target = problem.metadata["numbers"], problem.metadata["target"]
        assert len(numbers) == 4 and all(1 <= n <= 10 for n in numbers)
        assert 1 <= target <= 50 and target not in numbers
        assert numbers == sorted(numbers)


@pytest.mark.parametrize("kwargs", [{"count": 1}, {"count": (4, 3)}, {"count": 7},
                                    {"max_number": 1}, {"max_target": 0}])
def test_bad_settings_are_rejected(kwargs: dict) -> None:
    with pytest.raises(TaskError):
        CountdownTask(**kwargs)


def test_reward_hacks_are_not_paid() -> None:
    task = make("countdown")
    problem = task.generate("test", 1, seed=2)[0]
    target = problem.metadata["target"]
    solution = problem.reference
    hacks = [
        f"<answer>{target}</answer>",  # the target itself
        f"<answer>{solution} = {target}</answer>",
        f"<answer>{solution}</answer><answer>{solution}</answer>",
        f"<answer>{solution}",
        f"<answer>__import__('os').getpid() * 0 + {target}</answer>",
        f"<answer>{solution}</answer> (or {target})",
        "",
    ]
    for completion in hacks:
        assert task.reward(problem, completion) == 0.0, completion
