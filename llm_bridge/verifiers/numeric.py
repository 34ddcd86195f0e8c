"""Numeric answers: a strict grader (the answer tag) and a lenient one (what people write).

Strict is the rule every tagged task uses (`llm_bridge.verifiers.answer`): the completion
ends with its single `<answer>` tag, whose content is a number in canonical form: ASCII
digits, an optional leading minus sign, no leading zeros, an optional decimal part
(`-12`, `0.5`; not `+12`, `007`, `1,000`, `12.`).

Lenient reads the answer where a model trained elsewhere puts it, first match wins:

1. the answer tag, as strict finds it;
2. the last GSM8K marker, `#### 72`;
3. the last `\\boxed{...}` (braces balanced);
4. the last number anywhere in the text.

and reads the number loosely: thousands commas, a leading `+` or `$`, a trailing `.` or
`%` sign, a fraction `a/b`, and `\\frac{a}{b}` are all accepted. Numbers are compared
exactly as fractions (`0.5` equals `1/2`), never as floats.

    >>> grade_numeric("so <answer>72</answer>", "72"), grade_numeric("#### 72", "72")
    (1.0, 0.0)
    >>> grade_numeric("The answer is \\\\boxed{1,000}.", "1000", lenient=True)
    1.0
    >>> grade_numeric("I get 3 apples, then 5.", "5", lenient=True)
    1.0
"""

from __future__ import annotations

import re
from fractions import Fraction

from llm_bridge.verifiers.answer import MAX_COMPLETION_CHARS, extract_tagged

_STRICT = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?", re.ASCII)
_LOOSE = re.compile(r"[-+]?[0-9][0-9,]*(?:\.[0-9]+)?(?:/[0-9]+)?", re.ASCII)
_ANY_NUMBER = re.compile(r"-?[0-9][0-9,]*(?:\.[0-9]+)?(?:/[0-9]+)?", re.ASCII)
_FRAC = re.compile(r"^\\[dt]?frac\{([^{}]+)\}\{([^{}]+)\}$")
_GSM8K = re.compile(r"####\s*([^\n]+)")
MAX_NUMBER_CHARS = 60


def parse_strict(text: str | None) -> Fraction | None:
    """The number `text` spells in canonical form, or None.

    >>> parse_strict("-0.25"), parse_strict("1,000"), parse_strict("+3"), parse_strict("04")
    (Fraction(-1, 4), None, None, None)
    """
    if text is None or len(text) > MAX_NUMBER_CHARS or not _STRICT.fullmatch(text):
        return None
    return Fraction(text)


def parse_loose(text: str | None) -> Fraction | None:
    """The number in `text` read leniently (see the module docstring), or None.

    >>> parse_loose("$1,234.50"), parse_loose("3/4"), parse_loose("\\\\frac{1}{2}")
    (Fraction(2469, 2), Fraction(3, 4), Fraction(1, 2))
    >>> parse_loose("12 apples") is None, parse_loose("1/0") is None
    (True, True)
    """
    if text is None:
        return None
    text = text.strip().strip("$").strip()
    frac = _FRAC.match(text)
    if frac:
        top, bottom = parse_loose(frac.group(1)), parse_loose(frac.group(2))
        return None if top is None or not bottom else top / bottom
    text = text.rstrip(".").removesuffix("%").strip().lstrip("$")
    if len(text) > MAX_NUMBER_CHARS or not _LOOSE.fullmatch(text):
        return None
    number, _, denominator = text.replace(",", "").partition("/")
    if denominator and int(denominator) == 0:
        return None
    value = Fraction(number)
    return value / int(denominator) if denominator else value


def last_boxed(text: str) -> str | None:
    """The content of the last `\\boxed{...}` (nested braces balanced), or None.

    >>> last_boxed("\\\\boxed{1} then \\\\boxed{\\\\frac{3}{4}}")
    '\\\\frac{3}{4}'
    """
    start = text.rfind("\\boxed{")
    if start < 0:
        return None
    depth, i = 0, start + len("\\boxed")
    for j in range(i, len(text)):
        depth += {"{": 1, "}": -1}.get(text[j], 0)
        if depth == 0:
            return text[i + 1:j].strip()
    return None


def extract_lenient(completion: object) -> str | None:
    """The answer text a lenient reader takes from `completion` (rules 1 to 4), or None."""
    if not isinstance(completion, str) or len(completion) > MAX_COMPLETION_CHARS:
        return None
    tagged = extract_tagged(completion)
    if tagged is not None:
        return tagged
    marked = _GSM8K.findall(completion)
    if marked:
        return marked[-1].strip()
    boxed = last_boxed(completion)
    if boxed is not None:
        return boxed
    numbers = _ANY_NUMBER.findall(completion)
    return numbers[-1].rstrip(",") if numbers else None


def reference_value(answer: object) -> Fraction | None:
    """The reference answer as a number: a bare number, or a worked solution ending with a
    marker (a GSM8K `answer` column holds the whole solution and `#### 72`).

    >>> reference_value("Half of 8 is 4.\\n#### 4"), reference_value("1,500")
    (Fraction(4, 1), Fraction(1500, 1))
    """
    if answer is None:
        return None
    text = str(answer).strip()
    direct = parse_loose(text)
    return direct if direct is not None else parse_loose(extract_lenient(text))


def grade_numeric(completion: object, answer: object, *, lenient: bool = False) -> float:
    """1.0 when the completion's answer equals the reference number, else 0.0.

    Args:
        completion: the model's text.
        answer: the reference (a number, or a solution ending with `#### N`).
        lenient: read the answer by the lenient rules instead of the strict tag rule.
    """
    if lenient:
        return number_matches(parse_loose(extract_lenient(completion)), answer)
    return number_matches(parse_strict(extract_tagged(completion)), answer)


def number_matches(value: Fraction | None, answer: object) -> float:
    """1.0 when `value` equals the reference answer's number (`reference_value`), else 0.0."""
    expected = reference_value(answer)
    return 1.0 if value is not None and expected is not None and value == expected else 0.0
