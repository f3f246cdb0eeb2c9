"""The annotator-backed reward models: exact, fast rewards on the built-in world.

Three models, one per kind of fine-grained feedback (Wu et al., 2023), each backed by the world's
exact :class:`~fg_env.data.synthetic.annotator.Annotator`:

=============  ============  ========  ==========================================================
name           granularity   bounds    value
=============  ============  ========  ==========================================================
relevance      sub-sentence  (-1, 1)   -1 when the segment is Irrelevant, Redundant or Incoherent
factuality     sentence      (-1, 1)   -1 when the sentence is Wrong-Grounding or Unverifiable
completeness   episode       (0, 1)    weighted share of required facts the answer states
=============  ============  ========  ==========================================================

Each request holds the answer cut at the end of its segment; because the annotator's judgements are
prefix-consistent, the score of a segment is the same whether the answer goes on or not. Models
built in one process share one annotator (and its caches), so the three of them read each sentence
once.

They read question-answering examples (:class:`~fg_env.types.QAExample`; an environment of other
examples is refused when it is built, by :meth:`~fg_env.rewards.base.RewardModel.check_example`) and
need the world's ground truth (``example.meta["world"]``): on any other question (QA-Feedback's real
ones) they raise :class:`~fg_env.errors.MissingWorldError`, which points to the learned reward models.

Example:
    >>> from fg_env.data.synthetic import SyntheticQA
    >>> from fg_env.rewards.base import ScoringRequest
    >>> from fg_env.types import Span
    >>> example = SyntheticQA().split("dev")[1]
    >>> answer = "The song Glimmering Machines came out in 1954."
    >>> FactualityRewardModel().score([ScoringRequest(example, answer, Span(0, len(answer)))])
    [SegmentScore(value=-1.0, label='Wrong-Grounding')]
    >>> from fg_env.data.synthetic.annotator import ANNOTATOR_VERSION
    >>> FactualityRewardModel().version == ANNOTATOR_VERSION  # what results record of the scorer
    True
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

from fg_env.data.synthetic.annotator import Annotator
from fg_env.errors import InvalidTypeError
from fg_env.rewards.base import RewardModel, ScoringRequest, SegmentScore, TaskExample
from fg_env.types import Granularity, QAExample, Span

_SHARED: Annotator | None = None


def shared_annotator() -> Annotator:
    """The process-wide annotator the built-in models use unless given their own."""
    global _SHARED
    if _SHARED is None:
        _SHARED = Annotator()
    return _SHARED


class _AnnotatorRewardModel(RewardModel):
    def __init__(self, annotator: Annotator | None = None) -> None:
        self.annotator = annotator or shared_annotator()

    @property
    def version(self) -> str:  # type: ignore[override]  # read-only: the annotator's
        """The annotator's version (:data:`~fg_env.data.synthetic.annotator.ANNOTATOR_VERSION`): its verdicts are
        these scores, so a change to any of them bumps it."""
        return self.annotator.VERSION

    def check_example(self, example: TaskExample) -> None:
        if not isinstance(example, QAExample):
            raise InvalidTypeError(
                f"the annotator-backed reward model {self.name!r} judges answers to the built-in world's questions "
                f"(fg_env.types.QAExample), not to {type(example).__name__} examples: give this environment "
                "reward models that read only what fg_env.rewards.base.TaskExample offers"
            )

    @staticmethod
    def _items(requests: Sequence[ScoringRequest]) -> list[tuple[QAExample, str, Span]]:
        # check_example has made sure, when the environment was built, that its examples are QAExamples.
        return cast("list[tuple[QAExample, str, Span]]", [(r.example, r.answer, r.segment) for r in requests])


class RelevanceRewardModel(_AnnotatorRewardModel):
    """+1 per sub-sentence without a relevance error, -1 (labelled) for Irrelevant, Redundant, Incoherent.

    Example:
        >>> from fg_env.data.synthetic import SyntheticQA
        >>> from fg_env.rewards.base import ScoringRequest
        >>> from fg_env.types import Span
        >>> example = SyntheticQA().split("dev")[1]
        >>> answer = "The song Glimmering Machines came out in 1963. It was a sunny day."
        >>> RelevanceRewardModel().score([ScoringRequest(example, answer, Span(47, len(answer)))])
        [SegmentScore(value=-1.0, label='Irrelevant')]
    """

    name = "relevance"
    granularity = Granularity.SUB_SENTENCE
    bounds = (-1.0, 1.0)

    def score(self, requests: Sequence[ScoringRequest]) -> list[SegmentScore]:
        labels = self.annotator.relevance_of_segments(self._items(requests))
        return [SegmentScore(1.0) if label is None else SegmentScore(-1.0, label) for label in labels]


class FactualityRewardModel(_AnnotatorRewardModel):
    """+1 per sentence the passages support, -1 (labelled) for Wrong-Grounding or Unverifiable.

    Example:
        >>> from fg_env.data.synthetic import SyntheticQA
        >>> from fg_env.rewards.base import ScoringRequest
        >>> from fg_env.types import Span
        >>> example = SyntheticQA().split("dev")[1]
        >>> answer = "The song Glimmering Machines came out in 1963."
        >>> FactualityRewardModel().score([ScoringRequest(example, answer, Span(0, len(answer)))])
        [SegmentScore(value=1.0, label=None)]
    """

    name = "factuality"
    granularity = Granularity.SENTENCE
    bounds = (-1.0, 1.0)

    def score(self, requests: Sequence[ScoringRequest]) -> list[SegmentScore]:
        labels = self.annotator.factuality_of_segments(self._items(requests))
        return [SegmentScore(1.0) if label is None else SegmentScore(-1.0, label) for label in labels]


class CompletenessRewardModel(_AnnotatorRewardModel):
    """The weighted share of required facts the whole answer states (answers 1, major 0.5, minor 0.25).

    The label names the most important kind of information still missing (``Missing-Answer`` first),
    None when nothing is.

    Example:
        >>> from fg_env.data.synthetic import SyntheticQA
        >>> from fg_env.rewards.base import ScoringRequest
        >>> from fg_env.types import Span
        >>> example = SyntheticQA().split("dev")[1]
        >>> gold = example.references[0]
        >>> CompletenessRewardModel().score([ScoringRequest(example, gold, Span(0, len(gold)))])
        [SegmentScore(value=1.0, label=None)]
    """

    name = "completeness"
    granularity = Granularity.EPISODE
    bounds = (0.0, 1.0)

    def score(self, requests: Sequence[ScoringRequest]) -> list[SegmentScore]:
        out = []
        for example, answer, _ in self._items(requests):
            value = self.annotator.completeness(example, answer)
            label = self.annotator.most_important_missing(example, answer) if value < 1.0 else None
            out.append(SegmentScore(value, label))
        return out


ANNOTATOR_REWARD_MODELS: dict[str, type[_AnnotatorRewardModel]] = {
    "relevance": RelevanceRewardModel,
    "factuality": FactualityRewardModel,
    "completeness": CompletenessRewardModel,
}

# Registered by name in fg_env.rewards (lazily, so `import fg_env` does not load the annotator).
