"""The examples in the docstrings of the tasks, verifiers and sandbox run as written."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "llm_bridge.confidence",
    "llm_bridge.sandbox",
    "llm_bridge.tasks",
    "llm_bridge.tasks.arithmetic",
    "llm_bridge.tasks.base",
    "llm_bridge.tasks.builtin_rewards",
    "llm_bridge.tasks.countdown",
    "llm_bridge.tasks.custom",
    "llm_bridge.tasks.registry",
    "llm_bridge.tasks.rewards",
    "llm_bridge.verifiers.answer",
    "llm_bridge.verifiers.code",
    "llm_bridge.verifiers.expression",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    module = importlib.import_module(name)
    try:
        result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    finally:
        from llm_bridge import tasks

        tasks.unregister("short")  # the registry example registers one
    assert result.attempted > 0 and result.failed == 0
