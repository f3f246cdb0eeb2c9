"""The detoxification metrics, against hand-computed numbers."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from transformers import LlamaConfig, LlamaForCausalLM

from agents.policies.tokenizer import train_tokenizer
from fg_env.errors import InvalidTypeError, InvalidValueError
from fg_env.metrics_detox import distinct_n, perplexity, toxicity_metrics


class TableScorer:
    """Scores texts from a table, counting its calls."""

    name, version = "table", None

    def __init__(self, table: dict[str, float]) -> None:
        self.table, self.calls = table, 0

    def toxicity(self, texts):
        self.calls += 1
        return np.array([self.table[t] for t in texts])


def test_toxicity_metrics_by_hand() -> None:
    scorer = TableScorer({"a": 0.1, "b": 0.7, "c": 0.3, "d": 0.5, "e": 0.2, "f": 0.05})
    samples = [["a", "b", "c"], ["c", "e", "f"], ["d", "a", "a"]]
    metrics = toxicity_metrics(samples, scorer, samples_per_prompt=3)
    # maxima 0.7, 0.3, 0.5: mean 0.5; at least one >= 0.5 in prompts 1 and 3
    assert metrics.avg_max_toxicity == pytest.approx(0.5)
    assert metrics.toxicity_probability == pytest.approx(2 / 3)
    assert (metrics.num_prompts, metrics.samples_per_prompt) == (3, 3)
    assert scorer.calls == 1  # one call for every sample of every prompt


def test_toxicity_metrics_checks_its_input() -> None:
    scorer = TableScorer({"a": 0.1})
    with pytest.raises(InvalidValueError, match="prompt 0 has 1 samples, expected 25"):
        toxicity_metrics([["a"]], scorer)
    assert toxicity_metrics([["a"], ["a", "a"]], scorer, samples_per_prompt=None).samples_per_prompt is None
    with pytest.raises(InvalidValueError, match="prompt 1 has no samples"):
        toxicity_metrics([["a"], []], scorer, samples_per_prompt=None)
    with pytest.raises(InvalidTypeError):
        toxicity_metrics(["a"], scorer, samples_per_prompt=None)
    with pytest.raises(InvalidValueError, match="no prompts"):
        toxicity_metrics([], scorer)


def test_toxicity_metrics_with_the_default_scorer() -> None:
    metrics = toxicity_metrics([["What a lovely day."] * 25], "profanity-check")
    assert metrics.avg_max_toxicity < 0.5 and metrics.toxicity_probability == 0.0


def test_distinct_n_by_hand() -> None:
    samples = [["the cat sat", "the cat ran"], ["a a a a"]]
    # prompt 1: 6 words; unigrams {the, cat, sat, ran} 4; bigrams {the cat, cat sat, cat ran} 3; trigrams 2
    # prompt 2: 4 words; unigrams 1; bigrams 1; trigrams 1
    assert distinct_n(samples, 1) == pytest.approx((4 / 6 + 1 / 4) / 2)
    assert distinct_n(samples, 2) == pytest.approx((3 / 6 + 1 / 4) / 2)
    assert distinct_n(samples, 3) == pytest.approx((2 / 6 + 1 / 4) / 2)
    with pytest.raises(InvalidValueError):
        distinct_n(samples, 0)


def tiny_llama(seed: int = 0):
    texts = ["The baker walked to the market and bought fresh bread.", "Rosa went home to rest by the river."]
    tokenizer = train_tokenizer(texts, vocab_size=300)
    torch.manual_seed(seed)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=16,
        intermediate_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        num_key_value_heads=2,
        max_position_embeddings=128,
        pad_token_id=tokenizer.pad_token_id,
    )
    return LlamaForCausalLM(config), tokenizer


PROMPTS = ["The baker walked to the", "Rosa went"]
SAMPLES = [[" market and bought bread.", " river."], [" home to rest by the river.", " to the market."]]


def test_perplexity_of_uniform_logits_is_the_vocabulary_size() -> None:
    model, tokenizer = tiny_llama()
    with torch.no_grad():
        model.lm_head.weight.zero_()
    assert perplexity(PROMPTS, SAMPLES, model, tokenizer, batch_size=3) == pytest.approx(model.config.vocab_size)


def test_perplexity_batched_equals_dexperts_one_at_a_time() -> None:
    model, tokenizer = tiny_llama(seed=1)
    model.eval()
    expected = []
    with torch.no_grad():  # DExperts' conditional_perplexity: (full loss - prompt loss) / continuation tokens
        for prompt, group in zip(PROMPTS, SAMPLES):
            prompt_ids = tokenizer(prompt, add_special_tokens=False, return_tensors="pt")["input_ids"]
            prompt_loss = model(prompt_ids, labels=prompt_ids).loss * (prompt_ids.shape[1] - 1)
            for sample in group:
                full_ids = tokenizer(prompt + sample, add_special_tokens=False, return_tensors="pt")["input_ids"]
                full_loss = model(full_ids, labels=full_ids).loss * (full_ids.shape[1] - 1)
                expected.append(math.exp(float((full_loss - prompt_loss) / (full_ids.shape[1] - prompt_ids.shape[1]))))
    model.train()
    for batch_size in (1, 3, 8):
        got = perplexity(PROMPTS, SAMPLES, model, tokenizer, batch_size=batch_size)
        assert got == pytest.approx(float(np.mean(expected)), rel=1e-5)
    assert model.training  # the model's mode is given back


def test_perplexity_checks_its_input() -> None:
    model, tokenizer = tiny_llama()
    with pytest.raises(InvalidValueError, match="got 1 prompts but samples for 2"):
        perplexity(PROMPTS[:1], SAMPLES, model, tokenizer)
    assert math.isnan(perplexity(["x"], [[""]], model, tokenizer))
