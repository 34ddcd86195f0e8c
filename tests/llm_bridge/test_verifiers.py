"""The strict answer rules: only an unambiguous single final answer is ever read."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from llm_bridge.verifiers import (
    ExpressionError,
    evaluate,
    extract_code_block,
    extract_tagged,
    format_answer,
    parse_integer,
)


@pytest.mark.parametrize(
    "completion, expected",
    [
        ("<answer>42</answer>", "42"),
        ("Working: 40 + 2.\n<answer> 42 </answer>\n", "42"),
        ("<answer>\n-7\n</answer>", "-7"),
        ("", None),
        ("42", None),
        ("<answer></answer>", None),
        ("<answer>   </answer>", None),
        ("<answer>42", None),  # truncated: no closing tag
        ("42</answer>", None),
        ("</answer>42<answer>", None),
        ("<answer>41</answer><answer>42</answer>", None),  # several answers
        ("<answer>42</answer> or maybe <answer>43</answer>", None),
        ("<answer>42</answer> actually 43", None),  # a second thought after the tag
        ("I'll use <answer> tags. <answer>42</answer>", None),
        ("<ANSWER>41</ANSWER> <answer>42</answer>", None),  # tags count in any case
        ("<Answer>42</Answer>", None),
        ("<answer >42</answer>", None),
        ("< answer>42</answer>", None),
        ("<answer>42< /answer>", None),
        ("<answer value=1>42</answer>", None),
        ("<answer>" + "9" * 500 + "</answer>", None),  # content too long
    ],
)
def test_extract_tagged_rules(completion: str, expected: str | None) -> None:
    assert extract_tagged(completion) == expected


def test_tag_spam_with_many_numbers_yields_nothing() -> None:
    spam = " ".join(f"<answer>{i}</answer>" for i in range(100))
    assert extract_tagged(spam) is None


def test_huge_completion_yields_nothing() -> None:
    assert extract_tagged("blah " * 10_000 + "<answer>42</answer>") is None
    assert extract_tagged("blah " * 100 + "<answer>42</answer>") == "42"


def test_non_strings_yield_nothing() -> None:
    assert extract_tagged(None) is None
    assert extract_tagged(["<answer>1</answer>"]) is None


@pytest.mark.parametrize(
    "text, expected",
    [("0", 0), ("7", 7), ("-7", -7), ("1234567890123", 1234567890123)]
    + [(t, None) for t in ["", "-", "-0", "+7", "007", "1e3", "1E3", "1_000", "1,000",
                            "1 000", "7.0", "0x1f", "seven", "forty-two", "٤٢", "４２", "²",
                            "−7", "7\n8", " 7", "inf", "nan", "9" * 200]],
)
def test_parse_integer_is_exact(text: str, expected: int | None) -> None:
    assert parse_integer(text) == expected


@given(st.integers(min_value=-(10**30), max_value=10**30))
def test_integers_round_trip_through_the_tag(value: int) -> None:
    assert parse_integer(extract_tagged(format_answer(value))) == value


@pytest.mark.parametrize(
    "text, value, numbers",
    [
        ("1 + 2 * 3", 7, (1, 2, 3)),
        ("(1 + 2) * 3", 9, (1, 2, 3)),
        ("7 / 2", Fraction(7, 2), (7, 2)),
        ("8 / (3 - 8 / 3)", 24, (8, 3, 8, 3)),  # the classic 24-game fraction route
        ("10 - 2 - 3", 5, (10, 2, 3)),
        ("((4))", 4, (4,)),
    ],
)
def test_evaluate_hand_computed(text: str, value: Fraction, numbers: tuple[int, ...]) -> None:
    parsed = evaluate(text)
    assert parsed.value == value and parsed.numbers == numbers


@pytest.mark.parametrize(
    "text",
    ["", "2 ** 3", "7 // 2", "7 % 2", "1.5 + 1", "1e3", "1_000", "x + 1", "abs(-1)",
     "__import__('os').system('true')", "(1 + 2", "1 +", "3 / 0", "3 / (2 - 2)",
     "-3 + 5", "[1, 2]", "1; 2", "0x10", "4 2", "٣ + 1", "1 " + "+ 1 " * 200],
)
def test_evaluate_refuses(text: str) -> None:
    with pytest.raises(ExpressionError):
        evaluate(text)


def test_unary_minus_only_when_allowed() -> None:
    assert evaluate("-3 + 5", allow_unary_minus=True).value == 2


def test_deep_nesting_is_refused_not_crashing() -> None:
    with pytest.raises(ExpressionError):
        evaluate("(" * 500 + "1" + ")" * 500, max_chars=5000)  # past the parser's limit
    with pytest.raises(ExpressionError):
        evaluate("1" + " + 1" * 5000, max_chars=50_000)  # past the recursion limit
    assert evaluate("(" * 90 + "1" + ")" * 90).value == 1


@pytest.mark.parametrize(
    "completion, expected",
    [
        ("```python\ndef f():\n    return 1\n```", "def f():\n    return 1\n"),
        ("Sure.\n```\nx = 1\n```\n\n", "x = 1\n"),
        ("```py\nx = 1\n```", "x = 1\n"),
        ("```python\nx = 1\n", None),  # truncated
        ("x = 1", None),
        ("```python\nx = 1\n```\n```python\nx = 2\n```", None),
        ("```python\nx = 1\n``` and more text", None),
        ("```python\nx = 1\n```\nHope this helps!", None),
        ("```javascript\nlet x = 1\n```", None),
        ("```python\n\n```", None),
    ],
)
def test_extract_code_block_rules(completion: str, expected: str | None) -> None:
    assert extract_code_block(completion) == expected
