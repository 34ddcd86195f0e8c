"""What one decoding step draws, and what a batched generation returns (`LLMPolicy.generate`)."""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F


@dataclass
class Generation:
    """Sampled completions of a batch of B prompts, T = the longest completion.

    Attributes:
        tokens: long `[B, T]` sampled ids, `pad_id` after each completion's end.
        logprobs: float `[B, T]` log-prob of each sampled token under the model at
            temperature 1 (0 after the end).
        lengths: long `[B]` tokens in each completion (the eos or stop token included).
        eos: bool `[B]` the completion ended with the end-of-sequence token.
        stopped: bool `[B]` the completion ended at a stop token (end of a line).
        entropy: float `[B, T]` entropy in nats of the model's next-token distribution at
            temperature 1 where each token was drawn (0 after the end).
    """

    tokens: torch.Tensor
    logprobs: torch.Tensor
    lengths: torch.Tensor
    eos: torch.Tensor
    stopped: torch.Tensor
    entropy: torch.Tensor

    def ids(self, i: int) -> list[int]:
        """Completion `i`'s token ids (its eos/stop token included)."""
        return self.tokens[i, : int(self.lengths[i])].tolist()

    def sequence_logprob(self) -> torch.Tensor:
        """float `[B]` total log-prob of each completion."""
        return self.logprobs.sum(dim=1)


def sample_tokens(logprobs: torch.Tensor, temperature: float, top_p: float,
            generator: torch.Generator | None) -> torch.Tensor:
    """long `[B]` tokens drawn from `softmax(logprobs / temperature)` truncated to mass top_p."""
    probs = F.softmax(logprobs / temperature, dim=-1)
    if top_p < 1.0:
        sorted_probs, order = probs.sort(dim=-1, descending=True)
        before = sorted_probs.cumsum(-1) - sorted_probs
        sorted_probs = torch.where(before < top_p, sorted_probs, torch.zeros_like(sorted_probs))
        probs = torch.zeros_like(probs).scatter(-1, order, sorted_probs)
    return torch.multinomial(probs, 1, generator=generator)[:, 0]
