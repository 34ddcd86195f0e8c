"""A task read from the user's own data: a JSON Lines file or a saved `datasets` directory.

`--task jsonl:PATH` reads one JSON object per line; `--task hf:DIR` reads a directory written
by `datasets`' `save_to_disk` (a `Dataset`, or a `DatasetDict` whose splits are pooled).
Nothing is downloaded. Options (`--set task_options.KEY=VALUE`, or `task.KEY=VALUE` on the
command line):

* `prompt_field`, `answer_field`: the columns holding the problem and its reference answer
  (a number, or a worked solution ending with GSM8K's `#### N`);
* `reference_field`: a column holding a correct completion in the expected format, used for
  few-shot prompts (`prompt_shots`) and the tiny model's warm start ("" = none);
* `grader`: `numeric` (strict: the final `<answer>` tag), `numeric-lenient` (tag, `####`,
  `\\boxed{}` or the last number), `math-verify` (the `math-verify` package) or `exact`
  (the tag's content equals the answer text);
* `instructions`: appended to each prompt (says how to write the answer);
* `split_fractions`: train, dev and test shares;
* `tools`: completions may run Python in the sandbox (`llm_bridge.tools`).

Splits are by a SHA-256 hash of the prompt text (`split_of`), so a prompt is in one split
only, whatever the file's order; duplicate prompts keep their first row. A data file is
finite: asking a split for more problems than it holds gives all of them, shuffled by the
seed, rather than an error, so the run's train pool and the tiny warm start work with files
of any size.

`llm_bridge/tasks/data/arithmetic-sample.jsonl` is an example made by our own generator
(`python -m llm_bridge.tasks.data.make_sample`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

from llm_bridge.tasks.base import (
    DEFAULT_SPLIT_FRACTIONS,
    ListedTask,
    Problem,
    Split,
    TaskError,
    check_count,
    check_split,
    seeded_rng,
)
from llm_bridge.tools import TOOL_INSTRUCTIONS
from llm_bridge.verifiers.answer import extract_tagged, format_answer
from llm_bridge.verifiers.numeric import (
    extract_lenient,
    number_matches,
    parse_loose,
    parse_strict,
)

GRADERS = ("numeric", "numeric-lenient", "math-verify", "exact")
SOURCES = ("jsonl", "hf")
DEFAULT_INSTRUCTIONS = ("Work it out, then end your reply with the final answer in answer "
                        "tags, for example <answer>42</answer>.")
SAMPLE_PATH = Path(__file__).parent / "data" / "arithmetic-sample.jsonl"


def read_rows(source: str, path: str | Path) -> list[dict[str, Any]]:
    """The rows of a JSON Lines file (`jsonl`) or a saved `datasets` directory (`hf`).

    Raises:
        TaskError: a missing or malformed file, naming the line.
    """
    path = Path(path)
    if source == "jsonl":
        if not path.is_file():
            raise TaskError(f"data file {path} not found")
        rows = []
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as error:
                raise TaskError(f"{path}:{number}: not JSON ({error.msg})") from None
            if not isinstance(row, dict):
                raise TaskError(f"{path}:{number}: a line must be a JSON object")
            rows.append(row)
        return rows
    if source == "hf":
        if not path.is_dir():
            raise TaskError(f"datasets directory {path} not found")
        try:
            from datasets import Dataset, DatasetDict, load_from_disk
        except ImportError:
            raise TaskError("--task hf:DIR needs the datasets package: pip install datasets") \
                from None
        try:
            data = load_from_disk(str(path))
        except (FileNotFoundError, ValueError) as error:
            raise TaskError(f"{path} is not a saved datasets directory: "
                            f"{str(error).splitlines()[0]}") from None
        parts = list(data.values()) if isinstance(data, DatasetDict) else [data]
        return [dict(row) for part in parts if isinstance(part, Dataset) for row in part]
    raise TaskError(f"unknown data source {source!r}; expected one of {SOURCES}")


def file_digest(source: str, path: str | Path) -> str:
    """A short hash of the data's bytes (names the tiny model warm-started on it)."""
    path = Path(path)
    files = [path] if source == "jsonl" else sorted(p for p in path.rglob("*") if p.is_file())
    digest = hashlib.sha256()
    for file in files:
        digest.update(file.name.encode())
        digest.update(file.read_bytes())
    return digest.hexdigest()[:16]


class DataFileTask(ListedTask):
    """Problems from a data file (see the module docstring for the options)."""

    name: ClassVar[str] = "data"
    answer_format: ClassVar[str] = "the final answer in <answer>...</answer> at the very end"

    def __init__(self, source: str, path: str | Path, *, prompt_field: str = "prompt",
                 answer_field: str = "answer", reference_field: str = "",
                 grader: str = "numeric", instructions: str = DEFAULT_INSTRUCTIONS,
                 split_fractions: Sequence[float] = DEFAULT_SPLIT_FRACTIONS,
                 tools: bool = False) -> None:
        if grader not in GRADERS:
            raise TaskError(f"grader must be one of {', '.join(GRADERS)}, got {grader!r}")
        if grader == "math-verify":
            _math_verify()  # fail now, not at the first reward
        self.source, self.path, self.grader = source, Path(path), grader
        self.instructions = instructions
        self.tools = tools
        rows = read_rows(source, path)
        if not rows:
            raise TaskError(f"{path} holds no rows")
        problems: dict[str, Problem] = {}
        for number, row in enumerate(rows, 1):
            for needed in (prompt_field, answer_field) + ((reference_field,) if
                                                          reference_field else ()):
                if needed not in row:
                    option = _option_of(needed, prompt_field, answer_field)
                    raise TaskError(f"{path}: row {number} has no field {needed!r} (fields: "
                                    f"{', '.join(sorted(row))}); name the field with "
                                    f"task_options.{option}")
            prompt = str(row[prompt_field]).strip()
            key = f"data/{hashlib.sha256(prompt.encode('utf-8')).hexdigest()[:20]}"
            if key not in problems:
                reference = row.get(reference_field) if reference_field else None
                problems[key] = Problem(id=key, task=self.name, prompt=prompt,
                                        answer=str(row[answer_field]),
                                        reference=None if reference is None else str(reference),
                                        metadata={"row": number})
        self.digest = file_digest(source, path)
        super().__init__(list(problems.values()), split_fractions)

    def fingerprint(self) -> str:
        return self.digest

    def generate(self, split: Split, n: int | None = None, seed: int = 0) -> list[Problem]:
        """Up to `n` problems of `split` shuffled by `seed` (all of them when it holds fewer).

        Raises:
            TaskError: an unknown split, a bad `n`, or an empty split.
        """
        problems = list(self.splits[check_split(split)])
        if not problems:
            raise TaskError(f"the {split} split of {self.path} is empty; use a larger file "
                            "or other split_fractions")
        seeded_rng(f"{self.name}:{self.digest}", split, seed).shuffle(problems)
        return problems if n is None else problems[:check_count(n)]

    def format_prompt(self, problem: Problem) -> str:
        tools = f" {TOOL_INSTRUCTIONS}" if self.tools else ""
        return f"{problem.prompt} {self.instructions}{tools}".strip()

    def extract_answer(self, completion: str) -> str | None:
        if self.grader == "numeric-lenient":
            return extract_lenient(completion)
        if self.grader == "math-verify":
            return completion if isinstance(completion, str) and completion.strip() else None
        return extract_tagged(completion)

    def grade(self, problem: Problem, answer: str) -> float:
        if self.grader == "exact":
            return 1.0 if answer == (problem.answer or "").strip() else 0.0
        if self.grader == "math-verify":
            return grade_math_verify(answer, problem.answer)
        parse = parse_loose if self.grader == "numeric-lenient" else parse_strict
        return number_matches(parse(answer), problem.answer)

    def worked_solution(self, problem: Problem) -> str:
        """The row's reference solution, if the task names a reference field."""
        if problem.reference is None:
            raise NotImplementedError(f"{self.path} has no reference solutions: set "
                                      "task_options.reference_field")
        return problem.reference

    def answer_only_solution(self, problem: Problem) -> str:
        return format_answer((problem.answer or "").split("####")[-1].strip())


def _option_of(field: str, prompt_field: str, answer_field: str) -> str:
    return {prompt_field: "prompt_field", answer_field: "answer_field"}.get(field,
                                                                             "reference_field")


def _math_verify() -> Any:
    try:
        import math_verify
    except ImportError:
        raise TaskError("grader math-verify needs the math-verify package: "
                        "pip install math-verify") from None
    return math_verify


def grade_math_verify(completion: str, answer: str | None) -> float:
    """1.0 when `math-verify` finds the completion's answer equal to the reference.

    Its parser enforces its own deadline with an alarm signal, which works only on a
    process's main thread: rewards run on worker processes' main threads for that reason.
    """
    if answer is None:
        return 0.0
    mv = _math_verify()
    reference = answer.split("####")[-1].strip()
    gold = mv.parse(reference) or mv.parse(f"${reference}$")
    return 1.0 if gold and mv.verify(gold, mv.parse(completion)) else 0.0


def make_data_task(spec: str, **options: Any) -> DataFileTask | None:
    """The task a `jsonl:PATH` or `hf:DIR` spec names, or None for another name."""
    source, sep, path = spec.partition(":")
    if not sep or source.strip().lower() not in SOURCES:
        return None
    if not path:
        raise TaskError(f"task {spec!r} names no path (write {source}:PATH)")
    try:
        return DataFileTask(source.strip().lower(), path, **options)
    except TypeError as error:  # an unknown option
        raise TaskError(f"task {spec!r}: {error}; options: prompt_field, answer_field, "
                        "reference_field, grader, instructions, split_fractions, tools") from None
