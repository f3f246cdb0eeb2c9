"""A tiny, untrained LM policy for examples, doctests and tests: real code paths in a second.

It is a one-layer, 32-wide GPT-2 with random weights and a 300-token byte-level BPE tokenizer,
trained on the texts given (by default the prompts and gold answers of the built-in world's first
train questions). Its answers are noise, but everything a real policy does (batched KV-cached
generation, token offsets, rollouts, PPO updates, saving and loading) runs on it.

Example:
    >>> policy = tiny_policy()
    >>> [g] = policy.generate([tiny_examples()[0].prompt], max_new_tokens=5, do_sample=False)
    >>> len(g.response_ids) <= 5
    True
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from transformers import GPT2Config, GPT2LMHeadModel

from agents.policies.policy import LMPolicy
from agents.policies.tokenizer import train_tokenizer
from fg_env.data import make_dataset
from fg_env.types import QAExample

__all__ = ["tiny_examples", "tiny_policy"]


def tiny_examples(count: int = 8, split: str = "train") -> list[QAExample]:
    """The first ``count`` questions of a split of the built-in world."""
    examples = make_dataset("synthetic").split(split)
    return [examples[i] for i in range(count)]


def tiny_policy(seed: int = 0, texts: Sequence[str] | None = None) -> LMPolicy:
    """A one-layer GPT-2 with random weights (seeded) and a tokenizer trained on ``texts``."""
    if texts is None:
        texts = [ex.prompt + " " + ex.references[0] for ex in tiny_examples()]
    tokenizer = train_tokenizer(texts, vocab_size=300)
    torch.manual_seed(seed)
    config = GPT2Config(
        vocab_size=len(tokenizer),
        n_embd=32,
        n_layer=1,
        n_head=2,
        n_positions=256,
        bos_token_id=tokenizer.eos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    return LMPolicy(GPT2LMHeadModel(config), tokenizer)
