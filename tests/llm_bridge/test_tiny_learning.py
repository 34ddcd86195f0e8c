"""The tiny arithmetic preset learns: ten minutes of RL raise held-out pass@1 (slow).

Each run warm-starts the tiny model as the preset says (the warm start is built once and
shared by both runs), then trains for ten minutes and compares greedy pass@1 on the same
200 test problems before and after. The issue's target is +15 points; the assertion
leaves room for the noise of 200 problems (a 95% interval is about +-7 points).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from test_plugin import llm_run, prepare_run  # the loop test's helpers

from llm_bridge.config import resolve_llm

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cache")


@pytest.mark.parametrize("algo", ["grpo", "search"])
def test_ten_minutes_of_rl_raise_test_pass_at_1(algo: str, cache: Path, tmp_path: Path) -> None:
    config = resolve_llm("llm-arithmetic-tiny", [f'algo="{algo}"', f'cache_dir="{cache}"',
                                                 "minutes=10"])
    run = tmp_path / algo
    summary = llm_run(prepare_run(run, config, False), run).run()
    before, after = summary["test_before"]["pass@1"], summary["test_after"]["pass@1"]
    assert after - before >= 0.08, (before, after)
