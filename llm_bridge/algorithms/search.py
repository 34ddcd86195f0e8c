"""Expert iteration: tree search over reasoning steps, the policy distilled from the search.

The actor plays each problem as a `ReasoningGame` (moves = candidate reasoning steps) with
`mcts.BatchSearch`, all problems of an iteration searched together: at every move, K
candidate steps per node with the policy's restricted sequence probabilities as priors,
the value head evaluating new non-terminal nodes and the verifier scoring finished ones.
By default the root uses Gumbel sampling without replacement and sequential halving, so
even a few simulations give a policy improvement; the move played is the search's choice.

The learner then minimises, over every searched decision,

    policy_coef * CE(pi_search, softmax_candidates(log pi(step | text)))
    + value_coef * (v(text) - z)^2

where the softmax runs over the node's distinct candidates (their sequence log-probs
under the current policy), pi_search is the search's improved policy over them, and z is
the final reward of the game the text belongs to. The value head also learns z on the
finished texts, so that it can stand in for the verifier at inference.

How it departs from AlphaZero: the action set is a fresh sample of K steps per node
rather than a fixed move list, so the policy target is a distribution over sampled
candidates, and distillation raises the likelihood of good candidates relative to the
others; there is no tree reuse between moves (each move resamples its root's candidates).

With `sft_coef > 0` the learner also raises the likelihood of the finished texts the
verifier paid in full (rejection-sampling fine-tuning beside the distillation).

Answering at inference (`evaluate_with_search`, `move37 llm eval --simulations N`) consults
no verifier: finished texts are scored by the value head, which reads the prompt's state and
the policy's confidence in the text (`llm_bridge.confidence`). A move is a line, as in
training, or (`eval_step = whole`) a whole completion, with K = N so that each simulation
scores one more sample; `eval_c_scale` sets how much the value, against the candidates'
log-probs, decides the move; `answer_by = vote` replies with the answer whose finished
texts carry the most value over every tree grown, `answer_by = value` with the best-valued
finished text. Figures: docs/llm.md.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import torch

from llm_bridge.algorithms.base import Rollout, StepRecord, reward_metrics
from llm_bridge.game import ReasoningGame, ReasoningState
from llm_bridge.policy import LLMPolicy


def search_config(settings: Any, simulations: int, *, gumbel_scale: float | None = None):
    """The `mcts.SearchConfig` of `settings` (a `SearchSettings`) at a given budget."""
    from mcts import SearchConfig

    return SearchConfig(num_simulations=simulations, algorithm=settings.algorithm,
                        gumbel_num_considered=settings.candidates, c_visit=settings.c_visit,
                        c_scale=settings.c_scale, temperature=0.0,
                        rescale_values=settings.rescale_values,
                        gumbel_scale=settings.gumbel_scale if gumbel_scale is None
                        else gumbel_scale)


def play_with_search(game: ReasoningGame, problems: Sequence[Any], config: Any,
                     rng: np.random.Generator, record: bool = True
                     ) -> tuple[list[ReasoningState], list[tuple[int, ReasoningState, np.ndarray]]]:
    """Play every problem to its end, searching before each move.

    Returns:
        `(finals, decisions)`: the finished states, and per searched move
        `(game index, state, target [K])` with the search's policy over the candidates.
    """
    from mcts import BatchSearch

    states = game.start(problems)
    decisions: list[tuple[int, ReasoningState, np.ndarray]] = []
    active = [i for i, s in enumerate(states) if not s.terminal]
    while active:
        roots = np.empty(len(active), dtype=object)
        roots[:] = [states[i] for i in active]
        legal = np.stack([game.legal(s) for s in roots])
        search = BatchSearch(config, batch_size=len(active), num_actions=game.num_actions)
        out = search.run(roots, game.step, game.evaluate,
                         root_to_play=np.zeros(len(active), np.int8), root_legal=legal, rng=rng)
        if record:
            decisions += [(i, states[i], out.policy_target[j]) for j, i in enumerate(active)]
        children = game.advance(list(roots), [int(a) for a in out.action])
        for i, child in zip(active, children):
            states[i] = child
        active = [i for i in active if not states[i].terminal]
    return states, decisions


class ExpertIteration:
    """Search as the actor, distillation and value regression as the learner."""

    name = "search"

    def __init__(self, policy: LLMPolicy, task: Any, reward: Any,
                 optimizer: torch.optim.Optimizer, settings: Any, *, max_new_tokens: int = 64,
                 temperature: float = 1.0, grad_clip: float = 1.0, seed: int = 0) -> None:
        self.policy, self.task, self.reward, self.optimizer = policy, task, reward, optimizer
        self.settings = settings
        self.max_new_tokens, self.temperature, self.grad_clip = (max_new_tokens, temperature,
                                                                 grad_clip)
        self.rng = np.random.default_rng([seed, 11])

    @property
    def steps_per_learn(self) -> int:
        return 1

    def rng_state(self) -> dict[str, Any]:
        return self.rng.bit_generator.state

    def set_rng_state(self, state: dict[str, Any]) -> None:
        if state:
            self.rng.bit_generator.state = state

    def _reward_totals(self, problems: Sequence[Any], texts: Sequence[str]) -> list[float]:
        prompts = [self.policy.prompt_text(self.task, p) for p in problems]
        fields = [p.to_fields() for p in problems]
        columns = {key: [f[key] for f in fields] for key in fields[0]}
        return [float(r) for r in self.reward(prompts, list(texts), **columns).total]

    def game(self, generator: torch.Generator, terminal: str = "verifier", *,
             candidates: int | None = None, temperature: float | None = None,
             keep_finished: bool = False, whole_steps: bool = False) -> ReasoningGame:
        s = self.settings
        return ReasoningGame(self.task, self.policy, candidates=candidates or s.candidates,
                             max_step_tokens=self.max_new_tokens if whole_steps
                             else s.max_step_tokens, max_steps=s.max_steps,
                             stop_at_newline=not whole_steps,
                             max_new_tokens=self.max_new_tokens,
                             temperature=temperature or self.temperature,
                             terminal=terminal, generator=generator,
                             reward_fn=self._reward_totals if terminal == "verifier" else None,
                             keep_finished=keep_finished)

    # ------------------------------------------------------------------ actor
    @torch.no_grad()
    def rollout(self, problems: Sequence[Any], generator: torch.Generator,
                more: Callable[[int], list[Any]] | None = None) -> Rollout:
        self.policy.eval()
        game = self.game(generator, keep_finished=self.settings.tree_texts)
        config = search_config(self.settings, self.settings.simulations)
        finals, decisions = play_with_search(game, problems, config, self.rng)
        texts = [game.text(s) for s in finals]
        prompts = [self.policy.prompt_text(self.task, p) for p in problems]
        fields = [p.to_fields() for p in problems]
        breakdown = self.reward(prompts, texts, **{k: [f[k] for f in fields] for k in fields[0]})
        metrics = reward_metrics(breakdown, [len(s.prefix) for s in finals], 1)
        samples = [(g, state, float(r)) for g, (state, r) in enumerate(zip(finals, breakdown.total))]
        if self.settings.tree_texts:
            samples = with_tree_texts(samples, game.finished)
            metrics["llm/search_tree_texts"] = float(len(samples) - len(finals))
        played = {g: i for i, (g, state, _) in reversed(list(enumerate(samples)))}
        steps = [StepRecord(sample=played[g], prefix=list(state.prefix),
                            candidates=[list(c) for c in state.candidates],
                            target=[float(x) for x in target])
                 for g, state, target in decisions]
        metrics["llm/search_decisions"] = float(len(steps))
        tool_mask = [list(game.tool_mask_of(s)) for _, s, _ in samples]
        return Rollout(problem_ids=[s.problem.id for _, s, _ in samples],
                       group=[g for g, _, _ in samples],
                       prompts=[list(s.prompt) for _, s, _ in samples],
                       completions=[list(s.prefix) for _, s, _ in samples],
                       texts=[game.text(s) for _, s, _ in samples],
                       rewards=[r for _, _, r in samples], metrics=metrics, steps=steps,
                       tool_mask=tool_mask if any(map(any, tool_mask)) else [])

    # ------------------------------------------------------------------ learner
    def learn(self, rollout: Rollout) -> dict[str, float]:
        """One optimiser step on the distillation and value losses of the whole rollout.

        The rollout is scored in passes of at most `rows_per_pass` sequences, a few problems
        each, their gradients accumulated with each pass weighted by its share of every
        loss's terms, so the step equals that of one pass over everything while memory
        stays bounded (a 135M model's attention over a few hundred sequences at once does
        not fit in 24 GiB)."""
        s = self.settings
        self.policy.train()
        self.optimizer.zero_grad(set_to_none=True)
        weights = {"policy": s.policy_coef, "value": s.value_coef, "sft": s.sft_coef}
        totals = dict.fromkeys(weights, 0.0)
        counts = loss_counts(rollout)
        for part in split_rollout(rollout, s.rows_per_pass):
            present = loss_counts(part)
            share = {key: n / counts[key] if counts[key] else 0.0 for key, n in present.items()}
            terms = {}
            if present["policy"]:
                terms["policy"] = candidate_cross_entropy(self.policy, part)
            if present["value"]:
                terms["value"] = value_regression(self.policy, part)
            if s.sft_coef > 0 and present["sft"]:
                terms["sft"] = verified_likelihood(self.policy, part)
            if not terms:
                continue
            loss = sum(weights[key] * share[key] * term for key, term in terms.items())
            loss.backward()
            for key, term in terms.items():
                totals[key] += share[key] * term.item()
        params = [p for p in self.policy.parameters() if p.requires_grad]
        grad_norm = torch.nn.utils.clip_grad_norm_(params, self.grad_clip or float("inf"))
        self.optimizer.step()
        self.policy.eval()
        metrics = {"loss/policy": totals["policy"], "loss/value": totals["value"],
                   "train/grad_norm": float(grad_norm)}
        if s.sft_coef > 0:
            metrics["loss/sft"] = totals["sft"]
        return metrics


def loss_counts(rollout: Rollout) -> dict[str, int]:
    """The number of terms each learner loss averages over in `rollout`: decisions
    (policy), scored texts (value) and own tokens of the texts paid in full (sft)."""
    texts = sum(1 for c in rollout.completions if c)
    tokens = 0
    for i, (reward, completion) in enumerate(zip(rollout.rewards, rollout.completions)):
        if reward >= 1.0 and completion:
            tool = sum(rollout.tool_mask[i]) if rollout.tool_mask else 0
            tokens += len(completion) - tool
    return {"policy": len(rollout.steps), "value": len(rollout.steps) + texts, "sft": tokens}


def split_rollout(rollout: Rollout, max_rows: int) -> list[Rollout]:
    """`rollout` cut into parts of whole problems, each scoring about `max_rows` sequences
    at most in the learner (one problem alone may exceed it); one part when it all fits.

    Parts keep the problems' order; each step's `sample` is renumbered in its part.
    """
    by_group: dict[int, list[int]] = {}
    for i, g in enumerate(rollout.group):
        by_group.setdefault(g, []).append(i)
    steps_of: dict[int, list[StepRecord]] = {}
    for step in rollout.steps:
        steps_of.setdefault(rollout.group[step.sample], []).append(step)
    cost = {g: len(samples) + sum(1 + sum(1 for c in st.candidates if c)
                                  for st in steps_of.get(g, []))
            for g, samples in by_group.items()}
    if sum(cost.values()) <= max_rows:
        return [rollout]
    chunks: list[list[int]] = [[]]
    used = 0
    for g in by_group:
        if chunks[-1] and used + cost[g] > max_rows:
            chunks.append([])
            used = 0
        chunks[-1].append(g)
        used += cost[g]
    parts = []
    for groups in chunks:
        rows = [i for g in groups for i in by_group[g]]
        where = {i: k for k, i in enumerate(rows)}
        parts.append(Rollout(
            problem_ids=[rollout.problem_ids[i] for i in rows],
            group=[rollout.group[i] for i in rows],
            prompts=[rollout.prompts[i] for i in rows],
            completions=[rollout.completions[i] for i in rows],
            texts=[rollout.texts[i] for i in rows],
            rewards=[rollout.rewards[i] for i in rows],
            steps=[replace(st, sample=where[st.sample]) for g in groups
                   for st in steps_of.get(g, [])],
            truncated=[rollout.truncated[i] for i in rows] if rollout.truncated else [],
            tool_mask=[rollout.tool_mask[i] for i in rows] if rollout.tool_mask else []))
    return parts


def with_tree_texts(played: Sequence[tuple[int, ReasoningState, float]],
                    finished: dict[Any, list[ReasoningState]]
                    ) -> list[tuple[int, ReasoningState, float]]:
    """`played` (one `(group, final state, reward)` per problem, in order), each followed by
    the other distinct finished texts its problem's trees reached, with their rewards.

    Consumes `finished` (the game's finished states by problem id). Rollouts keep a
    problem's samples consecutive, the played text first.
    """
    out: list[tuple[int, ReasoningState, float]] = []
    for group, state, reward in played:
        out.append((group, state, reward))
        seen = {tuple(state.prefix)}
        for other in finished.pop(state.problem.id, []):
            key = tuple(other.prefix)
            if key not in seen and other.prefix:
                seen.add(key)
                out.append((group, other, float(other.reward)))
    return out


def verified_likelihood(policy: LLMPolicy, rollout: Rollout) -> torch.Tensor:
    """Mean per-token negative log-likelihood of the finished texts paid in full (reward
    >= 1), tool output excluded; 0 (with a graph) when there are none.

    Returns:
        A scalar tensor.
    """
    rows = [i for i, (r, c) in enumerate(zip(rollout.rewards, rollout.completions))
            if r >= 1.0 and c]
    if not rows:
        return sum(p.sum() * 0.0 for p in policy.parameters() if p.requires_grad)
    logprobs, mask = policy.completion_logprobs([rollout.prompts[i] for i in rows],
                                                [rollout.completions[i] for i in rows])
    if rollout.tool_mask:
        own = torch.zeros_like(mask)
        for r, i in enumerate(rows):
            flags = rollout.tool_mask[i]
            own[r, :len(flags)] = torch.tensor([1.0 - f for f in flags], device=mask.device)
        mask = mask * own
    return -(logprobs * mask).sum() / mask.sum().clamp(min=1.0)


def vote(answers: Sequence[str | None], values: Sequence[float]) -> int | None:
    """The index of the reply chosen by a value-weighted vote: each distinct answer scores
    the sum of its texts' values (clipped at 0); the reply is the best-valued text of the
    answer that scores most. None when no text has an answer.

    >>> vote(["4", "5", "4", None], [0.3, 0.5, 0.4, 0.9])
    2
    >>> vote(["4", "5"], [0.1, 0.6]), vote([None], [1.0])
    (1, None)
    """
    totals: dict[str, float] = {}
    for answer, value in zip(answers, values):
        if answer is not None:
            totals[answer] = totals.get(answer, 0.0) + max(float(value), 0.0)
    if not totals:
        return None
    winner = max(totals, key=lambda a: totals[a])
    return max((i for i, a in enumerate(answers) if a == winner), key=lambda i: values[i])


def choose_reply(answers: Sequence[str | None], values: Sequence[float],
                 answer_by: str) -> int | None:
    """The index of the reply among finished texts with these answers and values: by
    `vote`, or (`value`) the best-valued text, ties to the first; None when there is none.

    >>> choose_reply(["4", "5", "4"], [0.3, 0.5, 0.4], "value")
    1
    >>> choose_reply(["4", "5", "4"], [0.3, 0.5, 0.4], "vote")
    2
    """
    if answer_by == "vote":
        return vote(answers, values)
    if not values:
        return None
    return max(range(len(values)), key=lambda i: (values[i], -i))


def candidate_cross_entropy(policy: LLMPolicy, rollout: Rollout) -> torch.Tensor:
    """Mean over decisions of CE(target, softmax over the distinct candidates' sequence
    log-probs); 0 (with a graph) when there are no decisions.

    Returns:
        A scalar tensor.
    """
    rows, prompts, comps = [], [], []
    for r, step in enumerate(rollout.steps):
        prefix = rollout.prompts[step.sample] + step.prefix
        for a, cand in enumerate(step.candidates):
            if cand and step.target[a] >= 0:
                rows.append((r, a))
                prompts.append(prefix)
                comps.append(cand)
    if not rows:
        return sum(p.sum() * 0.0 for p in policy.parameters() if p.requires_grad)
    logprobs, mask = policy.completion_logprobs(prompts, comps)
    seq = (logprobs * mask).sum(dim=1)
    k = max(len(step.candidates) for step in rollout.steps)
    scores = torch.full((len(rollout.steps), k), float("-inf"), device=seq.device)
    index = torch.tensor(rows, device=seq.device)
    scores = scores.index_put((index[:, 0], index[:, 1]), seq)
    targets = torch.zeros_like(scores)
    for r, step in enumerate(rollout.steps):
        for a, cand in enumerate(step.candidates):
            if cand:
                targets[r, a] = step.target[a]
    targets = targets / targets.sum(dim=1, keepdim=True).clamp(min=1e-8)
    log_q = scores.log_softmax(dim=1)
    return -(targets * torch.where(torch.isfinite(log_q), log_q, torch.zeros_like(log_q))
             ).sum(dim=1).mean()


def value_regression(policy: LLMPolicy, rollout: Rollout) -> torch.Tensor:
    """Mean squared error of the value head against each game's final reward, on every
    searched text and on the finished texts.

    Returns:
        A scalar tensor.
    """
    prompts = [rollout.prompts[s.sample] for s in rollout.steps]
    texts = [s.prefix for s in rollout.steps]
    targets = [rollout.rewards[s.sample] for s in rollout.steps]
    for i, completion in enumerate(rollout.completions):
        if completion:
            prompts.append(rollout.prompts[i])
            texts.append(completion)
            targets.append(rollout.rewards[i])
    values = policy.values(prompts, texts)
    return torch.mean((values - torch.tensor(targets, device=values.device)) ** 2)


@torch.no_grad()
def evaluate_with_search(policy: LLMPolicy, task: Any, config: Any, *, split: str = "test",
                         n: int = 200, seed: int = 0, simulations: int = 16,
                         batch: int = 50) -> dict[str, Any]:
    """pass@1 of answering by search at inference: the verifier is not consulted during the
    search (finished texts are scored by the value head), only on the answers it returns.

    Args:
        policy: the policy (its value head included).
        task: the task.
        config: the run's `LLMRunConfig` (search settings and token caps).
        split, n, seed: which problems.
        simulations: the search budget per move.
        batch: problems searched together.
    """
    from llm_bridge.evaluate import score_texts

    problems = task.generate(split, n, seed=seed)
    settings = config.search
    algo = ExpertIteration(policy, task, None, None, settings,  # type: ignore[arg-type]
                           max_new_tokens=config.sampling.max_new_tokens,
                           temperature=config.sampling.temperature, seed=seed)
    generator = torch.Generator(device=policy.device).manual_seed(seed)
    from_pool, whole = settings.answer_by != "path", settings.eval_step == "whole"
    game = algo.game(generator, terminal="value",
                     candidates=max(2, simulations) if whole else settings.eval_candidates,
                     temperature=settings.eval_temperature, keep_finished=from_pool,
                     whole_steps=whole)
    # Answering, the value head's ranking of the candidates decides (`eval_c_scale`), not
    # how far apart its estimates lie: the values stay rescaled.
    search = replace(search_config(settings, simulations, gumbel_scale=0.0),
                     gumbel_num_considered=game.num_actions,
                     c_scale=settings.eval_c_scale or settings.c_scale, rescale_values=True)
    rng = np.random.default_rng([seed, 13])
    texts: list[str] = []
    policy.eval()
    for start in range(0, len(problems), batch):
        finals, _ = play_with_search(game, problems[start:start + batch], search, rng,
                                     record=False)
        for state in finals:
            reply = state
            if from_pool:
                seen = {s.prefix: s for s in game.finished.pop(state.problem.id, [state])}
                pool = list(seen.values())
                chosen = choose_reply([task.extract_answer(game.text(s)) for s in pool],
                                      [s.reward for s in pool], settings.answer_by)
                reply = pool[chosen] if chosen is not None else state
            texts.append(game.text(reply))
    return {"task": task.name, "split": split, "seed": seed, "simulations": simulations,
            "answer_by": settings.answer_by, "eval_step": settings.eval_step,
            "candidates": game.num_actions,
            "temperature": game.temperature,
            **score_texts(task, problems, texts), "examples": texts[:3]}
