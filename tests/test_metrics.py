"""Answer metrics: ratios, completeness, ROUGE-L, length and error counts."""

from __future__ import annotations

import math

import pytest

from fg_env.data import make_dataset
from fg_env.demo import flawed_answer
from fg_env.feedback.schema import ErrorSpan, Feedback
from fg_env.metrics import evaluate_answers, rouge_l
from fg_env.types import Passage, QAExample


@pytest.fixture(scope="module")
def dev_examples():
    return list(make_dataset("synthetic").split("dev")[:20])


def test_gold_answers_are_perfect(dev_examples):
    metrics = evaluate_answers(dev_examples, [ex.references[0] for ex in dev_examples])
    assert metrics.relevance_ratio == 1.0 and metrics.factuality_ratio == 1.0 and metrics.completeness == 1.0
    assert metrics.rouge_l == pytest.approx(1.0)
    assert sum(metrics.error_counts.values()) == 0
    assert metrics.num_answers == 20 and metrics.length > 10


def test_flawed_answers_show_their_errors(dev_examples):
    answers = [" ".join(flawed_answer(ex)) for ex in dev_examples]
    metrics = evaluate_answers(dev_examples, answers)
    assert metrics.relevance_ratio < 0.8 and metrics.completeness < 1.0
    for error_type in ("Redundant", "Irrelevant", "Incoherent"):
        assert metrics.error_counts[error_type] >= len(dev_examples) * 0.5, error_type


def test_given_feedback_is_used_and_ratios_are_micro_averages():
    example = QAExample("x", "Who?", (Passage("T", ("Ann did it.",)),), ("Ann did it.",))
    answer = "Ann did it. Bob ate soup. Ann did it."
    feedback = Feedback(errors=(ErrorSpan("Irrelevant", 12, 25), ErrorSpan("Unverifiable", 12, 25)))
    metrics = evaluate_answers([example], [answer], feedbacks=[feedback])
    assert metrics.relevance_ratio == pytest.approx(2 / 3)
    assert metrics.factuality_ratio == pytest.approx(2 / 3)
    assert metrics.completeness is None  # only the annotator knows what is required
    assert metrics.error_counts["Irrelevant"] == 1 and metrics.error_counts["Unverifiable"] == 1
    assert metrics.length == 9


def test_empty_answers_have_undefined_ratios(dev_examples):
    metrics = evaluate_answers(dev_examples[:2], ["", "  "])
    assert math.isnan(metrics.relevance_ratio) and metrics.completeness == 0.0 and metrics.length == 0


def test_rouge_l_takes_the_best_reference():
    assert rouge_l("the cat sat", ["a dog ran", "the cat sat"]) == pytest.approx(1.0)
    assert rouge_l("anything", []) == 0.0


def test_mismatched_lengths_are_errors(dev_examples):
    with pytest.raises(ValueError, match="2 examples but 1 answers"):
        evaluate_answers(dev_examples[:2], ["x"])
    with pytest.raises(ValueError, match="feedback"):
        evaluate_answers(dev_examples[:1], ["x"], feedbacks=[])
