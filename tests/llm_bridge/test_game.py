"""ReasoningGame: the Game protocol over reasoning steps, and its mcts step/evaluate."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch

from games.base import Game, IllegalMoveError, MoveParseError, Termination
from llm_bridge import tasks
from llm_bridge.game import ReasoningGame, ReasoningState
from llm_bridge.policy import LLMPolicy
from llm_bridge.tiny import CharTokenizer, TinyConfig, build_tiny_model

SMALL = TinyConfig(layers=1, d_model=32, heads=2, ffn=64, max_len=128)


@pytest.fixture()
def setup():
    tok = CharTokenizer()
    policy = LLMPolicy(build_tiny_model(tok, SMALL, seed=0), tok).eval()
    task = tasks.make("arithmetic", digits=1, terms=3, ops="+-")
    game = ReasoningGame(task, policy, candidates=3, max_step_tokens=12, max_steps=5,
                         max_new_tokens=40, generator=torch.Generator().manual_seed(0))
    return task, policy, game


def _scripted(game: ReasoningGame, problem, lines: list[str]) -> ReasoningState:
    """A root whose candidates are the given lines (one per action)."""
    start = game.start([problem])[0]
    cands = tuple(tuple(game.policy.codec.encode(line)) for line in lines)
    return replace(start, candidates=cands, logprobs=tuple(0.0 for _ in cands))


def test_is_a_game_with_candidates(setup) -> None:
    task, _policy, game = setup
    assert isinstance(game, Game) and game.num_players == 1 and game.num_actions == 3
    state = game.initial_state(task.generate("train", 1, seed=2)[0])
    assert len(state.candidates) == 3 and game.to_play(state) == 0
    legal = game.legal_mask(state)
    distinct = {c for c in state.candidates if c}
    assert legal.sum() == len(distinct) >= 1
    for a in np.flatnonzero(legal):
        step = state.candidates[a]
        assert len(step) <= 12
        assert game.text_to_action(state, game.action_to_text(state, int(a))) == a
    assert game.encode(state).shape == game.observation_shape


def test_worked_solution_wins_and_a_wrong_answer_loses(setup) -> None:
    task, policy, game = setup
    problem = task.generate("train", 1, seed=3)[0]
    lines = [line + "\n" for line in task.worked_solution(problem).split("\n")]
    lines[-1] = lines[-1].rstrip("\n")
    state = game.initial_state(problem)
    for line in lines:
        state = replace(state, candidates=(tuple(policy.codec.encode(line)),),
                        logprobs=(0.0,))
        assert game.outcome(state) is None
        state = game.next_state(state, 0)
    outcome = game.outcome(state)
    assert outcome is not None and outcome.termination is Termination.VERIFIED
    assert outcome.reward == 1.0 and game.text(state) == task.worked_solution(problem)
    assert not game.legal_mask(state).any()
    wrong = _scripted(game, problem, [f"<answer>{int(problem.answer) + 1}</answer>"])
    assert game.outcome(game.next_state(wrong, 0)).reward == 0.0


def test_duplicates_are_merged_and_illegal(setup) -> None:
    task, policy, game = setup
    with torch.no_grad():  # a model that always writes a newline: three identical candidates
        bias = torch.zeros(policy.codec.vocab_size)
        bias[policy.codec.encode("\n")[0]] = 100.0
        policy.model.lm_head.bias = torch.nn.Parameter(bias)
    state = game.initial_state(task.generate("train", 1, seed=0)[0])
    assert game.legal_mask(state).tolist() == [True, False, False]
    with pytest.raises(IllegalMoveError):
        game.next_state(state, 1)
    with pytest.raises(MoveParseError):
        game.text_to_action(state, "nothing like it")


def test_step_limit_ends_the_game(setup) -> None:
    task, _policy, game = setup
    problem = task.generate("train", 1, seed=4)[0]
    state = game.initial_state(problem)
    for _ in range(game.max_steps):
        if game.outcome(state) is not None:
            break
        state = game.next_state(state, int(np.flatnonzero(game.legal_mask(state))[0]))
    assert game.outcome(state) is not None and state.steps <= game.max_steps


def test_mcts_step_and_evaluate_shapes(setup) -> None:
    task, _policy, game = setup
    roots = np.empty(2, dtype=object)
    roots[:] = game.start(task.generate("train", 2, seed=5))
    logits, values = game.evaluate(roots)
    assert logits.shape == (2, 3) and values.shape == (2,) and values.dtype == np.float32
    legal = np.stack([game.legal(s) for s in roots])
    assert (logits[~legal] < -1e8).all() and np.isfinite(logits[legal]).all()
    actions = np.array([int(np.flatnonzero(row)[0]) for row in legal])
    result = game.step(roots, actions)
    assert result.states.shape == (2,) and result.legal.shape == (2, 3)
    assert result.to_play.tolist() == [0, 0]
    for child, parent, a in zip(result.states, roots, actions):
        assert child.prefix == parent.prefix + parent.candidates[a]


def test_values_from_kept_logprobs_equal_a_fresh_forward(setup) -> None:
    """Nodes reached by sampled steps are valued from the log-probs kept at sampling; the
    figures equal the value head's over a forward pass on the same texts."""
    task, policy, game = setup
    torch.nn.init.normal_(policy.value_head.weight, std=0.5)
    torch.nn.init.normal_(policy.value_head.bias, std=0.5)
    states = game.start(task.generate("train", 3, seed=8))
    reached = list(states)
    for _ in range(3):
        live = [s for s in states if not s.terminal]
        if not live:
            break
        actions = [int(np.flatnonzero(game.legal(s))[-1]) for s in live]
        states = game.advance(live, actions)
        reached += states
    assert any(s.prefix for s in reached)
    assert all(s.prefix_logprobs is not None for s in reached)
    # a step given from outside has no kept log-probs: that child is scored afresh
    outside = replace(states[0], candidates=(tuple(policy.codec.encode("1+2\n")),),
                      logprobs=(0.0,)) if not states[0].terminal else None
    if outside is not None:
        child = game.advance([outside], [0])[0]
        assert child.prefix_logprobs is None
        reached.append(child)
    expected = policy.values([s.prompt for s in reached], [s.prefix for s in reached])
    got = game.values(reached)
    assert got.shape == (len(reached),) and np.abs(got).max() > 1e-3
    np.testing.assert_allclose(got, expected.detach().numpy(), atol=1e-5)


def test_search_picks_the_verified_answer(setup) -> None:
    """With the verifier at the leaves the search finds the right one of two answers."""
    from mcts import BatchSearch, SearchConfig

    task, _policy, game = setup
    problem = task.generate("train", 1, seed=6)[0]
    right = f"<answer>{problem.answer}</answer>"
    wrong = f"<answer>{int(problem.answer) + 3}</answer>"
    # the wrong answer is far more likely a priori (Gumbel's halving overcomes e^4 in 8
    # simulations; PUCT's visit-driven exploration needs a milder gap)
    for algorithm, gap, sims in (("gumbel", 4.0, 8), ("puct", 1.0, 32)):
        for order in ([wrong, right], [right, wrong]):
            root = _scripted(game, problem, [*order, ""])  # the third candidate slot is empty
            root = replace(root, logprobs=(*(0.0 if c == wrong else -gap for c in order),
                                           float("-inf")))
            roots = np.empty(1, dtype=object)
            roots[:] = [root]
            search = BatchSearch(SearchConfig(num_simulations=sims, algorithm=algorithm,
                                              temperature=0.0, gumbel_num_considered=3),
                                 1, 3)
            out = search.run(roots, game.step, game.evaluate, root_to_play=np.zeros(1, np.int8),
                             root_legal=game.legal(root)[None], rng=np.random.default_rng(0))
            assert order[int(out.action[0])] == right, algorithm
            assert out.policy_target[0, order.index(right)] > 0.5
