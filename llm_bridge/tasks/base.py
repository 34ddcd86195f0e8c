"""The task vocabulary: `Problem`, the `Task` base class, and split assignment by hash.

A task owns its problems, its prompt format, its answer extraction and its grader; the RL
reward is simply the grader applied to the extracted answer (the shape of nanochat's
`tasks/gsm8k.py`). Later an LLM task is played as a one-player game whose terminal
outcome is the verifier's reward: `Task.outcome` gives that `Outcome`.

Splits are disjoint by construction: a problem's split is a pure function of its key (a
hash of its canonical text, `split_of`), so one problem can never be drawn into two
splits, whatever the seeds.
"""

from __future__ import annotations

import abc
import hashlib
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

from games.base import Outcome, Termination

Split = Literal["train", "dev", "test"]
SPLITS: tuple[Split, ...] = ("train", "dev", "test")
DEFAULT_SPLIT_FRACTIONS = (0.8, 0.1, 0.1)


class TaskError(ValueError):
    """Bad input given to a task (an unknown split, an impossible request)."""


@dataclass(frozen=True)
class Problem:
    """One problem of a task.

    Attributes:
        id: stable identifier, unique within the task (e.g. `"arithmetic/12 + 7"`).
        task: the registry name of the task that made it.
        prompt: the problem statement as the task poses it (before `format_prompt` adds
            the answer-format instructions).
        answer: the content of a correct answer tag (`"19"`), or None where correctness is
            checked otherwise (code run against tests).
        reference: a reference solution (a countdown expression, a canonical program), or
            None.
        metadata: JSON-serialisable details the grader needs (test code, numbers, target).
    """

    id: str
    task: str
    prompt: str
    answer: str | None = None
    reference: str | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict, hash=False)

    def to_fields(self) -> dict[str, Any]:
        """The problem as dataset columns (the `**example_fields` a reward function gets)."""
        return {
            "task": self.task,
            "problem_id": self.id,
            "question": self.prompt,
            "answer": self.answer,
            "reference": self.reference,
            "metadata": dict(self.metadata),
        }

    @classmethod
    def from_fields(cls, fields: Mapping[str, Any]) -> Problem:
        """Rebuild a problem from the columns `to_fields` wrote.

        Raises:
            TaskError: a required column is missing.
        """
        missing = [k for k in ("task", "problem_id", "question") if k not in fields]
        if missing:
            raise TaskError(f"example lacks the problem columns {missing}")
        return cls(
            id=str(fields["problem_id"]),
            task=str(fields["task"]),
            prompt=str(fields["question"]),
            answer=fields.get("answer"),
            reference=fields.get("reference"),
            metadata=dict(fields.get("metadata") or {}),
        )


def split_of(key: str, fractions: Sequence[float] = DEFAULT_SPLIT_FRACTIONS) -> Split:
    """The split a problem with canonical `key` belongs to, by a SHA-256 hash of the key.

    >>> split_of("arithmetic/2 + 2") in SPLITS
    True

    Args:
        key: the problem's canonical text (its id).
        fractions: the train, dev and test shares; they must sum to 1.
    """
    train, dev, _ = check_fractions(fractions)
    digest = hashlib.sha256(key.encode("utf-8")).digest()
    position = int.from_bytes(digest[:8], "big") / 2**64
    if position < train:
        return "train"
    return "dev" if position < train + dev else "test"


def check_fractions(fractions: Sequence[float]) -> tuple[float, float, float]:
    """Validate train/dev/test shares: three non-negative numbers summing to 1."""
    values = tuple(float(f) for f in fractions)
    if len(values) != 3 or min(values) < 0 or abs(sum(values) - 1.0) > 1e-9:
        raise TaskError(f"split fractions must be three non-negative shares summing to 1, "
                        f"got {tuple(fractions)}")
    return values  # type: ignore[return-value]


def check_split(split: str) -> Split:
    """`split` itself, or TaskError naming the valid ones."""
    if split not in SPLITS:
        raise TaskError(f"unknown split {split!r}; expected one of {SPLITS}")
    return split  # type: ignore[return-value]


def check_count(n: object) -> int:
    """`n` as a positive int, or TaskError."""
    if isinstance(n, bool) or not isinstance(n, int) or n <= 0:
        raise TaskError(f"n must be a positive int, got {n!r}")
    return n


def seeded_rng(task: str, split: Split, seed: int) -> random.Random:
    """An RNG of its own for each (task, split, seed): string seeds hash deterministically."""
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise TaskError(f"seed must be an int, got {seed!r}")
    return random.Random(f"{task}:{split}:{seed}")


class Task(abc.ABC):
    """A verifiable-reward task: problems, prompt format, answer extraction and grader.

    Subclasses set `name` and implement `generate`, `format_prompt`, `extract_answer` and
    `grade`; `reward` ties extraction to the grader, so the RL reward is the grader.
    """

    name: ClassVar[str]
    answer_format: ClassVar[str] = ""
    """One line saying what a correct completion ends with (for docs and prompts)."""
    tools: bool = False
    """Completions may call Python (`llm_bridge.tools`); a task that offers it sets this
    from its `tools` option and says so in its prompt."""

    @abc.abstractmethod
    def generate(self, split: Split, n: int, seed: int = 0) -> list[Problem]:
        """`n` distinct problems of `split`, the same ones for the same seed.

        Raises:
            TaskError: unknown split, bad `n`, or fewer than `n` problems in the split.
        """

    @abc.abstractmethod
    def format_prompt(self, problem: Problem) -> str:
        """The text the model sees: the problem plus the expected answer format."""

    @abc.abstractmethod
    def extract_answer(self, completion: str) -> str | None:
        """The completion's final answer, or None if it does not give exactly one."""

    @abc.abstractmethod
    def grade(self, problem: Problem, answer: str) -> float:
        """The reward in [0, 1] for an extracted `answer` to `problem`."""

    def reward(self, problem: Problem, completion: str) -> float:
        """The reward for a whole completion: 0 without a valid answer, else the grade."""
        answer = self.extract_answer(completion)
        return 0.0 if answer is None else float(self.grade(problem, answer))

    def rewards(self, problems: Sequence[Problem], completions: Sequence[str]) -> list[float]:
        """`reward` over a batch (a task may override this to grade in parallel)."""
        if len(problems) != len(completions):
            raise TaskError(f"{len(problems)} problems for {len(completions)} completions")
        return [self.reward(p, c) for p, c in zip(problems, completions)]

    def worked_solution(self, problem: Problem) -> str:
        """A short correct completion in the expected format (for a supervised warm start).

        Raises:
            NotImplementedError: the task has no worked solutions.
        """
        raise NotImplementedError(f"task {self.name!r} has no worked solutions")

    def answer_only_solution(self, problem: Problem) -> str:
        """A correct completion that states the final answer with no working.

        A warm start may mix these with worked solutions (`answer_only_share`), leaving a
        model that sometimes skips the working; reinforcement learning then has to find
        out that writing it pays.

        Raises:
            NotImplementedError: the task has no answer-only solutions.
        """
        raise NotImplementedError(f"task {self.name!r} has no answer-only solutions")

    def fingerprint(self) -> str:
        """What identifies the task's problems beyond its name and options ("" when they
        do): a data file's content hash, so a model warm-started on one file is not taken
        for another's."""
        return ""

    def lenient_reward(self, problem: Problem, completion: str) -> float | None:
        """The reward under a lenient reading of a numeric answer (the tag, `#### N`,
        `\\boxed{N}` or the last number: `llm_bridge.verifiers.numeric`), or None where the
        task's answers are not numbers. Set beside the strict reward, it shows how much of
        a score is the answer format."""
        from llm_bridge.verifiers.numeric import grade_numeric, reference_value

        if reference_value(problem.answer) is None:
            return None
        return grade_numeric(completion, problem.answer, lenient=True)

    def outcome(self, problem: Problem, completion: str) -> Outcome:
        """The terminal outcome of the one-player game this task is played as."""
        return Outcome(Termination.VERIFIED, reward=self.reward(problem, completion))

    def example(self, problem: Problem) -> dict[str, Any]:
        """A dataset row: the formatted `prompt` plus the problem's columns."""
        return {"prompt": self.format_prompt(problem), **problem.to_fields()}

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r})"


class GeneratedTask(Task):
    """A task whose problems are sampled; `generate` keeps those whose key hashes to `split`.

    Subclasses implement `sample(rng)`, returning a problem whose `id` is its canonical key.
    """

    max_attempts_per_problem: ClassVar[int] = 200

    def __init__(self, split_fractions: Sequence[float] = DEFAULT_SPLIT_FRACTIONS) -> None:
        self.split_fractions = check_fractions(split_fractions)

    @abc.abstractmethod
    def sample(self, rng: random.Random) -> Problem:
        """One random problem (of any split)."""

    def generate(self, split: Split, n: int, seed: int = 0) -> list[Problem]:
        split = check_split(split)
        n = check_count(n)
        rng = seeded_rng(self.name, split, seed)
        found: dict[str, Problem] = {}
        budget = self.max_attempts_per_problem * n + 1000
        while len(found) < n and budget > 0:
            budget -= 1
            problem = self.sample(rng)
            if problem.id not in found and split_of(problem.id, self.split_fractions) == split:
                found[problem.id] = problem
        if len(found) < n:
            raise TaskError(f"{self.name}: found only {len(found)} distinct {split} problems "
                            f"of {n} asked; widen the task's settings or ask for fewer")
        return list(found.values())


class ListedTask(Task):
    """A task over a fixed list of problems, each in the split its id hashes to (`split_of`);
    `generate` shuffles a split by `seed`.

    Args:
        problems: the problems; ids must be unique. Their order does not matter to the
            splits, but seeds shuffle it, so pass them in a stable order.
        split_fractions: train, dev and test shares.
    """

    def __init__(self, problems: Sequence[Problem],
                 split_fractions: Sequence[float] = DEFAULT_SPLIT_FRACTIONS) -> None:
        self.split_fractions = check_fractions(split_fractions)
        self.splits: dict[str, list[Problem]] = {"train": [], "dev": [], "test": []}
        seen: set[str] = set()
        for problem in problems:
            if problem.id in seen:
                raise TaskError(f"duplicate problem id {problem.id!r}")
            seen.add(problem.id)
            self.splits[split_of(problem.id, self.split_fractions)].append(problem)

    def generate(self, split: Split, n: int | None = None, seed: int = 0) -> list[Problem]:
        """`n` problems of `split` shuffled by `seed` (all of them if n is None)."""
        problems = list(self.splits[check_split(split)])
        seeded_rng(self.name, split, seed).shuffle(problems)
        if n is None:
            return problems
        if check_count(n) > len(problems):
            raise TaskError(f"{self.name}: the {split} split has {len(problems)} problems, "
                            f"{n} asked")
        return problems[:n]
