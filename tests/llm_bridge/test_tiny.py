"""The character tokenizer, the tiny model builder and the supervised warm start."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict

import pytest
import torch

from llm_bridge import tasks
from llm_bridge.models import load_policy, save_pretrained, tiny_key, tiny_model_dir
from llm_bridge.policy import LLMPolicy
from llm_bridge.tiny import (
    CharTokenizer,
    TinyConfig,
    TokenizerError,
    WarmStartConfig,
    build_tiny_model,
    supervised_warm_start,
    warm_start_examples,
    warm_start_progress,
)

SMALL = TinyConfig(layers=2, d_model=32, heads=2, ffn=64, max_len=128)


def test_tokenizer_round_trip_and_tag_words() -> None:
    tok = CharTokenizer()
    text = "3 * 4 = 12\n12 - 5 = 7\n<answer>7</answer>"
    ids = tok.encode(text)
    assert tok.decode(ids) == text
    # the tags are single tokens: 8 + 1 + 9 characters become 3 tokens
    assert len(tok.encode("<answer>7</answer>")) == 3
    assert tok.encode("é") == [tok.unk_id]
    assert tok.decode([tok.bos_id, *tok.encode("ab"), tok.eos_id, tok.pad_id]) == "ab"
    assert tok.vocab[:4] == ["<pad>", "<bos>", "<eos>", "<unk>"]


def test_tokenizer_save_load_and_errors(tmp_path) -> None:
    tok = CharTokenizer(words=("<answer>", "</answer>", "<step>"))
    tok.save(tmp_path)
    again = CharTokenizer.load(tmp_path)
    assert again.vocab == tok.vocab
    (tmp_path / "char_tokenizer.json").write_text(json.dumps({"type": "bpe"}))
    with pytest.raises(TokenizerError, match="not a character tokenizer"):
        CharTokenizer.load(tmp_path)
    with pytest.raises(TokenizerError, match="cannot read"):
        CharTokenizer.load(tmp_path / "missing")
    with pytest.raises(TokenizerError, match="duplicates"):
        CharTokenizer(chars="aa")
    with pytest.raises(TokenizerError, match="outside"):
        tok.decode([10_000])


def test_build_tiny_model_shape_and_seed() -> None:
    tok = CharTokenizer()
    a = build_tiny_model(tok, SMALL, seed=3)
    b = build_tiny_model(tok, SMALL, seed=3)
    assert a.config.vocab_size == tok.vocab_size and a.config.num_hidden_layers == 2
    for (name, x), (_, y) in zip(a.state_dict().items(), b.state_dict().items()):
        assert torch.equal(x, y), name
    with pytest.raises(ValueError, match="multiple"):
        build_tiny_model(tok, TinyConfig(d_model=30, heads=4))


def test_warm_start_fits_worked_solutions() -> None:
    torch.manual_seed(0)
    task = tasks.make("arithmetic", digits=1, terms=2, ops="+")
    tok = CharTokenizer()
    policy = LLMPolicy(build_tiny_model(tok, SMALL, seed=0), tok)
    losses = supervised_warm_start(policy, task, WarmStartConfig(steps=60, batch_size=16,
                                                                 lr=3e-3, problems=50), seed=0)
    assert len(losses) == 60
    # from ~ln(vocab) = 4.6 nats per token to well under half of it: the format is learnt
    assert losses[0] > 4.0
    assert sum(losses[-5:]) / 5 < 0.5 * losses[0]


def test_warm_start_mixes_answer_only_solutions() -> None:
    task = tasks.make("arithmetic", digits=1, terms=3, ops="+*")
    mixed = warm_start_examples(task, WarmStartConfig(problems=400, answer_only_share=0.3), seed=2)
    plain = warm_start_examples(task, WarmStartConfig(problems=400), seed=2)
    assert [p.id for p, _ in mixed] == [p.id for p, _ in plain]  # the same problems
    terse = [text for _, text in mixed if "=" not in text]
    assert 80 <= len(terse) <= 160  # about 30% of 400
    for problem, text in mixed:
        assert task.reward(problem, text) == 1.0  # both styles are correct completions
        if "=" not in text:
            assert text == f"<answer>{problem.answer}</answer>"
    assert all("=" in text for _, text in plain)
    # the draw is fixed by the seed
    again = warm_start_examples(task, WarmStartConfig(problems=400, answer_only_share=0.3), seed=2)
    assert again == mixed


def test_tiny_key_changes_only_with_an_answer_only_share() -> None:
    plain = tiny_key("arithmetic", {}, SMALL, WarmStartConfig(), 0)
    # a warm start made before the field existed hashed these fields, and keeps its name
    old = {k: v for k, v in asdict(WarmStartConfig()).items() if k != "answer_only_share"}
    blob = json.dumps({"task": "arithmetic", "options": {}, "tiny": asdict(SMALL), "warm": old,
                       "seed": 0}, sort_keys=True)
    assert plain == hashlib.sha256(blob.encode()).hexdigest()[:16]
    assert tiny_key("arithmetic", {}, SMALL, WarmStartConfig(answer_only_share=0.5), 0) != plain


def test_tiny_model_dir_caches_and_loads_by_path(tmp_path) -> None:
    task = tasks.make("arithmetic", digits=1, terms=2, ops="+")
    warm = WarmStartConfig(steps=2, batch_size=4, problems=8)
    path = tiny_model_dir(task, {"digits": 1}, tmp_path, tiny=SMALL, warm=warm, seed=1)
    assert (path / "config.json").is_file() and (path / "char_tokenizer.json").is_file()
    stamp = (path / "model.safetensors").stat().st_mtime_ns
    assert tiny_model_dir(task, {"digits": 1}, tmp_path, tiny=SMALL, warm=warm, seed=1) == path
    assert (path / "model.safetensors").stat().st_mtime_ns == stamp  # not rebuilt
    other = tiny_model_dir(task, {"digits": 2}, tmp_path, tiny=SMALL, warm=warm, seed=1)
    assert other != path
    policy = load_policy(str(path))
    assert isinstance(policy.codec, CharTokenizer) and policy.prompt_style == "bare"


def test_save_pretrained_replaces_atomically(tmp_path) -> None:
    tok = CharTokenizer()
    target = tmp_path / "m"
    save_pretrained(build_tiny_model(tok, SMALL, seed=0), tok, target)
    save_pretrained(build_tiny_model(tok, SMALL, seed=1), tok, target)
    leftovers = [p.name for p in tmp_path.iterdir() if p.name != "m"]
    assert leftovers == []
    loaded = load_policy(str(target))
    expected = build_tiny_model(tok, SMALL, seed=1).state_dict()
    for name, value in loaded.model.state_dict().items():
        assert torch.equal(value, expected[name]), name


def test_first_warm_start_shows_a_progress_bar_and_the_cache(tmp_path) -> None:
    task = tasks.make("arithmetic", digits=1, terms=2, ops="+")
    warm = WarmStartConfig(steps=3, batch_size=4, problems=8)
    lines: list[str] = []
    path = tiny_model_dir(task, {"digits": 1}, tmp_path, tiny=SMALL, warm=warm, seed=1,
                          log=lines.append)
    assert lines[0].endswith(f"once; cached in {path}")
    assert lines[1].startswith("warm start [")
    assert lines[-1].startswith("warm start [####################] 3/3 steps, loss ")
    lines.clear()
    tiny_model_dir(task, {"digits": 1}, tmp_path, tiny=SMALL, warm=warm, seed=1,
                   log=lines.append)
    assert lines == []  # cached: nothing to show


def test_warm_start_progress_eta_by_hand() -> None:
    """Steps of 0.25 s: a line after the first step, then every 15 s (60 steps), and after
    the last; ETA = mean step time so far x steps left."""
    now = [0.0]
    lines: list[str] = []
    report = warm_start_progress(lines.append, 300, clock=lambda: now[0])
    for step in range(300):
        now[0] += 0.25
        report(step, 0.5)
    assert lines == [
        "warm start [--------------------]   1/300 steps, loss 0.500, 0:00, eta 1:15",
        "warm start [####----------------]  61/300 steps, loss 0.500, 0:15, eta 1:00",
        "warm start [########------------] 121/300 steps, loss 0.500, 0:30, eta 0:45",
        "warm start [############--------] 181/300 steps, loss 0.500, 0:45, eta 0:30",
        "warm start [################----] 241/300 steps, loss 0.500, 1:00, eta 0:15",
        "warm start [####################] 300/300 steps, loss 0.500, 1:15, eta 0:00",
    ]
