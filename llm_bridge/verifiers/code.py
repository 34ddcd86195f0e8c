"""Reading a program out of a completion: exactly one fenced code block, at the end.

The rule mirrors the answer tag's: the completion holds exactly one fenced block (two
lines of three backticks; the opening one may name `python` or `py`), nothing but
whitespace follows the closing fence, and the code is at most `max_chars` long.

    >>> extract_code_block("Here:\\n```python\\ndef f():\\n    return 1\\n```\\n")
    'def f():\\n    return 1\\n'
    >>> extract_code_block("```python\\nx = 1\\n") is None
    True
"""

from __future__ import annotations

import re

MAX_CODE_CHARS = 20_000
_FENCE = re.compile(r"^[ \t]*```[ \t]*([A-Za-z0-9_+-]*)[ \t]*$", re.MULTILINE)
_LANGUAGES = ("", "python", "py", "python3")


def extract_code_block(completion: object, *, max_chars: int = MAX_CODE_CHARS) -> str | None:
    """The code inside the completion's single final fenced block, or None.

    Args:
        completion: the model's text (anything else yields None).
        max_chars: longest code accepted.

    Returns:
        The code with a trailing newline, or None when the rule above is not met.
    """
    if not isinstance(completion, str) or len(completion) > 2 * max_chars:
        return None
    if completion.count("```") != 2:
        return None
    fences = list(_FENCE.finditer(completion))
    if len(fences) != 2 or fences[0].group(1).lower() not in _LANGUAGES or fences[1].group(1):
        return None
    if completion[fences[1].end():].strip():
        return None
    code = completion[fences[0].end():fences[1].start()].strip("\n")
    if not code.strip() or len(code) > max_chars:
        return None
    return code + "\n"
