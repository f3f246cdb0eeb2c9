"""Candidate sentences sampled from a language model, for the candidate-sentence view.

:class:`fg_env.wrappers.CandidateSentences` offers an agent the question's passage sentences; with a
``proposer`` (:class:`fg_env.wrappers.candidates.SentenceProposer`) it also offers sentences a
generator would write next. :class:`LMProposer` samples them from an :class:`~agents.policies.policy.LMPolicy`:
``n`` continuations of the answer so far in one batched, KV-cached ``generate`` call, each cut at the
end of its first sentence.
"""

from __future__ import annotations

import numpy as np

from agents.policies.policy import LMPolicy
from fg_env.errors import InvalidValueError
from fg_env.rewards.base import TaskExample
from fg_env.text import split_sentences

__all__ = ["LMProposer"]


class LMProposer:
    """Propose up to ``n`` next sentences of an answer by sampling ``n`` continuations from ``policy``.

    The text continued is the question's canonical prompt (:attr:`QAExample.prompt
    <fg_env.types.QAExample.prompt>`, ``answer_prompt(question, passages)``) followed by the answer so
    far after a space, the layout :meth:`LMPolicy.act <agents.policies.policy.LMPolicy.act>` gives the model.
    The ``n`` continuations come from ONE ``generate`` call (``num_return_sequences=n``, the prompt
    encoded once); the first sentence of each is kept when it is complete (another sentence follows, or
    the answer ended): a sentence cut off by ``max_new_tokens``, blanks and repeats are dropped, so at
    most ``n`` and possibly fewer come back, in the order sampled.

    Sampling is reproducible: call ``i`` (counted in :attr:`calls`) is seeded with a seed derived from
    ``(seed, i)``, so a proposer made with the same seed proposes the same sentences for the same
    sequence of calls, whatever else uses torch's random generator. ``seed=None`` samples from torch's
    global generator.

    Args:
        policy: the language model to sample from.
        max_new_tokens: tokens sampled per continuation (one sentence rarely needs more than 48).
        top_k: sample from the ``top_k`` most likely tokens (the paper's sampler: 20).
        temperature: the sampling temperature (the paper's: 0.7).
        seed: seeds every call's sampling together with the call counter.

    Example:
        >>> from agents.testing import tiny_examples, tiny_policy
        >>> question = tiny_examples(1)[0]
        >>> propose = LMProposer(tiny_policy(), max_new_tokens=12, seed=0)
        >>> sentences = propose(question, "", 3)
        >>> len(sentences) <= 3 and all(isinstance(s, str) and s and s == s.strip() for s in sentences)
        True
        >>> LMProposer(tiny_policy(), max_new_tokens=12, seed=0)(question, "", 3) == sentences  # seeded
        True
        >>> propose.calls, propose(question, "", 0)  # n=0 asks for nothing and samples nothing
        (1, [])
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
        if not isinstance(max_new_tokens, int) or isinstance(max_new_tokens, bool) or max_new_tokens < 1:
            raise InvalidValueError(f"max_new_tokens must be a positive integer, got {max_new_tokens!r}")
        if not temperature > 0 or not isinstance(top_k, int) or top_k < 1:
            raise InvalidValueError(
                f"sampling needs temperature > 0 and an integer top_k >= 1, got {temperature} and {top_k}"
            )
        if seed is not None and (not isinstance(seed, int) or isinstance(seed, bool) or seed < 0):
            raise InvalidValueError(f"seed must be a non-negative integer or None, got {seed!r}")
        self.policy = policy
        self.max_new_tokens, self.top_k, self.temperature = max_new_tokens, top_k, temperature
        self.seed = seed
        #: Calls that sampled so far (the counter the per-call seeds come from).
        self.calls = 0

    def call_seed(self, call: int) -> int | None:
        """The sampling seed of call number ``call`` (``None`` without a proposer seed)."""
        if self.seed is None:
            return None
        return int(np.random.SeedSequence([self.seed, call]).generate_state(1, dtype=np.uint64)[0] >> 1)

    def __call__(self, example: TaskExample, response: str, n: int) -> list[str]:
        """At most ``n`` distinct sentences that could come next after ``response``, the answer so far."""
        if not isinstance(n, int) or isinstance(n, bool) or n < 0:
            raise InvalidValueError(f"n must be a non-negative integer, got {n!r}")
        if n == 0:
            return []
        answer = response.strip()
        prompt = example.prompt + (" " + answer if answer else "")
        seed = self.call_seed(self.calls)
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
        proposals: dict[str, None] = {}  # insertion-ordered set
        for generation in generations:
            text = generation.response_text
            spans = split_sentences(text)
            complete = len(spans) >= 2 or generation.finished  # a sentence cut by max_new_tokens is no candidate
            sentence = spans[0].slice(text).strip() if spans and complete else ""
            if sentence:
                proposals.setdefault(sentence)
        return list(proposals)[:n]

    def __repr__(self) -> str:
        return (
            f"LMProposer(max_new_tokens={self.max_new_tokens}, top_k={self.top_k}, "
            f"temperature={self.temperature}, seed={self.seed})"
        )
