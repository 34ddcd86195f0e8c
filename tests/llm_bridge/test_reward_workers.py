"""Rewards run on worker processes that are killed at their deadline."""

from __future__ import annotations

import os
import threading
import time

import pytest

from llm_bridge.algorithms.base import reward_metrics
from llm_bridge.tasks import CombinedReward, GuardedReward
from llm_bridge.tasks.workers import RewardPool


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def forever(prompts, completions, **kw):
    while True:
        time.sleep(3600)


def spin(prompts, completions, **kw):
    while True:
        pass


def ones(prompts, completions, **kw):
    return [1.0] * len(completions)


@pytest.mark.parametrize("hang", [forever, spin])
def test_a_hung_reward_is_killed_and_the_pool_keeps_serving(hang) -> None:
    pool = RewardPool({"hang": hang, "ones": ones}, size=1)
    started = time.monotonic()
    assert pool.run([("hang", {"prompts": ["p"], "completions": ["c"]})], 0.5) == \
        [("timeout", 0.5)]
    assert time.monotonic() - started < 3
    assert pool.kills == 1 and pool.pids == []  # the killed worker is not kept
    assert pool.run([("ones", {"prompts": ["p"], "completions": ["c", "d"]})], 5) == \
        [("ok", [1.0, 1.0])]
    pool.close()


def test_the_killed_process_no_longer_runs() -> None:
    pool = RewardPool({"spin": spin, "pid": lambda **kw: os.getpid()}, size=1)
    (_, pid), = pool.run([("pid", {})], 5)
    pool.run([("spin", {"prompts": [], "completions": []})], 0.3)  # the same worker
    assert _gone(pid)
    pool.close()


def test_calls_run_side_by_side_and_on_a_main_thread() -> None:
    def main(**kw):
        time.sleep(0.5)
        return threading.current_thread() is threading.main_thread()

    pool = RewardPool({"main": main}, size=2)
    started = time.monotonic()
    assert pool.run([("main", {}), ("main", {})], 5) == [("ok", True), ("ok", True)]
    assert time.monotonic() - started < 0.95  # two half-second calls at once
    assert pool.run([("missing", {})], 5)[0][0] == "error"
    pool.close()


def test_combined_rewards_count_kills_per_function() -> None:
    combined = CombinedReward({"hang": (forever, 1.0), "ones": (ones, 0.5)}, timeout_s=0.5)
    started = time.monotonic()
    breakdown = combined(["p", "q"], ["a", "b"])
    assert time.monotonic() - started < 3
    assert breakdown.total == [0.5, 0.5] and breakdown.failures == {"hang": 1, "ones": 0}
    metrics = reward_metrics(breakdown, [1, 1], 2)
    assert metrics["llm/rewards/hang/failed"] == 1.0 and metrics["llm/rewards/ones/failed"] == 0
    again = combined(["p"], ["a"])  # the next batch is served (and the hung one killed again)
    assert again.total == [0.5] and combined.guards["hang"].kills == 2
    combined.pool.close()


def test_a_guard_inside_a_worker_runs_inline() -> None:
    inner = GuardedReward("inner", lambda prompts, completions, **kw:
                          [float(os.getpid())] * len(completions))
    outer = CombinedReward({"outer": (lambda prompts, completions, **kw:
                                      inner(prompts, completions)[:1] + [float(os.getpid())],
                                      1.0)})
    breakdown = outer(["p", "q"], ["a", "b"])
    first, second = breakdown.per_function["outer"]
    assert first == second and first is not None
    assert first != os.getpid()  # the same worker process, not a nested one
    outer.pool.close()
