"""Evaluation metrics for a set of answers, as the paper reports them.

- relevance ratio: the share of sub-sentences with no Irrelevant, Redundant or Incoherent error;
- factuality ratio: the share of sentences with no Wrong-Grounding or Unverifiable error;
- completeness: the mean normalised share of required information covered (built-in world);
- ROUGE-L: F-measure against the best-matching reference (Google's ``rouge-score`` package);
- length: mean number of whitespace-separated words;
- error counts: how many spans (or missing items) of each QA-Feedback type.

Ratios are micro-averages over all segments of all answers. A segment has an error when an error span
of the matching kind overlaps it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

from rouge_score import rouge_scorer

from fg_env.errors import InvalidValueError
from fg_env.feedback.schema import FACTUALITY_ERRORS, MISSING_INFO_TYPES, RELEVANCE_ERRORS, SPAN_ERROR_TYPES, Feedback
from fg_env.text import split_all_sub_sentences, split_sentences
from fg_env.types import QAExample, Span

_ROUGE = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=True)


@dataclass(frozen=True)
class AnswerMetrics:
    """Corpus-level metrics of a set of answers.

    Example:
        >>> m = AnswerMetrics(0.9, 0.8, 0.7, 0.5, 42.0, 10, {"Irrelevant": 1})
        >>> m.to_dict()["relevance_ratio"]
        0.9
    """

    relevance_ratio: float
    factuality_ratio: float
    completeness: float | None
    rouge_l: float
    length: float
    num_answers: int
    error_counts: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def segment_error_flags(answer: str, spans: list[Span], feedback: Feedback, error_types: tuple[str, ...]) -> list[bool]:
    """For each segment span, whether an error span of ``error_types`` overlaps it."""
    errors = [Span(e.start, e.end) for e in feedback.errors_of(error_types)]
    return [any(segment.overlaps(error) for error in errors) for segment in spans]


def rouge_l(answer: str, references: Sequence[str]) -> float:
    """ROUGE-L F-measure of ``answer`` against its best-matching reference."""
    if not references:
        return 0.0
    return max(_ROUGE.score(reference, answer)["rougeL"].fmeasure for reference in references)


def evaluate_answers(
    examples: Sequence[QAExample],
    answers: Sequence[str],
    feedbacks: Sequence[Feedback] | None = None,
) -> AnswerMetrics:
    """Metrics of ``answers[i]`` to ``examples[i]``.

    ``feedbacks`` gives the fine-grained feedback of each answer (for instance real human feedback);
    without it the built-in world's annotator labels the answers, which also yields completeness.

    Example:
        >>> from fg_env.data import make_dataset
        >>> examples = list(make_dataset("synthetic").split("dev"))[:3]
        >>> metrics = evaluate_answers(examples, [ex.references[0] for ex in examples])
        >>> metrics.relevance_ratio, metrics.factuality_ratio, metrics.completeness
        (1.0, 1.0, 1.0)
    """
    if len(examples) != len(answers):
        raise InvalidValueError(f"got {len(examples)} examples but {len(answers)} answers")
    if feedbacks is not None and len(feedbacks) != len(answers):
        raise InvalidValueError(f"got {len(answers)} answers but {len(feedbacks)} feedback records")
    completeness: list[float] | None = None
    if feedbacks is None:
        from fg_env.data.synthetic.annotator import Annotator

        annotator = Annotator()
        feedbacks = [annotator.annotate(ex, answer) for ex, answer in zip(examples, answers)]
        completeness = [annotator.completeness(ex, answer) for ex, answer in zip(examples, answers)]

    relevance_flags: list[bool] = []
    factuality_flags: list[bool] = []
    counts: Counter[str] = Counter({t: 0 for t in SPAN_ERROR_TYPES + MISSING_INFO_TYPES})
    for answer, feedback in zip(answers, feedbacks):
        relevance_flags += segment_error_flags(answer, split_all_sub_sentences(answer), feedback, RELEVANCE_ERRORS)
        factuality_flags += segment_error_flags(answer, split_sentences(answer), feedback, FACTUALITY_ERRORS)
        counts.update(e.error_type for e in feedback.errors)
        counts.update(m.error_type for m in feedback.missing_info)

    def share_without_error(flags: list[bool]) -> float:
        # No segment at all (only empty answers): the ratio is undefined, not perfect.
        return 1.0 - sum(flags) / len(flags) if flags else float("nan")

    n = max(len(answers), 1)
    return AnswerMetrics(
        relevance_ratio=share_without_error(relevance_flags),
        factuality_ratio=share_without_error(factuality_flags),
        completeness=None if completeness is None else sum(completeness) / n,
        rouge_l=sum(rouge_l(a, ex.references) for ex, a in zip(examples, answers)) / n,
        length=sum(len(a.split()) for a in answers) / n,
        num_answers=len(answers),
        error_counts=dict(counts),
    )
