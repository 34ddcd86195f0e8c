"""Players, matches and evaluations checked against exact solvers."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import games
from engine.agents import AgentSpecError, RandomAgent, make_agent
from engine.arena import play_match
from engine.evaluate import evaluate_connect4, evaluate_tictactoe, reachable_positions
from engine.solvers import MinimaxSolver


@pytest.fixture(scope="module")
def tictactoe():
    return games.make("tictactoe")


def test_reachable_positions_and_game_value(tictactoe) -> None:
    positions = reachable_positions(tictactoe)
    assert len(positions) == 5478  # the known count of legal tic-tac-toe positions
    assert MinimaxSolver(tictactoe).value(tictactoe.initial_state()) == 0.0


def test_perfect_player_evaluates_as_perfect_and_random_does_not(tictactoe) -> None:
    perfect = evaluate_tictactoe(tictactoe, make_agent("perfect", tictactoe, seed=1))
    assert perfect["positions"] == 4520  # reachable positions that are not finished
    assert perfect["losses"] == 0 and perfect["suboptimal"] == 0 and perfect["perfect"]
    random = evaluate_tictactoe(tictactoe, RandomAgent(tictactoe, seed=1))
    assert random["losses"] > 100 and not random["perfect"]


class DrawSeeker:
    """Never loses but settles for a draw where it could win: from a won position it plays a
    drawing move when there is one, else (and elsewhere) a best move."""

    name = "draw-seeker"

    def __init__(self, game) -> None:
        self.game, self.solver = game, MinimaxSolver(game)

    def analyse_batch(self, states):
        from engine.agent_types import Analysis

        answers = []
        for state in states:
            values = {}
            for action in np.flatnonzero(self.game.legal_mask(state)):
                child = self.game.next_state(state, int(action))
                outcome = self.game.outcome(child)
                values[int(action)] = (outcome.value(self.game.to_play(state)) if outcome
                                       else -self.solver.value(child))
            best = max(values.values())
            drawing = [a for a, v in values.items() if v == 0]
            action = drawing[0] if best > 0 and drawing else max(values, key=values.get)
            answers.append(Analysis(action=action))
        return answers


def test_wins_given_up_are_not_perfect_play(tictactoe) -> None:
    report = evaluate_tictactoe(tictactoe, DrawSeeker(tictactoe))
    assert report["losses"] == 0 and report["wins_given_up"] > 0 and not report["perfect"]
    assert report["suboptimal"] == report["wins_given_up"]


def test_match_results_follow_the_game_value(tictactoe) -> None:
    perfect_a = make_agent("perfect", tictactoe, seed=2)
    perfect_b = make_agent("perfect", tictactoe, seed=3)
    draws = play_match(tictactoe, perfect_a, perfect_b, 10, seed=0)
    assert (draws.wins, draws.draws, draws.losses) == (0, 10, 0)
    against_random = play_match(tictactoe, perfect_a, RandomAgent(tictactoe, 4), 40, seed=1,
                                opening_moves=1)
    assert against_random.losses == 0 and against_random.wins > 20
    assert against_random.elo()[0] > 200


def test_uniform_search_finds_a_forced_win(tictactoe) -> None:
    # X to move can win at a3 (column a: a1, a2 are X).
    state = games.play_moves(tictactoe, ["a1", "b1", "a2", "b2"])
    agent = make_agent("mcts:200", tictactoe, seed=0)
    assert tictactoe.action_to_text(state, agent.analyse(tictactoe, state).action) == "a3"


@pytest.mark.parametrize("spec", ["nonsense", "mcts:many", "mcts:-3", "ckpt:"])
def test_bad_player_specs(tictactoe, spec: str) -> None:
    with pytest.raises(AgentSpecError):
        make_agent(spec, tictactoe)


def test_connect4_perfect_player_keeps_every_result() -> None:
    connect4 = games.make("connect4")
    report = evaluate_connect4(connect4, make_agent("perfect", connect4, seed=0), limit=40,
                               sets=["Test_L3_R1", "Test_L2_R1"])
    for set_name in ("Test_L3_R1", "Test_L2_R1"):
        assert report[set_name]["correct"] == 1.0
        assert report[set_name]["positions"] == 40
    random = evaluate_connect4(connect4, RandomAgent(connect4, 0), limit=200,
                               sets=["Test_L2_R1"])["Test_L2_R1"]
    assert random["correct_decisive"] < 0.7  # a random mover is far from the solver


def test_perfect_is_only_for_solved_games() -> None:
    with pytest.raises(Exception, match="no perfect player"):
        make_agent("perfect", games.make("go", size=5))


def test_random_agent_is_reproducible(tictactoe) -> None:
    states = np.stack([tictactoe.initial_state()] * 5)
    a = [x.action for x in RandomAgent(tictactoe, 7).analyse_batch(states)]
    b = [x.action for x in RandomAgent(tictactoe, 7).analyse_batch(states)]
    assert a == b


def test_commands_build_the_game_a_checkpoint_was_trained_on(tmp_path) -> None:
    """A 7x7 Go network with 2 history planes: arena and move must not fall back to the
    default 9x9 board with 3 (the network would not fit its input)."""
    import json

    import torch
    from typer.testing import CliRunner

    from engine.checkpoint import save_checkpoint
    from engine.cli import app
    from engine.config import resolve
    from engine.model import build_model
    from games.go import Go

    stems = {}
    for name, options in (("small", "{size = 7, komi = 5.5, history = 2}"),
                          ("other", "{size = 7, komi = 5.5, history = 1}")):
        config = resolve("go9", [f"game_options={options}", 'model.size="b1c8"'])
        torch.manual_seed(0)
        stems[name] = tmp_path / name
        save_checkpoint(stems[name], build_model(Go(**config.game_options), config), config,
                        step=0, positions_trained=0, positions_generated=0)
    runner = CliRunner()
    done = runner.invoke(app, ["arena", "go", "--a", f"ckpt:{stems['small']}:2", "--b", "random",
                               "--games", "2", "--json"])
    assert done.exit_code == 0, done.output
    assert json.loads(done.output.strip().splitlines()[-1])["games"] == 2
    done = runner.invoke(app, ["move", "go", "--checkpoint", str(stems["small"]),
                               "--moves", "D4 C3", "--json"])
    assert done.exit_code == 0, done.output
    assert Go(size=7).text_to_action(None, json.loads(done.output)["move"]) is not None
    done = runner.invoke(app, ["arena", "go", "--a", f"ckpt:{stems['small']}",
                               "--b", f"ckpt:{stems['other']}"])
    assert done.exit_code != 0  # the console script turns this into one line and exit code 2
    assert "different game options" in f"{done.output} {done.exception}"


def test_checkpoint_agents_play_with_the_runs_play_search(tmp_path) -> None:
    """Self-play keeps `search`; every agent loaded from the checkpoint takes `play_search`."""
    from engine.agents import load_checkpoint_agent
    from engine.checkpoint import save_checkpoint
    from engine.config import resolve
    from engine.model import build_model

    game = games.make("connect4")
    config = resolve("connect4", ['model.size="b1c8"', "play_search.fpu_reduction=0",
                                  "play_symmetries=false"])
    assert config.search.fpu_reduction > 0
    save_checkpoint(tmp_path / "net", build_model(game, config), config,
                    step=0, positions_trained=0, positions_generated=0)
    agent = load_checkpoint_agent(tmp_path / "net", game, 8, device="cpu")
    assert agent.evaluator.action_maps is None
    assert agent.search_config.fpu_reduction == 0.0
    assert agent.search_config.c_init == config.search.c_init
    assert agent.search_config.num_simulations == 8
    played = dataclasses.replace(config, play_symmetries=True)
    agent = load_checkpoint_agent(tmp_path / "net", game, 8, device="cpu", play_config=played)
    assert [list(m) for m in agent.evaluator.action_maps] == [list(range(7)),
                                                              list(range(6, -1, -1))]


def test_eval_takes_a_checkpoint_by_its_stem(tmp_path) -> None:
    """`--checkpoint run/checkpoints/step-N` (no suffix) names a checkpoint, as `ckpt:` does."""
    import json

    from typer.testing import CliRunner

    from engine.checkpoint import save_checkpoint
    from engine.cli import app
    from engine.config import resolve
    from engine.model import build_model

    game = games.make("tictactoe")
    config = resolve("tictactoe", ['model.size="b1c8"'])
    save_checkpoint(tmp_path / "net", build_model(game, config), config,
                    step=0, positions_trained=0, positions_generated=0)
    done = CliRunner().invoke(app, ["eval", "tictactoe", "--checkpoint", str(tmp_path / "net"),
                                    "--json"])
    assert done.exit_code == 0, done.output
    report = json.loads(done.output.strip().splitlines()[-1])
    assert report["positions"] == evaluate_tictactoe(game, RandomAgent(game))["positions"]


def test_eval_set_changes_how_a_checkpoint_plays(tmp_path) -> None:
    """`--set play_search.KEY=VALUE` reaches the agent's search; other keys, bad values and
    players that are not checkpoints get a usage error (one line and exit 2 from the console
    script)."""
    import json

    from typer.testing import CliRunner

    from engine.checkpoint import save_checkpoint
    from engine.cli import UsageError, app
    from engine.config import resolve
    from engine.model import build_model

    game = games.make("tictactoe")
    config = resolve("tictactoe", ['model.size="b1c8"', "play_search.fpu_reduction=0"])
    save_checkpoint(tmp_path / "net", build_model(game, config), config,
                    step=0, positions_trained=0, positions_generated=0)
    net = str(tmp_path / "net")
    done = CliRunner().invoke(app, ["eval", "tictactoe", "--checkpoint", net, "--sims", "4",
                                    "--set", "play_search.c_init=2.5",
                                    "--set", "play_symmetries=true",
                                    "--set", "precision=fp32", "--json"])
    assert done.exit_code == 0, done.output
    report = json.loads(done.output.strip().splitlines()[-1])
    assert report["play_search"] == {"fpu_reduction": 0, "c_init": 2.5}
    assert report["play_symmetries"] is True
    assert report["precision"] == "fp32"
    for args, message in [
        ([net, "--set", "train.lr=1"], "precision=NAME overrides only"),
        ([net, "--set", "play_symmetries=3"], "play_symmetries"),
        ([net, "--set", "precision=fp8"], "precision must be one of auto, bf16, fp32"),
        ([net, "--set", "play_search.c_init=-1"], "c_init must be >= 0"),
        ([net, "--set", "play_search.bogus=1"], "play_search.bogus is not a search setting"),
        (["random", "--set", "play_search.c_init=2"], "random is not a checkpoint"),
    ]:
        done = CliRunner().invoke(app, ["eval", "tictactoe", "--checkpoint", *args])
        assert isinstance(done.exception, UsageError), done.output
        assert message in str(done.exception)
