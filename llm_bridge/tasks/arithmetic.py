"""Multi-digit integer arithmetic: `+`, `-` and `*` with the usual precedence.

Difficulty grows with the operands' digit counts (`digits=(2, 3)`: each operand has 2 or 3
digits) and the number of operands (`terms=(2, 3)`). The model answers with the exact
integer, possibly negative, as the completion's final tag: `<answer>-1234</answer>` (rules
in `llm_bridge.verifiers.answer`).

    >>> task = ArithmeticTask(digits=2, terms=3, ops="+*")
    >>> problem = task.generate("train", 1, seed=0)[0]
    >>> task.reward(problem, task.worked_solution(problem))
    1.0
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import ClassVar

from llm_bridge.tasks.base import (
    DEFAULT_SPLIT_FRACTIONS,
    GeneratedTask,
    Problem,
    TaskError,
    split_of,
)
from llm_bridge.tools import TOOL_INSTRUCTIONS, transcript
from llm_bridge.verifiers.answer import extract_tagged, format_answer, parse_integer

OPERATORS = "+-*"


def evaluate_terms(operands: Sequence[int], ops: Sequence[str]) -> int:
    """The value of `operands[0] ops[0] operands[1] ...` with `*` binding tighter.

    >>> evaluate_terms([2, 3, 4], "+*"), evaluate_terms([10, 4, 3], "--")
    (14, 3)
    """
    if len(operands) != len(ops) + 1:
        raise TaskError(f"{len(operands)} operands need {len(operands) - 1} operators")
    total, sign, product = 0, 1, operands[0]
    for op, value in zip(ops, operands[1:]):
        if op == "*":
            product *= value
        elif op in "+-":
            total += sign * product
            sign, product = (1 if op == "+" else -1), value
        else:
            raise TaskError(f"unknown operator {op!r}")
    return total + sign * product


def render(operands: Sequence[int], ops: Sequence[str]) -> str:
    """`12 + 3 * 45`: operands and operators separated by single spaces."""
    parts = [str(operands[0])]
    for op, value in zip(ops, operands[1:]):
        parts += [op, str(value)]
    return " ".join(parts)


def solution_steps(operands: Sequence[int], ops: Sequence[str]) -> list[str]:
    """Short working: each product first, then the sums left to right.

    >>> solution_steps([2, 3, 4, 5], "*+-")
    ['2 * 3 = 6', '6 + 4 = 10', '10 - 5 = 5']
    """
    steps: list[str] = []
    terms: list[int] = [operands[0]]
    signs: list[str] = []
    for op, value in zip(ops, operands[1:]):
        if op == "*":
            steps.append(f"{terms[-1]} * {value} = {terms[-1] * value}")
            terms[-1] *= value
        else:
            signs.append(op)
            terms.append(value)
    total = terms[0]
    for op, value in zip(signs, terms[1:]):
        new = total + value if op == "+" else total - value
        steps.append(f"{total} {op} {value} = {new}")
        total = new
    return steps


def _range(value: int | Sequence[int], name: str, low: int) -> tuple[int, int]:
    """An inclusive (lo, hi) from an int or a pair, each at least `low`."""
    pair = (value, value) if isinstance(value, int) else tuple(value)
    if len(pair) != 2 or not all(isinstance(v, int) for v in pair):
        raise TaskError(f"{name} must be an int or a (min, max) pair, got {value!r}")
    lo, hi = pair
    if lo < low or hi < lo:
        raise TaskError(f"{name} must satisfy {low} <= min <= max, got {value!r}")
    return lo, hi


class ArithmeticTask(GeneratedTask):
    """Evaluate an integer expression exactly.

    Args:
        digits: digits per operand, an int or an inclusive (min, max) range (1 to 18).
        terms: number of operands, an int or an inclusive range (2 or more).
        ops: the operators to draw from, a non-empty subset of `"+-*"`.
        split_fractions: train, dev and test shares of the problem space.
        tools: completions may run Python in the sandbox (`llm_bridge.tools`).
    """

    name: ClassVar[str] = "arithmetic"
    answer_format: ClassVar[str] = "the exact integer in <answer>...</answer> at the very end"

    def __init__(
        self,
        digits: int | Sequence[int] = (1, 3),
        terms: int | Sequence[int] = (2, 3),
        ops: str = OPERATORS,
        split_fractions: Sequence[float] = DEFAULT_SPLIT_FRACTIONS,
        tools: bool = False,
    ) -> None:
        super().__init__(split_fractions)
        self.tools = tools
        self.digits = _range(digits, "digits", 1)
        if self.digits[1] > 18:
            raise TaskError("digits must be at most 18")
        self.terms = _range(terms, "terms", 2)
        if not ops or not isinstance(ops, str) or set(ops) - set(OPERATORS):
            raise TaskError(f"ops must be a non-empty string over {OPERATORS!r}, got {ops!r}")
        self.ops = "".join(sorted(set(ops), key=OPERATORS.index))

    def sample(self, rng: random.Random) -> Problem:
        count = rng.randint(*self.terms)
        operands = [self._operand(rng) for _ in range(count)]
        ops = [rng.choice(self.ops) for _ in range(count - 1)]
        expression = render(operands, ops)
        return Problem(
            id=f"{self.name}/{expression}",
            task=self.name,
            prompt=f"What is {expression}?",
            answer=str(evaluate_terms(operands, ops)),
            metadata={"operands": operands, "ops": "".join(ops)},
        )

    def _operand(self, rng: random.Random) -> int:
        width = rng.randint(*self.digits)
        return rng.randint(0 if width == 1 else 10 ** (width - 1), 10**width - 1)

    def format_prompt(self, problem: Problem) -> str:
        # The precedence rule only where it can matter: told about multiplication on a
        # sum, a small chat model starts multiplying.
        precedence = (" Multiplication binds tighter than addition and subtraction."
                      if "*" in self.ops and len(self.ops) > 1 and self.terms[1] > 2 else "")
        return (
            f"{problem.prompt}{precedence} "
            "Work it out, then end your reply with the exact integer result in answer "
            "tags, written with plain digits and a leading minus sign if negative, "
            "for example <answer>-17</answer>." + (f" {TOOL_INSTRUCTIONS}" if self.tools else "")
        )

    def extract_answer(self, completion: str) -> str | None:
        return extract_tagged(completion)

    def grade(self, problem: Problem, answer: str) -> float:
        value = parse_integer(answer)
        return 1.0 if value is not None and str(value) == problem.answer else 0.0

    def worked_solution(self, problem: Problem) -> str:
        """The working line by line; with `tools`, half of the problems (by a hash of the id)
        are worked by one Python call instead, so a warm start shows both ways."""
        operands, ops = problem.metadata["operands"], problem.metadata["ops"]
        if self.tools and split_of(f"tool/{problem.id}", (0.5, 0.5, 0.0)) == "train":
            return transcript(f"print({render(operands, ops)})", problem.answer) + \
                format_answer(problem.answer)
        return "\n".join(solution_steps(operands, ops) + [format_answer(problem.answer)])

    def answer_only_solution(self, problem: Problem) -> str:
        return format_answer(problem.answer)


def working_steps(prompts: list[str], completions: list[str], **fields: list) -> list[float | None]:
    """Process reward for arithmetic: the share of the reference working (`solution_steps`)
    that the completion writes, in order, each step an exact line such as `6 + 4 = 10`.

    It pays for the arithmetic facts the final answer depends on, so a completion that gets
    the first product right but slips later earns part of the credit: a dense signal for a
    model that rarely finishes a problem correctly. It never pays for the answer itself
    (weight it below the task's correctness reward). Each reference step counts once,
    matched as an ordered subsequence of the lines, so repeating or padding lines earns
    nothing, and a completion with more than twice the reference's lines plus two earns 0.
    Rows of other tasks get None.

    >>> fields = {"task": ["arithmetic"], "metadata": [{"operands": [2, 3, 4], "ops": "*+"}]}
    >>> working_steps(["q"], ["2 * 3 = 6\\n6 + 4 = 11\\n<answer>11</answer>"], **fields)
    [0.5]
    """
    tasks = fields.get("task") or [None] * len(completions)
    metadata = fields.get("metadata") or [None] * len(completions)
    out: list[float | None] = []
    for completion, task, meta in zip(completions, tasks, metadata):
        if task != ArithmeticTask.name or not meta:
            out.append(None)
            continue
        reference = [" ".join(step.split()) for step in
                     solution_steps(meta["operands"], meta["ops"])]
        lines = [" ".join(line.split()) for line in completion.split("\n") if line.strip()]
        if not reference or len(lines) > 2 * len(reference) + 2:
            out.append(0.0 if reference else None)
            continue
        matched = 0
        for line in lines:
            if matched < len(reference) and line == reference[matched]:
                matched += 1
        out.append(matched / len(reference))
    return out
