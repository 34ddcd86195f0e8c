"""Exact arithmetic over a whitelisted expression syntax, read with `ast`, never `eval`.

Accepted: non-negative integer literals in ASCII digits, `+ - * /`, parentheses, spaces,
and (only when asked) unary minus. Division is exact: values are `Fraction`s, so
`(7 - 1) / 4` is 3/2 and intermediate fractions are allowed; dividing by zero is an error.
Anything else (names, calls, `**`, `//`, floats, `1e3`, `1_000`, attribute access) is
refused before or during the walk.

    >>> evaluate("(25 - 5) * 4 / 8")
    Parsed(value=Fraction(10, 1), numbers=(25, 5, 4, 8))
    >>> evaluate("__import__('os')")
    Traceback (most recent call last):
    ...
    llm_bridge.verifiers.expression.ExpressionError: character not allowed: '_'
"""

from __future__ import annotations

import ast
import operator
import re
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction

MAX_EXPRESSION_CHARS = 200
_ALLOWED = re.compile(r"[0-9+\-*/() \t]*", re.ASCII)
_BINARY: dict[type, Callable[[Fraction, Fraction], Fraction]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
}


class ExpressionError(ValueError):
    """The text is not an accepted arithmetic expression, or cannot be evaluated."""


@dataclass(frozen=True)
class Parsed:
    """An evaluated expression.

    Attributes:
        value: the exact value.
        numbers: the integer literals, left to right, each as written.
    """

    value: Fraction
    numbers: tuple[int, ...]


def evaluate(text: str, *, allow_unary_minus: bool = False,
             max_chars: int = MAX_EXPRESSION_CHARS) -> Parsed:
    """Parse and evaluate `text` exactly.

    Args:
        text: the expression.
        allow_unary_minus: accept `-x` as well as `a - b`.
        max_chars: longest text accepted.

    Returns:
        The value and the literals used.

    Raises:
        ExpressionError: the text is outside the whitelist, malformed, or divides by zero.
    """
    if not isinstance(text, str):
        raise ExpressionError("expression must be a string")
    if len(text) > max_chars:
        raise ExpressionError(f"expression longer than {max_chars} characters")
    if not _ALLOWED.fullmatch(text):
        bad = next(c for c in text if not _ALLOWED.fullmatch(c))
        raise ExpressionError(f"character not allowed: {bad!r}")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        raise ExpressionError(f"not an expression: {exc}") from None
    numbers: list[int] = []
    try:
        value = _walk(tree.body, numbers, allow_unary_minus)
    except RecursionError:
        raise ExpressionError("expression nested too deeply") from None
    return Parsed(value=value, numbers=tuple(numbers))


def _walk(node: ast.AST, numbers: list[int], allow_unary_minus: bool) -> Fraction:
    """Evaluate one whitelisted node, appending literals to `numbers` in reading order."""
    if isinstance(node, ast.Constant) and type(node.value) is int:
        numbers.append(node.value)
        return Fraction(node.value)
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        left = _walk(node.left, numbers, allow_unary_minus)
        right = _walk(node.right, numbers, allow_unary_minus)
        if isinstance(node.op, ast.Div) and right == 0:
            raise ExpressionError("division by zero")
        return _BINARY[type(node.op)](left, right)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) and allow_unary_minus:
        return -_walk(node.operand, numbers, allow_unary_minus)
    raise ExpressionError(f"not allowed in an expression: {type(node).__name__}")
