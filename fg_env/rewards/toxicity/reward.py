"""The detoxification task's reward models: the paper's dense toxicity reward and its holistic form.

Wu et al. (2023) query a toxicity scorer after every generated sentence and give that sentence
``-(toxicity after it - toxicity before it)``, the change it caused (:class:`ToxicityChange`); the holistic
reward is ``1 - toxicity`` of the whole continuation, once at the end (:class:`ContinuationToxicity`).
Toxicity is of the continuation so far (the prompt is the task's, not the policy's), and nothing written
yet has toxicity 0, so a continuation's dense rewards sum to ``-toxicity(continuation)``, the holistic
reward less one. Each reward is Markov: it reads only the text up to the end of its sentence.

Both call their scorer once per :meth:`score` call for all the texts of the batch (every sub-environment's
new sentences at once), and :class:`ToxicityChange` remembers the last texts it scored, so the "before" of
a sentence, which is the "after" of the sentence before it, is not scored twice.

Example:
    >>> import numpy as np
    >>> from fg_env.rewards.base import ScoringRequest
    >>> from fg_env.types import Span
    >>> class Shouting:
    ...     name, version = "shouting", "1"
    ...     def toxicity(self, texts):
    ...         return np.array([sum(w.isupper() for w in t.split()) / max(len(t.split()), 1) for t in texts])
    >>> model = ToxicityChange(Shouting())
    >>> answer = "It was calm. THEN IT ROARED."
    >>> [s.value for s in model.score([ScoringRequest(None, answer[:12], Span(0, 12)),
    ...                               ScoringRequest(None, answer, Span(13, 28))])]
    [0.0, -0.5]
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

from fg_env.rewards.base import RewardModel, ScoringRequest, SegmentScore
from fg_env.rewards.toxicity.base import ToxicityScorer, checked_toxicity
from fg_env.rewards.toxicity.registry import DEFAULT_TOXICITY_SCORER, make_toxicity_scorer
from fg_env.types import Granularity

__all__ = ["TOXIC", "ContinuationToxicity", "ToxicityChange"]

TOXIC = "Toxic"  # the label of a sentence that left its continuation toxic (>= 0.5) and raised its toxicity
_REMEMBERED = 4096  # texts whose toxicity is kept: a step's "before" texts are the last step's "after" texts


class _ToxicityMemory:
    """Toxicity of many texts in one scorer call, the empty text 0, recent texts from memory."""

    def __init__(self, scorer: str | ToxicityScorer, settings: dict[str, Any]) -> None:
        self.scorer = make_toxicity_scorer(scorer, **settings)
        self.version = f"{self.scorer.name}:{self.scorer.version}" if self.scorer.version else self.scorer.name
        self._memory: OrderedDict[str, float] = OrderedDict()

    def toxicities(self, texts: Sequence[str]) -> list[float]:
        missing = list(dict.fromkeys(t for t in texts if t.strip() and t not in self._memory))
        if missing:
            for text, value in zip(missing, checked_toxicity(self.scorer, missing).tolist()):
                self._memory[text] = float(value)
        while len(self._memory) > _REMEMBERED:
            self._memory.popitem(last=False)
        return [self._memory[t] if t.strip() else 0.0 for t in texts]


class ToxicityChange(RewardModel):
    """Each sentence: minus the change in the continuation's toxicity it caused (the paper's dense reward).

    Args:
        scorer: a toxicity scorer's registry name (``"profanity-check"``, the offline default;
            ``"detoxify"``, ``"perspective"``) or an object with ``toxicity(texts)``.
        **settings: the named scorer's settings (``checkpoint=`` of ``"detoxify"``; ``api_key=``, ``url=``...
            of ``"perspective"``); see :mod:`fg_env.rewards.toxicity`.

    A scorer that fails (unreachable, a key refused) raises from :meth:`score`: no value is made up, and
    nothing is remembered for the texts it did not score.

    Example:
        >>> model = ToxicityChange()
        >>> model.name, model.granularity.value, model.bounds
        ('toxicity', 'sentence', (-1.0, 1.0))
    """

    name = "toxicity"
    granularity = Granularity.SENTENCE
    bounds = (-1.0, 1.0)

    def __init__(self, scorer: str | ToxicityScorer = DEFAULT_TOXICITY_SCORER, **settings: Any) -> None:
        self.memory = _ToxicityMemory(scorer, settings)
        self.version = self.memory.version

    def score(self, requests: Sequence[ScoringRequest]) -> list[SegmentScore]:
        afters = [r.answer for r in requests]
        befores = [r.answer[: r.segment.start].rstrip() for r in requests]
        values = self.memory.toxicities(afters + befores)
        after, before = values[: len(requests)], values[len(requests) :]
        return [SegmentScore(b - a, TOXIC if a >= 0.5 and a > b else None) for a, b in zip(after, before, strict=True)]


class ContinuationToxicity(RewardModel):
    """The whole continuation, at the end: ``1 - toxicity`` (the paper's holistic reward).

    Takes the arguments of :class:`ToxicityChange` (a scorer, and a named scorer's settings).

    Example:
        >>> model = ContinuationToxicity()
        >>> model.name, model.granularity.value, model.bounds
        ('non-toxicity', 'episode', (0.0, 1.0))
    """

    name = "non-toxicity"
    granularity = Granularity.EPISODE
    bounds = (0.0, 1.0)

    def __init__(self, scorer: str | ToxicityScorer = DEFAULT_TOXICITY_SCORER, **settings: Any) -> None:
        self.memory = _ToxicityMemory(scorer, settings)
        self.version = self.memory.version

    def score(self, requests: Sequence[ScoringRequest]) -> list[SegmentScore]:
        values = self.memory.toxicities([r.answer for r in requests])
        return [SegmentScore(1.0 - v, TOXIC if v >= 0.5 else None) for v in values]
