"""Tool calls inside completions: rounds, sandboxed output appended and masked from the loss."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
import torch

from llm_bridge import tasks
from llm_bridge.algorithms.base import Rollout
from llm_bridge.algorithms.grpo import GRPO, GRPOConfig
from llm_bridge.policy import LLMPolicy
from llm_bridge.tasks import CombinedReward
from llm_bridge.tiny import CharTokenizer, TinyConfig, build_tiny_model
from llm_bridge.tools import closed_call, generate_with_tools, tool_output


@dataclass
class _Out:
    rows: list[list[int]]
    entropy: torch.Tensor

    def ids(self, j: int) -> list[int]:
        return self.rows[j]


class ScriptedPolicy:
    """Writes a fixed text per round: the round is the number of tool outputs seen so far."""

    def __init__(self, script: list[str]) -> None:
        self.codec, self.script = CharTokenizer(), script

    def generate(self, prompts, *, max_new_tokens, **kwargs) -> _Out:
        rows = []
        for prompt in prompts:
            text = self.script[min(self.codec.decode(prompt).count("<output>"),
                                   len(self.script) - 1)]
            rows.append((self.codec.encode(text) + [self.codec.eos_id])[:max_new_tokens])
        return _Out(rows, torch.ones(len(rows), max_new_tokens))


def test_a_call_runs_in_the_sandbox_and_its_output_is_marked() -> None:
    policy = ScriptedPolicy(["7*6=<python>print(7*6)</python> and then junk",
                             "so <answer>42</answer>"])
    tok = policy.codec
    done, = generate_with_tools(policy, [tok.encode("q\n")], max_new_tokens=200)
    model_1, shown = tok.encode("7*6=<python>print(7*6)</python>"), tok.encode(
        "<output>\n42\n</output>\n")
    model_2 = tok.encode("so <answer>42</answer>") + [tok.eos_id]
    assert done.ids == model_1 + shown + model_2
    assert done.tool_mask == [0] * len(model_1) + [1] * len(shown) + [0] * len(model_2)
    assert done.calls == 1 and done.ended
    assert done.entropy == len(model_1) + len(model_2)  # the model's tokens only


def test_calls_stop_at_the_cap_and_the_token_budget() -> None:
    looping = ScriptedPolicy(["<python>print(1)</python>"])
    done, = generate_with_tools(looping, [[5]], max_new_tokens=500, max_calls=2)
    assert done.calls == 2  # the third call is sampled but not run
    assert looping.codec.decode(done.ids).endswith("<python>print(1)</python>")
    short, = generate_with_tools(looping, [[5]], max_new_tokens=30, max_calls=2)
    assert len(short.ids) == 30 and not short.ended


def test_tool_output_is_the_sandbox_run_without_tags() -> None:
    assert tool_output("print(12 * 34)") == "408"
    assert tool_output("1 / 0") == "ZeroDivisionError: division by zero"
    assert tool_output("print('<answer>5</answer>')") == "5"
    assert closed_call("<python>x = 1") is None


def test_tool_tokens_get_no_loss() -> None:
    tok = CharTokenizer()
    policy = LLMPolicy(build_tiny_model(tok, TinyConfig(layers=1, d_model=32, heads=2, ffn=64,
                                                        max_len=64)), tok)
    task = tasks.make("arithmetic", digits=1, terms=2, ops="+", tools=True)
    optimizer = torch.optim.SGD([p for p in policy.parameters() if p.requires_grad], lr=0.1)
    reward = CombinedReward({"one": (lambda prompts, completions, **kw: [1.0] * len(completions),
                                     1.0)})
    algo = GRPO(policy, task, reward, optimizer, GRPOConfig(group_size=2, value_coef=0.0,
                                                            scale_rewards="none"))
    completions = [tok.encode("ab<output>\n1\n</output>\ncd"), tok.encode("xyz")]
    masks = [[0, 0] + [1] * (len(completions[0]) - 4) + [0, 0], [0, 0, 0]]
    rollout = Rollout(["p", "p"], [0, 0], [[5, 6], [5, 6]], completions, ["", ""], [1.0, 0.0],
                      tool_mask=masks)
    # one pass, ratio 1: each scored token's loss is -A, A = +-0.5; 4 and 3 model tokens
    assert algo.learn(rollout)["loss/policy"] == pytest.approx(-(0.5 * 4 - 0.5 * 3) / 7)


def test_a_rollout_with_tools_on_runs_through_the_tool_rounds() -> None:
    tok = CharTokenizer()
    policy = LLMPolicy(build_tiny_model(tok, TinyConfig(layers=1, d_model=32, heads=2, ffn=64,
                                                        max_len=64)), tok)
    task = tasks.make("arithmetic", digits=1, terms=2, ops="+", tools=True)
    algo = GRPO(policy, task, CombinedReward({"arithmetic": (task, 1.0)}),
                torch.optim.SGD(policy.parameters(), lr=0.1), GRPOConfig(group_size=2),
                max_new_tokens=6)
    rollout = algo.rollout(task.generate("train", 2), torch.Generator().manual_seed(0))
    assert len(rollout) == 4 and rollout.metrics["llm/tool_calls"] == 0.0
    assert all(len(c) <= 6 for c in rollout.completions)
    algo.learn(rollout)


def test_worked_solutions_with_tools_call_python_for_half_the_problems() -> None:
    task = tasks.make("arithmetic", digits=2, terms=3, tools=True)
    problems = task.generate("train", 40, seed=0)
    solutions = [task.worked_solution(p) for p in problems]
    with_calls = [(p, s) for p, s in zip(problems, solutions) if "<python>" in s]
    assert 10 <= len(with_calls) <= 30
    assert all(task.reward(p, s) == 1.0 for p, s in zip(problems, solutions))
    problem, solution = with_calls[0]
    # the call shown is the one the sandbox would answer with the same output
    assert tool_output(closed_call(solution)) == problem.answer
    assert f"<output>\n{problem.answer}\n</output>" in solution
    plain = tasks.make("arithmetic", digits=2, terms=3)
    assert "<python>" not in plain.worked_solution(problem)


class _SteppingPolicy(ScriptedPolicy):
    """A scripted policy as the search's game calls it: one line per call, with log-probs."""

    def __init__(self, script: list[str]) -> None:
        super().__init__(script)
        self.model = type("M", (), {"config": type("C", (), {"max_position_embeddings": 256})})

    def prompt_ids(self, problems, task=None):
        return [self.codec.encode("q\n") for _ in problems]

    def generate(self, prompts, *, max_new_tokens, stop_at_newline=False, **kwargs):
        rows = []
        for prompt in prompts:
            text = self.script[min(self.codec.decode(prompt).count("<output>"),
                                   len(self.script) - 1)]
            ids = self.codec.encode(text) + [self.codec.eos_id]
            if stop_at_newline and "\n" in text:
                ids = self.codec.encode(text[:text.index("\n") + 1])
            rows.append(ids[:max_new_tokens])
        out = _Out(rows, torch.zeros(len(rows), max_new_tokens))
        out.logprobs = torch.zeros(len(rows), max_new_tokens)
        return out


def test_in_the_search_a_tool_call_and_its_output_are_one_step() -> None:
    from llm_bridge.game import ReasoningGame

    task = tasks.make("arithmetic", digits=1, terms=2, ops="+", tools=True)
    problem = next(p for p in task.generate("train", 30) if p.answer == "5")
    policy = _SteppingPolicy(["<python>print(2 + 3)</python>stray text\n", "<answer>5</answer>"])
    game = ReasoningGame(task, policy, candidates=2, max_step_tokens=60, max_new_tokens=120)
    state, = game.start([problem])
    assert policy.codec.decode(state.candidates[0]) == "<python>print(2 + 3)</python>"
    child, = game.advance([state], [0])
    assert game.text(child) == "<python>print(2 + 3)</python><output>\n5\n</output>\n"
    assert child.steps == 1 and not child.terminal
    call = len(policy.codec.encode("<python>print(2 + 3)</python>"))
    shown = len(policy.codec.encode("<output>\n5\n</output>\n"))
    assert child.tool_mask == (0,) * call + (1,) * shown  # the sandbox wrote the output
    final, = game.advance([child], [0])
    assert final.terminal and final.reward == 1.0 and final.steps == 2
    assert final.tool_mask == child.tool_mask + (0,) * (len(final.prefix) - len(child.prefix))
    assert len(final.prefix) > len(child.prefix)
