"""The LLM loop: run directory, checkpoints, gate, summary, and exact resume after kill -9."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from engine.checkpoint import checkpoint_stem
from engine.config import ConfigError
from engine.loop import Run
from engine.loop import prepare_run as prepare
from llm_bridge.build import load_checkpoint_policy
from llm_bridge.config import resolve_llm
from llm_bridge.plugin import LLMPlugin

REPO = Path(__file__).resolve().parents[2]

# A run small enough for the default suite: a two-layer model warm-started for a few steps.
TINY_RUN = [
    'task="arithmetic"', 'model="tiny"', "threads=1",
    "task_options.digits=1", "task_options.terms=2", 'task_options.ops="+"',
    "tiny.layers=1", "tiny.d_model=32", "tiny.heads=2", "tiny.ffn=64", "tiny.max_len=64",
    "warm_start.steps=5", "warm_start.batch_size=8", "warm_start.problems=40",
    "sampling.max_new_tokens=12", "optim.prompts_per_iteration=4", "optim.lr=0.001",
    "grpo.group_size=4", "grpo.kl_coef=0.05", "train_problems=10",
    "eval.every_iterations=2", "eval.dev_problems=8", "eval.test_problems=8",
]


def prepare_run(run, config, resume, overrides=None):
    """The loop's run-directory check for the LLM plug-in."""
    return prepare(LLMPlugin, run, config, resume, overrides)


def llm_run(config, run, resume=False, on_iteration=None):
    """An LLM run of the loop over `run`."""
    return Run(LLMPlugin.build(config, run), run, resume=resume, on_iteration=on_iteration)


def _texts(directory: Path, tag: str) -> list[str]:
    """The text summaries of `tag` in a TensorBoard directory, in order."""
    from tensorboard.backend.event_processing.event_file_loader import EventFileLoader

    return [value.tensor.string_val[0].decode()
            for path in sorted(directory.glob("events.*"))
            for event in EventFileLoader(str(path)).Load()
            for value in event.summary.value if value.tag == tag]


def _config(tmp_path: Path, *extra: str):
    return resolve_llm(overrides=[*TINY_RUN, f'cache_dir="{tmp_path / "cache"}"', *extra])


def test_run_directory_summary_and_gate(tmp_path: Path) -> None:
    config = _config(tmp_path, "iterations=4")
    run = tmp_path / "run"
    seen = []
    summary = llm_run(prepare_run(run, config, False), run,
                         on_iteration=seen.append).run()
    assert [m["iteration"] for m in seen] == [1, 2, 3, 4]
    assert json.loads((run / "config.json").read_text())["grpo"]["kl_coef"] == 0.05
    assert sorted(p.name for p in (run / "replay").iterdir()) == [
        f"w00-00000{i}.json" for i in range(1, 5)]
    names = {p.name for p in (run / "checkpoints").iterdir()}
    assert {"best.json", "best.safetensors", "step-000000004.json",
            "step-000000004.safetensors", "step-000000004.train.pt"} <= names
    assert "step-000000001.json" not in names  # pruned: keep_checkpoints = 3
    on_disk = json.loads((run / "summary.json").read_text())
    assert on_disk["iterations"] == 4 and 0 <= on_disk["test_before"]["pass@1"] <= 1
    assert on_disk["test_after"]["n"] == 8 and "pass@1_gain" in on_disk
    assert [h["iteration"] for h in on_disk["dev_history"]] == [2, 4]
    for key in ("llm/reward", "llm/kl", "llm/frac_reward_zero_std", "loss/policy",
                "llm/completion_length", "llm/rewards/arithmetic/mean"):
        assert key in seen[0], key
    assert "llm/pass_at_1" in seen[1] and "gate/promoted" in seen[1]
    assert list((run / "tensorboard").iterdir())
    # Sample completions of each iteration as TensorBoard text, the same as in replay/.
    samples = _texts(run / "tensorboard", "samples/completions/text_summary")
    assert len(samples) == 4
    first = json.loads((run / "replay" / "w00-000001.json").read_text())
    assert f"reward {first['rewards'][0]:.2f}, problem {first['problem_ids'][0]}" in samples[0]
    assert first["texts"][0] in samples[0]
    assert summary["test_after"] == on_disk["test_after"]
    # a checkpoint rebuilds the policy: same weights as the run's best
    stem = checkpoint_stem(run)
    assert stem.name == "best"
    _, policy = load_checkpoint_policy(run, device="cpu")
    best = load_file(str(stem.with_suffix(".safetensors")))
    for key, value in policy.trainable_state_dict().items():
        assert torch.equal(value, best[key]), key


def test_prepare_run_guards(tmp_path: Path) -> None:
    config = _config(tmp_path)
    run = tmp_path / "run"
    run.mkdir()
    (run / "config.json").write_text("{}")
    with pytest.raises(ConfigError, match="already holds a run"):
        prepare_run(run, config, False)
    with pytest.raises(Exception, match="nothing to resume"):
        prepare_run(tmp_path / "empty", None, True)
    with pytest.raises(ConfigError, match="algo"):
        resolve_llm(overrides=['algo="ppo"'])
    with pytest.raises(ConfigError, match="unknown config key"):
        resolve_llm(overrides=["grpo.group=3"])
    # an extra reward that does not exist is a config error before any model or directory
    with pytest.raises(ConfigError, match="rewards.nope: unknown reward"):
        resolve_llm(overrides=["rewards.nope=0.5"])


def _spawn(run: Path, *args: str) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(REPO), OMP_NUM_THREADS="1")
    return subprocess.Popen([sys.executable, "-m", "engine.loop", "llm", str(run), *args],
                            cwd=REPO, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)


def test_resume_after_kill_9_is_exact(tmp_path: Path, kill_9_when) -> None:
    """A run killed with SIGKILL after its first RL checkpoint and resumed ends with the same
    weights, optimiser state and data position as a run never interrupted."""
    overrides = [*TINY_RUN, f'cache_dir="{tmp_path / "cache"}"', "iterations=4",
                 "eval.every_iterations=0", "eval.test_problems=0"]
    straight, killed = tmp_path / "straight", tmp_path / "killed"
    proc = _spawn(straight, *overrides)
    assert proc.wait(timeout=300) == 0, proc.stderr.read().decode()[-2000:]
    proc = _spawn(killed, *overrides)
    first = killed / "checkpoints" / "step-000000001.json"
    kill_9_when(proc, first.exists, timeout=300, settle=0.0)
    resumed = _spawn(killed, "--resume")
    assert resumed.wait(timeout=300) == 0, resumed.stderr.read().decode()[-2000:]
    a_stem = straight / "checkpoints" / "step-000000004"
    b_stem = killed / "checkpoints" / "step-000000004"
    a, b = load_file(str(a_stem) + ".safetensors"), load_file(str(b_stem) + ".safetensors")
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key
    ta = torch.load(str(a_stem) + ".train.pt", weights_only=True)
    tb = torch.load(str(b_stem) + ".train.pt", weights_only=True)
    assert ta["actor"]["cursor"] == tb["actor"]["cursor"]
    assert torch.equal(ta["actor"]["generator"], tb["actor"]["generator"])
    assert ta["replay"] == tb["replay"]
    for sa, sb in zip(ta["learner"]["optimizer"]["state"].values(),
                      tb["learner"]["optimizer"]["state"].values()):
        assert torch.equal(sa["exp_avg"], sb["exp_avg"])
    assert json.loads((straight / "replay" / "w00-000004.json").read_text())["texts"] == \
        json.loads((killed / "replay" / "w00-000004.json").read_text())["texts"]


def test_value_head_learns_at_its_own_rate(tmp_path: Path) -> None:
    """With `optim.value_lr`, the value head is its own AdamW group: after one step on a
    value loss plus a language-model loss, at a language-model rate of 1e-6, the head has
    moved by about 0.01 and no language-model weight by more than about 1e-6 (a fresh
    AdamW moves each weight by about its rate)."""
    config = _config(tmp_path, 'algo="search"', "optim.lr=1e-6", "optim.value_lr=0.01")
    run = tmp_path / "run"
    trainer = llm_run(prepare_run(run, config, False), run)
    policy, optimizer = trainer.plugin.policy, trainer.plugin.optimizer
    assert [g["lr"] for g in optimizer.param_groups] == [1e-6, 0.01]
    head = [id(p) for p in policy.value_head.parameters()]
    assert [id(p) for p in optimizer.param_groups[1]["params"]] == head
    lm_before = {n: p.detach().clone() for n, p in policy.named_parameters()
                 if p.requires_grad and id(p) not in head}
    prompt, completion = policy.codec.encode("1 + 2"), policy.codec.encode("3")
    logprobs, _, values = policy.completion_logprobs([prompt], [completion], with_values=True)
    ((values - 1.0) ** 2).sum().add(-logprobs.sum()).backward()
    optimizer.step()
    head_move = policy.value_head.bias.detach().abs().item()
    lm_move = max((p.detach() - lm_before[n]).abs().max().item()
                  for n, p in policy.named_parameters() if n in lm_before)
    assert 5e-3 < head_move < 2e-2 and 1e-7 < lm_move < 5e-6
    with pytest.raises(ConfigError, match="value_lr"):
        _config(tmp_path, "optim.value_lr=0")


def test_shaping_rewards_add_to_the_task_grader() -> None:
    from llm_bridge.build import reward_weights

    config = resolve_llm(None, ["task=arithmetic", "rewards.arithmetic_steps=0.3",
                                "rewards.answer_format=0.1"])
    assert reward_weights(config, "arithmetic") == {"arithmetic": 1.0, "arithmetic_steps": 0.3,
                                                    "answer_format": 0.1}
    config = resolve_llm(None, ["rewards.arithmetic=0.7", "rewards.arithmetic_steps=0.3"])
    assert reward_weights(config, "arithmetic") == {"arithmetic": 0.7, "arithmetic_steps": 0.3}
    with pytest.raises(ConfigError, match="weight 0"):
        reward_weights(resolve_llm(None, ["rewards.arithmetic=0"]), "arithmetic")


def test_every_shipped_llm_preset_resolves_with_known_rewards() -> None:
    from engine.config import CONFIG_DIR
    from llm_bridge import tasks
    from llm_bridge.build import reward_weights

    presets = sorted(p.stem for p in CONFIG_DIR.glob("llm-*.toml"))
    assert "llm-arithmetic-smollm2" in presets
    for name in presets:
        config = resolve_llm(name)
        task = tasks.make(config.task, **config.task_options)
        weights = reward_weights(config, task.name)
        tasks.combine_rewards(weights, functions={task.name: task})  # every name resolves
    smollm2 = resolve_llm("llm-arithmetic-smollm2")
    assert smollm2.task_options == {"digits": [2, 3], "terms": 2, "ops": "+-"}


def test_worker_processes_sample_and_the_learner_reads_their_files(tmp_path: Path) -> None:
    config = _config(tmp_path, "iterations=2", "workers=1", "eval.every_iterations=0",
                     "eval.test_problems=0")
    run = tmp_path / "run"
    trainer = llm_run(prepare_run(run, config, False), run)
    trainer.run()
    worker_files = sorted((run / "replay").glob("w01-*.json"))
    assert worker_files and not list((run / "replay").glob("w00-*.json"))
    training = torch.load(run / "checkpoints" / "step-000000002.train.pt", weights_only=True)
    assert training["replay"]["consumed"]["1"] >= 2  # it learned from the worker's files
    assert trainer.plugin.learner.samples >= 2 * 4 * 4  # two rounds of 4 prompts x 4 samples
