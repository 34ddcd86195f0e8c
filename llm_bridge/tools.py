"""Tool use inside completions: the model writes `<python>code</python>`, the code runs in the
sandbox, and its output is appended to the text for the model to read on.

A completion is generated in rounds. In each round every unfinished completion is sampled
on; one that closes a call (`</python>` after `<python>`) is cut just after the closing tag,
its code is run by `llm_bridge.sandbox.run_python` (confined, time- and memory-limited,
standard library only), and

    <output>
    ...what the code printed (or the last line of its error)...
    </output>

is appended as tokens the model did not choose: `tool_mask` marks them, and the learner
gives them no loss. After `max_calls` calls a completion is sampled to its end without
further calls being run. In the tree search (`llm_bridge.game`) a step that closes a call
ends there, and its output is appended with it: a call is one move. Tool output never carries tags (`<answer>`, `<python>`,
`<output>`), so code cannot print the final answer in the model's place.

This module imports no torch, so tasks may import it and stay light. A task turns tools on
with its `tools` option (`--set task.tools=true`); its prompt then
says how to call them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from llm_bridge.sandbox import SandboxLimits, run_python

TOOL_OPEN, TOOL_CLOSE = "<python>", "</python>"
OUTPUT_OPEN, OUTPUT_CLOSE = "<output>\n", "\n</output>\n"
MAX_CALLS = 2
MAX_OUTPUT_CHARS = 200
TOOL_LIMITS = SandboxLimits(wall_seconds=5.0, cpu_seconds=2, output_bytes=4096)
TOOL_INSTRUCTIONS = ("You may run Python by writing <python>code</python>; what it prints is "
                     "shown to you in <output> tags.")
if TYPE_CHECKING:
    import torch

_TAGS = re.compile(r"<\s*/?\s*(?:answer|python|output)\b[^>]*>", re.IGNORECASE)


def transcript(code: str, output: str) -> str:
    """A call and its output as they read in a completion (for worked solutions).

    >>> transcript("print(2 + 3)", "5")
    '<python>print(2 + 3)</python><output>\\n5\\n</output>\\n'
    """
    return f"{TOOL_OPEN}{code}{TOOL_CLOSE}{OUTPUT_OPEN}{output}{OUTPUT_CLOSE}"


def closed_call(text: str) -> str | None:
    """The code of the first complete `<python>...</python>` call in `text`, or None.

    >>> closed_call("2 * 3\\n<python>print(2 * 3)</python> and on"), closed_call("<python>x")
    ('print(2 * 3)', None)
    """
    start = text.find(TOOL_OPEN)
    if start < 0:
        return None
    end = text.find(TOOL_CLOSE, start + len(TOOL_OPEN))
    return None if end < 0 else text[start + len(TOOL_OPEN):end]


def tool_output(code: str, limits: SandboxLimits = TOOL_LIMITS) -> str:
    """What the model is shown for running `code`: its stdout, or the last line of its error,
    stripped of tags and cut to `MAX_OUTPUT_CHARS`."""
    result = run_python(code, limits=limits)
    if result.timed_out:
        text = "timed out"
    elif result.passed:
        text = result.stdout
    else:
        lines = result.stderr.strip().splitlines()
        text = lines[-1] if lines else f"exited with status {result.returncode}"
    return _TAGS.sub("", text).strip()[:MAX_OUTPUT_CHARS]


@dataclass
class ToolCompletion:
    """One completion with tool calls.

    Attributes:
        ids: its token ids, tool outputs included.
        tool_mask: 1 on tokens a tool wrote, 0 on the model's.
        ended: it ended with the end-of-sequence token (not cut at the token cap).
        calls: tool calls run.
        entropy: summed next-token entropy over the model's tokens.
    """

    ids: list[int] = field(default_factory=list)
    tool_mask: list[int] = field(default_factory=list)
    ended: bool = False
    calls: int = 0
    entropy: float = 0.0


def step_output(codec: Any, prefix: Sequence[int], step: Sequence[int],
                max_calls: int = MAX_CALLS, limits: SandboxLimits = TOOL_LIMITS) -> list[int]:
    """The tool output tokens to append after a search step: the step's call run in the
    sandbox when the step closes one and fewer than `max_calls` ran before, else none."""
    code = closed_call(codec.decode(step))
    if code is None or codec.decode(prefix).count(TOOL_CLOSE) >= max_calls:
        return []
    return codec.encode(f"{OUTPUT_OPEN}{tool_output(code, limits)}{OUTPUT_CLOSE}")


def cut_after_call(codec: Any, ids: Sequence[int]) -> int | None:
    """The fewest leading tokens of `ids` whose text holds a complete call, or None."""
    if closed_call(codec.decode(ids)) is None:
        return None
    for k in range(1, len(ids) + 1):
        if closed_call(codec.decode(ids[:k])) is not None:
            return k
    return None


def generate_with_tools(policy: Any, prompts: Sequence[Sequence[int]], *, max_new_tokens: int,
                        temperature: float = 1.0, top_p: float = 1.0, greedy: bool = False,
                        generator: torch.Generator | None = None, max_calls: int = MAX_CALLS,
                        limits: SandboxLimits = TOOL_LIMITS,
                        workers: int = 2) -> list[ToolCompletion]:
    """One completion per prompt, at most `max_new_tokens` tokens in all (tool output
    included), with up to `max_calls` tool calls run in the sandbox each."""
    states = [ToolCompletion() for _ in prompts]
    active = list(range(len(prompts)))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for round_ in range(max_calls + 1):
            active = [i for i in active if len(states[i].ids) < max_new_tokens]
            if not active:
                break
            budget = max(max_new_tokens - len(states[i].ids) for i in active)
            out = policy.generate([list(prompts[i]) + states[i].ids for i in active],
                                  max_new_tokens=budget, temperature=temperature, top_p=top_p,
                                  greedy=greedy, generator=generator)
            calls: dict[int, Any] = {}
            for j, i in enumerate(active):
                state = states[i]
                new = out.ids(j)[:max_new_tokens - len(state.ids)]
                cut = cut_after_call(policy.codec, new) if round_ < max_calls else None
                kept = new if cut is None else new[:cut]
                state.ids += kept
                state.tool_mask += [0] * len(kept)
                state.entropy += float(out.entropy[j, :len(kept)].sum())
                if cut is None:
                    state.ended = bool(kept) and kept[-1] == policy.codec.eos_id
                else:
                    code = closed_call(policy.codec.decode(kept))
                    calls[i] = pool.submit(tool_output, code or "", limits)
            for i, future in calls.items():
                state = states[i]
                shown = policy.codec.encode(f"{OUTPUT_OPEN}{future.result()}{OUTPUT_CLOSE}")
                shown = shown[:max_new_tokens - len(state.ids)]
                state.ids += shown
                state.tool_mask += [1] * len(shown)
                state.calls += 1
            active = list(calls)
    return states
