"""Evaluate agents on a split: greedy answers of an LM policy, or any sentence-by-sentence agent.

The answers are scored by :func:`fg_env.metrics.evaluate_answers` (relevance ratio, factuality
ratio, completeness, ROUGE-L, length, error counts), the paper's evaluation.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from fg_env.metrics import evaluate_answers
from fg_env.text import split_sentences
from fg_env.types import QAExample

EVAL_BATCH_SIZE = 32


def load_examples(split: str, limit: int | None = None, dataset: str = "synthetic") -> list[QAExample]:
    """The first ``limit`` questions of ``split`` (all when ``limit`` is None).

    Example:
        >>> len(load_examples("dev", limit=3))
        3
    """
    from fg_env.data import make_dataset

    examples = make_dataset(dataset).split(split)
    count = len(examples) if limit is None else min(limit, len(examples))
    return [examples[i] for i in range(count)]


def truncate_to_sentences(text: str, max_sentences: int) -> str:
    """``text`` cut after its ``max_sentences``-th sentence, as the environment truncates an answer.

    Example:
        >>> truncate_to_sentences(" Ada was born in 1815. She died in 1852. Then more.", 2)
        'Ada was born in 1815. She died in 1852.'
    """
    spans = split_sentences(text)
    if not spans:
        return ""
    return text[spans[0].start : spans[min(max_sentences, len(spans)) - 1].end]


def greedy_answers(
    policy: Any,
    examples: Sequence[QAExample],
    *,
    max_new_tokens: int = 96,
    max_sentences: int = 10,
    batch_size: int = EVAL_BATCH_SIZE,
    progress: bool = False,
) -> list[str]:
    """Greedy answers of an :class:`agents.policy.LMPolicy` to ``examples`` (batched generation)."""
    from tqdm.auto import tqdm

    answers: list[str] = []
    batches = range(0, len(examples), batch_size)
    for first in tqdm(batches, desc="evaluate", unit="batch", disable=not progress):
        prompts = [ex.prompt for ex in examples[first : first + batch_size]]
        generations = policy.generate(prompts, max_new_tokens=max_new_tokens, do_sample=False)
        answers.extend(truncate_to_sentences(g.response_text, max_sentences) for g in generations)
    return answers


def evaluate_policy(
    policy: Any,
    examples: Sequence[QAExample],
    *,
    max_new_tokens: int = 96,
    max_sentences: int = 10,
    batch_size: int = EVAL_BATCH_SIZE,
    progress: bool = False,
) -> dict[str, Any]:
    """Metrics of a policy's greedy answers (the paper evaluates greedily), plus a few answers.

    Example:
        >>> from agents.testing import tiny_policy  # or LMPolicy.from_pretrained("runs/ppo/policy")
        >>> metrics = evaluate_policy(tiny_policy(), load_examples("dev", 2), max_new_tokens=8)
        >>> sorted(k for k in ("relevance_ratio", "factuality_ratio", "completeness", "rouge_l", "length") if k in metrics)
        ['completeness', 'factuality_ratio', 'length', 'relevance_ratio', 'rouge_l']
    """
    answers = greedy_answers(
        policy,
        examples,
        max_new_tokens=max_new_tokens,
        max_sentences=max_sentences,
        batch_size=batch_size,
        progress=progress,
    )
    return metrics_of(examples, answers)


def evaluate_sentence_agent(
    agent: Callable[[Mapping[str, str]], str], env: Any, indices: Sequence[int]
) -> dict[str, Any]:
    """Metrics of a sentence-by-sentence agent (e.g. the random-sentence baseline) on ``indices``.

    The agent plays one episode per question of ``env``'s split; its final responses are scored.
    """
    from agents.rollout import run_episode

    examples = [env.unwrapped.examples[i] for i in indices]
    answers = [run_episode(env, agent, options={"index": int(i)})[0] for i in indices]
    return metrics_of(examples, answers)


def metrics_of(examples: Sequence[QAExample], answers: Sequence[str]) -> dict[str, Any]:
    """fg_env's metrics of ``answers`` as a plain dict, with three sample answers for a human to read
    (each with its question's id, so that it can be replayed and drawn: ``fg-env compare``'s report)."""
    metrics = evaluate_answers(list(examples), list(answers)).to_dict()
    metrics["samples"] = [
        {"question": ex.question, "example_id": ex.id, "answer": answer}
        for ex, answer in list(zip(examples, answers))[:3]
    ]
    return metrics
