"""Fine-grained feedback: QA-Feedback's schema and the built-in world's exact annotator."""

from fg_env.feedback.schema import (
    FACTUALITY_ERRORS,
    MISSING_INFO_TYPES,
    RELEVANCE_ERRORS,
    SPAN_ERROR_TYPES,
    ErrorSpan,
    Feedback,
    FeedbackFormatError,
    MissingInfo,
)

__all__ = [
    "FACTUALITY_ERRORS",
    "MISSING_INFO_TYPES",
    "RELEVANCE_ERRORS",
    "SPAN_ERROR_TYPES",
    "ErrorSpan",
    "Feedback",
    "FeedbackFormatError",
    "MissingInfo",
]
