"""Evaluate agents on a split: greedy answers of an LM policy, or any sentence-by-sentence agent.

The answers are scored by :func:`fg_env.metrics.evaluate_answers` (relevance ratio, factuality
ratio, completeness, ROUGE-L, length, error counts), the paper's evaluation.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from agents.experiments.settings import MAX_SENTENCES
from agents.policies.policy import ANSWER_TOKENS
from fg_env.metrics import evaluate_answers
from fg_env.text import split_sentences
from fg_env.types import QAExample

EVAL_BATCH_SIZE = 32


def load_examples(
    split: str, limit: int | None = None, dataset: str = "synthetic", data_dir: str | None = None
) -> list[QAExample]:
    """The first ``limit`` questions of ``split`` of ``dataset`` (all when ``limit`` is None).

    Example:
        >>> len(load_examples("dev", limit=3))
        3
    """
    from fg_env.data import make_dataset

    examples = make_dataset(dataset, **({"data_dir": data_dir} if data_dir is not None else {})).split(split)
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
    max_new_tokens: int = ANSWER_TOKENS,
    max_sentences: int = MAX_SENTENCES,
    batch_size: int = EVAL_BATCH_SIZE,
    progress: bool = False,
) -> list[str]:
    """Greedy answers of an :class:`agents.policies.policy.LMPolicy` to ``examples`` (batched generation)."""
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
    max_new_tokens: int = ANSWER_TOKENS,
    max_sentences: int = MAX_SENTENCES,
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
    from agents.algorithms.rollout import run_episode

    examples = [env.unwrapped.examples[i] for i in indices]
    answers = [run_episode(env, agent, options={"index": int(i)})[0] for i in indices]
    return metrics_of(examples, answers)


def sample_answers(examples: Sequence[QAExample], answers: Sequence[str], count: int = 3) -> list[dict[str, str]]:
    """The first ``count`` answers with their questions, for a human to read (each with its question's id,
    so that it can be replayed and drawn: ``fg-env compare``'s report)."""
    return [
        {"question": ex.question, "example_id": ex.id, "answer": answer}
        for ex, answer in list(zip(examples, answers))[:count]
    ]


def metrics_of(examples: Sequence[QAExample], answers: Sequence[str]) -> dict[str, Any]:
    """fg_env's metrics of ``answers`` as a plain dict, with three sample answers for a human to read
    (each with its question's id, so that it can be replayed and drawn: ``fg-env compare``'s report)."""
    metrics = evaluate_answers(list(examples), list(answers)).to_dict()
    metrics["samples"] = sample_answers(examples, answers)
    return metrics


def evaluate_with_reward_models(env: Any, examples: Sequence[QAExample], answers: Sequence[str]) -> dict[str, Any]:
    """Metrics of ``answers`` judged by ``env``'s reward models, where no annotator exists (QA-Feedback), as
    the paper measured its policies with its reward models.

    Each answer is played through ``env`` (a copy per answer, side by side). ``relevance_ratio`` and
    ``factuality_ratio`` are the shares of the relevance and factuality models' segments scored above 0
    (no error, for the +1 / -1 token models); ``completeness`` is the completeness model's mean score
    (standardised, not a share); ``preference`` the preference model's, when the env holds one. ROUGE-L
    and length as always. ``judge`` names the reward models.

    Example:
        >>> import gymnasium as gym, fg_env
        >>> env = gym.make("FineGrainedQA-v0", split="dev")
        >>> examples = load_examples("dev", 2)
        >>> metrics = evaluate_with_reward_models(env, examples, [e.references[0] for e in examples])
        >>> metrics["relevance_ratio"], metrics["factuality_ratio"], metrics["completeness"]
        (1.0, 1.0, 1.0)
    """
    from fg_env.envs.answers import play_answers
    from fg_env.envs.vector import FineGrainedQAVectorEnv
    from fg_env.metrics import rouge_l

    envs = FineGrainedQAVectorEnv.from_env(env, max(1, min(16, len(answers))))
    played = play_answers(envs, list(answers), example_ids=[e.id for e in examples])
    verdicts: dict[str, list[float]] = {}
    returns: dict[str, list[float]] = {}
    for answer in played:
        totals: dict[str, float] = {}
        for info in answer.infos:
            for segment in info.get("segments", ()):
                name = segment["component"]
                verdicts.setdefault(name, []).append(float(segment["value"]))
                totals[name] = totals.get(name, 0.0) + float(segment["value"])
        for name, total in totals.items():
            returns.setdefault(name, []).append(total)

    def share_positive(name: str) -> float | None:
        values = verdicts.get(name)
        return None if not values else float(np.mean(np.array(values) > 0))

    def mean_return(name: str) -> float | None:
        values = returns.get(name)
        return None if not values else float(np.sum(values) / max(len(answers), 1))

    metrics: dict[str, Any] = {
        "relevance_ratio": share_positive("relevance"),
        "factuality_ratio": share_positive("factuality"),
        "completeness": mean_return("completeness"),
        "rouge_l": float(np.mean([rouge_l(a, e.references) for e, a in zip(examples, answers)])) if answers else 0.0,
        "length": float(np.mean([len(a.split()) for a in answers])) if answers else 0.0,
        "num_answers": len(answers),
        "judge": "reward models: " + ", ".join(sorted(verdicts)),
    }
    if "preference" in returns:
        metrics["preference"] = mean_return("preference")
    metrics["samples"] = sample_answers(examples, answers)
    return metrics
