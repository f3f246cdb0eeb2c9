"""The reward-model contract.

A reward model judges one kind of error at one granularity. The environment collects, across all the
answers it is scoring, every new segment at the model's granularity and asks for all their scores in
**one** call, so a learned model runs one padded forward pass per batch instead of one per answer.

Each request holds the answer only up to the end of the segment it asks about: a reward model never
sees text after the segment it scores, so step rewards are Markov in the answer so far.

What a reward model may read of the task is :class:`TaskExample`: an id, the prompt, its context and
the reference outputs. Every environment's examples offer these (:class:`~fg_env.types.QAExample`
among them); a model that needs more of one kind of example (the annotator-backed models read the
built-in world's ground truth) says so in :meth:`RewardModel.check_example`.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from fg_env.errors import InvalidTypeError, InvalidValueError
from fg_env.types import Granularity, Span

__all__ = [
    "RewardModel",
    "ScoringRequest",
    "SegmentScore",
    "TaskExample",
    "check_scores",
    "validate_reward_model",
]


class TaskExample(Protocol):
    """What a reward model may read of the example an answer responds to, whatever the task.

    Read-only attributes, so a frozen dataclass's fields and cached properties both qualify:
    :class:`~fg_env.types.QAExample` is one, and so is any environment's own example type that has them.

    Example:
        >>> from dataclasses import dataclass
        >>> @dataclass(frozen=True)
        ... class Prompt:
        ...     id: str
        ...     prompt: str
        ...     context: str = ""
        ...     references: tuple[str, ...] = ()
        >>> example: TaskExample = Prompt("p1", "Once upon a time")
        >>> example.prompt
        'Once upon a time'
    """

    @property
    def id(self) -> str:
        """Unique within its split: what ``reset(options={"example_id": ...})`` names."""
        ...

    @property
    def prompt(self) -> str:
        """The text an LM agent continues (the env's ``info["prompt"]`` at reset)."""
        ...

    @property
    def context(self) -> str:
        """What the answer may draw on (QA: the passages); empty when the task has none."""
        ...

    @property
    def references(self) -> Sequence[str]:
        """Reference outputs (QA: the gold answers); empty when the task has none."""
        ...


@dataclass(frozen=True)
class ScoringRequest:
    """One segment to score: ``answer[segment.start:segment.end]``, with the answer cut at its end.

    Example:
        >>> from fg_env.types import Passage, QAExample
        >>> ex = QAExample("q", "Who?", (Passage("T", ("Ann did.",)),), ("Ann did.",))
        >>> r = ScoringRequest(ex, "Ann did.", Span(0, 8))
        >>> r.segment_text
        'Ann did.'
    """

    example: TaskExample
    answer: str  # the answer so far, ending exactly at ``segment.end``
    segment: Span

    def __post_init__(self) -> None:
        if self.segment.end != len(self.answer):
            raise InvalidValueError(
                f"a scoring request's answer must end at its segment (segment ends at {self.segment.end}, "
                f"answer has {len(self.answer)} characters)"
            )

    @property
    def segment_text(self) -> str:
        return self.answer[self.segment.start : self.segment.end]


@dataclass(frozen=True)
class SegmentScore:
    """A reward model's verdict on one segment: its reward and, when it has one, the error label.

    Example:
        >>> SegmentScore(-1.0, "Irrelevant").is_error
        True
    """

    value: float
    label: str | None = None  # an error type such as "Irrelevant"; None when the segment has no error

    @property
    def is_error(self) -> bool:
        return self.label is not None


class RewardModel(ABC):
    """A fine-grained reward model: a name, a granularity, bounds, and one batched scoring call.

    Subclasses set the three class attributes (or instance attributes of the same names) and implement
    :meth:`score`. Episode-level models receive one request per finished answer, whose segment covers
    the whole answer.

    ``version`` says which scorer gave the scores, so results can record it (the environment's
    ``reward_versions``): a string that changes whenever any score on any text changes (the annotator-backed
    models report :data:`~fg_env.data.synthetic.annotator.ANNOTATOR_VERSION`, learned ones their checkpoint's
    identity), or None (the default) when the model has no version to give.

    Example:
        >>> class Length(RewardModel):
        ...     name, granularity, bounds = "length", Granularity.EPISODE, (0.0, 1.0)
        ...     def score(self, requests):
        ...         return [SegmentScore(min(1.0, len(r.answer) / 100)) for r in requests]
        >>> Length().bounds, Length().version
        ((0.0, 1.0), None)
    """

    # Class attributes in subclasses, or instance attributes of the same names.
    name: str
    granularity: Granularity
    bounds: tuple[float, float]
    #: Which scorer this is, recorded by results (see above); change it whenever any score on any text changes.
    version: str | None = None

    @abstractmethod
    def score(self, requests: Sequence[ScoringRequest]) -> list[SegmentScore]:
        """Score every request; return one :class:`SegmentScore` per request, in order."""

    def check_example(self, example: TaskExample) -> None:  # noqa: B027 - an optional hook, no-op by default
        """Raise a clear error when this model cannot judge answers to ``example`` (e.g. it reads more
        than :class:`TaskExample` offers, or ground truth that the dataset lacks). The environment calls
        it once, on its first example, when it is built."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, granularity={str(self.granularity)!r})"


def validate_reward_model(model: object) -> RewardModel:
    """Check that ``model`` honours the contract; return it, or raise a TypeError that says what is wrong."""
    if not isinstance(model, RewardModel):
        raise InvalidTypeError(f"{model!r} is not a fg_env RewardModel (subclass fg_env.rewards.RewardModel)")
    problems = []
    if not isinstance(getattr(model, "name", None), str) or not model.name:
        problems.append("name must be a non-empty string")
    try:
        Granularity(getattr(model, "granularity", None))
    except ValueError:
        problems.append(f"granularity must be one of {[g.value for g in Granularity]}")
    bounds = getattr(model, "bounds", None)
    if (
        not isinstance(bounds, tuple)
        or len(bounds) != 2
        or not all(isinstance(b, (int, float)) and math.isfinite(b) for b in bounds)
        or bounds[0] > bounds[1]
    ):
        problems.append(f"bounds must be a finite (low, high) pair with low <= high, got {bounds!r}")
    if problems:
        raise InvalidTypeError(f"reward model {model!r} breaks the contract: " + "; ".join(problems))
    return model


def check_scores(model: RewardModel, requests: Sequence[ScoringRequest], scores: Sequence[SegmentScore]) -> None:
    """Raise a clear error when a model's output does not match its requests or its bounds."""
    if len(scores) != len(requests):
        raise InvalidValueError(
            f"reward model {model.name!r} returned {len(scores)} scores for {len(requests)} requests"
        )
    low, high = model.bounds
    for score in scores:
        if not (math.isfinite(score.value) and low - 1e-6 <= score.value <= high + 1e-6):
            raise InvalidValueError(
                f"reward model {model.name!r} returned {score.value!r}, outside its bounds {model.bounds}"
            )
