"""The annotator-backed reward models: +1/-1 at the right segments, completeness, batching, bad input."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from _handmade_world import GOLD, harlow_bridge

from fg_env.data.synthetic import SyntheticQA
from fg_env.data.synthetic.annotator import Annotator, MissingWorldError
from fg_env.feedback.schema import RELEVANCE_ERRORS
from fg_env.rewards.annotator_models import (
    CompletenessRewardModel,
    FactualityRewardModel,
    RelevanceRewardModel,
)
from fg_env.rewards.base import ScoringRequest, SegmentScore, check_scores
from fg_env.rewards.registry import make_reward_model
from fg_env.text import split_sentences, split_sub_sentences
from fg_env.types import Granularity, Passage, QAExample, Span

EXAMPLE = harlow_bridge()
QA_FEEDBACK_DIR = Path(__file__).resolve().parents[2] / "shared" / "data" / "qa_feedback"


def sub_sentence_requests(example: QAExample, answer: str) -> list[ScoringRequest]:
    """What the environment sends: each sub-sentence, with the answer cut at its end."""
    return [
        ScoringRequest(example, answer[: piece.end], piece)
        for sentence in split_sentences(answer)
        for piece in split_sub_sentences(answer, sentence)
    ]


def sentence_requests(example: QAExample, answer: str) -> list[ScoringRequest]:
    return [ScoringRequest(example, answer[: s.end], s) for s in split_sentences(answer)]


def test_registered_by_name_with_the_papers_granularities():
    expected = {
        "relevance": (RelevanceRewardModel, Granularity.SUB_SENTENCE, (-1.0, 1.0)),
        "factuality": (FactualityRewardModel, Granularity.SENTENCE, (-1.0, 1.0)),
        "completeness": (CompletenessRewardModel, Granularity.EPISODE, (0.0, 1.0)),
    }
    models = {name: make_reward_model(name) for name in expected}
    for name, (cls, granularity, bounds) in expected.items():
        model = models[name]
        assert type(model) is cls and model.name == name
        assert model.granularity == granularity and model.bounds == bounds
    # One annotator for the three: each sentence is read once per step.
    assert models["relevance"].annotator is models["factuality"].annotator is models["completeness"].annotator


def test_relevance_scores_each_sub_sentence():
    pieces = (
        "The film Harlow Bridge was directed by Ana Ashby,",
        "and it runs 102 minutes in total length today.",
        "Ashby was born in 1948.",
        "The film Harlow Bridge was directed by Ana Ashby.",
        "The film film film was released.",
    )
    answer = " ".join(pieces)
    requests = sub_sentence_requests(EXAMPLE, answer)
    assert [r.segment_text for r in requests] == list(pieces)
    scores = RelevanceRewardModel(Annotator()).score(requests)
    assert scores == [
        SegmentScore(1.0),
        SegmentScore(-1.0, "Irrelevant"),
        SegmentScore(-1.0, "Irrelevant"),
        SegmentScore(-1.0, "Redundant"),
        SegmentScore(-1.0, "Incoherent"),
    ]


def test_factuality_scores_each_sentence():
    pieces = (
        "The film Harlow Bridge was released in 1994.",
        "The album Harlow Bridge was released in 1994.",
        "It was released on Lodestar Records.",
        "Ashby was born in 1948 in Kessling.",
    )
    answer = " ".join(pieces)
    scores = FactualityRewardModel(Annotator()).score(sentence_requests(EXAMPLE, answer))
    assert scores == [
        SegmentScore(1.0),
        SegmentScore(-1.0, "Wrong-Grounding"),
        SegmentScore(-1.0, "Unverifiable"),
        SegmentScore(1.0),  # true, if irrelevant: factuality does not judge relevance
    ]


def test_completeness_scores_the_whole_answer():
    model = CompletenessRewardModel(Annotator())
    partial = "The film Harlow Bridge was released in 1994. The album Harlow Bridge came out in 2003."
    requests = [
        ScoringRequest(EXAMPLE, GOLD, Span(0, len(GOLD))),
        ScoringRequest(EXAMPLE, partial, Span(0, len(partial))),
        ScoringRequest(EXAMPLE, "", Span(0, 0)),
        ScoringRequest(EXAMPLE, "Ana Ashby directed it.", Span(0, 22)),
    ]
    scores = model.score(requests)
    check_scores(model, requests, scores)
    assert scores[0] == SegmentScore(1.0)
    assert scores[1] == SegmentScore(pytest.approx(2.0 / 3.25), "Missing-Major-Auxiliary")
    assert scores[2] == SegmentScore(0.0, "Missing-Answer")
    assert scores[3].value == pytest.approx(0.5 / 3.25) and scores[3].label == "Missing-Answer"


def test_scores_match_the_annotation_of_the_whole_answer():
    """Requests cut at each segment's end score exactly what annotating the whole answer finds there."""
    rng = random.Random(3)
    dataset = SyntheticQA()
    annotator = Annotator()
    relevance, factuality = RelevanceRewardModel(Annotator()), FactualityRewardModel(Annotator())
    for example in dataset.split("test")[:60]:
        pool = [s for p in example.passages for s in p.sentences] + [
            r[s.start : s.end] for r in example.references for s in split_sentences(r)
        ]
        answer = " ".join(rng.choice(pool) for _ in range(6))
        full = annotator.annotate(example, answer)
        requests = sub_sentence_requests(example, answer)
        for request, score in zip(requests, relevance.score(requests)):
            seg = request.segment
            labels = [
                e.error_type
                for e in full.errors
                if e.error_type in RELEVANCE_ERRORS and (e.start, e.end) == (seg.start, seg.end)
            ]
            assert score == (SegmentScore(-1.0, labels[0]) if labels else SegmentScore(1.0)), request.segment_text
        requests = sentence_requests(example, answer)
        for request, score in zip(requests, factuality.score(requests)):
            seg = request.segment
            labels = [e.error_type for e in full.errors if e.error_type not in RELEVANCE_ERRORS and e.start == seg.start]
            assert score == (SegmentScore(-1.0, labels[0]) if labels else SegmentScore(1.0)), request.segment_text


def test_a_batch_mixes_questions_and_orders():
    dataset = SyntheticQA()
    examples = dataset.split("dev")[:5]
    requests = []
    for example in examples:
        requests += sub_sentence_requests(example, example.references[0])
    random.Random(0).shuffle(requests)
    model = RelevanceRewardModel(Annotator())
    scores = model.score(requests)
    check_scores(model, requests, scores)
    assert scores == [SegmentScore(1.0)] * len(requests)  # gold answers: no relevance error anywhere
    assert model.score([]) == []


def test_examples_without_the_world_are_a_clear_error():
    real = QAExample("qa-1", "Who?", (Passage("T", ("A did.",)),), ("A did.",))
    request = ScoringRequest(real, "A did.", Span(0, 6))
    for model in (RelevanceRewardModel(), FactualityRewardModel(), CompletenessRewardModel()):
        with pytest.raises(MissingWorldError, match="dataset='synthetic'.*learned reward models"):
            model.score([request])


@pytest.mark.skipif(not QA_FEEDBACK_DIR.is_dir(), reason="QA-Feedback dev split not present")
def test_real_qa_feedback_questions_are_refused():
    from fg_env.data.qa_feedback import QAFeedbackDataset

    example = QAFeedbackDataset(QA_FEEDBACK_DIR).split("dev")[0]
    answer = example.references[0]
    with pytest.raises(MissingWorldError, match="QA-Feedback"):
        FactualityRewardModel().score([ScoringRequest(example, answer, Span(0, len(answer)))])
