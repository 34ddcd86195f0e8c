"""Control rewards by hand, strict beside lenient accuracy, and a control run end to end."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from engine.config import ConfigError
from llm_bridge import tasks
from llm_bridge.config import resolve_llm
from llm_bridge.evaluate import score_texts
from llm_bridge.tasks import CombinedReward
from llm_bridge.tasks.controls import ControlReward, bernoulli_like
from llm_bridge.tasks.datafile import SAMPLE_PATH

TASK = tasks.make("arithmetic", digits=1, terms=2, ops="+")


def _verifier() -> CombinedReward:
    return CombinedReward({"arithmetic": (TASK, 1.0)})


def _columns(problems) -> dict:
    fields = [p.to_fields() for p in problems]
    return {k: [f[k] for f in fields] for k in fields[0]}


def test_format_control_pays_for_a_readable_answer_only() -> None:
    problem = TASK.generate("train", 1)[0]
    right = f"<answer>{problem.answer}</answer>"
    wrong = f"<answer>{int(problem.answer) + 1}</answer>"
    texts = [right, wrong, problem.answer, f"{right} {right}"]
    control = ControlReward(_verifier(), TASK, "format")
    breakdown = control(["q"] * 4, texts, **_columns([problem] * 4))
    assert breakdown.total == [1.0, 1.0, 0.0, 0.0]
    assert breakdown.per_function["arithmetic"] == [1.0, 0.0, 0.0, 0.0]  # kept for the logs
    assert breakdown.metrics()["rewards/control/mean"] == 0.5


def test_random_control_keeps_the_rate_not_the_information() -> None:
    assert bernoulli_like([0.0] * 50, 3, ["a"] * 50) == [0.0] * 50
    assert bernoulli_like([1.0] * 50, 3, ["a"] * 50) == [1.0] * 50
    problems = TASK.generate("train", 40, seed=0)
    texts = [f"<answer>{p.answer}</answer>" if i % 4 == 0 else "<answer>0</answer>"
             for i, p in enumerate(problems)]
    control = ControlReward(_verifier(), TASK, "random", seed=5)
    first = control(["q"] * 40, texts, **_columns(problems))
    again = control(["q"] * 40, texts, **_columns(problems))
    assert first.total == again.total  # seeded by the run's seed and the texts
    other = ControlReward(_verifier(), TASK, "random", seed=6)(["q"] * 40, texts,
                                                               **_columns(problems))
    assert other.total != first.total
    verified = first.per_function["arithmetic"]
    assert sum(verified) == 10 and 3 <= sum(first.total) <= 20  # drawn at the rate 0.25
    assert first.total != verified


def test_control_setting_is_checked() -> None:
    assert resolve_llm(None, ['control="random"']).control == "random"
    with pytest.raises(ConfigError, match="control"):
        resolve_llm(None, ['control="shuffle"'])


def test_strict_and_lenient_side_by_side() -> None:
    problems = TASK.generate("test", 4, seed=0)
    texts = [f"<answer>{problems[0].answer}</answer>", f"#### {problems[1].answer}",
             f"so it is {problems[2].answer}.", "<answer>-1</answer>"]
    report = score_texts(TASK, problems, texts)
    assert (report["pass@1"], report["lenient_pass@1"]) == (0.25, 0.75)
    countdown = tasks.make("countdown")
    assert "lenient_pass@1" not in score_texts(countdown, countdown.generate("test", 1), ["x"])


def test_a_control_run_on_a_data_file_and_its_eval(tmp_path: Path) -> None:
    from engine.cli import app

    small = ["tiny.layers=1", "tiny.d_model=32", "tiny.heads=2", "tiny.ffn=64",
             "tiny.max_len=64", "warm_start.steps=3", "warm_start.batch_size=4",
             "warm_start.problems=8", "sampling.max_new_tokens=10", "grpo.group_size=2",
             "optim.prompts_per_iteration=2", "train_problems=4", "eval.dev_problems=4",
             "eval.test_problems=4", "eval.every_iterations=1", "task.reference_field=solution",
             f'cache_dir="{tmp_path / "cache"}"', "grpo.dynamic_sampling=true",
             'grpo.advantage="rloo"']
    sets = [arg for item in small for arg in ("--set", item)]
    run = tmp_path / "run"
    runner = CliRunner()
    trained = runner.invoke(app, ["llm", "train", "--task", f"jsonl:{SAMPLE_PATH}",
                                  "--model", "tiny", "--iterations", "1", "--out", str(run),
                                  "--control", "format", "--quiet", *sets])
    assert trained.exit_code == 0, trained.output
    config = json.loads((run / "config.json").read_text())
    assert config["control"] == "format" and config["task_options"] == {
        "reference_field": "solution"}
    summary = json.loads((run / "summary.json").read_text())
    assert "lenient_pass@1" in summary["test_before"]
    scored = runner.invoke(app, ["llm", "eval", "--checkpoint", str(run), "--n", "4"])
    assert scored.exit_code == 0, scored.output
    assert "strict" in scored.output and "lenient" in scored.output
    # how a trained policy answers can be changed at evaluation; what it is cannot
    searched = runner.invoke(app, ["llm", "eval", "--checkpoint", str(run), "--n", "2",
                                   "--simulations", "3", "--set", "search.eval_step=whole",
                                   "--json"])
    assert searched.exit_code == 0, searched.output
    report = json.loads(searched.output.strip().splitlines()[-1])
    assert report["eval_step"] == "whole" and report["candidates"] == 3
    refused = runner.invoke(app, ["llm", "eval", "--checkpoint", str(run), "--n", "2",
                                  "--set", "tiny.layers=2"])
    assert refused.exit_code != 0 and "search.* and sampling.*" in str(refused.exception)
