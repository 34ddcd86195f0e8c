"""The LLM policy: a causal LM, an optional LoRA adapter, a value head, sampling and scoring.

`LLMPolicy` wraps any Hugging Face causal LM (the tiny offline model, SmolLM2, a local path
or a hub name: see `llm_bridge.models`) behind the few operations the bridge needs:

* `generate`: KV-cached batched sampling with temperature and top-p (or greedy), left-padded
  prompts, optional stop at the end of a line (one reasoning step); returns token ids,
  per-token log-probs under the model (temperature 1) and lengths.
* `completion_logprobs`: per-token log-probs of given completions after given prompts, with
  gradients, for the learners.
* `values`: a scalar value head estimating the expected reward from a partial text: a
  linear layer, squashed by tanh into [-1, 1], on the last hidden state at the end of the
  prompt (what the problem is) and on the policy's confidence in the text written so far
  (`confidence_features`: the sum, mean and minimum of its token log-probs). By default
  its loss does not flow into the language model (`value_detach`); the confidence features
  never carry its gradient.
* `reference_logprobs`: the same log-probs under the reference model (the adapter disabled
  under LoRA, else a frozen copy of the weights at creation), for a KL penalty.

Every batch is left-padded and carries explicit position ids, so a prompt's tokens get the
same positions whatever else is in the batch, and the last column is always a real token.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, nullcontext
from typing import Any, Protocol

import torch
from torch import nn

from llm_bridge.confidence import CONFIDENCE_FEATURES, confidence_features
from llm_bridge.sampling import Generation, sample_tokens

PROMPT_STYLES = ("bare", "task", "chat")
DEMONSTRATION_SEED = 7919
"""Seed of the train problems shown as worked examples (`shots`)."""


class PolicyError(ValueError):
    """Bad input given to the policy (empty batch, unknown prompt style, bad sampling values)."""


class TextCodec(Protocol):
    """What the policy needs of a tokenizer."""

    pad_id: int
    eos_id: int
    bos_id: int | None

    def encode(self, text: str) -> list[int]: ...

    def decode(self, ids: Sequence[int]) -> str: ...

    def token_text(self, token_id: int) -> str: ...

    @property
    def vocab_size(self) -> int: ...


class HFCodec:
    """A Hugging Face tokenizer seen through `TextCodec` (pad falls back to eos)."""

    def __init__(self, tokenizer: Any) -> None:
        if tokenizer.eos_token_id is None:
            raise PolicyError("the tokenizer has no end-of-sequence token")
        self.tokenizer = tokenizer
        self.eos_id = int(tokenizer.eos_token_id)
        self.pad_id = int(tokenizer.pad_token_id) if tokenizer.pad_token_id is not None \
            else self.eos_id
        bos = getattr(tokenizer, "bos_token_id", None)
        self.bos_id = int(bos) if bos is not None and getattr(tokenizer, "add_bos_token", False) \
            else None

    @property
    def vocab_size(self) -> int:
        return len(self.tokenizer)

    def encode(self, text: str) -> list[int]:
        return list(self.tokenizer.encode(text, add_special_tokens=False))

    def decode(self, ids: Sequence[int]) -> str:
        return self.tokenizer.decode([int(i) for i in ids], skip_special_tokens=True)

    def token_text(self, token_id: int) -> str:
        return self.tokenizer.decode([int(token_id)])

    def chat_prompt(self, user_text: str,
                    demonstrations: Sequence[tuple[str, str]] = ()) -> str:
        """`user_text` as the last user turn, after (user, assistant) example exchanges."""
        turns = [{"role": role, "content": text} for user, reply in demonstrations
                 for role, text in (("user", user), ("assistant", reply))]
        return self.tokenizer.apply_chat_template(
            turns + [{"role": "user", "content": user_text}], tokenize=False,
            add_generation_prompt=True)

    @property
    def has_chat_template(self) -> bool:
        return bool(getattr(self.tokenizer, "chat_template", None))


def pad_left(sequences: Sequence[Sequence[int]], pad_id: int,
             device: torch.device | str = "cpu") -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Left-pad id lists into `(ids [B, L], attention_mask [B, L], position_ids [B, L])`.

    Raises:
        PolicyError: an empty batch or an empty sequence.
    """
    if len(sequences) == 0:
        raise PolicyError("empty batch")
    width = max(len(s) for s in sequences)
    if min(len(s) for s in sequences) == 0:
        raise PolicyError("every sequence needs at least one token")
    ids = torch.full((len(sequences), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(sequences), width), dtype=torch.long)
    for i, seq in enumerate(sequences):
        ids[i, width - len(seq):] = torch.as_tensor(list(seq), dtype=torch.long)
        mask[i, width - len(seq):] = 1
    positions = (mask.cumsum(dim=1) - 1).clamp(min=0)
    return ids.to(device), mask.to(device), positions.to(device)


class LLMPolicy(nn.Module):
    """A causal LM with a value head, sampling and scoring (see the module docstring).

    Args:
        model: a Hugging Face causal LM (possibly a peft model).
        codec: its tokenizer as a `TextCodec`.
        spec: JSON-serialisable description of where the weights came from (kept in
            checkpoints so the base can be rebuilt).
        prompt_style: `bare` (the problem text and a newline), `task` (the task's full
            prompt with its answer-format instructions) or `chat` (that prompt in the
            tokenizer's chat template).
        reference: keep a frozen copy of the weights for KL penalties (ignored under LoRA,
            where the reference is the model with its adapter disabled).
        value_detach: the value loss trains the value head only, not the language model
            under it (a probe on the LM's features; a shared trunk let value regression
            disturb the LM of a small model).
        shots: worked examples (train problems and the task's worked solutions) shown
            before each problem, as earlier chat turns in the `chat` style. A small chat
            model that never writes the answer format when told to does copy it from one.
    """

    def __init__(self, model: nn.Module, codec: TextCodec, *, spec: dict[str, Any] | None = None,
                 prompt_style: str = "bare", reference: bool = False,
                 value_detach: bool = True, shots: int = 0) -> None:
        super().__init__()
        if prompt_style not in PROMPT_STYLES:
            raise PolicyError(f"unknown prompt style {prompt_style!r}; expected {PROMPT_STYLES}")
        if prompt_style == "chat" and not getattr(codec, "has_chat_template", False):
            raise PolicyError("prompt style 'chat' needs a tokenizer with a chat template")
        self.model = model
        self.codec = codec
        self.spec = dict(spec or {})
        self.prompt_style = prompt_style
        if not isinstance(shots, int) or shots < 0:
            raise PolicyError(f"shots must be an int >= 0, got {shots!r}")
        self.shots = shots
        self._demo_cache: dict[str, list[tuple[Any, str]]] = {}  # task name -> examples
        self.value_detach = value_detach
        hidden = int(model.config.hidden_size)
        self.value_head = nn.Linear(hidden + CONFIDENCE_FEATURES, 1)
        nn.init.zeros_(self.value_head.weight)
        nn.init.zeros_(self.value_head.bias)
        self._reference: nn.Module | None = None
        if reference and not self.uses_lora:
            self._reference = copy.deepcopy(model).eval()
            for p in self._reference.parameters():
                p.requires_grad_(False)
        self._stop_ids: torch.Tensor | None = None

    # ------------------------------------------------------------------ structure
    @property
    def uses_lora(self) -> bool:
        return hasattr(self.model, "peft_config")

    def language_model_parameters(self) -> list[nn.Parameter]:
        """The trainable weights other than the value head's (the LM or its adapter)."""
        head = {id(p) for p in self.value_head.parameters()}
        return [p for p in self.parameters() if p.requires_grad and id(p) not in head]

    @property
    def device(self) -> torch.device:
        return self.value_head.weight.device

    @property
    def has_reference(self) -> bool:
        return self.uses_lora or self._reference is not None

    def trainable_state_dict(self) -> dict[str, torch.Tensor]:
        """What a checkpoint must hold: LoRA weights (or all LM weights) and the value head."""
        if self.uses_lora:
            from peft import get_peft_model_state_dict

            lm = {f"lora.{k}": v for k, v in get_peft_model_state_dict(self.model).items()}
        else:
            lm = {f"lm.{k}": v for k, v in self.model.state_dict().items()}
        head = {f"value_head.{k}": v for k, v in self.value_head.state_dict().items()}
        return {k: v.detach().cpu().clone().contiguous() for k, v in {**lm, **head}.items()}

    def load_trainable_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        """Inverse of `trainable_state_dict` (strict: every key must match).

        Raises:
            PolicyError: the weights are for the other kind of policy (LoRA vs full).
        """
        kind = "lora." if self.uses_lora else "lm."
        if not any(k.startswith(kind) for k in state):
            raise PolicyError(f"checkpoint weights lack {kind}* keys (LoRA vs full weights)")
        lm = {k[len(kind):]: v for k, v in state.items() if k.startswith(kind)}
        head = {k[len("value_head."):]: v for k, v in state.items() if k.startswith("value_head.")}
        if self.uses_lora:
            from peft import set_peft_model_state_dict

            result = set_peft_model_state_dict(self.model, lm)
            if getattr(result, "unexpected_keys", None):
                raise PolicyError(f"unexpected LoRA weights: {result.unexpected_keys[:3]}")
        else:
            self.model.load_state_dict(lm, strict=True)
        weight = head.get("weight")
        if weight is not None and weight.shape != self.value_head.weight.shape:
            raise PolicyError(f"the checkpoint's value head has {weight.shape[-1]} inputs, this "
                              f"policy's {self.value_head.weight.shape[-1]}: it was saved by an "
                              "older version, whose head read other features")
        self.value_head.load_state_dict(head, strict=True)

    # ------------------------------------------------------------------ prompts
    def prompt_text(self, task: Any, problem: Any) -> str:
        """The text the model is conditioned on for `problem`, after `shots` worked examples."""
        demos = self._demonstrations(task)
        if self.prompt_style == "chat":
            return self.codec.chat_prompt(  # type: ignore[attr-defined]
                task.format_prompt(problem), [(task.format_prompt(d), s) for d, s in demos])
        question = (lambda p: p.prompt) if self.prompt_style == "bare" else task.format_prompt
        shown = "".join(f"{question(d)}\n{s}\n\n" for d, s in demos)
        return f"{shown}{question(problem)}\n"

    def _demonstrations(self, task: Any) -> list[tuple[Any, str]]:
        """`shots` train problems of `task` with their worked solutions, the same every call.

        They come from the train split, so they never show a dev or test problem."""
        if not self.shots:
            return []
        key = getattr(task, "name", "")
        if key not in self._demo_cache:
            try:
                problems = task.generate("train", self.shots, seed=DEMONSTRATION_SEED)
                self._demo_cache[key] = [(p, task.worked_solution(p)) for p in problems]
            except NotImplementedError as error:
                raise PolicyError(f"prompt shots need worked solutions: {error}") from None
        return self._demo_cache[key]

    def prompt_ids(self, problems: Sequence[Any], task: Any = None) -> list[list[int]]:
        """Token ids of each problem's prompt (bos first when the tokenizer uses one)."""
        head = [self.codec.bos_id] if self.codec.bos_id is not None else []
        return [head + self.codec.encode(self.prompt_text(task, p)) for p in problems]

    def stop_ids(self) -> torch.Tensor:
        """long `[S]`: tokens whose text contains a newline (they end a reasoning step)."""
        if self._stop_ids is None:
            ids = [i for i in range(self.codec.vocab_size) if "\n" in self.codec.token_text(i)]
            self._stop_ids = torch.tensor(ids, dtype=torch.long)
        return self._stop_ids.to(self.device)

    # ------------------------------------------------------------------ forward passes
    def _forward(self, sequences: Sequence[Sequence[int]], model: nn.Module | None = None,
                 hidden: bool = False, keep: int = 0) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Logits of the last `keep` positions (0 = all) and, with `hidden`, the last layer.

        Keeping only the positions that are scored matters: the LM head over a 49k
        vocabulary costs more than the rest of a 135M model, so projecting prompt positions
        that nobody reads would double the cost of a training step."""
        ids, mask, positions = pad_left(sequences, self.codec.pad_id, self.device)
        out = (model or self.model)(input_ids=ids, attention_mask=mask, position_ids=positions,
                                    output_hidden_states=hidden, use_cache=False,
                                    logits_to_keep=keep)
        return out.logits, (out.hidden_states[-1] if hidden else None)

    def completion_logprobs(self, prompts: Sequence[Sequence[int]],
                            completions: Sequence[Sequence[int]], *,
                            reference: bool = False,
                            with_values: bool = False) -> Any:
        """Per-token log-probs of `completions[i]` after `prompts[i]`.

        Args:
            prompts: B prompt id lists.
            completions: B completion id lists (may be empty).
            reference: score under the reference model instead (no gradients).
            with_values: also return the value head of each prompt + completion.

        Returns:
            `(logprobs [B, T], mask [B, T])`, T = the longest completion, both float, mask 1
            on real tokens; with `with_values`, `(logprobs, mask, values [B])`.
        """
        logprobs, mask, hidden = self._score(prompts, completions, reference, with_values)
        if not with_values:
            return logprobs, mask
        return logprobs, mask, self._value(hidden, logprobs, mask)

    def _score(self, prompts: Sequence[Sequence[int]], completions: Sequence[Sequence[int]],
               reference: bool, hidden: bool
               ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
        """`completion_logprobs`'s log-probs and mask, and with `hidden` the last layer's
        state at the end of each row's prompt (its last token before the completion)."""
        if len(prompts) != len(completions):
            raise PolicyError(f"{len(prompts)} prompts for {len(completions)} completions")
        sequences = [list(p) + list(c) for p, c in zip(prompts, completions)]
        width = max(len(s) for s in sequences)
        t_max = max(1, max(len(c) for c in completions))
        context = self._reference_context() if reference else nullcontext(None)
        # Left padding puts every completion at the end of its row: the last t_max + 1
        # positions predict all completion tokens.
        keep = min(width, t_max + 1)
        with context as ref_model:
            logits, last_hidden = self._forward(sequences, ref_model, hidden=hidden, keep=keep)
        offset = width - keep
        logprobs = torch.zeros(len(sequences), t_max, device=logits.device)
        mask = torch.zeros(len(sequences), t_max, device=logits.device)
        rows, cols, targets, slots_r, slots_c = [], [], [], [], []
        for i, (p, c) in enumerate(zip(prompts, completions)):
            start = width - len(sequences[i]) + len(p)
            for j, token in enumerate(c):
                rows.append(i)
                cols.append(start + j - 1 - offset)
                targets.append(int(token))
                slots_r.append(i)
                slots_c.append(j)
        if rows:
            r = torch.tensor(rows, device=logits.device)
            picked = logits[r, torch.tensor(cols, device=logits.device)].float()
            values = picked.log_softmax(-1).gather(
                1, torch.tensor(targets, device=logits.device)[:, None])[:, 0]
            index = (torch.tensor(slots_r, device=logits.device),
                     torch.tensor(slots_c, device=logits.device))
            logprobs = logprobs.index_put(index, values)
            mask[index] = 1.0
        if last_hidden is None:
            return logprobs, mask, None
        prompt_end = torch.tensor([width - len(c) - 1 for c in completions],
                                  device=last_hidden.device)
        return logprobs, mask, last_hidden[torch.arange(len(sequences)), prompt_end]

    def reference_logprobs(self, prompts: Sequence[Sequence[int]],
                           completions: Sequence[Sequence[int]]) -> torch.Tensor:
        """float `[B, T]` log-probs under the reference model (no gradients).

        Raises:
            PolicyError: the policy was built without a reference.
        """
        if not self.has_reference:
            raise PolicyError("this policy keeps no reference model (build it with reference=True)")
        with torch.no_grad():
            return self.completion_logprobs(prompts, completions, reference=True)[0]

    @contextmanager
    def _reference_context(self) -> Iterator[nn.Module]:
        if self.uses_lora:
            with torch.no_grad(), self.model.disable_adapter():
                yield self.model
        elif self._reference is not None:
            with torch.no_grad():
                yield self._reference
        else:
            raise PolicyError("this policy keeps no reference model")

    def _value(self, hidden: torch.Tensor, logprobs: torch.Tensor,
               mask: torch.Tensor) -> torch.Tensor:
        if self.value_detach:
            hidden = hidden.detach()
        inputs = torch.cat([hidden.float(), confidence_features(logprobs, mask)], dim=1)
        return torch.tanh(self.value_head(inputs)[:, 0])

    def values(self, prompts: Sequence[Sequence[int]],
               completions: Sequence[Sequence[int]]) -> torch.Tensor:
        """float `[B]`: the value head after each prompt + completion (the text so far)."""
        # A detached head needs no graph through the language model.
        with torch.no_grad() if self.value_detach else nullcontext():
            logprobs, mask, hidden = self._score(prompts, completions, False, True)
        return self._value(hidden, logprobs, mask)

    @torch.no_grad()
    def prompt_states(self, prompts: Sequence[Sequence[int]]) -> torch.Tensor:
        """float `[B, hidden]`: the last layer's state at each prompt's last token, what
        the value head reads of the problem (no gradients)."""
        _, hidden = self._forward(prompts, hidden=True, keep=1)
        return hidden[:, -1]

    def values_given(self, prompt_states: torch.Tensor, logprobs: torch.Tensor,
                     mask: torch.Tensor) -> torch.Tensor:
        """float `[B]`: `values` from what it reads, without a forward pass: the prompts'
        `prompt_states` and the completions' per-token log-probs `[B, T]` (mask 1 on real
        tokens), such as `generate` returned when it sampled them. A search that keeps the
        log-probs of its sampled steps evaluates its nodes this way."""
        return self._value(prompt_states, logprobs, mask)

    # ------------------------------------------------------------------ sampling
    @torch.no_grad()
    def generate(self, prompts: Sequence[Sequence[int]], *, max_new_tokens: int,
                 temperature: float = 1.0, top_p: float = 1.0, greedy: bool = False,
                 stop_at_newline: bool = False,
                 generator: torch.Generator | None = None) -> Generation:
        """Sample one completion per prompt, all at once, with a KV cache.

        Args:
            prompts: B prompt id lists (left-padded here).
            max_new_tokens: cap on each completion's length.
            temperature: softmax temperature of the sampling (> 0).
            top_p: nucleus mass kept (0 < top_p <= 1).
            greedy: take the most likely token (temperature and top_p ignored).
            stop_at_newline: end a completion after a token containing a newline.
            generator: the torch RNG that draws the samples (on the policy's device).

        Returns:
            A `Generation` (see its attributes for shapes).
        """
        if max_new_tokens < 1:
            raise PolicyError(f"max_new_tokens must be >= 1, got {max_new_tokens}")
        if not greedy and (temperature <= 0 or not 0 < top_p <= 1):
            raise PolicyError(f"need temperature > 0 and 0 < top_p <= 1, got {temperature}, "
                              f"{top_p}")
        # A GRPO group repeats its prompt G times: run each distinct prompt through the
        # model once and copy its cache rows, which makes the prompt pass G times cheaper.
        distinct: dict[tuple[int, ...], int] = {}
        rows = [distinct.setdefault(tuple(int(t) for t in p), len(distinct)) for p in prompts]
        ids, mask, positions = pad_left(list(distinct), self.codec.pad_id, self.device)
        out = self.model(input_ids=ids, attention_mask=mask, position_ids=positions,
                         use_cache=True, logits_to_keep=1)
        past, logits = out.past_key_values, out.logits[:, -1]
        if len(distinct) < len(rows):
            index = torch.tensor(rows, dtype=torch.long, device=self.device)
            past.reorder_cache(index)
            logits, mask, positions = logits[index], mask[index], positions[index]
        batch = len(rows)
        next_position = positions[:, -1:] + 1
        stop = self.stop_ids() if stop_at_newline else None
        tokens = torch.full((batch, max_new_tokens), self.codec.pad_id, dtype=torch.long,
                            device=self.device)
        logprobs = torch.zeros(batch, max_new_tokens, device=self.device)
        entropy = torch.zeros(batch, max_new_tokens, device=self.device)
        lengths = torch.zeros(batch, dtype=torch.long, device=self.device)
        eos = torch.zeros(batch, dtype=torch.bool, device=self.device)
        stopped = torch.zeros(batch, dtype=torch.bool, device=self.device)
        for t in range(max_new_tokens):
            full = logits.float().log_softmax(-1)
            token = (full.argmax(-1) if greedy
                     else sample_tokens(full, temperature, top_p, generator))
            active = ~(eos | stopped)
            tokens[:, t] = torch.where(active, token, tokens[:, t])
            logprobs[:, t] = torch.where(active, full.gather(1, token[:, None])[:, 0], 0.0)
            # clamped: a -inf log-prob (a masked token) would make 0 * -inf = nan
            entropy[:, t] = torch.where(active, -(full.exp() * full.clamp(min=-1e30)).sum(-1),
                                        0.0)
            lengths += active.long()
            eos |= active & (token == self.codec.eos_id)
            if stop is not None:
                stopped |= active & torch.isin(token, stop) & (token != self.codec.eos_id)
            if bool((eos | stopped).all()) or t == max_new_tokens - 1:
                break
            mask = torch.cat([mask, torch.ones(batch, 1, dtype=mask.dtype, device=self.device)], 1)
            out = self.model(input_ids=token[:, None], attention_mask=mask,
                             position_ids=next_position, past_key_values=past, use_cache=True)
            past, logits = out.past_key_values, out.logits[:, -1]
            next_position = next_position + 1
        width = max(1, int(lengths.max()))
        return Generation(tokens[:, :width], logprobs[:, :width], lengths, eos, stopped,
                          entropy[:, :width])
