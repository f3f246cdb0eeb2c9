"""How the detoxification experiment judges a policy: the paper's Table 1 metrics on sampled continuations.

The paper (Wu et al. 2023, Table 1) follows RealToxicityPrompts and DExperts: k continuations sampled per test
prompt (k = 25 in those works, the default here), their average maximum toxicity, the toxicity probability
(share of prompts with a sample of toxicity >= 0.5), their perplexity under a judge LM (fluency; GPT-2 XL
there, the start policy here unless another is given: offline there is no GPT-2 XL) and dist-1/2/3 (diversity).
:func:`detox_metrics` does that for any :class:`~agents.policies.policy.LMPolicy` (the metrics are
:mod:`fg_env.metrics_detox`'s): one batched ``generate`` call per chunk of prompts (each prompt's KV cache
shared by its k samples), each sample cut at the environment's ``max_sentences`` as an episode cuts it, one
scorer call for every sample, and batched perplexity. Sampling uses the run's own top-k and temperature (what
PPO optimised) with a fixed seed, so two policies are judged on the same random stream.

Example:
    >>> from agents.testing import tiny_policy
    >>> from fg_env.data import make_dataset
    >>> prompts = make_dataset("detox-synthetic").split("dev")[:2]
    >>> policy = tiny_policy()
    >>> metrics = detox_metrics(policy, prompts, policy, DetoxSampling(samples_per_prompt=3, max_new_tokens=8))
    >>> sorted(k for k in metrics if k != "samples")  # doctest: +NORMALIZE_WHITESPACE
    ['avg_max_toxicity', 'dist_1', 'dist_2', 'dist_3', 'length', 'perplexity', 'prompts', 'samples_per_prompt',
     'toxicity_probability']
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from fg_env.data.detox.types import DetoxPrompt
from fg_env.errors import InvalidValueError
from fg_env.metrics_detox import RTP_SAMPLES_PER_PROMPT, distinct_n, perplexity, toxicity_metrics
from fg_env.rewards.toxicity import DEFAULT_TOXICITY_SCORER, ToxicityScorer

__all__ = ["DETOX_COLUMNS", "DetoxSampling", "detox_metrics"]

#: The detoxification table's columns (key, title), in the paper's Table 1 order.
DETOX_COLUMNS: tuple[tuple[str, str], ...] = (
    ("avg_max_toxicity", "Avg. max toxicity ↓"),
    ("toxicity_probability", "Toxicity prob. ↓"),
    ("perplexity", "Perplexity ↓"),
    ("dist_1", "Dist-1 ↑"),
    ("dist_2", "Dist-2 ↑"),
    ("dist_3", "Dist-3 ↑"),
)
#: Metrics where less is better (the sample-efficiency table reads them so).
LOWER_IS_BETTER = ("avg_max_toxicity", "toxicity_probability", "perplexity")
#: Samples kept per evaluation for the report (the first sample of the first prompts).
KEPT_SAMPLES = 6


@dataclass(frozen=True)
class DetoxSampling:
    """How continuations are sampled for evaluation.

    Example:
        >>> DetoxSampling().samples_per_prompt
        25
        >>> DetoxSampling(samples_per_prompt=0)
        Traceback (most recent call last):
        ...
        fg_env.errors.InvalidValueError: DetoxSampling.samples_per_prompt must be a positive integer, got 0
    """

    samples_per_prompt: int = RTP_SAMPLES_PER_PROMPT
    max_new_tokens: int = 64
    max_sentences: int = 4
    top_k: int = 20
    temperature: float = 0.7
    seed: int = 0
    prompts_per_call: int = 8  # prompts per generate call: 8 x 25 = 200 sequences

    def __post_init__(self) -> None:
        for name in ("samples_per_prompt", "max_new_tokens", "max_sentences", "prompts_per_call"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise InvalidValueError(f"DetoxSampling.{name} must be a positive integer, got {value!r}")
        if not self.temperature > 0:
            raise InvalidValueError(f"DetoxSampling.temperature must be > 0, got {self.temperature!r}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def sample_continuations(policy: Any, prompts: Sequence[DetoxPrompt], sampling: DetoxSampling) -> list[list[str]]:
    """``sampling.samples_per_prompt`` continuations of each prompt, each cut at ``max_sentences`` sentences
    (with the whitespace that joins it to the prompt)."""
    from agents.experiments.evaluate import truncate_to_sentences

    k = sampling.samples_per_prompt
    groups: list[list[str]] = []
    for first in range(0, len(prompts), sampling.prompts_per_call):
        chunk = [p.prompt for p in prompts[first : first + sampling.prompts_per_call]]
        generations = policy.generate(
            chunk,
            max_new_tokens=sampling.max_new_tokens,
            do_sample=True,
            top_k=sampling.top_k,
            temperature=sampling.temperature,
            seed=sampling.seed + first,  # a fixed stream per chunk: every policy is judged on the same draws
            num_return_sequences=k,
        )
        # The whitespace that joins a continuation to its prompt is kept: perplexity reads prompt + continuation.
        texts = [
            _leading_space(g.response_text) + truncate_to_sentences(g.response_text, sampling.max_sentences)
            for g in generations
        ]
        groups += [texts[i * k : (i + 1) * k] for i in range(len(chunk))]
    return groups


def _leading_space(text: str) -> str:
    return text[: len(text) - len(text.lstrip())]


def detox_metrics(
    policy: Any,
    prompts: Sequence[DetoxPrompt],
    reference: Any,
    sampling: DetoxSampling = DetoxSampling(),
    scorer: str | ToxicityScorer = DEFAULT_TOXICITY_SCORER,
) -> dict[str, Any]:
    """The paper's Table 1 metrics of ``policy``'s sampled continuations of ``prompts``: average maximum toxicity
    and toxicity probability (``scorer``), perplexity under ``reference`` (the judge LM, an
    :class:`~agents.policies.policy.LMPolicy`), dist-1/2/3, the mean length in words, and a few samples."""
    if not prompts:
        raise InvalidValueError("no prompts to evaluate")
    raw = sample_continuations(policy, prompts, sampling)
    groups = [[text.strip() for text in group] for group in raw]
    toxicity = toxicity_metrics(groups, scorer, sampling.samples_per_prompt)
    words = [len(text.split()) for group in groups for text in group]
    return {
        "avg_max_toxicity": toxicity.avg_max_toxicity,
        "toxicity_probability": toxicity.toxicity_probability,
        "perplexity": perplexity([p.prompt for p in prompts], raw, reference.model, reference.tokenizer),
        **{f"dist_{n}": distinct_n(groups, n) for n in (1, 2, 3)},
        "length": float(np.mean(words)),
        "prompts": len(prompts),
        "samples_per_prompt": sampling.samples_per_prompt,
        "samples": [
            {"question": p.prompt, "example_id": p.id, "answer": group[0]}
            for p, group in list(zip(prompts, groups))[:KEPT_SAMPLES]
        ],
    }
