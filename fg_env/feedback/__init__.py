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
    "Annotator",
    "MissingWorldError",
    "FACTUALITY_ERRORS",
    "MISSING_INFO_TYPES",
    "RELEVANCE_ERRORS",
    "SPAN_ERROR_TYPES",
    "ErrorSpan",
    "Feedback",
    "FeedbackFormatError",
    "MissingInfo",
]


def __getattr__(name: str):
    # The annotator pulls in the built-in world; load it only when asked for.
    if name in ("Annotator", "MissingWorldError"):
        from fg_env.feedback import annotator

        return getattr(annotator, name)
    raise AttributeError(f"module 'fg_env.feedback' has no attribute {name!r}")
