"""A reasoning task played as a one-player `Game`: the moves are reasoning steps.

A state is a problem and the text written so far, plus the K candidate next steps the
policy proposed there (sampled when the state is made, so a state is immutable and its legal
moves are fixed). Action `a` appends candidate `a`; duplicate or empty candidates are merged
away (illegal). A step is one line: the policy samples until a newline or the end-of-sequence
token, at most `max_step_tokens` tokens. The game ends when the completion has a final
answer (`task.extract_answer` finds one), ends with eos, reaches `max_steps` steps or
`max_new_tokens` tokens; its outcome is `Outcome(Termination.VERIFIED, reward=r)` with r the
verifier's reward of the completion.

`ReasoningGame` implements the single-state `Game` protocol (for tests, inspection and
`play`-style tools) and, for the tree search, `step` and `evaluate` over object arrays of
states in the shape `mcts.BatchSearch` wants: each call samples the candidates of all new
states in one batched generation and evaluates all values at once. A state keeps the
log-probs its text was sampled with, and the value head reads only those and the prompt's
state, so evaluating a node needs no forward pass over its text (one per prompt per game).

Departures from a board game: `encode` gives the token ids (left-padded with -1 to
`observation_shape`), since the network reads text; `apply_symmetry` knows only the
identity; terminal values come from the verifier during training, but at inference
(`terminal="value"`) from the value head, so that no ground truth leaks into the answer.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import torch

from games.base import GameOverError, IllegalMoveError, MoveParseError, Outcome, Termination
from llm_bridge.policy import LLMPolicy
from llm_bridge.tools import cut_after_call, step_output

NEG_INF = np.float32(-1e9)


@dataclass(frozen=True)
class ReasoningState:
    """A problem, the text so far and the proposed next steps.

    Attributes:
        problem: the task's `Problem`.
        prompt: prompt token ids.
        prefix: completion token ids so far.
        steps: steps taken.
        candidates: K candidate steps (token ids); empty tuple for a merged duplicate.
        logprobs: K sequence log-probs of the candidates (-inf for merged ones).
        terminal: the game is over.
        reward: the terminal value (verifier's reward, or the value head's estimate).
        tool_mask: per token of `prefix`, 1 where a tool wrote it (not the policy's text).
        prefix_logprobs: per token of `prefix`, its log-prob under the policy when it was
            sampled; None when some token was not sampled here (a tool's output, a step
            given from outside), and the value head then scores the text afresh.
        sampled: `(candidate tokens, their per-token log-probs)` for each candidate as
            `generate` sampled it, so that a child knows its prefix's log-probs.
    """

    problem: Any
    prompt: tuple[int, ...]
    prefix: tuple[int, ...] = ()
    steps: int = 0
    candidates: tuple[tuple[int, ...], ...] = ()
    logprobs: tuple[float, ...] = ()
    terminal: bool = False
    reward: float = 0.0
    tool_mask: tuple[int, ...] = ()
    prefix_logprobs: tuple[float, ...] | None = ()
    sampled: tuple[tuple[tuple[int, ...], tuple[float, ...]], ...] = ()


class ReasoningGame:
    """A task as a one-player game over reasoning steps (see the module docstring).

    Args:
        task: the verifiable-reward task.
        policy: proposes candidate steps and evaluates values.
        candidates: K, the number of actions.
        max_step_tokens: longest step.
        max_steps: most steps in a completion.
        max_new_tokens: longest completion.
        temperature: sampling temperature of the candidates.
        terminal: `verifier` (reward from the task's grader; training) or `value` (the
            value head's estimate of the finished text; inference).
        generator: the torch RNG that samples candidates.
        reward_fn: optional `(problems, texts) -> rewards` replacing `task.rewards`.
        keep_finished: keep every finished state made, in `finished` (by problem id), for
            answering by a vote over them.
        stop_at_newline: a step is one line (True) or runs to the end of the completion or
            to a tool call (False).
    """

    name = "reasoning"
    record_extension = "txt"
    num_players = 1
    num_symmetries = 1

    def __init__(self, task: Any, policy: LLMPolicy, *, candidates: int = 4,
                 max_step_tokens: int = 24, max_steps: int = 8, max_new_tokens: int = 64,
                 temperature: float = 1.0, terminal: str = "verifier",
                 generator: torch.Generator | None = None,
                 reward_fn: Callable[[Sequence[Any], Sequence[str]], list[float]] | None = None,
                 keep_finished: bool = False, stop_at_newline: bool = True) -> None:
        if candidates < 1 or max_step_tokens < 1 or max_steps < 1 or max_new_tokens < 1:
            raise ValueError("candidates, max_step_tokens, max_steps, max_new_tokens must be >= 1")
        if terminal not in ("verifier", "value"):
            raise ValueError(f"terminal must be 'verifier' or 'value', got {terminal!r}")
        self.task, self.policy = task, policy
        self.num_actions = candidates
        self.max_step_tokens, self.max_steps = max_step_tokens, max_steps
        self.max_new_tokens, self.temperature = max_new_tokens, temperature
        self.terminal_mode = terminal
        self.generator = generator
        self.reward_fn = reward_fn or (lambda problems, texts: task.rewards(problems, texts))
        self.keep_finished = keep_finished
        self.stop_at_newline = stop_at_newline
        self.finished: dict[Any, list[ReasoningState]] = {}
        # The value head's reading of each prompt, kept for the game's life: the weights
        # must not change while a game is in use (a search builds one per rollout).
        self._prompt_states: dict[tuple[int, ...], torch.Tensor] = {}
        self.observation_shape = (1, 1, int(getattr(policy.model.config,
                                                    "max_position_embeddings", 2048)))

    # ------------------------------------------------------------------ batched core
    def start(self, problems: Sequence[Any]) -> list[ReasoningState]:
        """Initial states (with their candidates) for `problems`."""
        prompts = self.policy.prompt_ids(problems, self.task)
        bare = [ReasoningState(problem=p, prompt=tuple(ids)) for p, ids in zip(problems, prompts)]
        return self._propose(bare)

    def text(self, state: ReasoningState) -> str:
        return self.policy.codec.decode(state.prefix)

    def _propose(self, states: list[ReasoningState]) -> list[ReasoningState]:
        """The states with K candidate steps sampled for each (one batched generation)."""
        if not states:
            return []
        k = self.num_actions
        rows = [s.prompt + s.prefix for s in states for _ in range(k)]
        room = [max(1, min(self.max_step_tokens, self.max_new_tokens - len(s.prefix)))
                for s in states]
        out = self.policy.generate(rows, max_new_tokens=max(room), temperature=self.temperature,
                                   stop_at_newline=self.stop_at_newline,
                                   generator=self.generator)
        result = []
        for i, state in enumerate(states):
            seen: set[tuple[int, ...]] = set()
            cands, logps, sampled = [], [], []
            for j in range(k):
                r = i * k + j
                ids = tuple(out.ids(r)[: room[i]])
                cut = cut_after_call(self.policy.codec, ids) if self.task.tools else None
                ids = ids if cut is None else ids[:cut]  # a call ends its step
                if ids and ids not in seen:
                    seen.add(ids)
                    cands.append(ids)
                    token_logps = out.logprobs[r, : len(ids)]
                    logps.append(float(token_logps.sum()))
                    sampled.append((ids, tuple(token_logps.tolist())))
                else:
                    cands.append(())
                    logps.append(float("-inf"))
            result.append(replace(state, candidates=tuple(cands), logprobs=tuple(logps),
                                  sampled=tuple(sampled)))
        return result

    def _finished(self, state: ReasoningState) -> bool:
        ids = state.prefix
        if ids and ids[-1] == self.policy.codec.eos_id:
            return True
        if state.steps >= self.max_steps or len(ids) >= self.max_new_tokens:
            return True
        return self.task.extract_answer(self.policy.codec.decode(ids)) is not None

    def advance(self, states: Sequence[ReasoningState], actions: Sequence[int]
                ) -> list[ReasoningState]:
        """The successors: the chosen candidates appended; finished ones scored, the others
        given candidates. Raises IllegalMoveError on a merged or out-of-range candidate."""
        children = []
        for state, a in zip(states, actions):
            if state.terminal:
                raise GameOverError("the completion is finished")
            if not 0 <= int(a) < len(state.candidates) or not state.candidates[int(a)]:
                raise IllegalMoveError(f"candidate {a} is not a legal step here")
            step = state.candidates[int(a)]
            # a step that calls a tool brings the tool's output with it: one move
            shown = tuple(step_output(self.policy.codec, state.prefix, step)) \
                if self.task.tools else ()
            keep = max(self.max_new_tokens, len(state.prefix) + len(step))
            prefix = (state.prefix + step + shown)[:keep]
            tool_mask = (self.tool_mask_of(state) + (0,) * len(step) + (1,) * len(shown))[:keep]
            step_logprobs = dict(state.sampled).get(step)
            prefix_logprobs = (state.prefix_logprobs + step_logprobs
                               if state.prefix_logprobs is not None and step_logprobs is not None
                               and not shown else None)
            children.append(ReasoningState(problem=state.problem, prompt=state.prompt,
                                           prefix=prefix, steps=state.steps + 1,
                                           tool_mask=tool_mask, prefix_logprobs=prefix_logprobs))
        done = [i for i, c in enumerate(children) if self._finished(c)]
        if done:
            scores = self._terminal_scores([children[i] for i in done])
            for i, score in zip(done, scores):
                children[i] = replace(children[i], terminal=True, reward=float(score))
                if self.keep_finished:
                    self.finished.setdefault(children[i].problem.id, []).append(children[i])
        live = [i for i, c in enumerate(children) if not c.terminal]
        for i, child in zip(live, self._propose([children[i] for i in live])):
            children[i] = child
        return children

    @staticmethod
    def tool_mask_of(state: ReasoningState) -> tuple[int, ...]:
        """Per token of `state.prefix`, 1 where a tool wrote it (all 0 before any call)."""
        return state.tool_mask or (0,) * len(state.prefix)

    def _terminal_scores(self, states: Sequence[ReasoningState]) -> list[float]:
        if self.terminal_mode == "value":
            return self.values(states).tolist()
        return list(self.reward_fn([s.problem for s in states], [self.text(s) for s in states]))

    @torch.no_grad()
    def values(self, states: Sequence[ReasoningState]) -> np.ndarray:
        """float `[B]`: the value head on each state's text. Texts whose tokens were all
        sampled here are scored from the log-probs kept at sampling and the prompt's state
        (`LLMPolicy.values_given`), with no forward pass over the text; the others by
        `LLMPolicy.values`."""
        out = np.zeros(len(states), dtype=np.float32)
        kept = [i for i, s in enumerate(states)
                if s.prefix_logprobs is not None and len(s.prefix_logprobs) == len(s.prefix)]
        fresh = sorted(set(range(len(states))) - set(kept))
        if fresh:
            out[fresh] = self.policy.values([states[i].prompt for i in fresh],
                                            [states[i].prefix for i in fresh]).cpu().numpy()
        if kept:
            missing = list(dict.fromkeys(states[i].prompt for i in kept
                                         if states[i].prompt not in self._prompt_states))
            if missing:
                for prompt, row in zip(missing, self.policy.prompt_states(missing)):
                    self._prompt_states[prompt] = row
            device = self.policy.device
            width = max(1, max(len(states[i].prefix) for i in kept))
            logprobs = torch.zeros(len(kept), width, device=device)
            mask = torch.zeros(len(kept), width, device=device)
            for r, i in enumerate(kept):
                n = len(states[i].prefix)
                if n:
                    logprobs[r, :n] = torch.tensor(states[i].prefix_logprobs, device=device)
                    mask[r, :n] = 1.0
            hidden = torch.stack([self._prompt_states[states[i].prompt] for i in kept])
            out[kept] = self.policy.values_given(hidden, logprobs, mask).cpu().numpy()
        return out

    def legal(self, state: ReasoningState) -> np.ndarray:
        """bool `[K]`: the distinct non-empty candidates (none in a finished game)."""
        mask = np.zeros(self.num_actions, dtype=bool)
        if not state.terminal:
            mask[: len(state.candidates)] = [bool(c) for c in state.candidates]
        return mask

    # ------------------------------------------------------------------ mcts interface
    def step(self, states: np.ndarray, actions: np.ndarray) -> Any:
        """`mcts` step function over an object array of states."""
        from mcts import StepResult

        children = self.advance(list(states), [int(a) for a in actions])
        k = len(children)
        out = np.empty(k, dtype=object)
        out[:] = children
        return StepResult(
            states=out, to_play=np.zeros(k, dtype=np.int8),
            legal=np.stack([self.legal(c) for c in children]) if k else
            np.zeros((0, self.num_actions), bool),
            terminal=np.array([c.terminal for c in children], dtype=bool),
            terminal_value=np.array([c.reward for c in children], dtype=np.float32))

    @torch.no_grad()
    def evaluate(self, states: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """`mcts` evaluator: prior logits = candidates' sequence log-probs (their softmax over
        the distinct candidates is the policy restricted to them), value = the value head."""
        logits = np.full((len(states), self.num_actions), NEG_INF, dtype=np.float32)
        for i, s in enumerate(states):
            for a, lp in enumerate(s.logprobs):
                if np.isfinite(lp):
                    logits[i, a] = lp
        return logits, self.values(list(states))

    # ------------------------------------------------------------------ Game protocol
    def initial_state(self, problem: Any = None) -> ReasoningState:
        """The start of `problem` (default: the first train problem of the task)."""
        if problem is None:
            problem = self.task.generate("train", 1, seed=0)[0]
        return self.start([problem])[0]

    def legal_mask(self, state: ReasoningState) -> np.ndarray:
        return self.legal(state)

    def next_state(self, state: ReasoningState, action: int) -> ReasoningState:
        return self.advance([state], [action])[0]

    def to_play(self, state: ReasoningState) -> int:
        return 0

    def outcome(self, state: ReasoningState) -> Outcome | None:
        if not state.terminal:
            return None
        return Outcome(Termination.VERIFIED, reward=float(state.reward))

    def encode(self, state: ReasoningState) -> np.ndarray:
        ids = (state.prompt + state.prefix)[-self.observation_shape[2]:]
        out = np.full(self.observation_shape, -1.0, dtype=np.float32)
        out[0, 0, self.observation_shape[2] - len(ids):] = ids
        return out

    def apply_symmetry(self, k: int, observations: np.ndarray, policies: np.ndarray
                       ) -> tuple[np.ndarray, np.ndarray]:
        if k != 0:
            raise ValueError("a reasoning game has only the identity symmetry")
        return observations, policies

    def action_to_text(self, state: ReasoningState, action: int) -> str:
        if not 0 <= action < len(state.candidates) or not state.candidates[action]:
            raise IllegalMoveError(f"candidate {action} is not a legal step here")
        return self.policy.codec.decode(state.candidates[action])

    def text_to_action(self, state: ReasoningState, text: str) -> int:
        for a, ids in enumerate(state.candidates):
            if ids and self.policy.codec.decode(ids) == text:
                return a
        raise MoveParseError(f"{text!r} is not one of the candidate steps")

    def render(self, state: ReasoningState) -> str:
        lines = [self.task.format_prompt(state.problem), "---", self.text(state)]
        if not state.terminal:
            lines.append("--- candidates:")
            lines += [f"  {a}: {self.policy.codec.decode(c)!r}"
                      for a, c in enumerate(state.candidates) if c]
        else:
            lines.append(f"--- reward {state.reward:g}")
        return "\n".join(lines)

    def game_record(self, actions: Sequence[int], outcome: Outcome | None = None, *,
                    values: Sequence[float | None] | None = None) -> str:
        return f"actions {list(actions)} result {outcome.result_string() if outcome else '*'}"
