"""The LLM bridge on a CUDA GPU (skipped without one): sampling and scoring agree there, and
a run trained on the GPU is stored on the host and continues on the CPU."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file
from test_plugin import TINY_RUN, llm_run, prepare_run  # the loop test's tiny run

from engine.checkpoint import checkpoint_stem
from llm_bridge.build import load_checkpoint_policy
from llm_bridge.config import resolve_llm
from llm_bridge.policy import LLMPolicy
from llm_bridge.tiny import CharTokenizer, TinyConfig, build_tiny_model

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")


def test_sampled_logprobs_on_the_gpu_match_scoring_and_the_cpu() -> None:
    tok = CharTokenizer()
    config = TinyConfig(layers=2, d_model=32, heads=2, ffn=64, max_len=128)
    cpu = LLMPolicy(build_tiny_model(tok, config, seed=0), tok).eval()
    gpu = LLMPolicy(build_tiny_model(tok, config, seed=0), tok).eval().to("cuda")
    prompts = [tok.encode(t) for t in ("12 + 3\n", "9\n", "<answer>")]
    out = gpu.generate(prompts, max_new_tokens=10, temperature=1.0,
                       generator=torch.Generator(device="cuda").manual_seed(0))
    completions = [out.ids(i) for i in range(len(prompts))]
    with torch.no_grad():
        scored, _ = gpu.completion_logprobs(prompts, completions)
        on_cpu, _ = cpu.completion_logprobs(prompts, completions)
    for i, c in enumerate(completions):
        assert torch.allclose(scored[i, : len(c)], out.logprobs[i, : len(c)], atol=1e-3)
        assert torch.allclose(scored[i, : len(c)].cpu(), on_cpu[i, : len(c)], atol=1e-3)


def test_a_gpu_run_saves_host_tensors_and_resumes_on_the_cpu(tmp_path: Path) -> None:
    base = [*TINY_RUN, f'cache_dir="{tmp_path / "cache"}"']
    run = tmp_path / "run"
    config = resolve_llm(overrides=[*base, "iterations=2", 'device="cuda"'])
    trainer = llm_run(prepare_run(run, config, False), run)
    assert trainer.plugin.policy.device.type == "cuda"
    trainer.run()
    weights = load_file(str(checkpoint_stem(run).with_suffix(".safetensors")))
    assert all(t.dtype == torch.float32 for t in weights.values())
    _, policy = load_checkpoint_policy(run, device="cpu")
    assert policy.device.type == "cpu"
    config = prepare_run(run, None, True, ["iterations=3", 'device="cpu"'])
    with pytest.warns(UserWarning, match="derived seed"):  # a CUDA RNG state means nothing here
        resumed = llm_run(config, run, resume=True)
    summary = resumed.run()
    assert resumed.plugin.policy.device.type == "cpu"
    assert summary["iterations"] == 3
