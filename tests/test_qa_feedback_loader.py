"""The QA-Feedback loader: the released dev files (when present) and malformed copies of small files."""

from __future__ import annotations

import copy
import json
from collections import Counter
from pathlib import Path

import pytest

from fg_env.data import make_dataset
from fg_env.errors import UnknownChoiceError
from fg_env.data.qa_feedback import (
    PREFERENCE_PAIRS,
    FeedbackRecord,
    QAFeedbackDataset,
    QAFeedbackFormatError,
    load_examples,
    load_feedback,
)
from fg_env.feedback.schema import FeedbackFormatError
from fg_env.types import Passage, QAExample

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "qa_feedback"
needs_shared = pytest.mark.skipif(not (SHARED / "dev_feedback.json").is_file(), reason="QA-Feedback dev files absent")

ANSWER = "Ann won the race in 1990. She likes very many red apples."


def example_record() -> dict:
    return {
        "text": "question: Who won? context: wikipage: Race text: Ann won the race in 1990.",
        "question": "Who won the race?",
        "answer": ["Ann won the race in 1990."],
        "passages": [{"wikipage": "Race", "content": "Race\n\nAnn won the race in 1990. Bob came second."}],
    }


def feedback_record() -> dict:
    return {
        "question": "Who won the race?",
        "passages": [["Race", "Ann won the race in 1990.", "Bob came second."]],
        "gold": "Ann won the race in 1990.",
        "prediction 1": ANSWER,
        "prediction 2": "Ann won.",
        "prediction 3": "Bob won the race in 1990.",
        "prediction 4": "Ann won the race in 1990.",
        "preference": [2, 1, 2, 0, 2, 1],
        "feedback": {
            "errors": [{"error type": "Irrelevant", "explanation": "", "start": 26, "end": 57}],
            "missing-info": [{"error type": "Missing-Major-Auxiliary", "passage_id": 1, "sentence_id": [2]}],
            "corrected-prediction": "Ann won the race in 1990.",
        },
    }


def write(folder: Path, name: str, records) -> Path:
    path = folder / name
    path.write_text(records if isinstance(records, str) else json.dumps(records), encoding="utf-8")
    return path


# ----------------------------------------------------------------------------------- the released files


@needs_shared
def test_dev_split_loads_all_questions_with_passages_and_references():
    dataset = make_dataset("qa-feedback", data_dir=SHARED)
    assert isinstance(dataset, QAFeedbackDataset)
    assert dataset.splits == ("dev",) and dataset.feedback_splits == ("dev",)
    dev = dataset.split("dev")
    assert len(dev) == 500
    assert all(isinstance(ex, QAExample) for ex in dev)
    assert dev[42].id == "qa-feedback-dev-00042"
    assert len({ex.id for ex in dev}) == 500
    assert all(ex.references and ex.question for ex in dev)
    first = dev[0]
    assert first.question == "When does the new bunk'd come out?"
    assert all(isinstance(p, Passage) and p.sentences for p in first.passages)
    # Sentences are cut from the content with nothing lost but whitespace.
    raw = json.loads((SHARED / "dev.json").read_text())[0]["passages"][0]["content"]
    assert "".join("".join(first.passages[0].sentences).split()) == "".join(raw.split())


@needs_shared
def test_dev_feedback_counts_match_the_release():
    records = make_dataset("qa-feedback", data_dir=SHARED).feedback("dev")
    assert len(records) == 500
    errors = Counter(e.error_type for r in records for e in r.feedback.errors)
    assert errors == {"Irrelevant": 909, "Wrong-Grounding": 163, "Unverifiable": 152, "Redundant": 133, "Incoherent": 16}
    missing = Counter(m.error_type for r in records for m in r.feedback.missing_info)
    assert missing == {"Missing-Minor-Auxiliary": 319, "Missing-Major-Auxiliary": 283, "Missing-Answer": 240}
    labels = Counter(label for r in records for label in r.preference)
    assert labels == {1: 1577, 2: 1039, 0: 384}
    assert sum(len(r.preferred_pairs()) for r in records) == 1577 + 1039
    for record in records:
        assert len(record.predictions) == 4
        for error in record.feedback.errors:
            assert 0 <= error.start < error.end <= len(record.answer)
    assert records[0].id == "qa-feedback-dev-feedback-00000"
    assert records[0].passages[0].title == "Bloom (Troye Sivan album)"


# ----------------------------------------------------------------------------------- small valid files


def test_small_folder_loads_examples_and_feedback(tmp_path):
    write(tmp_path, "dev.json", [example_record()])
    write(tmp_path, "train_1k.json", [example_record(), example_record()])
    write(tmp_path, "dev_feedback.json", [feedback_record()])
    dataset = QAFeedbackDataset(tmp_path)
    assert dataset.splits == ("dev", "train_1k")
    assert dataset.split("train_1k")[1].id == "qa-feedback-train_1k-00001"
    example = dataset.split("dev")[0]
    assert example.passages[0].title == "Race"
    assert example.passages[0].sentences[-1] == "Bob came second."
    assert example.references == ("Ann won the race in 1990.",)
    record = dataset.feedback("dev")[0]
    assert isinstance(record, FeedbackRecord)
    assert record.answer == ANSWER
    assert record.feedback.errors[0].error_type == "Irrelevant"
    assert record.feedback.missing_info[0].sentence_ids == (2,)
    assert record.passages[0].sentences == ("Ann won the race in 1990.", "Bob came second.")
    # 1v2 -> 2, 1v3 -> 1, 1v4 -> 2, 2v3 tie, 2v4 -> 4, 3v4 -> 3
    assert record.preferred_pairs() == [(1, 0), (0, 2), (3, 0), (3, 1), (2, 3)]
    assert len(PREFERENCE_PAIRS) == 6
    assert record.example.references == (record.gold,)


def test_dataset_requires_an_existing_folder_with_files(tmp_path):
    with pytest.raises(ValueError, match="needs data_dir"):
        make_dataset("qa-feedback")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        QAFeedbackDataset(tmp_path / "nowhere")
    file = write(tmp_path, "dev.json", [example_record()])
    with pytest.raises(NotADirectoryError, match="is not a folder"):
        QAFeedbackDataset(file)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(FileNotFoundError, match="no QA-Feedback file.*dev_feedback.json"):
        QAFeedbackDataset(empty)
    dataset = QAFeedbackDataset(tmp_path)
    with pytest.raises(UnknownChoiceError, match="valid choices: dev"):
        dataset.split("test")
    with pytest.raises(UnknownChoiceError, match="feedback split"):
        dataset.feedback("dev")


# ----------------------------------------------------------------------------------- malformed files


def corrupt(mutate):
    records = [feedback_record(), feedback_record(), feedback_record()]
    mutate(records)
    return records


FEEDBACK_CORRUPTIONS = {
    "bad JSON": ('[{"question": "x",', r"dev_feedback\.json: not valid JSON: .* line 1"),
    "not a list": ({"question": "x"}, r"dev_feedback\.json: expected a JSON list of records, got dict"),
    "record not an object": (corrupt(lambda r: r.__setitem__(1, ["x"])), r"record 1: field '<record>': expected an object"),
    "missing field": (corrupt(lambda r: r[2].pop("gold")), r"record 2: field 'gold': missing"),
    "missing prediction": (corrupt(lambda r: r[1].pop("prediction 3")), r"record 1: field 'prediction 3': missing"),
    "wrong type": (
        corrupt(lambda r: r[1]["feedback"]["errors"][0].__setitem__("start", "26")),
        r"record 1: field 'feedback\.errors\[0\]\.start': expected an integer, got str",
    ),
    "bool offset": (
        corrupt(lambda r: r[0]["feedback"]["errors"][0].__setitem__("end", True)),
        r"record 0: field 'feedback\.errors\[0\]\.end': expected an integer, got bool",
    ),
    "span out of range": (
        corrupt(lambda r: r[2]["feedback"]["errors"][0].__setitem__("end", 999)),
        r"record 2: field 'feedback\.errors\[0\]': span \[26, 999\) out of range: .*<= 57",
    ),
    "span reversed": (
        corrupt(lambda r: r[0]["feedback"]["errors"][0].__setitem__("start", 40) or r[0]["feedback"]["errors"][0].__setitem__("end", 30)),
        r"record 0: field 'feedback\.errors\[0\]': span \[40, 30\) out of range",
    ),
    "unknown error type": (
        corrupt(lambda r: r[1]["feedback"]["errors"][0].__setitem__("error type", "Typo")),
        r"record 1: field 'feedback\.errors\[0\]\.error type': unknown error type 'Typo'",
    ),
    "unknown missing-info type": (
        corrupt(lambda r: r[0]["feedback"]["missing-info"][0].__setitem__("error type", "Missing-Everything")),
        r"record 0: field 'feedback\.missing-info\[0\]\.error type': unknown missing-info type",
    ),
    "passage id out of range": (
        corrupt(lambda r: r[0]["feedback"]["missing-info"][0].__setitem__("passage_id", 3)),
        r"record 0: field 'feedback\.missing-info\[0\]\.passage_id': 3 out of range: the record has 1 passages",
    ),
    "sentence id out of range": (
        corrupt(lambda r: r[0]["feedback"]["missing-info"][0].__setitem__("sentence_id", [1, 7])),
        r"record 0: field 'feedback\.missing-info\[0\]\.sentence_id\[1\]': 7 out of range",
    ),
    "errors not a list": (
        corrupt(lambda r: r[1]["feedback"].__setitem__("errors", {"start": 1})),
        r"record 1: field 'feedback\.errors': expected a list, got dict",
    ),
    "preference count": (
        corrupt(lambda r: r[2].__setitem__("preference", [1, 2])),
        r"record 2: field 'preference': expected 6 labels",
    ),
    "preference value": (
        corrupt(lambda r: r[2]["preference"].__setitem__(4, 3)),
        r"record 2: field 'preference\[4\]': expected 0 \(tie\), 1 or 2, got 3",
    ),
    "empty passage": (
        corrupt(lambda r: r[1]["passages"].__setitem__(0, [])),
        r"record 1: field 'passages\[0\]': expected \[title, sentence, \.\.\.\]",
    ),
    "passage sentence type": (
        corrupt(lambda r: r[1]["passages"][0].__setitem__(2, None)),
        r"record 1: field 'passages\[0\]\[2\]': expected a string, got null",
    ),
}


@pytest.mark.parametrize("kind", sorted(FEEDBACK_CORRUPTIONS))
def test_malformed_feedback_file_names_file_record_and_field(tmp_path, kind):
    content, message = FEEDBACK_CORRUPTIONS[kind]
    write(tmp_path, "dev_feedback.json", content)
    dataset = QAFeedbackDataset(tmp_path)
    with pytest.raises(QAFeedbackFormatError, match=message) as info:
        dataset.feedback("dev")
    assert isinstance(info.value, FeedbackFormatError) and isinstance(info.value, ValueError)
    assert info.value.file == "dev_feedback.json"
    # Never a half-read dataset: nothing was cached, and asking again fails again.
    assert dataset._feedback == {}
    with pytest.raises(QAFeedbackFormatError):
        dataset.feedback("dev")


EXAMPLE_CORRUPTIONS = {
    "missing answer": (lambda r: r.pop("answer"), r"dev\.json: record 1: field 'answer': missing"),
    "answer not a list": (lambda r: r.__setitem__("answer", "Ann."), r"record 1: field 'answer': expected a list, got str"),
    "question type": (lambda r: r.__setitem__("question", 7), r"record 1: field 'question': expected a string, got int"),
    "passage shape": (
        lambda r: r.__setitem__("passages", [["Race", "Ann won."]]),
        r"record 1: field 'passages\[0\]': expected an object, got list",
    ),
    "passage content": (
        lambda r: r["passages"][0].pop("content"),
        r"record 1: field 'passages\[0\]\.content': missing",
    ),
}


@pytest.mark.parametrize("kind", sorted(EXAMPLE_CORRUPTIONS))
def test_malformed_example_file_fails_whole(tmp_path, kind):
    mutate, message = EXAMPLE_CORRUPTIONS[kind]
    records = [example_record(), copy.deepcopy(example_record())]
    mutate(records[1])  # the *last* record: a half-reading loader would have returned the first
    write(tmp_path, "dev.json", records)
    with pytest.raises(QAFeedbackFormatError, match=message):
        load_examples(tmp_path / "dev.json")
    dataset = QAFeedbackDataset(tmp_path)
    with pytest.raises(QAFeedbackFormatError):
        dataset.split("dev")
    assert dataset._examples == {}


def test_non_utf8_file_is_named(tmp_path):
    (tmp_path / "dev_feedback.json").write_bytes(b"[\xff\xfe]")
    with pytest.raises(QAFeedbackFormatError, match=r"dev_feedback\.json: not UTF-8 text"):
        load_feedback(tmp_path / "dev_feedback.json")


def test_title_sentence_id_zero_is_accepted(tmp_path):
    # The released dev file points three missing-info items at sentence 0 (the title): keep them.
    records = [feedback_record()]
    records[0]["feedback"]["missing-info"][0]["sentence_id"] = [0]
    write(tmp_path, "dev_feedback.json", records)
    assert load_feedback(tmp_path / "dev_feedback.json")[0].feedback.missing_info[0].sentence_ids == (0,)
