"""The built-in world's annotator: exact spans per error type, missing info, gold answers, odd input,
prefix consistency."""

from __future__ import annotations

import random
import re
import subprocess
import sys

import pytest
from _handmade_world import GOLD, harlow_bridge
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fg_env.data.synthetic import SyntheticQA
from fg_env.data.synthetic.annotator import (
    COMPLETENESS_WEIGHTS,
    Annotator,
    Claim,
    JudgedClaim,
    MissingWorldError,
    Relevance,
    Statement,
    Verdict,
)
from fg_env.feedback.schema import FACTUALITY_ERRORS, Feedback
from fg_env.text import split_sentences
from fg_env.types import Passage, QAExample

EXAMPLE = harlow_bridge()


@pytest.fixture(scope="module")
def annotator() -> Annotator:
    return Annotator()


@pytest.fixture(scope="module")
def sample() -> list[QAExample]:
    dataset = SyntheticQA()
    return dataset.split("dev")[:150] + dataset.split("train")[:150]


def spans(feedback: Feedback, answer: str) -> list[tuple[str, str]]:
    return [(e.error_type, answer[e.start : e.end]) for e in feedback.errors]


def span_of(answer: str, piece: str) -> tuple[int, int]:
    start = answer.index(piece)
    return start, start + len(piece)


# -- gold answers and the world's own passages --------------------------------------------------------
def test_gold_answers_have_no_error_and_full_completeness(annotator, sample):
    for example in sample:
        for reference in example.references:
            feedback = annotator.annotate(example, reference)
            assert feedback.errors == () and feedback.missing_info == (), (example.id, reference, feedback)
            assert annotator.completeness(example, reference) == 1.0


def test_passages_read_back_as_true(annotator, sample):
    """The world's own sentences, read as an answer, contradict nothing and are never unreadable."""
    for example in sample[:100]:
        for passage in example.passages:
            text = " ".join(passage.sentences)
            errors = annotator.annotate(example, text).errors
            assert not [e for e in errors if e.error_type in FACTUALITY_ERRORS + ("Incoherent",)], (
                example.id,
                spans(annotator.annotate(example, text), text),
            )


def test_handmade_gold(annotator):
    assert annotator.annotate(EXAMPLE, GOLD) == Feedback()
    assert annotator.completeness(EXAMPLE, GOLD) == 1.0


# -- each error type at its exact span -----------------------------------------------------------------
def test_wrong_grounding_mixing_interpretations(annotator):
    answer = "The film Harlow Bridge was released in 2003."  # the album's year
    feedback = annotator.annotate(EXAMPLE, answer)
    assert [(e.error_type, e.start, e.end) for e in feedback.errors] == [("Wrong-Grounding", 0, 44)]


def test_wrong_grounding_changed_value_and_wrong_role(annotator):
    first, second = "The album Harlow Bridge was recorded in Oakhurst.", "The film was directed by Hugo Vance."
    answer = f"{first} {second}"  # a changed place; the film's star named as its director
    errors = [(e.error_type, e.start, e.end) for e in annotator.annotate(EXAMPLE, answer).errors]
    assert errors == [("Wrong-Grounding", 0, 49), ("Wrong-Grounding", 50, 86)]


def test_unverifiable_attribute_and_entity(annotator):
    label, invented = "It was released on Lodestar Records.", "Velvet Orchard was directed by Ana Ashby."
    answer = f"The album Harlow Bridge came out in 2003. {label} {invented}"
    feedback = annotator.annotate(EXAMPLE, answer)
    assert [(e.error_type, e.start, e.end) for e in feedback.errors] == [
        ("Unverifiable", *span_of(answer, label)),  # the passages never say the album's label
        ("Irrelevant", *span_of(answer, invented)),  # a work the question is not about...
        ("Unverifiable", *span_of(answer, invented)),  # ...and that the passages never mention
    ]
    assert span_of(answer, label) == (42, 78)


def test_redundant_paraphrase(annotator):
    answer = "The album Harlow Bridge was released in 2003. The album came out in 2003."
    feedback = annotator.annotate(EXAMPLE, answer)
    assert [(e.error_type, e.start, e.end) for e in feedback.errors] == [("Redundant", 46, 73)]
    assert answer[46:73] == "The album came out in 2003."


def test_irrelevant_true_facts_about_other_things(annotator):
    pieces = ("Ashby was born in 1948.", "The album received mixed reviews.", "It was a sunny day.")
    answer = " ".join(pieces)
    feedback = annotator.annotate(EXAMPLE, answer)
    assert [(e.error_type, e.start, e.end) for e in feedback.errors] == [
        ("Irrelevant", *span_of(answer, piece)) for piece in pieces
    ]


def test_irrelevant_sub_sentence(annotator):
    answer = "The film Harlow Bridge was directed by Ana Ashby, and it runs 102 minutes in total length today."
    feedback = annotator.annotate(EXAMPLE, answer)
    start = answer.index("and it runs")
    assert [(e.error_type, e.start, e.end) for e in feedback.errors] == [("Irrelevant", start, len(answer))]


@pytest.mark.parametrize(
    "answer",
    [
        "The film film film was released.",  # a generation loop
        "The film Harlow Bridge was directed by",  # cut off
        "Xqzt vrrpl blorfen gnax.",  # not words
        "called a is Harlow There film.",  # shuffled words
        "😀😀😀",
        "12345 678",
    ],
)
def test_incoherent(annotator, answer):
    feedback = annotator.annotate(EXAMPLE, answer)
    assert [(e.error_type, e.start, e.end) for e in feedback.errors] == [("Incoherent", 0, len(answer))]


def test_correct_paraphrases_are_not_errors(annotator):
    answer = (
        "Ana Ashby directed the movie Harlow Bridge in 1994. "
        "In 2003, Mira Calloway recorded the album of the same name. "
        "Harlow Bridge was recorded in Dunmore."  # the bare name, read as the album that makes it true
    )
    assert annotator.annotate(EXAMPLE, answer).errors == ()


def test_missing_information_points_at_passage_sentences(annotator):
    answer = "The film Harlow Bridge was released in 2003. The album Harlow Bridge was released in 2003."
    feedback = annotator.annotate(EXAMPLE, answer)
    assert [m.to_dict() for m in feedback.missing_info] == [
        {"error type": "Missing-Answer", "passage_id": 1, "sentence_id": [1]},
        {"error type": "Missing-Major-Auxiliary", "passage_id": 1, "sentence_id": [1]},
        {"error type": "Missing-Minor-Auxiliary", "passage_id": 1, "sentence_id": [3]},
        {"error type": "Missing-Major-Auxiliary", "passage_id": 2, "sentence_id": [1]},
    ]
    # Only the album's year (weight 1) of 1 + 0.5 + 0.25 + 1 + 0.5 is covered.
    assert annotator.completeness(EXAMPLE, answer) == pytest.approx(1.0 / 3.25)
    assert COMPLETENESS_WEIGHTS == {"answer": 1.0, "major-auxiliary": 0.5, "minor-auxiliary": 0.25}


def test_feedback_is_qa_feedback_json(annotator):
    answer = "The film Harlow Bridge was released in 2003. Ashby was born in 1948."
    record = annotator.annotate(EXAMPLE, answer).to_dict()
    assert set(record) == {"errors", "missing-info", "corrected-prediction"}
    assert record["errors"][0] == {"error type": "Wrong-Grounding", "explanation": "", "start": 0, "end": 44}
    assert Feedback.from_dict(record) == annotator.annotate(EXAMPLE, answer)


# -- odd input -------------------------------------------------------------------------------------------
def test_empty_and_whitespace(annotator):
    for answer in ("", "   \n\t "):
        feedback = annotator.annotate(EXAMPLE, answer)
        assert feedback.errors == ()
        assert {m.error_type for m in feedback.missing_info} == {
            "Missing-Answer",
            "Missing-Major-Auxiliary",
            "Missing-Minor-Auxiliary",
        }
        assert annotator.completeness(EXAMPLE, answer) == 0.0


def test_odd_text_never_crashes_and_is_incoherent(annotator):
    rng = random.Random(0)
    alphabet = [chr(c) for c in range(32, 0x2FF)] + ["\n", "\t", "\x00", "\x07", "\u200b", "🙂", "\ud800"]
    long_random = "".join(rng.choice(alphabet) for _ in range(10_000))
    for answer in (long_random, "\x00\x01\x02 \x1b[31m", "🙂🙃 🙂", "\ud800\udfff xqzvw", "über straße ñandú."):
        feedback = annotator.annotate(EXAMPLE, answer)
        assert 0.0 <= annotator.completeness(EXAMPLE, answer) <= 1.0
        text_spans = [s for s in split_sentences(answer)]
        incoherent = [e for e in feedback.errors if e.error_type == "Incoherent"]
        assert incoherent, repr(answer[:50])
        covered = sum(e.end - e.start for e in incoherent)
        assert covered >= 0.5 * sum(s.end - s.start for s in text_spans)


def test_non_string_answer_is_a_clear_error(annotator):
    with pytest.raises(TypeError, match="answer must be a string"):
        annotator.annotate(EXAMPLE, None)  # type: ignore[arg-type]


def test_example_without_world_is_a_clear_error(annotator):
    real = QAExample("qa-1", "Who?", (Passage("T", ("A did.",)),), ("A did.",))
    with pytest.raises(MissingWorldError, match="built-in world.*learned reward models"):
        annotator.annotate(real, "A did.")


# -- prefix consistency ----------------------------------------------------------------------------------
def _sentence_pool(example: QAExample) -> list[str]:
    pool = [r[s.start : s.end] for r in example.references for s in split_sentences(r)]
    pool += [s for p in example.passages for s in p.sentences]
    # Flawed variants: changed years, dropped endings, shuffled words, repeats.
    pool += [re.sub(r"\b(19|20)\d\d\b", "1977", s) for s in pool[:6]]
    pool += [" ".join(s.split()[:-2]) for s in pool[:4]]
    pool += [" ".join(reversed(s.split())) for s in pool[:3]]
    return pool


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_prefix_consistency(sample, data):
    example = sample[data.draw(st.integers(0, len(sample) - 1))]
    pool = _sentence_pool(example)
    sentences = data.draw(st.lists(st.sampled_from(pool), min_size=1, max_size=8))
    answer = " ".join(sentences)
    full = Annotator().annotate(example, answer)
    for sentence in split_sentences(answer):
        prefix = answer[: sentence.end]
        fresh = Annotator().annotate(example, prefix)  # no cache shared with the full answer
        assert list(fresh.errors) == [e for e in full.errors if e.end <= sentence.end], prefix


def test_cached_and_fresh_annotations_agree(sample):
    """Scoring a growing answer sentence by sentence (cached prefixes) gives the fresh result."""
    cached = Annotator()
    for example in sample[:40]:
        answer = " ".join(_sentence_pool(example)[::3][:7])
        for sentence in split_sentences(answer):
            cached.annotate(example, answer[: sentence.end])
        assert cached.annotate(example, answer) == Annotator().annotate(example, answer)


# -- where the annotator lives ---------------------------------------------------------------------------
def _fresh_interpreter(code: str) -> str:
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return result.stdout.strip()


def test_feedback_package_is_the_schema_only():
    """``fg_env.feedback`` is QA-Feedback's schema: importing it loads nothing of the built-in world."""
    loaded = _fresh_interpreter(
        "import sys, fg_env\n"
        "before = set(sys.modules)\n"
        "import fg_env.feedback\n"
        "print(sorted(m for m in set(sys.modules) - before if m.startswith('fg_env')),"
        " sorted(m for m in sys.modules if m.startswith('fg_env.data.synthetic')))"
    )
    assert loaded == "['fg_env.feedback', 'fg_env.feedback.schema'] []"
    import fg_env.feedback

    assert not hasattr(fg_env.feedback, "Annotator")


@pytest.mark.parametrize(
    "first", ["fg_env.feedback", "fg_env.data", "fg_env.data.qa_feedback", "fg_env.data.synthetic.annotator"]
)
def test_data_and_feedback_import_in_any_order(first):
    """No import cycle between ``fg_env.data`` and ``fg_env.feedback``: each imports first on its own."""
    others = "fg_env.feedback fg_env.data fg_env.data.qa_feedback fg_env.data.synthetic".split()
    code = f"import importlib\nimportlib.import_module({first!r})\n" + "".join(
        f"importlib.import_module({m!r})\n" for m in others
    )
    code += "from fg_env.data.synthetic import Annotator\nprint(Annotator.__module__)"
    assert _fresh_interpreter(code) == "fg_env.data.synthetic.annotator"


def test_annotator_is_exported_by_the_world():
    import fg_env.data.synthetic as world

    assert world.Annotator is Annotator and world.MissingWorldError is MissingWorldError


# -- claims and verdicts as records ------------------------------------------------------------------------
def test_sentence_analyses_carry_enum_verdicts(annotator):
    answer = "The film Harlow Bridge was released in 2003. Ashby was born in 1948. The film film film was released."
    first, second, third = annotator.analyse(EXAMPLE, answer)
    assert first.verdict is Verdict.CONTRADICTED and first.factuality == "Wrong-Grounding"
    assert second.verdict is Verdict.SUPPORTED and second.factuality is None
    assert second.clause_verdicts == (Relevance.IRRELEVANT,)
    assert third.clause_verdicts == (Relevance.INCOHERENT,)
    assert all(isinstance(s, Statement) for s in third.state.said()) and third.state.said()
    assert [v.error_type for v in Verdict] == [None, "Wrong-Grounding", "Unverifiable"]
    assert [r.error_type for r in Relevance] == [None, None, "Redundant", "Irrelevant", "Incoherent"]


def test_relevance_combines_as_the_paper_marks_sub_sentences():
    N, R, D, I, X = (Relevance.NEUTRAL, Relevance.RELEVANT, Relevance.REDUNDANT, Relevance.IRRELEVANT, Relevance.INCOHERENT)
    assert Relevance.combine([]) is None and Relevance.combine([N]) is None
    assert Relevance.combine([R, X]) == "Incoherent"
    assert Relevance.combine([I, R]) is None
    assert Relevance.combine([I, D]) == "Redundant"
    assert Relevance.combine([N, I]) == "Irrelevant"
    assert Verdict.worst([]) is Verdict.SUPPORTED
    assert Verdict.worst([Verdict.UNVERIFIABLE, Verdict.CONTRADICTED]) is Verdict.CONTRADICTED


def test_claim_records_are_named_tuples():
    judged = JudgedClaim(0, Statement("e1", "year", 1994), Verdict.SUPPORTED, True, "e1")
    assert judged.statement.attribute == "year" and judged._fields[2] == "verdict"
    assert Claim._fields == ("clause", "referent", "attribute", "value", "group", "negated")


# -- cost: an answer of n sentences costs O(n) sentence analyses --------------------------------------
def test_what_one_continuation_said_is_not_seen_by_another():
    """States are persistent: two answers continuing one cached prefix do not share what they said."""
    first = "The album Harlow Bridge was released in 2003."
    said_by_x = "The album was recorded in Dunmore."
    x = f"{first} It rained. {said_by_x}"
    y = f"{first} It rained. The weather was mild. {said_by_x}"
    fresh = Annotator().annotate(EXAMPLE, y)
    warm = Annotator()
    warm.annotate(EXAMPLE, f"{first} It rained.")
    warm.annotate(EXAMPLE, x)  # extends the cached prefix's memory first
    assert warm.annotate(EXAMPLE, y) == fresh
    assert span_of(y, said_by_x) not in [(e.start, e.end) for e in fresh.errors]  # new in y: no error
    assert [(e.error_type, e.start, e.end) for e in warm.annotate(EXAMPLE, f"{x} {said_by_x}").errors][-1] == (
        "Redundant",
        len(x) + 1,
        len(x) + 1 + len(said_by_x),
    )  # said twice in one answer: redundant


def test_a_long_action_is_analysed_once_per_sentence(monkeypatch):
    """Scoring an action of n sentences analyses each sentence a bounded number of times (linear time),
    for the relevance and the factuality requests together."""
    import gymnasium as gym

    import fg_env  # noqa: F401
    from fg_env.data.synthetic import annotator as annotator_module

    calls = []
    analyse_sentence = annotator_module._analyse_sentence
    monkeypatch.setattr(
        annotator_module, "_analyse_sentence", lambda *args: calls.append(1) or analyse_sentence(*args)
    )
    env = gym.make("FineGrainedQA-v0", split="dev", max_sentences=10_000)
    examples = env.unwrapped.examples
    sentences = [s for ex in examples[:40] for p in ex.passages for s in p.sentences]
    env.reset(seed=0, options={"index": 0})
    env.step(" ".join(sentences))
    assert len(sentences) > 500 and len(calls) <= len(sentences) + 1
