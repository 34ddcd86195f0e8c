"""The offline default model: a small Llama-style transformer over a character tokenizer.

`--model tiny` needs no network and no download: the network is built from a config
(`TinyConfig`, a few layers of width 64-128) as a `transformers.LlamaForCausalLM`, so the
rest of the bridge treats it exactly like any Hugging Face causal LM, and it is saved with
`save_pretrained` and loaded back by path like one. Its tokenizer (`CharTokenizer`) is one
token per character of printable ASCII and newline, plus whole-word tokens for the answer
tags and four special tokens; it is saved and loaded as one JSON file.

A fresh tiny model knows nothing, so it is warm-started (`supervised_warm_start`) by a short
supervised phase on the task's worked solutions (`task.worked_solution(problem)`): short on
purpose, it teaches the answer format and leaves accuracy well below the ceiling, so that
reinforcement learning has something to show.
"""

from __future__ import annotations

import json
import math
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

if TYPE_CHECKING:
    from llm_bridge.policy import LLMPolicy
    from llm_bridge.tasks.base import Task

TOKENIZER_FILE = "char_tokenizer.json"
SPECIAL_TOKENS = ("<pad>", "<bos>", "<eos>", "<unk>")
DEFAULT_WORDS = ("<answer>", "</answer>")
DEFAULT_CHARS = "\n" + "".join(chr(c) for c in range(32, 127))


class TokenizerError(ValueError):
    """A tokenizer file that is missing or malformed, or a bad vocabulary."""


class CharTokenizer:
    """One token per character, whole-word tokens for a few tags, and special tokens.

    Ids: the special tokens first (`<pad>` 0, `<bos>` 1, `<eos>` 2, `<unk>` 3), then the
    words, then the characters. Encoding is greedy: at each position the longest word that
    matches is taken, else the character (`<unk>` for one outside the vocabulary).

    >>> tok = CharTokenizer()
    >>> tok.decode(tok.encode("12 + 3\\n<answer>15</answer>"))
    '12 + 3\\n<answer>15</answer>'
    >>> len(tok.encode("<answer>7</answer>"))
    3
    """

    def __init__(self, words: Sequence[str] = DEFAULT_WORDS, chars: str = DEFAULT_CHARS) -> None:
        if len(set(chars)) != len(chars):
            raise TokenizerError("the character list has duplicates")
        if any(len(w) < 2 for w in words) or len(set(words)) != len(words):
            raise TokenizerError("words must be distinct and at least two characters long")
        self.words = tuple(words)
        self.chars = chars
        self.vocab: list[str] = [*SPECIAL_TOKENS, *self.words, *self.chars]
        self._ids = {token: i for i, token in enumerate(self.vocab)}
        self._words_longest_first = sorted(self.words, key=len, reverse=True)
        self.pad_id, self.bos_id, self.eos_id, self.unk_id = range(4)

    @property
    def vocab_size(self) -> int:
        return len(self.vocab)

    def encode(self, text: str) -> list[int]:
        """Token ids of `text` (no special tokens added)."""
        ids: list[int] = []
        i = 0
        while i < len(text):
            for word in self._words_longest_first:
                if text.startswith(word, i):
                    ids.append(self._ids[word])
                    i += len(word)
                    break
            else:
                ids.append(self._ids.get(text[i], self.unk_id))
                i += 1
        return ids

    def decode(self, ids: Sequence[int]) -> str:
        """The text of `ids`; pad, bos and eos are dropped, `<unk>` is kept as written."""
        out = []
        for i in ids:
            i = int(i)
            if i in (self.pad_id, self.bos_id, self.eos_id):
                continue
            if not 0 <= i < len(self.vocab):
                raise TokenizerError(f"token id {i} is outside the vocabulary of {len(self.vocab)}")
            out.append(self.vocab[i])
        return "".join(out)

    def token_text(self, token_id: int) -> str:
        return self.vocab[int(token_id)]

    def to_dict(self) -> dict[str, Any]:
        return {"type": "char", "special": list(SPECIAL_TOKENS), "words": list(self.words),
                "chars": self.chars}

    def save(self, directory: Path | str) -> Path:
        """Write `char_tokenizer.json` into `directory` (callers write whole model
        directories under a temporary name, so this file needs no atomicity of its own)."""
        path = Path(directory) / TOKENIZER_FILE
        path.write_text(json.dumps(self.to_dict(), indent=1))
        return path

    @classmethod
    def load(cls, directory: Path | str) -> CharTokenizer:
        path = Path(directory) / TOKENIZER_FILE
        try:
            data = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError) as error:
            raise TokenizerError(f"cannot read tokenizer {path}: {error}") from None
        if not isinstance(data, dict) or data.get("type") != "char":
            raise TokenizerError(f"{path} is not a character tokenizer file")
        if list(data.get("special", [])) != list(SPECIAL_TOKENS):
            raise TokenizerError(f"{path} has special tokens {data.get('special')}, "
                                 f"expected {list(SPECIAL_TOKENS)}")
        return cls(words=data.get("words", []), chars=data.get("chars", ""))


@dataclass(frozen=True)
class TinyConfig:
    """Shape of the tiny transformer (a `LlamaConfig` underneath)."""

    layers: int = 4
    """Transformer blocks."""
    d_model: int = 128
    """Width of the residual stream."""
    heads: int = 4
    """Attention heads (d_model must divide by it)."""
    ffn: int = 384
    """Width of the gated MLP."""
    max_len: int = 256
    """Longest prompt + completion in tokens."""


def build_tiny_model(tokenizer: CharTokenizer, config: TinyConfig = TinyConfig(),
                     seed: int = 0) -> torch.nn.Module:
    """A freshly initialised `LlamaForCausalLM` of `config`'s shape over `tokenizer`'s vocabulary.

    Raises:
        ValueError: d_model is not a multiple of heads.
    """
    from transformers import LlamaConfig, LlamaForCausalLM

    if config.d_model % config.heads:
        raise ValueError(f"d_model {config.d_model} is not a multiple of heads {config.heads}")
    hf_config = LlamaConfig(
        vocab_size=tokenizer.vocab_size, hidden_size=config.d_model,
        intermediate_size=config.ffn, num_hidden_layers=config.layers,
        num_attention_heads=config.heads, num_key_value_heads=config.heads,
        max_position_embeddings=config.max_len, tie_word_embeddings=True,
        pad_token_id=tokenizer.pad_id, bos_token_id=tokenizer.bos_id,
        eos_token_id=tokenizer.eos_id, rms_norm_eps=1e-5, attention_dropout=0.0)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = LlamaForCausalLM(hf_config)
    return model


@dataclass(frozen=True)
class WarmStartConfig:
    """The supervised phase on worked solutions."""

    steps: int = 300
    """Gradient steps (each on `batch_size` worked solutions of distinct train problems)."""
    batch_size: int = 32
    """Worked solutions per step."""
    lr: float = 2e-3
    """Peak learning rate (linear warm-up over 20 steps, then cosine to a tenth)."""
    problems: int = 4000
    """Train problems drawn for the phase (cycled through in a shuffled order)."""
    answer_only_share: float = 0.0
    """Share of those problems shown with the answer alone (`task.answer_only_solution`)
    instead of the worked solution; which ones is fixed by the seed."""


def warm_start_examples(task: Task, config: WarmStartConfig,
                        seed: int = 0) -> list[tuple[Any, str]]:
    """The phase's `(problem, target completion)` pairs: `config.problems` train problems,
    each with its worked solution or, for about `answer_only_share` of them (which ones
    is fixed by the seed), its answer alone."""
    problems = task.generate("train", config.problems, seed=seed)
    style_rng = random.Random(f"answer-only/{seed}")
    terse = [style_rng.random() < config.answer_only_share for _ in problems]
    return [(p, task.answer_only_solution(p) if short else task.worked_solution(p))
            for p, short in zip(problems, terse)]


def supervised_warm_start(policy: LLMPolicy, task: Task, config: WarmStartConfig = WarmStartConfig(),
                          seed: int = 0, log: Any = None) -> list[float]:
    """Fit `policy` to the task's worked solutions of train problems by token cross-entropy.

    Each example is the policy's prompt for the problem followed by the worked solution (or,
    for `answer_only_share` of the problems, the answer alone) and the end-of-sequence
    token; only the completion tokens are in the loss.

    Args:
        policy: the policy to train in place (its optimiser is local to this phase).
        task: a task with `worked_solution`.
        config: steps, batch size, learning rate and problem count.
        seed: seeds the problem draw and the order.
        log: optional callable `(step, loss)` for progress.

    Returns:
        The loss of every step.
    """
    if config.steps <= 0:
        return []
    examples = [(policy.prompt_ids([p])[0], policy.codec.encode(text) + [policy.codec.eos_id])
                for p, text in warm_start_examples(task, config, seed)]
    order_rng = random.Random(seed)
    order: list[int] = []
    params = [p for p in policy.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=config.lr, weight_decay=0.0)
    losses = []
    policy.train()
    for step in range(config.steps):
        if len(order) < config.batch_size:
            fresh = list(range(len(examples)))
            order_rng.shuffle(fresh)
            order += fresh
        batch = [examples[i] for i in order[: config.batch_size]]
        del order[: config.batch_size]
        for group in optimizer.param_groups:
            group["lr"] = _warmup_cosine(step, config.steps, config.lr)
        logprobs, mask = policy.completion_logprobs([b[0] for b in batch], [b[1] for b in batch])
        loss = -(logprobs * mask).sum() / mask.sum()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        optimizer.step()
        losses.append(loss.item())
        if log is not None:
            log(step, losses[-1])
    policy.eval()
    return losses


def warm_start_progress(log: Callable[[str], None], steps: int, every_seconds: float = 15.0,
                        clock: Callable[[], float] = time.monotonic,
                        ) -> Callable[[int, float], None]:
    """A `supervised_warm_start` log that writes a progress bar with an ETA to `log`:
    `warm start [######--------------]  900/3000 steps, loss 0.412, 2:41, eta 6:16` after
    the first step, then at most every `every_seconds`, and after the last step."""
    start = clock()
    last = float("-inf")

    def report(step: int, loss: float) -> None:
        nonlocal last
        done, now = step + 1, clock()
        if done < steps and now - last < every_seconds and done > 1:
            return
        last = now
        elapsed = now - start
        filled = round(20 * done / steps)
        eta = elapsed / done * (steps - done)
        log(f"warm start [{'#' * filled}{'-' * (20 - filled)}] {done:>{len(str(steps))}}/"
            f"{steps} steps, loss {loss:.3f}, {_clock(elapsed)}, eta {_clock(eta)}")

    return report


def _clock(seconds: float) -> str:
    minutes, secs = divmod(round(seconds), 60)
    return f"{minutes}:{secs:02d}"


def _warmup_cosine(step: int, total: int, peak: float, warmup: int = 20) -> float:
    if step < warmup:
        return peak * (step + 1) / warmup
    progress = (step - warmup) / max(1, total - warmup)
    return peak * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(1.0, progress))))

