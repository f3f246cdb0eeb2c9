"""Tiny models and toy rewards shared by the agents' tests (trainer side): seconds, not minutes."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import torch
from transformers import GPT2Config, GPT2LMHeadModel

from agents.policy import Generation, LMPolicy, token_end_chars
from agents.tokenizer import train_tokenizer
from conftest import TinyDataset, tiny_models
from fg_env.envs.qa import FineGrainedQAEnv
from fg_env.rewards.base import RewardModel, ScoringRequest, SegmentScore
from fg_env.types import Granularity


class LetterShare(RewardModel):
    """The toy reward: each sub-sentence earns the share of its words that contain ``letter``.

    Deterministic, instant, and dense enough that a few PPO iterations on a random tiny model move it.
    """

    name, granularity, bounds = "letter", Granularity.SUB_SENTENCE, (0.0, 1.0)

    def __init__(self, letter: str = "a") -> None:
        self.letter = letter

    def score(self, requests: Sequence[ScoringRequest]) -> list[SegmentScore]:
        out = []
        for r in requests:
            words = r.segment_text.split()
            out.append(SegmentScore(sum(self.letter in w for w in words) / max(len(words), 1)))
        return out


def tiny_tokenizer():
    texts = [ex.prompt + " " + ex.references[0] for ex in TinyDataset().split("train")] * 5
    return train_tokenizer(texts, vocab_size=300)


def tiny_policy(seed: int = 0) -> LMPolicy:
    """A one-layer, 32-wide GPT-2 with random weights and a 300-token BPE tokenizer."""
    tokenizer = tiny_tokenizer()
    torch.manual_seed(seed)
    config = GPT2Config(
        vocab_size=len(tokenizer), n_embd=32, n_layer=1, n_head=2, n_positions=256,
        bos_token_id=tokenizer.eos_token_id, eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id,
    )
    return LMPolicy(GPT2LMHeadModel(config), tokenizer)


def save_tiny_policy(folder: Path, seed: int = 0) -> Path:
    tiny_policy(seed).save_pretrained(folder)
    return folder


def tiny_env(reward_models=None, max_sentences: int = 4) -> FineGrainedQAEnv:
    return FineGrainedQAEnv(
        dataset=TinyDataset(), split="train", reward_models=reward_models or tiny_models(), max_sentences=max_sentences
    )


def fixed_generation(policy: LMPolicy, prompt: str, text: str, eos: bool = True) -> Generation:
    """A Generation of exactly ``text`` (plus eos), as ``LMPolicy.generate`` would return it."""
    ids = policy.tokenizer(text, add_special_tokens=False).input_ids
    ends = token_end_chars(policy.tokenizer, ids, text)
    if eos:
        ids, ends = ids + [policy.eos_token_id], ends + [len(text)]
    prompt_ids = policy.tokenizer(prompt, add_special_tokens=False).input_ids
    return Generation(prompt, prompt_ids, ids, text, ends, finished=eos)
