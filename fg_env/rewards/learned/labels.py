"""Segment labels from span-level feedback, by the rules of the paper's released preprocessing.

A segment (sub-sentence or sentence) carries an error when a character of it, other than whitespace,
lies inside an error span of the component's types; when spans of several types touch it, the type
covering most of its characters names it. Two rules from the paper's data scripts
(``create_rel_fact_rm_files.py``, appendix D) apply to human feedback:

* relevance error spans (Irrelevant, Redundant, Incoherent) shorter than 5 words are dropped as
  unreliable, for both models;
* a sentence holding a (kept) relevance error but no factuality error is *ignored* by the factuality
  model, because annotators were told not to mark factual errors inside text already marked irrelevant.

The built-in annotator is exact, so its feedback uses :data:`EXACT_RULE` (no dropped spans, nothing
ignored).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from fg_env.feedback.schema import FACTUALITY_ERRORS, RELEVANCE_ERRORS, ErrorSpan, Feedback
from fg_env.rewards.learned.components import NO_ERROR, ComponentSpec
from fg_env.types import Span


@dataclass(frozen=True)
class LabelRule:
    """How spans become segment labels.

    Example:
        >>> PAPER_RULE.min_relevance_span_words, EXACT_RULE.ignore_factuality_in_relevance_errors
        (5, False)
    """

    min_relevance_span_words: int = 5
    ignore_factuality_in_relevance_errors: bool = True

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, record: Mapping[str, Any]) -> LabelRule:
        return cls(**record)


PAPER_RULE = LabelRule(5, True)
EXACT_RULE = LabelRule(0, False)


def _kept_errors(feedback: Feedback, answer: str, rule: LabelRule) -> list[ErrorSpan]:
    kept = []
    for error in feedback.errors:
        words = len(answer[error.start : error.end].split())
        if error.error_type in RELEVANCE_ERRORS and words < rule.min_relevance_span_words:
            continue
        kept.append(error)
    return kept


def _covered(answer: str, segment: Span, error: ErrorSpan) -> int:
    """How many non-whitespace characters of ``segment`` lie inside ``error``."""
    start, end = max(segment.start, error.start), min(segment.end, error.end)
    return sum(1 for c in answer[start:end] if not c.isspace()) if start < end else 0


def segment_labels(
    spec: ComponentSpec, answer: str, feedback: Feedback, segments: list[Span], rule: LabelRule = PAPER_RULE
) -> list[str | None]:
    """One label per segment: ``"no-error"``, an error type of the component, or None (ignored).

    Example:
        >>> from fg_env.rewards.learned.components import COMPONENTS
        >>> answer = "Ann won the race in 1990. She likes very many red apples."
        >>> fb = Feedback(errors=(ErrorSpan("Irrelevant", 26, 57),))
        >>> spec = COMPONENTS["relevance"]
        >>> segment_labels(spec, answer, fb, spec.segments(answer))
        ['no-error', 'Irrelevant']
        >>> spec = COMPONENTS["factuality"]
        >>> segment_labels(spec, answer, fb, spec.segments(answer))
        ['no-error', None]
    """
    errors = _kept_errors(feedback, answer, rule)
    own = [e for e in errors if e.error_type in spec.labels]
    others = [e for e in errors if e.error_type not in spec.labels]
    labels: list[str | None] = []
    for segment in segments:
        cover: dict[str, int] = {}
        for error in own:
            n = _covered(answer, segment, error)
            if n:
                cover[error.error_type] = cover.get(error.error_type, 0) + n
        if cover:
            # Most covered type; ties go to the type listed first (stable and deterministic).
            labels.append(max(spec.labels[1:], key=lambda t: (cover.get(t, 0), -spec.labels.index(t))))
        elif (
            rule.ignore_factuality_in_relevance_errors
            and set(spec.labels[1:]) <= set(FACTUALITY_ERRORS)
            and any(_covered(answer, segment, e) for e in others if e.error_type in RELEVANCE_ERRORS)
        ):
            labels.append(None)
        else:
            labels.append(NO_ERROR)
    return labels
