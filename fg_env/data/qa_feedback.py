"""The QA-Feedback dataset (Wu et al., 2023): ASQA-derived questions with real human fine-grained feedback.

The released folder holds any of these JSON files (each a list of records)::

    train.json  dev.json  test.json  train_1k.json      questions: question, passages, answer
    train_feedback.json  dev_feedback.json              feedback on four sampled answers

:class:`QAFeedbackDataset` reads whichever exist. Question files become splits of
:class:`~fg_env.types.QAExample` (``train_1k.json`` is split ``"train_1k"``); feedback files load with
:meth:`QAFeedbackDataset.feedback` into :class:`FeedbackRecord` objects.

Every record of a file is validated before any is returned, so a malformed file never yields a
half-read dataset; the error names the file, the record's index and the field::

    dev_feedback.json: record 17: field 'feedback.errors[2].start': expected an integer, got '12'

The two file kinds lay passages out differently: ``dev.json`` has ``{"wikipage", "content"}`` objects
whose content is split into sentences here (:func:`fg_env.text.split_sentences`), while
``dev_feedback.json`` already has ``[title, sentence 1, sentence 2, ...]`` lists whose 1-based indices
the ``missing-info`` annotations point at (id 0 is the title; three records of the released dev file
point there).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fg_env.data.base import QADataset
from fg_env.errors import InvalidValueError, QAFeedbackFormatError, UnknownChoiceError
from fg_env.feedback.schema import (
    MISSING_INFO_TYPES,
    SPAN_ERROR_TYPES,
    Feedback,
    FeedbackFormatError,
)
from fg_env.text import split_sentences
from fg_env.types import Passage, QAExample

EXAMPLE_FILES: dict[str, str] = {
    "train": "train.json",
    "dev": "dev.json",
    "test": "test.json",
    "train_1k": "train_1k.json",
}
FEEDBACK_FILES: dict[str, str] = {"train": "train_feedback.json", "dev": "dev_feedback.json"}
NUM_PREDICTIONS = 4
# The order of the six pairwise ``preference`` labels, as 0-based prediction indices.
PREFERENCE_PAIRS: tuple[tuple[int, int], ...] = ((0, 1), (0, 2), (0, 3), (1, 2), (1, 3), (2, 3))


@dataclass(frozen=True)
class FeedbackRecord:
    """One question of a feedback file: four sampled answers, human preferences, and fine-grained
    feedback on the first answer.

    ``preference`` holds the six raw labels for the pairs in :data:`PREFERENCE_PAIRS` (0 tie, 1 the
    first of the pair is preferred, 2 the second); :meth:`preferred_pairs` turns them into
    ``(better, worse)`` indices. ``feedback`` refers to ``predictions[0]`` (character spans into it).

    Example:
        >>> rec = FeedbackRecord("qa-feedback-dev-feedback-00000", "Who?", (), "Ann.",
        ...                      ("Ann.", "Bob.", "Ann!", "Cy."), (1, 0, 1, 2, 1, 1), Feedback())
        >>> rec.preferred_pairs()
        [(0, 1), (0, 3), (2, 1), (1, 3), (2, 3)]
        >>> rec.example.references
        ('Ann.',)
    """

    id: str
    question: str
    passages: tuple[Passage, ...]
    gold: str
    predictions: tuple[str, ...]
    preference: tuple[int, ...]
    feedback: Feedback

    @property
    def example(self) -> QAExample:
        """The question as a :class:`QAExample` (its reference is the gold answer)."""
        return QAExample(self.id, self.question, self.passages, (self.gold,), {"source": "qa-feedback"})

    @property
    def answer(self) -> str:
        """The answer the fine-grained feedback is about (``prediction 1``)."""
        return self.predictions[0]

    def preferred_pairs(self) -> list[tuple[int, int]]:
        """``(better, worse)`` 0-based prediction indices for every non-tie preference label."""
        pairs = []
        for (a, b), label in zip(PREFERENCE_PAIRS, self.preference):
            if label == 1:
                pairs.append((a, b))
            elif label == 2:
                pairs.append((b, a))
        return pairs


# ------------------------------------------------------------------------------------ validation


def _type_name(value: Any) -> str:
    return "null" if value is None else type(value).__name__


class _Checker:
    """Typed access to one record's fields; each failure raises with the file, record and field."""

    def __init__(self, file: str, index: int) -> None:
        self.file, self.index = file, index

    def fail(self, field: str, message: str) -> QAFeedbackFormatError:
        return QAFeedbackFormatError(self.file, message, record=self.index, field=field)

    def field(self, obj: Mapping[str, Any], key: str, path: str) -> Any:
        if key not in obj:
            raise self.fail(path, "missing")
        return obj[key]

    def string(self, value: Any, path: str) -> str:
        if not isinstance(value, str):
            raise self.fail(path, f"expected a string, got {_type_name(value)} {value!r:.60}")
        return value

    def integer(self, value: Any, path: str) -> int:
        # bool is an int subclass in Python, but `true` is not an offset.
        if not isinstance(value, int) or isinstance(value, bool):
            raise self.fail(path, f"expected an integer, got {_type_name(value)} {value!r:.60}")
        return value

    def array(self, value: Any, path: str) -> list[Any]:
        if not isinstance(value, list):
            raise self.fail(path, f"expected a list, got {_type_name(value)}")
        return value

    def mapping(self, value: Any, path: str) -> Mapping[str, Any]:
        if not isinstance(value, Mapping):
            raise self.fail(path, f"expected an object, got {_type_name(value)}")
        return value


def _read_records(path: Path) -> list[Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise QAFeedbackFormatError(path.name, f"not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise QAFeedbackFormatError(
            path.name, f"not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}"
        ) from None
    if not isinstance(data, list):
        raise QAFeedbackFormatError(path.name, f"expected a JSON list of records, got {_type_name(data)}")
    return data


def _parse_example(check: _Checker, record: Any, split: str) -> QAExample:
    record = check.mapping(record, "<record>")
    question = check.string(check.field(record, "question", "question"), "question")
    answers = check.array(check.field(record, "answer", "answer"), "answer")
    references = tuple(check.string(a, f"answer[{i}]") for i, a in enumerate(answers))
    passages = []
    for i, raw in enumerate(check.array(check.field(record, "passages", "passages"), "passages")):
        raw = check.mapping(raw, f"passages[{i}]")
        title = check.string(check.field(raw, "wikipage", f"passages[{i}].wikipage"), f"passages[{i}].wikipage")
        content = check.string(check.field(raw, "content", f"passages[{i}].content"), f"passages[{i}].content")
        passages.append(Passage(title, tuple(s.slice(content) for s in split_sentences(content))))
    example_id = f"qa-feedback-{split}-{check.index:05d}"
    return QAExample(example_id, question, tuple(passages), references, {"source": "qa-feedback"})


def _parse_feedback_passages(check: _Checker, record: Mapping[str, Any]) -> tuple[Passage, ...]:
    passages = []
    for i, raw in enumerate(check.array(check.field(record, "passages", "passages"), "passages")):
        raw = check.array(raw, f"passages[{i}]")
        if not raw:
            raise check.fail(f"passages[{i}]", "expected [title, sentence, ...], got an empty list")
        texts = [check.string(s, f"passages[{i}][{j}]") for j, s in enumerate(raw)]
        passages.append(Passage(texts[0], tuple(texts[1:])))
    return tuple(passages)


def _parse_feedback(check: _Checker, raw: Any, answer: str, passages: tuple[Passage, ...]) -> Feedback:
    raw = check.mapping(raw, "feedback")
    errors = check.array(check.field(raw, "errors", "feedback.errors"), "feedback.errors")
    for i, error in enumerate(errors):
        path = f"feedback.errors[{i}]"
        error = check.mapping(error, path)
        kind = check.string(check.field(error, "error type", f"{path}.error type"), f"{path}.error type")
        if kind not in SPAN_ERROR_TYPES:
            raise check.fail(
                f"{path}.error type", f"unknown error type {kind!r}; expected one of {list(SPAN_ERROR_TYPES)}"
            )
        start = check.integer(check.field(error, "start", f"{path}.start"), f"{path}.start")
        end = check.integer(check.field(error, "end", f"{path}.end"), f"{path}.end")
        if not 0 <= start <= end <= len(answer):
            raise check.fail(
                path,
                f"span [{start}, {end}) out of range: need 0 <= start <= end <= {len(answer)} "
                "(the length of 'prediction 1')",
            )
        if error.get("explanation") is not None:
            check.string(error["explanation"], f"{path}.explanation")
    missing = check.array(check.field(raw, "missing-info", "feedback.missing-info"), "feedback.missing-info")
    for i, item in enumerate(missing):
        path = f"feedback.missing-info[{i}]"
        item = check.mapping(item, path)
        kind = check.string(check.field(item, "error type", f"{path}.error type"), f"{path}.error type")
        if kind not in MISSING_INFO_TYPES:
            raise check.fail(
                f"{path}.error type", f"unknown missing-info type {kind!r}; expected one of {list(MISSING_INFO_TYPES)}"
            )
        passage_id = check.integer(check.field(item, "passage_id", f"{path}.passage_id"), f"{path}.passage_id")
        if not 1 <= passage_id <= len(passages):
            raise check.fail(
                f"{path}.passage_id", f"{passage_id} out of range: the record has {len(passages)} passages"
            )
        sentence_ids = check.array(check.field(item, "sentence_id", f"{path}.sentence_id"), f"{path}.sentence_id")
        for j, sentence_id in enumerate(sentence_ids):
            check.integer(sentence_id, f"{path}.sentence_id[{j}]")
            # Ids index [title, sentence 1, ...], so 0 (the title) to the number of sentences are valid.
            if not 0 <= sentence_id <= len(passages[passage_id - 1].sentences):
                raise check.fail(
                    f"{path}.sentence_id[{j}]",
                    f"{sentence_id} out of range: passage {passage_id} has "
                    f"{len(passages[passage_id - 1].sentences)} sentences",
                )
    if raw.get("corrected-prediction") is not None:
        check.string(raw["corrected-prediction"], "feedback.corrected-prediction")
    try:
        return Feedback.from_dict(raw)
    except FeedbackFormatError as exc:  # everything is checked above; this is a safety net
        raise check.fail("feedback", str(exc)) from None


def _parse_feedback_record(check: _Checker, record: Any, split: str) -> FeedbackRecord:
    record = check.mapping(record, "<record>")
    question = check.string(check.field(record, "question", "question"), "question")
    passages = _parse_feedback_passages(check, record)
    gold = check.string(check.field(record, "gold", "gold"), "gold")
    predictions = tuple(
        check.string(check.field(record, f"prediction {k}", f"prediction {k}"), f"prediction {k}")
        for k in range(1, NUM_PREDICTIONS + 1)
    )
    labels = check.array(check.field(record, "preference", "preference"), "preference")
    if len(labels) != len(PREFERENCE_PAIRS):
        raise check.fail(
            "preference", f"expected {len(PREFERENCE_PAIRS)} labels (1v2 1v3 1v4 2v3 2v4 3v4), got {len(labels)}"
        )
    for j, label in enumerate(labels):
        if check.integer(label, f"preference[{j}]") not in (0, 1, 2):
            raise check.fail(f"preference[{j}]", f"expected 0 (tie), 1 or 2, got {label}")
    feedback = _parse_feedback(check, check.field(record, "feedback", "feedback"), predictions[0], passages)
    record_id = f"qa-feedback-{split}-feedback-{check.index:05d}"
    return FeedbackRecord(record_id, question, passages, gold, predictions, tuple(labels), feedback)


def _load_all(path: Path, parse: Callable[[_Checker, Any, str], Any], split: str) -> list[Any]:
    # Parse everything first: a malformed record anywhere raises before anything is returned.
    return [parse(_Checker(path.name, i), record, split) for i, record in enumerate(_read_records(path))]


def load_examples(path: str | Path, split: str | None = None) -> list[QAExample]:
    """Read a question file (``dev.json`` and the like) into examples, validating every record.

    ``split`` names the ids (``qa-feedback-{split}-{index:05d}``); by default the file's stem.

    Example:
        >>> import json, tempfile, pathlib
        >>> d = pathlib.Path(tempfile.mkdtemp())
        >>> _ = (d / "dev.json").write_text(json.dumps([{"question": "Who?", "answer": ["Ann."],
        ...     "passages": [{"wikipage": "Ann", "content": "Ann did it. Then she left."}]}]))
        >>> ex = load_examples(d / "dev.json")[0]
        >>> ex.id, ex.passages[0].sentences
        ('qa-feedback-dev-00000', ('Ann did it.', 'Then she left.'))
    """
    path = Path(path)
    return _load_all(path, _parse_example, split or path.stem)


def load_feedback(path: str | Path, split: str | None = None) -> list[FeedbackRecord]:
    """Read a feedback file (``dev_feedback.json`` and the like), validating every record.

    ``split`` names the ids (``qa-feedback-{split}-feedback-{index:05d}``); by default the file's stem
    without ``_feedback``.
    """
    path = Path(path)
    return _load_all(path, _parse_feedback_record, split or path.stem.removesuffix("_feedback"))


# ------------------------------------------------------------------------------------ dataset


class QAFeedbackDataset(QADataset):
    """QA-Feedback read from its released folder; splits are the question files that exist there.

    Args:
        data_dir: the folder holding ``dev.json``, ``dev_feedback.json`` and so on (the paper's
            ``tasks/qa_feedback/data``). Required: the data is not bundled.

    Example:
        >>> import json, tempfile, pathlib
        >>> d = pathlib.Path(tempfile.mkdtemp())
        >>> _ = (d / "dev.json").write_text(json.dumps([{"question": "Who?", "answer": ["Ann."],
        ...     "passages": [{"wikipage": "Ann", "content": "Ann did it."}]}]))
        >>> dataset = QAFeedbackDataset(d)
        >>> dataset.splits, len(dataset.split("dev")), dataset.feedback_splits
        (('dev',), 1, ())
    """

    name = "qa-feedback"

    def __init__(self, data_dir: str | Path | None = None) -> None:
        if data_dir is None:
            raise InvalidValueError(
                "dataset 'qa-feedback' needs data_dir: the folder of QA-Feedback's JSON files "
                "(dev.json, dev_feedback.json, ...), e.g. data_dir='path/to/qa_feedback'"
            )
        self.data_dir = Path(data_dir)
        if not self.data_dir.exists():
            raise FileNotFoundError(f"QA-Feedback data_dir {str(self.data_dir)!r} does not exist")
        if not self.data_dir.is_dir():
            raise NotADirectoryError(f"QA-Feedback data_dir {str(self.data_dir)!r} is not a folder")
        self.splits = tuple(s for s, f in EXAMPLE_FILES.items() if (self.data_dir / f).is_file())
        self.feedback_splits = tuple(s for s, f in FEEDBACK_FILES.items() if (self.data_dir / f).is_file())
        if not self.splits and not self.feedback_splits:
            expected = ", ".join(list(EXAMPLE_FILES.values()) + list(FEEDBACK_FILES.values()))
            raise FileNotFoundError(f"no QA-Feedback file in {str(self.data_dir)!r}; expected any of {expected}")
        self._examples: dict[str, list[QAExample]] = {}
        self._feedback: dict[str, list[FeedbackRecord]] = {}

    def _load_split(self, name: str) -> Sequence[QAExample]:
        if name not in self._examples:
            self._examples[name] = load_examples(self.data_dir / EXAMPLE_FILES[name], name)
        return self._examples[name]

    def feedback(self, split: str) -> list[FeedbackRecord]:
        """The feedback records of ``split`` (``"train"`` or ``"dev"``, whichever files exist)."""
        if split not in self.feedback_splits:
            raise UnknownChoiceError(f"feedback split of dataset {self.name!r}", split, self.feedback_splits)
        if split not in self._feedback:
            self._feedback[split] = load_feedback(self.data_dir / FEEDBACK_FILES[split], split)
        return self._feedback[split]

    def __repr__(self) -> str:
        return f"QAFeedbackDataset(data_dir={str(self.data_dir)!r}, splits={self.splits}, feedback_splits={self.feedback_splits})"
