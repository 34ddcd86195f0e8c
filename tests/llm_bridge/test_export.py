"""Export to Hugging Face format: logits equal after the round trip through `transformers`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from typer.testing import CliRunner

from engine.checkpoint import CheckpointError
from llm_bridge.export import export_policy, load_exported
from llm_bridge.models import LoraSettings, load_policy, save_pretrained
from llm_bridge.policy import LLMPolicy
from llm_bridge.tiny import CharTokenizer, TinyConfig, build_tiny_model

SMALL = TinyConfig(layers=1, d_model=32, heads=2, ffn=64, max_len=64)
IDS = torch.tensor([[5, 9, 14, 3, 22, 7, 11]])


def _logits(model: torch.nn.Module) -> torch.Tensor:
    with torch.no_grad():
        return model.eval()(input_ids=IDS).logits


def _reload(directory: Path) -> torch.nn.Module:
    from transformers import AutoModelForCausalLM

    return AutoModelForCausalLM.from_pretrained(str(directory), dtype=torch.float32)


def _touch_value_head(policy: LLMPolicy) -> None:
    with torch.no_grad():
        policy.value_head.weight.normal_(0, 0.1, generator=torch.Generator().manual_seed(1))
        policy.value_head.bias.fill_(0.3)


def test_full_weights_round_trip(tmp_path: Path) -> None:
    tok = CharTokenizer()
    policy = LLMPolicy(build_tiny_model(tok, SMALL, seed=3), tok, spec={"model": "tiny"})
    _touch_value_head(policy)
    before = _logits(policy.model)
    out = export_policy(policy, tmp_path / "out", config={"task": "arithmetic"})
    assert torch.equal(_logits(_reload(out)), before)
    prompts, texts = [[5, 9, 14]], [[3, 22]]
    _, back = load_exported(out, device="cpu")
    assert torch.equal(_logits(back.model), before)
    assert torch.allclose(back.values(prompts, texts), policy.values(prompts, texts))
    assert back.prompt_style == policy.prompt_style
    with pytest.raises(CheckpointError, match="LoRA"):
        export_policy(policy, tmp_path / "adapter", mode="adapter")


def test_lora_round_trip_as_adapter_and_merged(tmp_path: Path) -> None:
    pytest.importorskip("peft")
    tok = CharTokenizer()
    save_pretrained(build_tiny_model(tok, SMALL, seed=4), tok, tmp_path / "base")
    policy = load_policy(str(tmp_path / "base"), lora=LoraSettings(rank=4))
    with torch.no_grad():  # a fresh adapter is the identity: give it weights that matter
        generator = torch.Generator().manual_seed(0)
        for name, p in policy.model.named_parameters():
            if "lora_B" in name:
                p.normal_(0, 0.2, generator=generator)
    before = _logits(policy.model)
    assert not torch.allclose(before, _logits(_reload(tmp_path / "base")), atol=1e-3)
    adapter = export_policy(policy, tmp_path / "adapter", mode="adapter")
    assert (adapter / "adapter_config.json").is_file()
    assert torch.allclose(_logits(_reload(adapter)), before, atol=1e-5)
    merged = export_policy(policy, tmp_path / "merged", mode="merged")
    assert not (merged / "adapter_config.json").exists()
    assert torch.allclose(_logits(_reload(merged)), before, atol=1e-5)


def test_cli_export_and_eval_of_the_export(tmp_path: Path) -> None:
    from engine.cli import app

    small = ["tiny.layers=1", "tiny.d_model=32", "tiny.heads=2", "tiny.ffn=64",
             "tiny.max_len=64", "warm_start.steps=3", "warm_start.batch_size=4",
             "warm_start.problems=8", "task_options.digits=1", "task_options.terms=2",
             'task_options.ops="+"', "sampling.max_new_tokens=10", "grpo.group_size=2",
             "optim.prompts_per_iteration=2", "train_problems=4", "eval.every_iterations=0",
             "eval.test_problems=0", f'cache_dir="{tmp_path / "cache"}"']
    runner = CliRunner()
    run = tmp_path / "run"
    trained = runner.invoke(app, ["llm", "train", "--iterations", "1", "--out", str(run),
                                  "--quiet", *[a for s in small for a in ("--set", s)]])
    assert trained.exit_code == 0, trained.output
    out = tmp_path / "export"
    exported = runner.invoke(app, ["llm", "export", str(run), "--out", str(out), "--merged"])
    assert exported.exit_code == 0, exported.output
    assert (out / "config.json").is_file() and (out / "value_head.safetensors").is_file()
    assert json.loads((out / "move37.json").read_text())["config"]["task"] == "arithmetic"
    scored = runner.invoke(app, ["llm", "eval", "--checkpoint", str(out), "--n", "4", "--json"])
    assert scored.exit_code == 0, scored.output
    assert json.loads(scored.output.strip().splitlines()[-1])["n"] == 4
    again = runner.invoke(app, ["llm", "export", str(run), "--out", str(out)])
    assert again.exit_code != 0 and "not empty" in str(again.exception)
    adapter = runner.invoke(app, ["llm", "export", str(run), "--out", str(tmp_path / "a"),
                                  "--adapter"])
    assert adapter.exit_code != 0 and "LoRA" in str(adapter.exception)
