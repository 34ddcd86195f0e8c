"""Countdown: combine the given numbers with `+ - * /` and parentheses to hit a target.

Rules, as the verifier applies them:

* each given number may be used at most once (with `use_all=True`: exactly once); only
  the given numbers may appear, so no constants can be invented;
* operators are `+ - * /` and parentheses; no unary minus, powers or concatenation;
* arithmetic is exact over `Fraction`s, so intermediate fractions are allowed, dividing by
  zero makes the answer wrong, and the final value must equal the target exactly.

The answer is the expression in the final tag: `<answer>(25 - 5) * 4</answer>`. It is read
with a whitelisted `ast` walk (`llm_bridge.verifiers.expression`), never `eval`.

Problems are built backwards from a random solution that uses every number once with
integer intermediate results, so each problem is solvable under the stricter classic rules
too; that solution is kept as the problem's `reference`.

    >>> task = CountdownTask()
    >>> problem = task.generate("dev", 1, seed=3)[0]
    >>> task.reward(problem, task.worked_solution(problem))
    1.0
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Sequence
from typing import ClassVar

from llm_bridge.tasks.base import DEFAULT_SPLIT_FRACTIONS, GeneratedTask, Problem, TaskError
from llm_bridge.tools import TOOL_INSTRUCTIONS
from llm_bridge.verifiers.answer import extract_tagged, format_answer
from llm_bridge.verifiers.expression import ExpressionError, evaluate


def check_solution(expression: str, numbers: Sequence[int], target: int, *,
                   use_all: bool = False) -> bool:
    """Whether `expression` reaches `target` using the given numbers legally.

    >>> check_solution("(6 - 2) * 5", [2, 5, 6], 20)
    True
    >>> check_solution("5 * 5 - 5", [2, 5, 6], 20)
    False

    Args:
        expression: the model's expression.
        numbers: the numbers given (a multiset).
        target: the value to reach.
        use_all: require every number exactly once instead of at most once.
    """
    try:
        parsed = evaluate(expression)
    except ExpressionError:
        return False
    used, given = Counter(parsed.numbers), Counter(numbers)
    if use_all:
        if used != given:
            return False
    elif used - given:
        return False
    return parsed.value == target


def build_solution(numbers: Sequence[int], rng: random.Random) -> tuple[int, str]:
    """Combine all `numbers` at random into (value, expression).

    Subtraction keeps results non-negative and division must be exact, so every
    intermediate value is a non-negative integer.
    """
    pool: list[tuple[int, str, bool]] = [(n, str(n), True) for n in numbers]
    while len(pool) > 1:
        i, j = rng.sample(range(len(pool)), 2)
        (a, ea, atom_a), (b, eb, atom_b) = pool[i], pool[j]
        if a < b:
            (a, ea, atom_a), (b, eb, atom_b) = (b, eb, atom_b), (a, ea, atom_a)
        choices = ["+", "-", "*"] + (["/"] if b != 0 and a % b == 0 else [])
        op = rng.choice(choices)
        value = {"+": a + b, "-": a - b, "*": a * b}[op] if op != "/" else a // b
        left = ea if atom_a else f"({ea})"
        right = eb if atom_b else f"({eb})"
        for k in sorted((i, j), reverse=True):
            pool.pop(k)
        pool.append((value, f"{left} {op} {right}", False))
    value, expression, _ = pool[0]
    return value, expression


class CountdownTask(GeneratedTask):
    """Reach the target from the given numbers.

    Args:
        count: how many numbers, an int or an inclusive (min, max) range (2 to 6).
        max_number: the numbers are drawn from 1 to `max_number`.
        max_target: targets lie in 1 to `max_target` (and are never one of the numbers).
        use_all: require every number exactly once (default: at most once).
        split_fractions: train, dev and test shares of the problem space.
        tools: completions may run Python in the sandbox (`llm_bridge.tools`).
    """

    name: ClassVar[str] = "countdown"
    answer_format: ClassVar[str] = "an expression over the numbers in <answer>...</answer>"
    max_attempts_per_problem: ClassVar[int] = 2000

    def __init__(
        self,
        count: int | Sequence[int] = (3, 4),
        max_number: int = 25,
        max_target: int = 100,
        use_all: bool = False,
        split_fractions: Sequence[float] = DEFAULT_SPLIT_FRACTIONS,
        tools: bool = False,
    ) -> None:
        super().__init__(split_fractions)
        self.tools = tools
        pair = (count, count) if isinstance(count, int) else tuple(count)
        if len(pair) != 2 or not 2 <= pair[0] <= pair[1] <= 6:
            raise TaskError(f"count must be in 2..6 (an int or a (min, max) pair), got {count!r}")
        if max_number < 2 or max_target < 1:
            raise TaskError("max_number must be at least 2 and max_target at least 1")
        self.count = pair
        self.max_number = max_number
        self.max_target = max_target
        self.use_all = use_all

    def sample(self, rng: random.Random) -> Problem:
        for _ in range(10_000):
            numbers = [rng.randint(1, self.max_number) for _ in range(rng.randint(*self.count))]
            target, expression = build_solution(numbers, rng)
            if 1 <= target <= self.max_target and target not in numbers:
                break
        else:
            raise TaskError("no problem found within the target range; raise max_target")
        numbers.sort()
        listed = ", ".join(map(str, numbers))
        return Problem(
            id=f"{self.name}/{listed} -> {target}",
            task=self.name,
            prompt=f"Using the numbers {listed}, make {target}.",
            answer=str(target),
            reference=expression,
            metadata={"numbers": numbers, "target": target},
        )

    def format_prompt(self, problem: Problem) -> str:
        once = "exactly once" if self.use_all else "at most once"
        return (
            f"{problem.prompt} Use each number {once}, with + - * / and parentheses "
            "(division is exact, fractions are allowed along the way). End your reply "
            "with the expression alone in answer tags, for example "
            "<answer>(1 + 2) * 3</answer>." + (f" {TOOL_INSTRUCTIONS}" if self.tools else "")
        )

    def extract_answer(self, completion: str) -> str | None:
        return extract_tagged(completion)

    def lenient_reward(self, problem: Problem, completion: str) -> float | None:
        """None: the answer is an expression, and the last number of a text is the target
        the prompt itself states."""
        return None

    def grade(self, problem: Problem, answer: str) -> float:
        numbers, target = problem.metadata["numbers"], problem.metadata["target"]
        return 1.0 if check_solution(answer, numbers, target, use_all=self.use_all) else 0.0

    def worked_solution(self, problem: Problem) -> str:
        if problem.reference is None:
            raise TaskError(f"problem {problem.id!r} has no reference solution")
        return f"{problem.reference} = {problem.answer}\n{format_answer(problem.reference)}"

    def answer_only_solution(self, problem: Problem) -> str:
        if problem.reference is None:
            raise TaskError(f"problem {problem.id!r} has no reference solution")
        return format_answer(problem.reference)
