"""pass@k against brute force, intervals, the paired gate, and `move37 llm` smoke runs."""

from __future__ import annotations

import itertools
import json
import math
from pathlib import Path

import pytest
from typer.testing import CliRunner

from engine.loop.gate import paired_decision as paired_gate
from llm_bridge.evaluate import pass_at_k, wilson_interval


@pytest.mark.parametrize("n, c, k", [(5, 2, 2), (6, 1, 3), (4, 0, 2), (4, 4, 1), (7, 3, 5)])
def test_pass_at_k_equals_brute_force(n: int, c: int, k: int) -> None:
    # the chance that a uniformly drawn k-subset of n samples (c correct) holds a correct one
    samples = [1] * c + [0] * (n - c)
    subsets = list(itertools.combinations(range(n), k))
    brute = sum(any(samples[i] for i in s) for s in subsets) / len(subsets)
    assert pass_at_k(n, c, k) == pytest.approx(brute)
    with pytest.raises(ValueError):
        pass_at_k(3, 4, 1)


def test_wilson_interval_contains_estimate_and_shrinks() -> None:
    low, high = wilson_interval(30, 100)
    assert low < 0.3 < high
    low2, high2 = wilson_interval(300, 1000)
    assert high2 - low2 < high - low
    assert wilson_interval(0, 10)[0] == 0.0 and wilson_interval(10, 10)[1] == 1.0


def test_paired_gate() -> None:
    same = paired_gate([1, 0, 1, 0] * 10, [1, 0, 1, 0] * 10)
    assert same.promote and same.wins == same.losses == 0 and same.elo == 0.0
    slightly_worse = paired_gate([1] * 18 + [0] * 22, [1] * 20 + [0] * 20)
    assert slightly_worse.losses == 2 and slightly_worse.promote  # within noise
    much_worse = paired_gate([0] * 30 + [1] * 10, [1] * 40)
    assert not much_worse.promote and much_worse.elo_high < 0
    assert math.isfinite(paired_gate([1, 0], [0, 1]).elo)
    with pytest.raises(ValueError):
        paired_gate([1], [1, 0])


SMALL = ["tiny.layers=1", "tiny.d_model=32", "tiny.heads=2", "tiny.ffn=64", "tiny.max_len=64",
         "warm_start.steps=3", "warm_start.batch_size=4", "warm_start.problems=8",
         "task_options.digits=1", "task_options.terms=2", 'task_options.ops="+"',
         "sampling.max_new_tokens=10"]


def _sets(extra: list[str]) -> list[str]:
    return [arg for item in extra for arg in ("--set", item)]


def test_cli_eval_tiny_and_a_run(tmp_path: Path) -> None:
    from engine.cli import app

    runner = CliRunner()
    cache = f'cache_dir="{tmp_path / "cache"}"'
    result = runner.invoke(app, ["llm", "eval", "--checkpoint", "tiny", "--task", "arithmetic",
                                 "--n", "6", "--samples", "4", "--json",
                                 *_sets([*SMALL, cache])])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output.strip().splitlines()[-1])
    assert report["n"] == 6 and set(report["pass@k"]) == {"1", "2", "4"}
    assert report["pass@k"]["1"] <= report["pass@k"]["2"] <= report["pass@k"]["4"]
    other = runner.invoke(app, ["llm", "eval", "--checkpoint", "tiny", "--n", "6", "--seed", "1",
                                "--json", *_sets([*SMALL, cache])])
    assert other.exit_code == 0, other.output
    run = tmp_path / "run"
    trained = runner.invoke(app, ["llm", "train", "--task", "arithmetic", "--model", "tiny",
                                  "--algo", "grpo", "--iterations", "1", "--out", str(run),
                                  "--quiet", *_sets([*SMALL, cache, "grpo.group_size=2",
                                                     "optim.prompts_per_iteration=2",
                                                     "train_problems=4",
                                                     "eval.dev_problems=4",
                                                     "eval.test_problems=4",
                                                     "eval.every_iterations=1"])])
    assert trained.exit_code == 0, trained.output
    assert "test pass@1" in trained.output and (run / "summary.json").is_file()
    # Plain lines (no colours or hyperlinks); the last says where things are and what next.
    assert "\x1b" not in trained.output
    last = trained.output.strip().splitlines()[-1]
    assert last.startswith("done in ") and f"summary {run / 'summary.json'}" in last
    assert last.endswith(f"next: move37 llm eval --checkpoint {run}")
    scored = runner.invoke(app, ["llm", "eval", "--checkpoint", str(run), "--n", "4", "--json"])
    assert scored.exit_code == 0, scored.output
    assert json.loads(scored.output.strip().splitlines()[-1])["n"] == 4
    again = runner.invoke(app, ["llm", "train", "--out", str(run), "--iterations", "1"])
    assert again.exit_code != 0  # the directory holds a run already


def test_cli_errors_are_one_line(tmp_path: Path) -> None:
    import subprocess
    import sys

    repo = Path(__file__).resolve().parents[2]
    proc = subprocess.run([sys.executable, "-c", "from engine.cli import main; main()", "llm", "eval", "--checkpoint",
                           str(tmp_path / "missing.json")], capture_output=True, text=True, check=False,
                          cwd=repo)
    assert proc.returncode == 2
    assert proc.stderr.strip().startswith("move37: error:") and "Traceback" not in proc.stderr
