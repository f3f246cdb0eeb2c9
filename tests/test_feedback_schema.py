"""QA-Feedback's feedback schema: round trips on the real dev feedback and clear errors."""

from __future__ import annotations

import json

import pytest

from conftest import QA_FEEDBACK_DIR
from fg_env.feedback.schema import ErrorSpan, Feedback, FeedbackFormatError, MissingInfo


@pytest.mark.skipif(not (QA_FEEDBACK_DIR / "dev_feedback.json").exists(), reason="QA-Feedback dev split not present")
def test_round_trip_of_every_real_record():
    records = json.loads((QA_FEEDBACK_DIR / "dev_feedback.json").read_text())
    counts: dict[str, int] = {}
    for record in records:
        feedback = Feedback.from_dict(record["feedback"])
        assert feedback.to_dict()["errors"] == record["feedback"]["errors"]
        assert feedback.to_dict()["missing-info"] == record["feedback"]["missing-info"]
        for error in feedback.errors:
            counts[error.error_type] = counts.get(error.error_type, 0) + 1
    # SOURCE.md's counts
    assert counts == {"Irrelevant": 909, "Wrong-Grounding": 163, "Unverifiable": 152, "Redundant": 133, "Incoherent": 16}


def test_errors_name_the_problem():
    with pytest.raises(FeedbackFormatError, match="unknown error type 'Rude'"):
        ErrorSpan.from_dict({"error type": "Rude", "start": 0, "end": 1})
    with pytest.raises(FeedbackFormatError, match="lacks field 'end'"):
        ErrorSpan.from_dict({"error type": "Irrelevant", "start": 0})
    with pytest.raises(FeedbackFormatError, match="invalid error span"):
        ErrorSpan.from_dict({"error type": "Irrelevant", "start": 5, "end": 2})
    with pytest.raises(FeedbackFormatError, match="sentence_id"):
        MissingInfo.from_dict({"error type": "Missing-Answer", "passage_id": 1, "sentence_id": "3"})
    with pytest.raises(FeedbackFormatError, match="lacks field 'missing-info'"):
        Feedback.from_dict({"errors": []})
    with pytest.raises(FeedbackFormatError, match="must be an object"):
        Feedback.from_dict([])  # type: ignore[arg-type]
