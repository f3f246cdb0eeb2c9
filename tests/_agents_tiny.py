"""Tiny models and toy rewards shared by the agents' tests (trainer side): seconds, not minutes."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import torch

from agents import testing as agents_testing
from agents.policies.policy import Generation, LMPolicy, token_end_chars
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


def tiny_policy(seed: int = 0) -> LMPolicy:
    """:func:`agents.testing.tiny_policy` with its tokenizer trained on the tiny dataset's texts."""
    texts = [ex.prompt + " " + ex.references[0] for ex in TinyDataset().split("train")] * 5
    return agents_testing.tiny_policy(seed, texts)


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


# ------------------------------------------------------------------------------------------------
# A plain-layout oracle: every row holds its own prompt (left-padded) and response (right-padded).
# The trainer shares one prompt pass among a question's answers; tests check it against this.
# ------------------------------------------------------------------------------------------------


@dataclass
class PlainBatch:
    input_ids: torch.Tensor
    attention_mask: torch.Tensor
    position_ids: torch.Tensor
    prompt_length: int
    response_ids: torch.Tensor
    response_mask: torch.Tensor


def plain_batch(pad_token_id: int, generations: Sequence[Generation], num_used_tokens: Sequence[int] | None = None) -> PlainBatch:
    """Pad ``generations`` into one batch; ``response_mask`` is True on the first ``num_used_tokens[b]``."""
    if not generations:
        raise ValueError("plain_batch() needs at least one generation")
    used = [len(g.response_ids) for g in generations] if num_used_tokens is None else list(num_used_tokens)
    if len(used) != len(generations):
        raise ValueError(f"num_used_tokens has {len(used)} entries for {len(generations)} generations")
    prompt_width = max(len(g.prompt_ids) for g in generations)
    response_width = max(max(len(g.response_ids) for g in generations), 1)
    input_ids = torch.full((len(generations), prompt_width + response_width), pad_token_id, dtype=torch.long)
    attention_mask = torch.zeros_like(input_ids)
    response_mask = torch.zeros((len(generations), response_width), dtype=torch.bool)
    for row, (g, n) in enumerate(zip(generations, used)):
        if not 0 <= n <= len(g.response_ids):
            raise ValueError(f"num_used_tokens[{row}]={n} is outside [0, {len(g.response_ids)}]")
        p, r = len(g.prompt_ids), len(g.response_ids)
        input_ids[row, prompt_width - p : prompt_width] = torch.tensor(g.prompt_ids, dtype=torch.long)
        input_ids[row, prompt_width : prompt_width + r] = torch.tensor(g.response_ids, dtype=torch.long)
        attention_mask[row, prompt_width - p : prompt_width + r] = 1
        response_mask[row, :n] = True
    position_ids = (attention_mask.cumsum(dim=1) - 1).clamp(min=0)
    return PlainBatch(input_ids, attention_mask, position_ids, prompt_width, input_ids[:, prompt_width:], response_mask)


def plain_logprobs(model, batch: PlainBatch, temperature: float = 1.0) -> torch.Tensor:
    """log pi(response token | prompt, earlier tokens), shape (B, R); 0 where masked."""
    logits = model(input_ids=batch.input_ids, attention_mask=batch.attention_mask, position_ids=batch.position_ids).logits
    width = batch.response_ids.shape[1]
    logits = logits[:, batch.prompt_length - 1 : batch.prompt_length - 1 + width].float() / temperature
    logprobs = torch.log_softmax(logits, dim=-1).gather(-1, batch.response_ids.unsqueeze(-1)).squeeze(-1)
    return logprobs * batch.response_mask
