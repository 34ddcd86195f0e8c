"""The final-answer tag and exact integer parsing: the strict rules every tagged task shares.

A completion ends with its answer in one tag, `<answer>...</answer>`. The rule, chosen so
that no hedging or formatting trick is ever paid as correct:

1. The completion is a string of at most `max_chars` characters.
2. It holds exactly one answer tag pair. Tags are counted case-insensitively and with any
   spacing (`<Answer>`, `< /answer >` count too), so spamming tags, or giving several
   answers, yields no answer at all; the one pair must be written exactly `<answer>` and
   `</answer>`, opening before closing.
3. Nothing but whitespace follows `</answer>`: the tag is the final word (an answer cut off
   before its closing tag, or one followed by a second thought, yields no answer).
4. The tag's content, stripped of whitespace, is at most `max_answer_chars` long.

    >>> extract_tagged("2 + 2 is 4, so <answer>4</answer>")
    '4'
    >>> extract_tagged("<answer>4</answer> or <answer>5</answer>") is None
    True
    >>> extract_tagged("<answer>4") is None
    True

Integers are then read exactly (`parse_integer`): ASCII digits with an optional leading
`-`, no leading zeros, no `+`, separators, exponents, words or non-ASCII digits.

    >>> parse_integer("-120")
    -120
    >>> parse_integer("1e3") is None, parse_integer("٣") is None, parse_integer("007") is None
    (True, True, True)
"""

from __future__ import annotations

import re

MAX_COMPLETION_CHARS = 20_000
MAX_ANSWER_CHARS = 200
MAX_INTEGER_DIGITS = 100

_ANY_TAG = re.compile(r"<\s*/?\s*answer\b[^>]*>", re.IGNORECASE)
_OPEN = "<answer>"
_CLOSE = "</answer>"
_INTEGER = re.compile(r"-?(?:0|[1-9][0-9]*)", re.ASCII)


def extract_tagged(
    completion: object,
    *,
    max_chars: int = MAX_COMPLETION_CHARS,
    max_answer_chars: int = MAX_ANSWER_CHARS,
) -> str | None:
    """The stripped content of the completion's single final `<answer>` tag, or None.

    Args:
        completion: the model's text (anything else yields None).
        max_chars: longest completion considered at all.
        max_answer_chars: longest tag content accepted.

    Returns:
        The content, or None when the rules in the module docstring are not all met.
    """
    if not isinstance(completion, str) or len(completion) > max_chars:
        return None
    tags = _ANY_TAG.findall(completion)
    if tags != [_OPEN, _CLOSE]:
        return None
    start = completion.index(_OPEN) + len(_OPEN)
    end = completion.index(_CLOSE)
    if completion[end + len(_CLOSE):].strip():
        return None
    content = completion[start:end].strip()
    if not content or len(content) > max_answer_chars:
        return None
    return content


def parse_integer(text: str | None) -> int | None:
    """The integer `text` spells in canonical ASCII form, or None.

    >>> parse_integer("0"), parse_integer("-0"), parse_integer("+5"), parse_integer("1,000")
    (0, None, None, None)
    """
    if text is None or len(text) > MAX_INTEGER_DIGITS + 1 or not _INTEGER.fullmatch(text):
        return None
    if text == "-0":
        return None
    return int(text)


def format_answer(content: object) -> str:
    """The answer tag around `content`, as a correct completion ends.

    >>> format_answer(42)
    '<answer>42</answer>'
    """
    return f"{_OPEN}{content}{_CLOSE}"
