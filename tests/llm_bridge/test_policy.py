"""LLMPolicy: left-padded KV-cached sampling against uncached scoring, loading by path, LoRA."""

from __future__ import annotations

import pytest
import torch

from llm_bridge.algorithms.grpo import completion_mask
from llm_bridge.confidence import CONFIDENCE_FEATURES
from llm_bridge.models import (
    LoraSettings,
    ModelError,
    load_policy,
    load_pretrained,
    save_pretrained,
)
from llm_bridge.policy import DEMONSTRATION_SEED, HFCodec, LLMPolicy, PolicyError, pad_left
from llm_bridge.tiny import CharTokenizer, TinyConfig, build_tiny_model

SMALL = TinyConfig(layers=2, d_model=32, heads=2, ffn=64, max_len=128)


@pytest.fixture()
def policy() -> LLMPolicy:
    tok = CharTokenizer()
    return LLMPolicy(build_tiny_model(tok, SMALL, seed=0), tok, reference=True).eval()


def test_pad_left_positions() -> None:
    ids, mask, positions = pad_left([[5, 6, 7], [8]], pad_id=0)
    assert ids.tolist() == [[5, 6, 7], [0, 0, 8]]
    assert mask.tolist() == [[1, 1, 1], [0, 0, 1]]
    assert positions.tolist() == [[0, 1, 2], [0, 0, 0]]
    with pytest.raises(PolicyError):
        pad_left([], 0)
    with pytest.raises(PolicyError):
        pad_left([[1], []], 0)


def test_batched_greedy_equals_one_at_a_time(policy: LLMPolicy) -> None:
    prompts = [policy.codec.encode(t) for t in ("What is 1 + 2?\n", "7 * 8\n", "x")]
    batch = policy.generate(prompts, max_new_tokens=12, greedy=True)
    for i, prompt in enumerate(prompts):
        alone = policy.generate([prompt], max_new_tokens=12, greedy=True)
        assert batch.ids(i) == alone.ids(0)
        assert torch.allclose(batch.logprobs[i, : int(batch.lengths[i])],
                              alone.logprobs[0, : int(alone.lengths[0])], atol=1e-5)


def test_sampled_logprobs_match_uncached_scoring(policy: LLMPolicy) -> None:
    prompts = [policy.codec.encode(t) for t in ("12 + 3\n", "9\n", "<answer>")]
    generator = torch.Generator().manual_seed(0)
    out = policy.generate(prompts, max_new_tokens=10, temperature=1.0, generator=generator)
    completions = [out.ids(i) for i in range(len(prompts))]
    with torch.no_grad():
        scored, mask = policy.completion_logprobs(prompts, completions)
    assert torch.equal(mask, completion_mask([len(c) for c in completions]))
    for i, c in enumerate(completions):
        assert mask[i].sum() == len(c) == int(out.lengths[i])
        assert torch.allclose(scored[i, : len(c)], out.logprobs[i, : len(c)], atol=1e-4)
    # the same seed draws the same samples
    again = policy.generate(prompts, max_new_tokens=10, generator=torch.Generator().manual_seed(0))
    assert torch.equal(again.tokens, out.tokens)


def test_top_p_near_zero_is_greedy_and_bad_values_raise(policy: LLMPolicy) -> None:
    prompts = [policy.codec.encode("3 + 4\n")]
    greedy = policy.generate(prompts, max_new_tokens=8, greedy=True)
    nucleus = policy.generate(prompts, max_new_tokens=8, top_p=1e-6,
                              generator=torch.Generator().manual_seed(1))
    assert greedy.ids(0) == nucleus.ids(0)
    with pytest.raises(PolicyError):
        policy.generate(prompts, max_new_tokens=8, temperature=0.0)
    with pytest.raises(PolicyError):
        policy.generate(prompts, max_new_tokens=0)


def test_stop_at_newline_and_eos(policy: LLMPolicy) -> None:
    newline = policy.codec.encode("\n")[0]
    eos = policy.codec.eos_id
    with torch.no_grad():  # force the model to favour newline, then eos, by biasing lm_head
        bias = torch.zeros(policy.codec.vocab_size)
        bias[newline] = 50.0
        policy.model.lm_head.bias = torch.nn.Parameter(bias)
    out = policy.generate([[1, 5, 6]], max_new_tokens=6, greedy=True, stop_at_newline=True)
    assert out.ids(0) == [newline] and bool(out.stopped[0]) and not bool(out.eos[0])
    with torch.no_grad():
        policy.model.lm_head.bias[eos] = 100.0
    out = policy.generate([[1, 5], [1, 6, 7]], max_new_tokens=6, greedy=True)
    assert out.lengths.tolist() == [1, 1] and out.eos.all()
    assert policy.stop_ids().tolist() == [newline]


def test_values_in_range_and_follow_head(policy: LLMPolicy) -> None:
    prompts, completions = [[1, 10], [1, 12]], [[11], []]
    assert torch.equal(policy.values(prompts, completions), torch.zeros(2))  # zero head
    with torch.no_grad():
        policy.value_head.bias.fill_(0.5)
    assert torch.allclose(policy.values(prompts, completions), torch.tanh(torch.tensor([0.5, 0.5])))
    _, _, values = policy.completion_logprobs([[1, 10]], [[11]], with_values=True)
    assert torch.allclose(values, policy.values([[1, 10]], [[11]]), atol=1e-6)


def test_value_reads_the_policy_confidence(policy: LLMPolicy) -> None:
    """Weight only on the summed log-prob: the value is tanh(sum / 10) of the completion's
    token log-probs, computed here by hand from the model's logits."""
    prompt, completion = [1, 10, 12], [11, 13]
    with torch.no_grad():
        policy.value_head.weight.zero_()
        policy.value_head.weight[0, -CONFIDENCE_FEATURES] = 1.0
        logits = policy.model(input_ids=torch.tensor([prompt + completion])).logits[0]
    logp = logits.float().log_softmax(-1)
    by_hand = logp[2, 11] + logp[3, 13]
    assert torch.allclose(policy.values([prompt], [completion]), torch.tanh(by_hand / 10),
                          atol=1e-5)
    assert policy.values([prompt], [[]]).item() == 0.0  # nothing written: no confidence yet


def test_value_reads_the_problem_at_the_end_of_the_prompt(policy: LLMPolicy) -> None:
    """With no weight on the confidence features, the value is the head on the last hidden
    state of the prompt, whatever was written after it."""
    prompt = [1, 10, 12]
    with torch.no_grad():
        # seeded and small: an unseeded draw from the global RNG could saturate the tanh,
        # where two prompts' values agree to 1e-7 (the result then hung on test order)
        policy.value_head.weight.normal_(0.0, 0.05, generator=torch.Generator().manual_seed(0))
        policy.value_head.weight[0, -CONFIDENCE_FEATURES:] = 0.0
        hidden = policy.model(input_ids=torch.tensor([prompt]),
                              output_hidden_states=True).hidden_states[-1][0, -1]
        by_hand = torch.tanh(policy.value_head.weight[0, :-CONFIDENCE_FEATURES] @ hidden
                             + policy.value_head.bias[0])
    values = policy.values([prompt, prompt, [5] + prompt], [[], [11, 13], [11]])
    assert torch.allclose(values[:2], by_hand.expand(2), atol=1e-5)
    assert abs(values[2].item() - by_hand.item()) > 1e-4  # another prompt, another value


def test_value_head_of_another_shape_is_a_clear_error(policy: LLMPolicy) -> None:
    state = policy.trainable_state_dict()
    state["value_head.weight"] = state["value_head.weight"][:, :-CONFIDENCE_FEATURES]
    with pytest.raises(PolicyError, match="value head"):
        policy.load_trainable_state_dict(state)


def test_reference_is_frozen_copy(policy: LLMPolicy) -> None:
    prompts, completions = [[1, 20, 21]], [[22, 23]]
    before = policy.reference_logprobs(prompts, completions)
    with torch.no_grad():
        for p in policy.model.parameters():
            p.add_(0.1)
    now, _ = policy.completion_logprobs(prompts, completions)
    assert torch.equal(policy.reference_logprobs(prompts, completions), before)
    assert not torch.allclose(now, before)
    tok = CharTokenizer()
    bare = LLMPolicy(build_tiny_model(tok, SMALL), tok)
    with pytest.raises(PolicyError, match="reference"):
        bare.reference_logprobs(prompts, completions)


def test_save_and_load_by_path_gives_same_logits(tmp_path, policy: LLMPolicy) -> None:
    save_pretrained(policy.model, policy.codec, tmp_path / "tiny")
    loaded = load_policy(str(tmp_path / "tiny"))
    prompts, completions = [[1, 20, 21], [1, 5]], [[22, 23], [7]]
    with torch.no_grad():
        a, _ = policy.completion_logprobs(prompts, completions)
        b, _ = loaded.completion_logprobs(prompts, completions)
    assert torch.allclose(a, b, atol=1e-6)
    with pytest.raises(ModelError, match="cannot load"):
        load_pretrained(tmp_path / "nothing-here")


def test_hugging_face_tokenizer_path(tmp_path) -> None:
    """A model directory with a real HF tokenizer (built offline) loads through HFCodec."""
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    vocab = {"<pad>": 0, "<eos>": 1, "<unk>": 2, "1": 3, "+": 4, "2": 5, "\n": 6, "=": 7}
    core = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    core.pre_tokenizer = pre_tokenizers.Split("", behavior="isolated")
    hf = PreTrainedTokenizerFast(tokenizer_object=core, pad_token="<pad>", eos_token="<eos>",
                                 unk_token="<unk>")
    from transformers import LlamaConfig, LlamaForCausalLM

    model = LlamaForCausalLM(LlamaConfig(vocab_size=8, hidden_size=16, intermediate_size=32,
                                         num_hidden_layers=1, num_attention_heads=2,
                                         num_key_value_heads=2, max_position_embeddings=64))
    save_pretrained(model, HFCodec(hf), tmp_path / "hf")
    policy = load_policy(str(tmp_path / "hf"))
    assert isinstance(policy.codec, HFCodec) and policy.prompt_style == "task"
    assert policy.codec.encode("1+2\n") == [3, 4, 5, 6]
    assert policy.stop_ids().tolist() == [6]
    out = policy.generate([policy.codec.encode("1+2=")], max_new_tokens=3, greedy=True)
    assert out.tokens.shape[0] == 1


def test_lora_trains_only_adapter_and_reference_is_base(tmp_path, policy: LLMPolicy) -> None:
    pytest.importorskip("peft")
    save_pretrained(policy.model, policy.codec, tmp_path / "base")
    lora = load_policy(str(tmp_path / "base"), lora=LoraSettings(rank=4, alpha=8))
    assert lora.uses_lora and lora.has_reference
    state = lora.trainable_state_dict()
    assert state and all(k.startswith(("lora.", "value_head.")) for k in state)
    assert any("lora_A" in k for k in state)
    prompts, completions = [[1, 20, 21]], [[22, 23]]
    with torch.no_grad():
        for name, p in lora.model.named_parameters():
            if "lora_B" in name:
                p.add_(0.5)
        adapted, _ = lora.completion_logprobs(prompts, completions)
        base, _ = policy.completion_logprobs(prompts, completions)
    assert torch.allclose(lora.reference_logprobs(prompts, completions), base, atol=1e-5)
    assert not torch.allclose(adapted, base, atol=1e-3)
    fresh = load_policy(str(tmp_path / "base"), lora=LoraSettings(rank=4, alpha=8))
    fresh.load_trainable_state_dict(lora.trainable_state_dict())
    with torch.no_grad():
        again, _ = fresh.completion_logprobs(prompts, completions)
    assert torch.allclose(again, adapted, atol=1e-6)
    with pytest.raises(PolicyError, match="LoRA vs full"):
        fresh.load_trainable_state_dict(policy.trainable_state_dict())


def test_prompt_shots_show_the_same_worked_train_examples_first() -> None:
    from llm_bridge import tasks

    tok = CharTokenizer()
    model = build_tiny_model(tok, SMALL, seed=0)
    task = tasks.make("arithmetic")
    first, second = task.generate("test", 2, seed=0)
    zero, two = LLMPolicy(model, tok), LLMPolicy(model, tok, shots=2)
    text = two.prompt_text(task, first)
    assert text.endswith(zero.prompt_text(task, first))
    demos = text[: len(text) - len(zero.prompt_text(task, first))]
    assert two.prompt_text(task, second) == demos + zero.prompt_text(task, second)
    assert demos.count("What is") == 2 and demos.count("<answer>") == 2
    # the examples are train problems, solved correctly
    blocks = [b for b in demos.split("\n\n") if b]
    train_ids = {p.id for p in task.generate("train", 2, seed=DEMONSTRATION_SEED)}
    for block in blocks:
        question, *working = block.split("\n")
        problem = next(p for p in task.generate("train", 2, seed=DEMONSTRATION_SEED)
                       if p.prompt == question)
        assert problem.id in train_ids
        assert task.reward(problem, "\n".join(working)) == 1.0
    with pytest.raises(PolicyError, match="shots"):
        LLMPolicy(model, tok, shots=-1)


def test_prompt_shots_in_the_chat_template_are_earlier_turns() -> None:
    from tokenizers import Tokenizer, models
    from transformers import PreTrainedTokenizerFast

    from llm_bridge import tasks

    hf = PreTrainedTokenizerFast(
        tokenizer_object=Tokenizer(models.WordLevel({"<eos>": 0, "<unk>": 1}, unk_token="<unk>")),
        eos_token="<eos>", unk_token="<unk>")
    hf.chat_template = ("{% for m in messages %}[{{ m.role }}]{{ m.content }}{% endfor %}"
                        "{% if add_generation_prompt %}[assistant]{% endif %}")
    task = tasks.make("arithmetic")
    problem = task.generate("test", 1, seed=0)[0]
    (demo,) = task.generate("train", 1, seed=DEMONSTRATION_SEED)
    policy = LLMPolicy(build_tiny_model(CharTokenizer(), SMALL), HFCodec(hf), prompt_style="chat",
                       shots=1)
    assert policy.prompt_text(task, problem) == (
        f"[user]{task.format_prompt(demo)}[assistant]{task.worked_solution(demo)}"
        f"[user]{task.format_prompt(problem)}[assistant]")


def test_repeated_prompts_share_one_prompt_pass(policy: LLMPolicy) -> None:
    prompts = [policy.codec.encode("12 + 3\n")] * 3 + [policy.codec.encode("9\n")] * 2
    batch_sizes = []
    hook = policy.model.register_forward_pre_hook(
        lambda module, args, kwargs: batch_sizes.append(kwargs["input_ids"].shape[0]),
        with_kwargs=True)
    try:
        greedy = policy.generate(prompts, max_new_tokens=8, greedy=True)
    finally:
        hook.remove()
    assert batch_sizes[0] == 2 and set(batch_sizes[1:]) == {5}
    for i, prompt in enumerate(prompts):
        assert greedy.ids(i) == policy.generate([prompt], max_new_tokens=8, greedy=True).ids(0)
    sampled = policy.generate(prompts, max_new_tokens=8, generator=torch.Generator().manual_seed(1))
    completions = [sampled.ids(i) for i in range(len(prompts))]
    with torch.no_grad():
        scored, _ = policy.completion_logprobs(prompts, completions)
    for i, c in enumerate(completions):
        assert torch.allclose(scored[i, : len(c)], sampled.logprobs[i, : len(c)], atol=1e-4)


@pytest.mark.parametrize("rank", [0, 4])
def test_gradient_checkpointing_recomputes_layers_and_keeps_the_gradients(
        tmp_path, policy: LLMPolicy, rank: int, monkeypatch: pytest.MonkeyPatch) -> None:
    from transformers.models.llama import modeling_llama

    if rank:
        pytest.importorskip("peft")
    calls = []
    forward = modeling_llama.LlamaMLP.forward
    monkeypatch.setattr(modeling_llama.LlamaMLP, "forward",
                        lambda self, x: calls.append(1) or forward(self, x))
    save_pretrained(policy.model, policy.codec, tmp_path / "base")
    prompts, completions = [[1, 20, 21], [1, 30]], [[22, 23, 24], [25]]
    grads, mlp_calls = [], []
    for checkpointing in (False, True):
        torch.manual_seed(0)  # the same fresh adapter both times
        loaded = load_policy(str(tmp_path / "base"), lora=LoraSettings(rank=rank, alpha=8),
                             gradient_checkpointing=checkpointing).train()
        calls.clear()
        logprobs, mask = loaded.completion_logprobs(prompts, completions)
        (-(logprobs * mask).sum()).backward()
        grads.append({n: p.grad.clone() for n, p in loaded.named_parameters()
                      if p.requires_grad and p.grad is not None})
        mlp_calls.append(len(calls))
    layers = SMALL.layers
    assert mlp_calls == [layers, 2 * layers]  # each layer runs again in the backward pass
    assert grads[0].keys() == grads[1].keys() and grads[0]
    for name in grads[0]:
        assert torch.allclose(grads[0][name], grads[1][name], atol=1e-6), name
