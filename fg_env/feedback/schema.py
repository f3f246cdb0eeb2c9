"""QA-Feedback's fine-grained feedback schema, shared by real human feedback and the built-in annotator.

One record's ``feedback`` field in ``dev_feedback.json`` looks like::

    {"errors": [{"error type": "Irrelevant", "explanation": "", "start": 283, "end": 401}, ...],
     "missing-info": [{"error type": "Missing-Answer", "passage_id": 1, "sentence_id": [3]}],
     "corrected-prediction": "..."}

``Feedback.from_dict`` / ``Feedback.to_dict`` read and write exactly that, so one code path handles
both sources.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from fg_env.errors import FeedbackFormatError

# Errors marked as character spans of the answer, by the reward model that judges them.
RELEVANCE_ERRORS: tuple[str, ...] = ("Irrelevant", "Redundant", "Incoherent")
FACTUALITY_ERRORS: tuple[str, ...] = ("Wrong-Grounding", "Unverifiable")
SPAN_ERROR_TYPES: tuple[str, ...] = RELEVANCE_ERRORS + FACTUALITY_ERRORS
# Information the answer misses, pointing at passage sentences.
MISSING_INFO_TYPES: tuple[str, ...] = (
    "Missing-Answer",
    "Missing-Major-Auxiliary",
    "Missing-Minor-Auxiliary",
)


@dataclass(frozen=True)
class ErrorSpan:
    """An error marked on ``answer[start:end]``.

    Example:
        >>> ErrorSpan("Irrelevant", 0, 4).to_dict()
        {'error type': 'Irrelevant', 'explanation': '', 'start': 0, 'end': 4}
    """

    error_type: str
    start: int
    end: int
    explanation: str = ""

    def __post_init__(self) -> None:
        if self.error_type not in SPAN_ERROR_TYPES:
            raise FeedbackFormatError(
                f"unknown error type {self.error_type!r}; expected one of {list(SPAN_ERROR_TYPES)}"
            )
        if not (isinstance(self.start, int) and isinstance(self.end, int)) or not 0 <= self.start <= self.end:
            raise FeedbackFormatError(f"invalid error span start={self.start!r} end={self.end!r}")

    def to_dict(self) -> dict[str, Any]:
        return {"error type": self.error_type, "explanation": self.explanation, "start": self.start, "end": self.end}

    @classmethod
    def from_dict(cls, record: Mapping[str, Any]) -> ErrorSpan:
        for key in ("error type", "start", "end"):
            if key not in record:
                raise FeedbackFormatError(f"error record lacks field {key!r}")
        return cls(record["error type"], record["start"], record["end"], record.get("explanation", "") or "")


@dataclass(frozen=True)
class MissingInfo:
    """Information the answer should hold, as 1-based passage and sentence ids.

    Example:
        >>> MissingInfo("Missing-Answer", 1, (3,)).to_dict()
        {'error type': 'Missing-Answer', 'passage_id': 1, 'sentence_id': [3]}
    """

    error_type: str
    passage_id: int
    sentence_ids: tuple[int, ...]

    def __post_init__(self) -> None:
        if self.error_type not in MISSING_INFO_TYPES:
            raise FeedbackFormatError(
                f"unknown missing-info type {self.error_type!r}; expected one of {list(MISSING_INFO_TYPES)}"
            )

    def to_dict(self) -> dict[str, Any]:
        return {"error type": self.error_type, "passage_id": self.passage_id, "sentence_id": list(self.sentence_ids)}

    @classmethod
    def from_dict(cls, record: Mapping[str, Any]) -> MissingInfo:
        for key in ("error type", "passage_id", "sentence_id"):
            if key not in record:
                raise FeedbackFormatError(f"missing-info record lacks field {key!r}")
        sentence_ids = record["sentence_id"]
        if not isinstance(sentence_ids, list) or not all(isinstance(i, int) for i in sentence_ids):
            raise FeedbackFormatError(f"field 'sentence_id' must be a list of integers, got {sentence_ids!r}")
        if not isinstance(record["passage_id"], int):
            raise FeedbackFormatError(f"field 'passage_id' must be an integer, got {record['passage_id']!r}")
        return cls(record["error type"], record["passage_id"], tuple(sentence_ids))


@dataclass(frozen=True)
class Feedback:
    """Fine-grained feedback on one answer: error spans and missing information.

    Example:
        >>> fb = Feedback(errors=(ErrorSpan("Redundant", 10, 20),))
        >>> Feedback.from_dict(fb.to_dict()) == fb
        True
    """

    errors: tuple[ErrorSpan, ...] = ()
    missing_info: tuple[MissingInfo, ...] = ()
    corrected_prediction: str = field(default="", compare=False)

    def errors_of(self, types: tuple[str, ...]) -> tuple[ErrorSpan, ...]:
        return tuple(e for e in self.errors if e.error_type in types)

    def to_dict(self) -> dict[str, Any]:
        return {
            "errors": [e.to_dict() for e in self.errors],
            "missing-info": [m.to_dict() for m in self.missing_info],
            "corrected-prediction": self.corrected_prediction,
        }

    @classmethod
    def from_dict(cls, record: Mapping[str, Any]) -> Feedback:
        if not isinstance(record, Mapping):
            raise FeedbackFormatError(f"feedback must be an object, got {type(record).__name__}")
        for key in ("errors", "missing-info"):
            if key not in record:
                raise FeedbackFormatError(f"feedback lacks field {key!r}")
            if not isinstance(record[key], list):
                raise FeedbackFormatError(f"field {key!r} must be a list")
        return cls(
            errors=tuple(ErrorSpan.from_dict(e) for e in record["errors"]),
            missing_info=tuple(MissingInfo.from_dict(m) for m in record["missing-info"]),
            corrected_prediction=record.get("corrected-prediction", "") or "",
        )
