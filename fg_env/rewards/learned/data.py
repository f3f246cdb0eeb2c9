"""Training and evaluation data for learned reward models, from QA-Feedback or the built-in annotator.

Whatever the source, a component's data is a list of items, one or more per question:

* token components (relevance, factuality): :class:`LabelledAnswer`, an answer with its segments and
  one label per segment (see :mod:`~fg_env.rewards.learned.labels`);
* pairwise components (completeness, preference): :class:`RankedAnswers`, a question's answers with
  ``(better, worse)`` pairs.

**QA-Feedback** (a feedback file, or a folder holding ``{split}_feedback.json``): token components use
the human spans on ``prediction 1`` under the paper's label rule; ``preference`` uses the human
pairwise labels over the four predictions (ties skipped); ``completeness`` uses rankings of the four
predictions by the paper's coverage heuristic (:mod:`~fg_env.rewards.learned.coverage`), since the
release holds no completeness comparisons.

**synthetic**: questions of the built-in world; for each, the gold answer and sampled perturbations of
it (:mod:`~fg_env.rewards.learned.perturb`), and any answers a policy wrote to it (an answers file,
:func:`load_answers`: the paper trained its reward models on its SFT policy's samples) are labelled by
the built-in annotator, which is exact. Token components use its spans;
``completeness`` ranks the answers by the annotator's completeness score; ``preference`` by the
environment's default scalar return (the paper's weights 0.3 / 0.5 / 0.3 over the annotator's
relevance and factuality segment rewards and its completeness).
"""

from __future__ import annotations

import json
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from fg_env.data.qa_feedback import FEEDBACK_FILES, FeedbackRecord, load_feedback
from fg_env.errors import InvalidValueError
from fg_env.feedback.schema import Feedback
from fg_env.rewards.learned.components import NO_ERROR, ComponentSpec, component
from fg_env.rewards.learned.labels import EXACT_RULE, PAPER_RULE, LabelRule, segment_labels
from fg_env.types import QAExample, Span

SYNTHETIC = "synthetic"
# The environment's default weights (the paper's), used to rank synthetic answers holistically.
HOLISTIC_WEIGHTS = {"relevance": 0.3, "factuality": 0.5, "completeness": 0.3}


@dataclass(frozen=True)
class LabelledAnswer:
    """An answer, its segments at the component's granularity and their labels (None: ignored)."""

    example: QAExample
    answer: str
    segments: tuple[Span, ...]
    labels: tuple[str | None, ...]


@dataclass(frozen=True)
class RankedAnswers:
    """Several answers to one question and ``(better, worse)`` index pairs among them."""

    example: QAExample
    answers: tuple[str, ...]
    pairs: tuple[tuple[int, int], ...]


Item = LabelledAnswer | RankedAnswers


@dataclass(frozen=True)
class FeedbackData:
    """A component's items from one source, and how they were made (saved with a trained model).

    ``annotator`` is the version of the built-in annotator that labelled synthetic feedback (None for human
    feedback): a model trained on another annotator's labels is another model, and its config (and so its
    :attr:`~fg_env.rewards.learned.model.LearnedRewardModel.version`) says so.
    """

    component: str
    items: list[Item]
    source: str
    questions: int
    label_rule: LabelRule
    annotator: str | None = None

    def describe(self) -> dict[str, object]:
        if self.items and isinstance(self.items[0], LabelledAnswer):
            counts: dict[str, int] = {}
            for item in self.items:
                for label in item.labels:  # type: ignore[union-attr]
                    key = "ignored" if label is None else label
                    counts[key] = counts.get(key, 0) + 1
            size: dict[str, object] = {"answers": len(self.items), "segments": counts}
        else:
            ranked = [item for item in self.items if isinstance(item, RankedAnswers)]
            size = {"answers": sum(len(i.answers) for i in ranked), "pairs": sum(len(i.pairs) for i in ranked)}
        labelled_by = {} if self.annotator is None else {"annotator": self.annotator}
        return {"source": self.source, "questions": self.questions, **labelled_by, **size}


def parse_questions(text: str | None) -> slice:
    """A question selection: ``"0:400"``, ``"400:"``, ``":100"`` (Python slice syntax, no step).

    Example:
        >>> parse_questions("400:500")
        slice(400, 500, None)
    """
    if text is None or text.strip() in ("", ":"):
        return slice(None)
    parts = text.split(":")
    if len(parts) != 2:
        raise InvalidValueError(f"--questions takes START:END (e.g. 0:400 or 400:), got {text!r}")
    try:
        start, end = (int(p) if p.strip() else None for p in parts)
    except ValueError:
        raise InvalidValueError(f"--questions takes integers START:END (e.g. 0:400), got {text!r}") from None
    if (start is not None and start < 0) or (end is not None and end < 0):
        raise InvalidValueError(f"--questions takes non-negative bounds, got {text!r}")
    return slice(start, end)


def _select(items: Sequence, questions: str | None, max_questions: int | None) -> list:
    chosen = list(items[parse_questions(questions)])
    if max_questions is not None:
        if max_questions < 1:
            raise InvalidValueError(f"max_questions must be positive, got {max_questions}")
        chosen = chosen[:max_questions]
    if not chosen:
        raise InvalidValueError(
            f"the question selection {questions or ':'} (max {max_questions}) of {len(items)} questions is empty"
        )
    return chosen


# ------------------------------------------------------------------------------------ QA-Feedback


def feedback_file(path: str | Path, split: str | None = None) -> Path:
    """The feedback JSON file that ``path`` names: the file itself, or ``{split}_feedback.json`` in a folder."""
    path = Path(path)
    if path.is_file():
        return path
    if not path.exists():
        raise FileNotFoundError(f"--feedback {str(path)!r}: no such file or folder (or give 'synthetic')")
    present = [s for s, f in FEEDBACK_FILES.items() if (path / f).is_file()]
    if split is None:
        if len(present) != 1:
            raise InvalidValueError(
                f"--feedback folder {str(path)!r} holds feedback splits {present or 'none'}; name one with --split"
            )
        split = present[0]
    if split not in FEEDBACK_FILES or not (path / FEEDBACK_FILES[split]).is_file():
        raise FileNotFoundError(f"no {split}_feedback.json in {str(path)!r} (it holds splits {present})")
    return path / FEEDBACK_FILES[split]


def qa_feedback_items(
    spec: ComponentSpec, records: Sequence[FeedbackRecord], rule: LabelRule = PAPER_RULE
) -> list[Item]:
    """Items of component ``spec`` from QA-Feedback records (records that give nothing are skipped)."""
    items: list[Item] = []
    for record in records:
        if spec.kind == "token":
            segments = spec.segments(record.answer)
            labels = segment_labels(spec, record.answer, record.feedback, segments, rule)
            if any(label is not None for label in labels):
                items.append(LabelledAnswer(record.example, record.answer, tuple(segments), tuple(labels)))
            continue
        if spec.name == "preference":
            pairs = record.preferred_pairs()
        else:
            from fg_env.rewards.learned.coverage import completeness_pairs

            pairs = completeness_pairs(record)
        if pairs:
            items.append(RankedAnswers(record.example, record.predictions, tuple(pairs)))
    return items


# ------------------------------------------------------------------------------------ synthetic


def _holistic_return(answer: str, feedback: Feedback, completeness: float) -> float:
    """The environment's scalar return under the paper's weights, from the annotator's verdicts."""
    total = HOLISTIC_WEIGHTS["completeness"] * completeness
    for name in ("relevance", "factuality"):
        spec = component(name)
        labels = segment_labels(spec, answer, feedback, spec.segments(answer), EXACT_RULE)
        total += HOLISTIC_WEIGHTS[name] * sum(1.0 if label == NO_ERROR else -1.0 for label in labels)
    return total


def load_answers(path: str | Path) -> dict[str, list[str]]:
    """An answers file: a JSON object mapping question ids to lists of answers (e.g. a policy's samples).

    Example:
        >>> import tempfile, os
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     path = os.path.join(folder, "answers.json")
        ...     _ = open(path, "w").write('{"q1": ["Ann won.", "Bo won."]}')
        ...     load_answers(path)
        {'q1': ['Ann won.', 'Bo won.']}
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"--answers {str(path)!r}: no such file")
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise InvalidValueError(f"--answers {str(path)!r} is not valid JSON: {error}") from None
    if not isinstance(record, dict):
        raise InvalidValueError(f"--answers {str(path)!r} must hold a JSON object of question id -> list of answers")
    for key, answers in record.items():
        if not isinstance(answers, list) or not all(isinstance(a, str) for a in answers):
            raise InvalidValueError(f"--answers {str(path)!r}: question {key!r} must map to a list of strings")
    return record


def synthetic_items(
    spec: ComponentSpec,
    examples: Sequence[QAExample],
    *,
    samples_per_question: int = 4,
    seed: int = 0,
    extra_answers: Mapping[str, Sequence[str]] | None = None,
) -> list[Item]:
    """Items of component ``spec`` from annotator feedback on gold answers, perturbations of them and
    ``extra_answers[example.id]`` (answers a policy wrote; duplicates are judged once)."""
    from fg_env.data.synthetic.annotator import Annotator
    from fg_env.rewards.learned.perturb import sample_answers

    annotator = Annotator()
    items: list[Item] = []
    for example in examples:
        rng = random.Random(f"{seed}:{example.id}")
        answers = sample_answers(example, rng, samples_per_question)
        for answer in (extra_answers or {}).get(example.id, ()):
            if answer.strip() and answer not in answers:
                answers.append(answer)
        if spec.kind == "token":
            for answer in answers:
                segments = spec.segments(answer)
                labels = segment_labels(spec, answer, annotator.annotate(example, answer), segments, EXACT_RULE)
                if segments:
                    items.append(LabelledAnswer(example, answer, tuple(segments), tuple(labels)))
            continue
        if spec.name == "completeness":
            scores = [annotator.completeness(example, a) for a in answers]
        else:
            scores = [
                _holistic_return(a, annotator.annotate(example, a), annotator.completeness(example, a)) for a in answers
            ]
        pairs = [
            (a, b) if scores[a] > scores[b] else (b, a)
            for a in range(len(answers))
            for b in range(a + 1, len(answers))
            if scores[a] != scores[b]
        ]
        if pairs:
            items.append(RankedAnswers(example, tuple(answers), tuple(pairs)))
    return items


# ------------------------------------------------------------------------------------ entry point


def load_feedback_data(
    component_name: str,
    feedback: str | Path,
    *,
    split: str | None = None,
    questions: str | None = None,
    max_questions: int | None = None,
    samples_per_question: int = 4,
    seed: int = 0,
    answers: str | Path | Mapping[str, Sequence[str]] | None = None,
) -> FeedbackData:
    """A component's items from ``feedback`` (a QA-Feedback file or folder, or ``"synthetic"``).

    ``questions`` (``"0:400"``) and ``max_questions`` select questions *before* items are made, so
    the same selection names the same questions for every component. ``split`` picks the feedback
    file in a folder, or the built-in world's split (default ``train``). ``answers`` (synthetic only: an
    answers file or its mapping, :func:`load_answers`) adds a policy's answers to be labelled.
    """
    spec = component(component_name)
    if answers is not None and str(feedback) != SYNTHETIC:
        raise InvalidValueError(
            "--answers adds answers for the built-in annotator to label: use it with --feedback synthetic"
        )
    if str(feedback) == SYNTHETIC:
        from fg_env.data.base import make_dataset

        split = split or "train"
        examples = _select(make_dataset(SYNTHETIC).split(split), questions, max_questions)
        extra = load_answers(answers) if isinstance(answers, (str, Path)) else answers
        items = synthetic_items(
            spec, examples, samples_per_question=samples_per_question, seed=seed, extra_answers=extra
        )
        source = f"synthetic:{split}[{questions or ':'}] ({samples_per_question} perturbed answers + gold per question, seed {seed})"
        if extra is not None:
            given = sum(len(extra.get(e.id, ())) for e in examples)
            source += f" + {given} answers from {answers if isinstance(answers, (str, Path)) else 'a mapping'}"
        from fg_env.rewards.versions import annotator_version

        return FeedbackData(spec.name, items, source, len(examples), EXACT_RULE, annotator_version())
    path = feedback_file(feedback, split)
    records = _select(load_feedback(path), questions, max_questions)
    items = qa_feedback_items(spec, records, PAPER_RULE)
    return FeedbackData(spec.name, items, f"{path.name}[{questions or ':'}]", len(records), PAPER_RULE)
