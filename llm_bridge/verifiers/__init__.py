"""Verifiers: strict, exact graders that read a model's final answer and never execute it.

* `answer`: the single final `<answer>...</answer>` tag and exact integer parsing.
* `expression`: whitelisted arithmetic read with `ast` and evaluated with `Fraction`s.
* `code`: the single final fenced code block (run only in `llm_bridge.sandbox`).
* `numeric`: numbers read strictly (the tag) or leniently (`#### N`, `\\boxed{}`, the last
  number), compared exactly.
"""

from __future__ import annotations

from llm_bridge.verifiers.answer import extract_tagged, format_answer, parse_integer
from llm_bridge.verifiers.code import extract_code_block
from llm_bridge.verifiers.expression import ExpressionError, Parsed, evaluate
from llm_bridge.verifiers.numeric import extract_lenient, grade_numeric, parse_loose, parse_strict

__all__ = [
    "ExpressionError",
    "Parsed",
    "evaluate",
    "extract_code_block",
    "extract_lenient",
    "extract_tagged",
    "format_answer",
    "grade_numeric",
    "parse_integer",
    "parse_loose",
    "parse_strict",
]
