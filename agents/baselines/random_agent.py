"""A random-sentence agent: the floor any learned policy must beat.

It answers with sentences copied at random from the passages (mostly the question's own, sometimes other
questions'), then stops after a random number of sentences. It reads nothing but the observation, so it
works with any environment whose observation has ``passages`` (and ``response``) text, wrapped or not.
Copied passage sentences are fluent, often true and often irrelevant: a useful contrast to a language
model's errors.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

import numpy as np

from fg_env.errors import InvalidValueError
from fg_env.text import split_sentences

__all__ = ["ANSWER_SENTENCES", "RandomSentenceAgent", "passage_sentences"]

#: The random agent's own longest answer: it draws 1..5 sentences uniformly. A property of the baseline, not an
#: episode length: the environment's ``max_sentences`` (the experiments' 6) may only cut it shorter, and the
#: committed results' random rows were drawn with it.
ANSWER_SENTENCES = 5

# QA-Feedback's context layout: "wikipage: TITLE text: SENTENCES | wikipage: ..."
_PAGE = re.compile(r"wikipage:\s*(?P<title>.*?)\s+text:\s*(?P<text>.*)", re.DOTALL)


def passage_sentences(passages: str) -> list[str]:
    """The sentences of a prompt's passages, without the ``wikipage: ... text:`` headers.

    Example:
        >>> passage_sentences("wikipage: A text: A is red. A is big. | wikipage: B text: B is blue.")
        ['A is red.', 'A is big.', 'B is blue.']
    """
    sentences: list[str] = []
    for page in passages.split(" | "):
        match = _PAGE.match(page.strip())
        body = match.group("text") if match else page
        sentences.extend(body[s.start : s.end] for s in split_sentences(body))
    return sentences


class RandomSentenceAgent:
    """Answer with 1..``max_sentences`` random passage sentences, then the empty action.

    Each sentence comes from the question's own passages, or with probability ``other_passage_prob``
    from passages of earlier questions (and ``corpus``), which are off-topic. An episode starts whenever
    the observation's response is empty.

    Example:
        >>> agent = RandomSentenceAgent(seed=0, max_sentences=2)
        >>> obs = {"question": "Q?", "passages": "wikipage: A text: A is red. A is big.", "response": ""}
        >>> agent(obs) in {"A is red.", "A is big."}
        True
    """

    def __init__(
        self,
        seed: int | None = None,
        max_sentences: int = ANSWER_SENTENCES,
        other_passage_prob: float = 0.3,
        corpus: Iterable[str] = (),
        pool_size: int = 10_000,
    ) -> None:
        if not isinstance(max_sentences, int) or max_sentences < 1:
            raise InvalidValueError(f"max_sentences must be a positive integer, got {max_sentences!r}")
        if not 0.0 <= other_passage_prob <= 1.0:
            raise InvalidValueError(f"other_passage_prob must be in [0, 1], got {other_passage_prob!r}")
        self.rng = np.random.default_rng(seed)
        self.max_sentences = max_sentences
        self.other_passage_prob = other_passage_prob
        self.pool_size = pool_size
        self._pool: list[str] = [s for s in corpus if s.strip()][:pool_size]
        self._seen = 0
        self._own: list[str] = []
        self._remaining = 0

    def _add_to_pool(self, sentences: list[str]) -> None:
        # Reservoir sampling keeps a uniform sample of every sentence seen, in bounded memory.
        for sentence in sentences:
            self._seen += 1
            if len(self._pool) < self.pool_size:
                self._pool.append(sentence)
            else:
                slot = int(self.rng.integers(self._seen))
                if slot < self.pool_size:
                    self._pool[slot] = sentence

    def act(self, obs: Mapping[str, str]) -> str:
        """The next sentence, or ``""`` to end the answer."""
        if not obs.get("response", ""):
            self._own = passage_sentences(obs.get("passages", ""))
            self._remaining = int(self.rng.integers(1, self.max_sentences + 1))
        if self._remaining <= 0:
            self._add_to_pool(self._own)
            self._own = []
            return ""
        self._remaining -= 1
        use_other = self._pool and (not self._own or self.rng.random() < self.other_passage_prob)
        source = self._pool if use_other else self._own
        if not source:
            return ""
        return source[int(self.rng.integers(len(source)))]

    __call__ = act
