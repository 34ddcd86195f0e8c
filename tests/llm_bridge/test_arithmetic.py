"""Arithmetic: hand-computed values, an independent evaluator, settings, reward hacking."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from llm_bridge.tasks import TaskError, make
from llm_bridge.tasks.arithmetic import ArithmeticTask, evaluate_terms, solution_steps


def oracle(expression: str) -> int:
    """Evaluate by rewriting the text: products first, then a left-to-right fold."""
    while "*" in expression:
        expression = re.sub(r"(\d+) \* (\d+)", lambda m: str(int(m[1]) * int(m[2])),
                            expression, count=1)
    tokens = expression.split()
    total = int(tokens[0])
    for op, value in zip(tokens[1::2], tokens[2::2]):
        total = total + int(value) if op == "+" else total - int(value)
    return total


@pytest.mark.parametrize(
    "operands, ops, expected",
    [([12, 34], "+", 46), ([12, 34], "-", -22), ([12, 34], "*", 408),
     ([2, 3, 4], "+*", 14), ([2, 3, 4], "*+", 10), ([100, 5, 5], "-*", 75),
     ([7, 8, 9, 10], "-*-", -75), ([0, 999], "*", 0)],
)
def test_evaluate_terms_hand_computed(operands: list[int], ops: str, expected: int) -> None:
    assert evaluate_terms(operands, ops) == expected


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 10**6))
def test_problem_answers_match_an_independent_evaluator(seed: int) -> None:
    task = ArithmeticTask(digits=(1, 4), terms=(2, 5))
    problem = task.generate("train", 1, seed=seed)[0]
    expression = problem.id.split("/", 1)[1]
    assert int(problem.answer) == oracle(expression)
    assert problem.prompt == f"What is {expression}?"


def test_settings_bound_the_problems() -> None:
    task = ArithmeticTask(digits=(2, 3), terms=3, ops="*")
    for problem in task.generate("train", 50, seed=1):
        operands = problem.metadata["operands"]
        assert len(operands) == 3 and problem.metadata["ops"] == "**"
        assert all(10 <= v <= 999 for v in operands)


@pytest.mark.parametrize("kwargs", [{"digits": 0}, {"digits": (3, 2)}, {"digits": 19},
                                    {"terms": 1}, {"ops": ""}, {"ops": "+/"},
                                    {"digits": "2"}])
def test_bad_settings_are_rejected(kwargs: dict) -> None:
    with pytest.raises(TaskError):
        ArithmeticTask(**kwargs)


def test_worked_solutions_are_correct_and_show_steps() -> None:
    task = make("arithmetic", digits=(1, 3), terms=(2, 4))
    for problem in task.generate("dev", 30, seed=2):
        assert task.reward(problem, task.worked_solution(problem)) == 1.0
    assert solution_steps([12, 3, 4], "+*") == ["3 * 4 = 12", "12 + 12 = 24"]


@pytest.fixture(scope="module")
def problem():
    task = make("arithmetic", digits=3, terms=2, ops="*")
    return task, task.generate("train", 1, seed=5)[0]


def test_the_right_answer_is_paid(problem) -> None:
    task, p = problem
    assert task.reward(p, f"Let me compute.\n<answer>{p.answer}</answer>") == 1.0
    assert task.reward(p, f"<answer>  {p.answer}\n</answer>\n\n") == 1.0


def test_reward_hacks_are_not_paid(problem) -> None:
    task, p = problem
    right = p.answer
    value = int(right)
    hacks = [
        "",
        "<answer></answer>",
        right,  # no tag
        f"<answer>{right}",  # truncated
        "".join(f"<answer>{value + k}</answer>" for k in range(-5, 6)),  # tag spam
        f"<answer>{value - 1}</answer><answer>{right}</answer>",
        f"<answer>{right}</answer> or <answer>{value + 1}</answer>",
        f"<answer>{right} or {value + 1}</answer>",
        f"<answer>{right}</answer> Wait, no: {value + 1}.",
        f"<answer>{right}.</answer>",
        f"<answer>{right} (final)</answer>",
        f"<answer>={right}</answer>",
        f"<answer>{value:,}</answer>",
        f"<answer>+{right}</answer>",
        f"<answer>0{right}</answer>",
        f"<answer>{right}.0</answer>",
        f"<answer>{value:e}</answer>",
        "<answer>" + right.translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")) + "</answer>",
        "<answer>" + right.translate(str.maketrans("0123456789", "０１２３４５６７８９")) + "</answer>",
        "<answer>one hundred</answer>",
        "x " * 20_000 + f"<answer>{right}</answer>",  # a huge number of tokens
        f"<ANSWER>{right}</ANSWER>",
    ]
    for completion in hacks:
        assert task.reward(p, completion) == 0.0, completion[:80]


def test_a_wrong_answer_is_not_paid(problem) -> None:
    task, p = problem
    assert task.reward(p, f"<answer>{int(p.answer) + 1}</answer>") == 0.0
    assert task.reward(p, f"<answer>-{p.answer}</answer>") == 0.0


def test_working_steps_pays_for_the_reference_working_only() -> None:
    from llm_bridge.tasks.arithmetic import working_steps

    task = ArithmeticTask(digits=1, terms=3, ops="+*")
    problem = next(p for p in task.generate("train", 50, seed=1)
                   if p.metadata["ops"] == "*+")  # a * b + c: two steps
    a, b, c = problem.metadata["operands"]
    right = [f"{a} * {b} = {a * b}", f"{a * b} + {c} = {a * b + c}"]
    fields = {"task": [problem.task], "metadata": [problem.metadata]}

    def score(text: str) -> float | None:
        return working_steps(["q"], [text], **fields)[0]

    assert score(task.worked_solution(problem)) == 1.0
    assert score(f"{right[0]}\n{a * b} + {c} = {a * b + c + 1}\n<answer>0</answer>") == 0.5
    assert score(f"{right[1]}\n{right[0]}") == 0.5  # out of order: only one step in sequence
    assert score(f"{right[0]}\n" * 4) == 0.5  # repeating a step pays once
    assert score("\n".join(right + ["1 + 1 = 2"] * 5)) == 0.0  # padded past 2n + 2 lines
    assert score("") == 0.0 and score("<answer>7</answer>") == 0.0
    assert working_steps(["q"], ["x"], task=["countdown"], metadata=[{}]) == [None]
