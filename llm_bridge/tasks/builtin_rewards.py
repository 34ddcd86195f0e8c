"""Small built-in reward functions (TRL's contract), registered by name in the registry.

Format rewards pay for the answer's shape alone, whatever its correctness; weight them low
beside a task's correctness reward. `arithmetic_steps` is a process reward: the share of the
reference working an arithmetic completion writes (`llm_bridge.tasks.arithmetic`).

    >>> answer_format(["q", "q"], ["so <answer>7</answer>", "7"])
    [1.0, 0.0]
    >>> code_block_format(["q"], ["```python\\nx = 1\\n```"])
    [1.0]
"""

from __future__ import annotations

from llm_bridge.tasks.arithmetic import working_steps
from llm_bridge.verifiers.answer import extract_tagged
from llm_bridge.verifiers.code import extract_code_block


def answer_format(prompts: list[str], completions: list[str], **fields: list) -> list[float]:
    """1.0 where the completion ends with exactly one well-formed `<answer>` tag, else 0.0."""
    return [float(extract_tagged(c) is not None) for c in completions]


def code_block_format(prompts: list[str], completions: list[str], **fields: list) -> list[float]:
    """1.0 where the completion ends with exactly one fenced code block, else 0.0."""
    return [float(extract_code_block(c) is not None) for c in completions]


BUILTIN_REWARDS = {"answer_format": answer_format, "code_block_format": code_block_format,
                   "arithmetic_steps": working_steps}
