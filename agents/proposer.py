"""Candidate sentences sampled from a language model, for the candidate-sentence view.

:class:`fg_env.wrappers.CandidateSentences` offers an agent the question's passage sentences; with a
``proposer`` it also offers sentences a generator would write next. :class:`LMProposer` samples them
from an :class:`~agents.policy.LMPolicy`: n continuations of the answer so far in one batched,
KV-cached ``generate`` call, each cut at its first sentence end.
"""

from __future__ import annotations

from agents.policy import LMPolicy
from fg_env.text import split_sentences
from fg_env.types import QAExample

__all__ = ["LMProposer"]


class LMProposer:
    """Propose up to ``n`` next sentences of an answer by sampling ``n`` continuations from ``policy``.

    The prompt is the question's canonical prompt followed by the answer so far (as the policy was
    trained: ``answer:``, a space, the answer). Each continuation's first sentence is kept if it is
    complete (another sentence follows, or the answer ended); blank ones, sentences cut off by
    ``max_new_tokens`` and repeats are dropped, so fewer than ``n`` may come back. Sampling is seeded by ``seed`` and a
    call counter: the same proposer seed gives the same proposals in the same order of calls.

    Args:
        policy: the language model to sample from.
        max_new_tokens: tokens sampled per continuation (one sentence rarely needs more than 48).
        top_k, temperature: the sampler (the paper's: top-k 20, temperature 0.7).
        seed: seeds the call counter's sampling; ``None`` samples from torch's global generator.

    Example:
        >>> from agents.testing import tiny_examples, tiny_policy
        >>> propose = LMProposer(tiny_policy(), max_new_tokens=12, seed=0)
        >>> question = tiny_examples()[0]
        >>> sentences = propose(question, "", 3)
        >>> len(sentences) <= 3 and all(isinstance(s, str) and s == s.strip() and s for s in sentences)
        True
        >>> LMProposer(tiny_policy(), max_new_tokens=12, seed=0)(question, "", 3) == sentences  # seeded
        True
    """

    def __init__(
        self,
        policy: LMPolicy,
        *,
        max_new_tokens: int = 48,
        top_k: int = 20,
        temperature: float = 0.7,
        seed: int | None = None,
    ) -> None:
        if not isinstance(max_new_tokens, int) or max_new_tokens < 1:
            raise ValueError(f"max_new_tokens must be a positive integer, got {max_new_tokens!r}")
        if temperature <= 0 or top_k < 1:
            raise ValueError(f"sampling needs temperature > 0 and top_k >= 1, got {temperature} and {top_k}")
        self.policy = policy
        self.max_new_tokens, self.top_k, self.temperature = max_new_tokens, top_k, temperature
        self.seed = seed
        self.calls = 0

    def __call__(self, example: QAExample, response: str, n: int) -> list[str]:
        if not isinstance(n, int) or n < 0:
            raise ValueError(f"n must be a non-negative integer, got {n!r}")
        if n == 0:
            return []
        answer = response.strip()
        prompt = example.prompt + (" " + answer if answer else "")
        seed = None if self.seed is None else self.seed * 1_000_003 + self.calls
        self.calls += 1
        generations = self.policy.generate(
            [prompt],
            max_new_tokens=self.max_new_tokens,
            do_sample=True,
            top_k=self.top_k,
            temperature=self.temperature,
            seed=seed,
            num_return_sequences=n,
        )
        proposals: dict[str, None] = {}
        for generation in generations:
            text = generation.response_text
            spans = split_sentences(text)
            complete = len(spans) >= 2 or generation.finished  # a cut-off sentence is no candidate
            sentence = text[spans[0].start : spans[0].end].strip() if spans and complete else ""
            if sentence:
                proposals.setdefault(sentence)
        return list(proposals)[:n]

    def __repr__(self) -> str:
        return f"LMProposer(max_new_tokens={self.max_new_tokens}, top_k={self.top_k}, seed={self.seed})"
