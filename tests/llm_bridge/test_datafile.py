"""Tasks from data files (JSON Lines and saved `datasets` directories) and numeric graders."""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

import pytest

from llm_bridge import tasks
from llm_bridge.cli import run_name, task_overrides
from llm_bridge.config import resolve_llm
from llm_bridge.policy import LLMPolicy
from llm_bridge.tasks import TaskError
from llm_bridge.tasks.arithmetic import evaluate_terms
from llm_bridge.tasks.datafile import SAMPLE_PATH
from llm_bridge.tiny import CharTokenizer, TinyConfig, build_tiny_model
from llm_bridge.verifiers.numeric import extract_lenient, grade_numeric, parse_loose


def _gsm8k_rows(n: int = 60) -> list[dict]:
    return [{"question": f"Tom has {i} apples and buys {i + 3}. How many now?",
             "answer": f"{i} + {i + 3} = {2 * i + 3}\n#### {2 * i + 3:,}",
             "solution": f"{i} + {i + 3} = {2 * i + 3}\n<answer>{2 * i + 3}</answer>"}
            for i in range(n)]


def _write(path: Path, rows: list[dict]) -> Path:
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    return path


def test_fields_splits_and_grading(tmp_path: Path) -> None:
    path = _write(tmp_path / "gsm.jsonl", _gsm8k_rows(600))
    task = tasks.make(f"jsonl:{path}", prompt_field="question", reference_field="solution")
    splits = {s: {p.id for p in task.generate(s)} for s in ("train", "dev", "test")}
    assert sum(len(ids) for ids in splits.values()) == 600
    assert not (splits["train"] & splits["dev"] or splits["train"] & splits["test"]
                or splits["dev"] & splits["test"])
    assert 0.7 < len(splits["train"]) / 600 < 0.9
    problem = task.generate("test", 1)[0]
    value = problem.answer.split("####")[-1].strip().replace(",", "")
    assert task.reward(problem, f"so <answer>{value}</answer>") == 1.0
    assert task.reward(problem, f"#### {value}") == 0.0  # strict: the tag only
    assert task.reward(problem, task.worked_solution(problem)) == 1.0
    lenient = tasks.make(f"jsonl:{path}", prompt_field="question", grader="numeric-lenient")
    assert lenient.reward(problem, f"It is {value} in total.") == 1.0
    assert lenient.lenient_reward(problem, f"#### {value}") == 1.0


def test_splits_depend_on_the_prompt_alone(tmp_path: Path) -> None:
    rows = _gsm8k_rows(200)
    a = tasks.make(f"jsonl:{_write(tmp_path / 'a.jsonl', rows)}", prompt_field="question")
    shuffled = rows[:]
    random.Random(1).shuffle(shuffled)
    shuffled.append(dict(shuffled[0], answer="#### 999"))  # a duplicate prompt: first row wins
    b = tasks.make(f"jsonl:{_write(tmp_path / 'b.jsonl', shuffled)}", prompt_field="question")
    for split in ("train", "dev", "test"):
        assert {p.prompt for p in a.generate(split)} == {p.prompt for p in b.generate(split)}
    assert len(b.generate("train")) + len(b.generate("dev")) + len(b.generate("test")) == 200


def test_a_split_with_fewer_problems_gives_them_all(tmp_path: Path) -> None:
    task = tasks.make(f"jsonl:{_write(tmp_path / 'x.jsonl', _gsm8k_rows(40))}",
                      prompt_field="question")
    everything = task.generate("train")
    assert task.generate("train", 5000, seed=3) != everything  # shuffled by the seed
    assert sorted(p.id for p in task.generate("train", 5000, seed=3)) == \
        sorted(p.id for p in everything)


def test_bad_files_and_options(tmp_path: Path) -> None:
    path = _write(tmp_path / "x.jsonl", _gsm8k_rows(10))
    with pytest.raises(TaskError, match="no field 'prompt'.*prompt_field"):
        tasks.make(f"jsonl:{path}")
    with pytest.raises(TaskError, match="not found"):
        tasks.make(f"jsonl:{tmp_path / 'missing.jsonl'}")
    with pytest.raises(TaskError, match="options"):
        tasks.make(f"jsonl:{path}", prompt_feld="question")
    with pytest.raises(TaskError, match="grader"):
        tasks.make(f"jsonl:{path}", prompt_field="question", grader="fuzzy")
    (tmp_path / "bad.jsonl").write_text('{"prompt": "a", "answer": "1"}\nnot json\n')
    with pytest.raises(TaskError, match="bad.jsonl:2"):
        tasks.make(f"jsonl:{tmp_path / 'bad.jsonl'}")


def test_a_saved_datasets_directory_reads_as_the_jsonl(tmp_path: Path) -> None:
    datasets = pytest.importorskip("datasets")
    rows = _gsm8k_rows(80)
    datasets.DatasetDict({"train": datasets.Dataset.from_list(rows[:50]),
                          "test": datasets.Dataset.from_list(rows[50:])}).save_to_disk(
        str(tmp_path / "hf"))
    from_hf = tasks.make(f"hf:{tmp_path / 'hf'}", prompt_field="question")
    from_jsonl = tasks.make(f"jsonl:{_write(tmp_path / 'x.jsonl', rows)}",
                            prompt_field="question")
    for split in ("train", "dev", "test"):
        assert ({(p.id, p.answer) for p in from_hf.generate(split)}
                == {(p.id, p.answer) for p in from_jsonl.generate(split)})


def test_reference_solutions_make_few_shot_prompts(tmp_path: Path) -> None:
    path = _write(tmp_path / "gsm.jsonl", _gsm8k_rows(100))
    task = tasks.make(f"jsonl:{path}", prompt_field="question", reference_field="solution")
    tok = CharTokenizer()
    policy = LLMPolicy(build_tiny_model(tok, TinyConfig(layers=1, d_model=32, heads=2, ffn=64)),
                       tok, prompt_style="task", shots=2)
    problem = task.generate("test", 1)[0]
    text = policy.prompt_text(task, problem)
    # two examples (their instructions and solutions), then the problem's instructions
    assert text.count("<answer>") == 2 * 2 + 1
    shown = [p for p in task.generate("train") if p.prompt in text]
    assert len(shown) == 2 and all(p.reference in text for p in shown)


def test_the_shipped_sample_is_right() -> None:
    task = tasks.make(f"jsonl:{SAMPLE_PATH}", reference_field="solution")
    problems = [p for split in ("train", "dev", "test") for p in task.generate(split)]
    assert 200 <= len(problems) <= 1000
    for p in problems:  # answers checked by an independent evaluation of the prompt
        expression = re.fullmatch(r"What is (.*)\?", p.prompt).group(1).split()
        value = evaluate_terms([int(x) for x in expression[::2]], expression[1::2])
        assert p.answer == str(value) and task.reward(p, p.reference) == 1.0


def test_command_line_spellings() -> None:
    assert task_overrides(["task.prompt_field=question"]) == ["task_options.prompt_field=question"]
    assert run_name("jsonl:some/dir/gsm8k.jsonl") == "jsonl-gsm8k"
    config = resolve_llm(None, [f'task="jsonl:{SAMPLE_PATH}"',
                                *task_overrides(["task.reference_field=solution"])])
    assert config.task_options == {"reference_field": "solution"}
    assert tasks.make(config.task, **config.task_options).name == "data"


@pytest.mark.parametrize("completion,answer,strict,lenient", [
    ("<answer>72</answer>", "72", 1.0, 1.0),
    ("<answer>072</answer>", "72", 0.0, 1.0),
    ("<answer>1,000</answer>", "1000", 0.0, 1.0),
    ("<answer>-0.5</answer>", "-1/2", 1.0, 1.0),
    ("Natalia sold 48 + 24 = 72 clips.\n#### 72", "72", 0.0, 1.0),
    ("#### 72\nwait, 73", "72", 0.0, 1.0),  # the marker outranks later numbers
    ("so $x = \\boxed{\\frac{3}{4}}$", "0.75", 0.0, 1.0),
    ("I think 5, or maybe 6", "5", 0.0, 0.0),  # the last number counts
    ("The answer is $18.", "18", 0.0, 1.0),
    ("<answer>72</answer><answer>72</answer>", "72", 0.0, 1.0),  # no tag: the last number
    ("no number here", "3", 0.0, 0.0),
    ("<answer>4</answer>", "Half of 8.\n#### 4", 1.0, 1.0),  # a GSM8K reference column
])
def test_numeric_grader_by_hand(completion: str, answer: str, strict: float,
                                lenient: float) -> None:
    assert grade_numeric(completion, answer) == strict
    assert grade_numeric(completion, answer, lenient=True) == lenient


def test_lenient_reading() -> None:
    assert extract_lenient("\\boxed{\\frac{1}{2}} and 7") == "\\frac{1}{2}"
    assert parse_loose("50%") == 50 and parse_loose("+3") == 3 and parse_loose("1/0") is None


def test_math_verify_grader(tmp_path: Path) -> None:
    pytest.importorskip("math_verify")
    rows = [{"prompt": f"Compute {i}/2.", "answer": f"\\frac{{{i}}}{{2}}"} for i in range(1, 40)]
    task = tasks.make(f"jsonl:{_write(tmp_path / 'm.jsonl', rows)}", grader="math-verify")
    problem = next(p for p in task.generate("train") if p.prompt == "Compute 3/2.")
    assert task.reward(problem, "so the result is $\\boxed{1.5}$") == 1.0
    assert task.reward(problem, "so the result is $\\boxed{2}$") == 0.0
