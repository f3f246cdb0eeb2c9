"""QA-Feedback's fine-grained feedback schema: error spans and missing information.

Both real human feedback (:mod:`fg_env.data.qa_feedback`) and the built-in world's annotator
(:class:`fg_env.data.synthetic.annotator.Annotator`) write it; this package holds the schema only
and imports nothing else of fg_env.
"""

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
