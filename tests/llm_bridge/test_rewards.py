"""The reward contract: adapters, guards against crashing or hanging rewards, weighting
and per-function metrics."""

from __future__ import annotations

import logging
import math
import threading
import time

import pytest

from llm_bridge import tasks
from llm_bridge.tasks import (
    CombinedReward,
    GuardedReward,
    RewardError,
    as_reward_fn,
    combine_rewards,
    from_sample_fn,
    task_reward_fn,
)


def rows_for(task, problems):
    examples = [task.example(p) for p in problems]
    prompts = [e.pop("prompt") for e in examples]
    columns = {key: [e[key] for e in examples] for key in examples[0]}
    return prompts, columns


def test_task_reward_fn_grades_its_rows_and_skips_others() -> None:
    arithmetic, countdown = tasks.make("arithmetic"), tasks.make("countdown")
    a = arithmetic.generate("train", 2, seed=0)
    c = countdown.generate("train", 2, seed=0)
    prompts_a, cols_a = rows_for(arithmetic, a)
    prompts_c, cols_c = rows_for(countdown, c)
    prompts = prompts_a + prompts_c
    columns = {k: cols_a[k] + cols_c[k] for k in cols_a}
    completions = [arithmetic.worked_solution(a[0]), "<answer>0</answer>",
                   countdown.worked_solution(c[0]), "nothing"]
    assert task_reward_fn(arithmetic)(prompts, completions, **columns) == [1.0, 0.0, None, None]
    assert task_reward_fn(countdown)(prompts, completions, **columns) == [None, None, 1.0, 0.0]


def test_from_sample_fn_passes_each_row() -> None:
    def exact(prompt, completion, answer, **_):
        return float(completion == answer)

    fn = from_sample_fn(exact)
    assert fn(["p", "q"], ["1", "3"], answer=["1", "2"]) == [1.0, 0.0]
    with pytest.raises(RewardError, match="entries"):
        fn(["p", "q"], ["1", "3"], answer=["1"])


def test_as_reward_fn_checks_signatures() -> None:
    with pytest.raises(RewardError, match="kwargs"):
        as_reward_fn(lambda prompts, completions: [0.0])
    with pytest.raises(RewardError, match="keywords"):
        as_reward_fn(lambda prompt, completion, /, **kw: [0.0])
    trl_style = as_reward_fn(lambda completions, answer, **kw: [float(c == a) for c, a in
                                                              zip(completions, answer)])
    assert GuardedReward("trl", trl_style)(["p", "q"], ["1", "2"], answer=["1", "1"]) == [1.0, 0.0]
    with pytest.raises(RewardError):
        as_reward_fn(3)  # type: ignore[arg-type]
    assert as_reward_fn("answer_format")(["p"], ["<answer>1</answer>"]) == [1.0]
    assert as_reward_fn(tasks.make("arithmetic")).__name__ == "arithmetic"
    with pytest.raises(RewardError, match="unknown reward"):
        as_reward_fn("no_such_reward")


def test_a_crashing_reward_gives_on_error_and_logs(caplog: pytest.LogCaptureFixture) -> None:
    def crash(prompts, completions, **kw):
        raise ZeroDivisionError("bad grader")

    guard = GuardedReward("crash", crash, on_error=0.0)
    with caplog.at_level(logging.WARNING):
        assert guard(["p", "q"], ["a", "b"]) == [0.0, 0.0]
    assert guard.failures == 1
    assert "crash" in caplog.text and "ZeroDivisionError: bad grader" in caplog.text


def test_a_hanging_reward_is_stopped_at_its_deadline() -> None:
    release = threading.Event()

    def hang(prompts, completions, **kw):
        release.wait(30)
        return [1.0] * len(completions)

    guard = GuardedReward("hang", hang, timeout_s=0.2)
    started = time.monotonic()
    assert guard(["p"], ["a"]) == [None]
    assert time.monotonic() - started < 2 and guard.failures == 1 and guard.kills == 1
    release.set()


def test_a_guard_works_off_the_main_thread() -> None:
    guard = GuardedReward("hang", lambda prompts, completions, **kw: time.sleep(5), timeout_s=0.2)
    out: list = []
    worker = threading.Thread(target=lambda: out.append(guard(["p"], ["a"])))
    worker.start()
    worker.join(5)
    assert out == [[None]]


@pytest.mark.parametrize("returned", [[1.0], [1.0, 2.0, 3.0], "10", 1.0, [math.nan, 1.0],
                                      [math.inf, 1.0], ["1", 1.0], [True, 1.0], None])
def test_malformed_results_become_on_error(returned) -> None:
    guard = GuardedReward("bad", lambda prompts, completions, **kw: returned, on_error=0.0)
    assert guard(["p", "q"], ["a", "b"]) == [0.0, 0.0] and guard.failures == 1


def test_valid_results_pass_through_the_guard() -> None:
    guard = GuardedReward("ok", lambda prompts, completions, **kw: [1, None, 0.5])
    assert guard(["p"] * 3, ["a"] * 3) == [1.0, None, 0.5] and guard.failures == 0


def test_combined_reward_weights_skips_none_and_reports_each() -> None:
    def first(prompts, completions, **kw):
        return [1.0, 0.0, None, 1.0]

    def second(prompts, completions, **kw):
        return [0.5, 0.5, 0.5, None]

    combined = CombinedReward({"first": (first, 2.0), "second": (second, -1.0)})
    breakdown = combined(["p"] * 4, ["c"] * 4)
    assert breakdown.total == [1.5, -0.5, -0.5, 2.0]
    metrics = breakdown.metrics(num_generations=2)
    assert metrics["rewards/first/mean"] == pytest.approx(2 / 3)
    assert metrics["rewards/second/mean"] == 0.5 and metrics["rewards/second/std"] == 0.0
    assert metrics["reward"] == pytest.approx(0.625)
    assert metrics["frac_reward_zero_std"] == 0.0
    assert metrics["rewards/first/failed"] == 0.0
    with pytest.raises(RewardError, match="groups"):
        breakdown.metrics(num_generations=3)


def test_combined_reward_survives_a_failing_member() -> None:
    def crash(prompts, completions, **kw):
        raise RuntimeError("down")

    combined = combine_rewards({"answer_format": 1.0, "crash": 5.0},
                               functions={"crash": crash})
    breakdown = combined(["p", "p"], ["<answer>1</answer>", "x"])
    assert breakdown.total == [1.0, 0.0]
    assert breakdown.per_function["crash"] == [None, None]
    metrics = breakdown.metrics(num_generations=1)
    assert metrics["rewards/crash/failed"] == 1.0 and math.isnan(metrics["rewards/crash/mean"])
    assert metrics["frac_reward_zero_std"] == 1.0


def test_combine_rewards_from_config_with_a_task_and_a_format_reward() -> None:
    task = tasks.make("countdown")
    problems = task.generate("dev", 3, seed=0)
    prompts, columns = rows_for(task, problems)
    completions = [task.worked_solution(problems[0]), "<answer>1 + 1</answer>", "nope"]
    combined = combine_rewards({"countdown": 1.0, "answer_format": 0.1},
                               functions={"countdown": task})
    breakdown = combined(prompts, completions, **columns)
    assert breakdown.per_function["countdown"] == [1.0, 0.0, 0.0]
    assert breakdown.total == pytest.approx([1.1, 0.1, 0.0])
    assert set(breakdown.metrics()) >= {"rewards/countdown/mean", "rewards/answer_format/mean"}


@pytest.mark.parametrize("weights", [{}, {"answer_format": math.nan}, {"answer_format": "1"},
                                     {"nope": 1.0}])
def test_bad_configs_are_rejected(weights) -> None:
    with pytest.raises(RewardError):
        combine_rewards(weights)


def test_a_user_reward_can_be_registered_and_combined() -> None:
    @tasks.register_reward("brevity")
    def brevity(prompts, completions, **kwargs):
        return [1.0 if len(c) < 8 else 0.0 for c in completions]

    try:
        assert "brevity" in tasks.rewards_available()
        assert combine_rewards({"brevity": 1.0})(["p"], ["short"]).total == [1.0]
        with pytest.raises(RewardError, match="already registered"):
            tasks.register_reward("brevity", brevity)
        with pytest.raises(RewardError, match="kwargs"):
            tasks.register_reward("strict", lambda prompts, completions: [])
    finally:
        tasks.unregister("brevity")
    assert "brevity" not in tasks.rewards_available()
