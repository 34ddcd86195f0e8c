"""The BatchGame adapter (`engine.search_adapter`) and `move37 bench mcts`."""

from __future__ import annotations

import importlib.util
import json
import shutil

import numpy as np
import pytest
from typer.testing import CliRunner

import games
from benchmarks.bench_mcts import main
from engine.cli import app
from engine.search_adapter import batch_game_rollout, batch_game_roots, batch_game_step
from mcts import BatchSearch, KernelStep, SearchConfig, StepResult, uniform_evaluator


class _MethodsOnly:
    """Connect Four through its methods only: this module defines no batch kernels."""

    def __init__(self) -> None:
        self._game = games.make("connect4")
        self.num_actions = self._game.num_actions

    def search_kernels(self) -> None:
        return None

    def __getattr__(self, name: str):
        return getattr(self._game, name)


@pytest.mark.parametrize("name", ["tictactoe", "connect4", "chess"])
def test_kernel_step_is_found_and_agrees_with_the_methods(name: str) -> None:
    game = games.make(name)
    kernel_step = batch_game_step(game)
    assert isinstance(kernel_step, KernelStep)
    python_step = batch_game_step(game, kernels=False)
    assert not isinstance(python_step, KernelStep)
    rng = np.random.default_rng(3)
    states = game.batch_initial(64)
    for _ in range(12):
        _to_play, legal = batch_game_roots(game, states)
        live = legal.any(axis=1)
        states = states[live]
        if not len(states):
            break
        actions = np.where(legal[live], rng.random(legal[live].shape), -1).argmax(axis=1)
        ours, theirs = kernel_step(states, actions), python_step(states, actions)
        for a, b in zip(ours, theirs):
            np.testing.assert_array_equal(a, b)
        states = ours.states


@pytest.mark.parametrize("algorithm", ["puct", "gumbel"])
def test_fused_chess_search_matches_the_python_step(algorithm: str) -> None:
    game = games.make("chess", max_moves=80, history=2)
    states = game.batch_initial(3)
    states[1] = game.state_row(game.state_from_fen("6k1/5ppp/8/8/8/8/8/R5K1 w - - 0 1"))
    states[2] = game.batch_step(states[:1], np.array([game.text_to_action(states[0], "e4")]))[0]
    to_play, legal = batch_game_roots(game, states)
    config = SearchConfig(num_simulations=96, algorithm=algorithm, temperature=0.0)
    kernel_step = batch_game_step(game)
    assert isinstance(kernel_step, KernelStep)
    evaluator = uniform_evaluator(game.num_actions)
    outputs = []
    for step, evaluate in ((kernel_step, evaluator),
                           (batch_game_step(game, kernels=False), lambda s: evaluator(s))):
        search = BatchSearch(config, 3, game.num_actions)
        outputs.append(search.run(states, step, evaluate, root_to_play=to_play,
                                  root_legal=legal, seeds=[4, 5, 6]))
        # the first search ran in one jitted call, the second round by round in Python
        assert (search._fused_kernels(step, evaluate) is not None) == (len(outputs) == 1)
    fused, python = outputs
    for a, b in zip(fused, python):
        np.testing.assert_array_equal(a, b)
    assert game.action_to_text(states[1], int(fused.action[1])) == "Ra8#"


def test_games_without_kernels_get_the_python_step() -> None:
    game = _MethodsOnly()
    step = batch_game_step(game)
    assert not isinstance(step, KernelStep)
    states = game.batch_initial(3)
    result = step(states, np.array([0, 3, 6]))
    assert isinstance(result, StepResult) and result.legal.shape == (3, 7)
    evaluator = batch_game_rollout(game, seed=5)
    assert evaluator.kernel is None
    to_play, legal = batch_game_roots(game, states)
    out = BatchSearch(SearchConfig(num_simulations=20), 3, 7).run(
        states, step, evaluator, root_to_play=to_play, root_legal=legal, seeds=[1, 2, 3])
    assert (out.visit_counts.sum(axis=1) == 20).all()


def test_rollout_evaluator_uses_the_kernel_and_scores_for_the_player_to_move() -> None:
    game = games.make("tictactoe")
    evaluator = batch_game_rollout(game, seed=1)
    assert evaluator.kernel is not None
    logits, values = evaluator(game.batch_initial(2))
    assert logits.shape == (2, 9) and (logits == 0).all()
    assert set(np.unique(values)) <= {-1.0, 0.0, 1.0}
    many = np.concatenate([evaluator(game.batch_initial(500))[1] for _ in range(4)])
    # Random tic-tac-toe from the empty board: X wins about 58.5%, O about 28.8%.
    assert (many == 1).mean() == pytest.approx(0.585, abs=0.04)
    assert (many == -1).mean() == pytest.approx(0.288, abs=0.04)


def test_bench_json_is_the_last_line(capsys) -> None:
    main(["--json", "--game", "tictactoe", "--sims", "8", "--batch", "4", "--repeats", "1"])
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 1
    results = json.loads(lines[-1])
    assert results["benchmark"] == "mcts" and results["search"]["fused"] is True
    assert results["python_step"]["fused"] is False
    assert sum(results["search"]["root_visits"]) == 8
    assert results["search"]["sims_per_s"] > 0 and results["python_step"]["sims_per_s"] > 0


def test_bench_runs_chess_fused(capsys) -> None:
    main(["--game", "chess", "--sims", "8", "--batch", "2", "--repeats", "1",
          "--no-python-step", "--json"])
    results = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert results["game"] == "chess" and results["search"]["fused"] is True
    assert sum(results["search"]["root_visits"].values()) == 8
    assert results["search"]["sims_per_cpu_s"] > 0


def test_cli_runs_gumbel_and_rejects_bad_options() -> None:
    runner = CliRunner()
    ok = runner.invoke(app, ["bench", "mcts", "--game", "tictactoe", "--sims", "16", "--batch",
                             "4", "--algorithm", "gumbel", "--repeats", "1", "--json"])
    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.output.strip().splitlines()[-1])["algorithm"] == "gumbel"
    bad = runner.invoke(app, ["bench", "mcts", "--game", "othello"])
    assert bad.exit_code != 0


@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec("pyspiel") is None or shutil.which("g++") is None,
                    reason="needs open_spiel and g++")
def test_bench_compares_rollouts_with_openspiel(capsys) -> None:
    main(["--game", "connect4", "--sims", "200", "--batch", "32", "--evaluator", "rollout",
          "--repeats", "1", "--peer-seconds", "0"])
    results = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert results["openspiel"]["rollout"]["sims_per_s"] > 0 and results["ratio_vs_openspiel"] > 0


def test_uniform_search_through_the_adapter_finds_a_connect_four_win() -> None:
    game = games.make("connect4")
    # X has three in column 0 and O three in column 1; X to move wins with column 0.
    state = game.batch_initial(1)
    for column in (0, 1, 0, 1, 0, 1):
        state = game.batch_step(state, np.array([column]))
    to_play, legal = batch_game_roots(game, state)
    out = BatchSearch(SearchConfig(num_simulations=200, temperature=0.0), 1, 7).run(
        state, batch_game_step(game), uniform_evaluator(7), root_to_play=to_play,
        root_legal=legal, seeds=[0])
    assert int(out.action[0]) == 0
    assert out.q_values[0, 0] == pytest.approx(1.0)
