"""Evaluate a learned reward model against held-out feedback, as the environment would use it.

Every segment is scored through :meth:`RewardModel.score` with the answer cut at the segment's end,
exactly the request the environment sends, so the figures measure the rewards an agent receives.

* Token models: segment-level precision, recall and F1 for the error class and for the no-error class,
  and accuracy (the paper's ``reward_modeling/eval.py`` metrics), beside a majority-class baseline
  that predicts the evaluation set's most frequent class for every segment. Segments are labelled as in
  training (:mod:`~fg_env.rewards.learned.labels`); ignored segments are left out.
* Pairwise models: accuracy over ``(better, worse)`` pairs (a tie in scores counts half), beside
  the majority baseline (always pick the pair's first-listed answer, or always the second, whichever
  is right more often) and a longer-answer baseline.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fg_env.errors import InvalidValueError
from fg_env.rewards.base import RewardModel, ScoringRequest
from fg_env.rewards.learned.components import NO_ERROR
from fg_env.rewards.learned.data import FeedbackData, LabelledAnswer, RankedAnswers
from fg_env.rewards.versions import SCORED_BY, scored_by
from fg_env.text import segments_at
from fg_env.types import Granularity


def _ratio(a: float, b: float) -> float:
    return a / b if b else 0.0


def classification_metrics(predicted_error: list[bool], gold_error: list[bool]) -> dict[str, Any]:
    """Precision, recall and F1 of both classes, and accuracy.

    Example:
        >>> m = classification_metrics([True, True, False, False], [True, False, False, True])
        >>> m["error"]["precision"], m["no_error"]["recall"], m["accuracy"]
        (0.5, 0.5, 0.5)
    """
    tp = sum(p and g for p, g in zip(predicted_error, gold_error))
    fp = sum(p and not g for p, g in zip(predicted_error, gold_error))
    fn = sum(not p and g for p, g in zip(predicted_error, gold_error))
    tn = sum(not p and not g for p, g in zip(predicted_error, gold_error))

    def prf(tp_: int, fp_: int, fn_: int) -> dict[str, float]:
        precision, recall = _ratio(tp_, tp_ + fp_), _ratio(tp_, tp_ + fn_)
        return {
            "precision": precision,
            "recall": recall,
            "f1": _ratio(2 * precision * recall, precision + recall),
            "support": tp_ + fn_,
        }

    return {"error": prf(tp, fp, fn), "no_error": prf(tn, fn, fp), "accuracy": _ratio(tp + tn, len(gold_error))}


def evaluate_token_model(model: RewardModel, items: list[LabelledAnswer]) -> dict[str, Any]:
    requests, gold = [], []
    for item in items:
        for segment, label in zip(item.segments, item.labels):
            if label is None:
                continue
            requests.append(ScoringRequest(item.example, item.answer[: segment.end], segment))
            gold.append(label != NO_ERROR)
    if not requests:
        raise InvalidValueError("no labelled segment to evaluate on")
    scores = model.score(requests)
    predicted = [s.is_error for s in scores]
    majority_is_error = sum(gold) > len(gold) / 2
    return {
        "kind": "token",
        "segments": len(gold),
        "errors": sum(gold),
        "model": classification_metrics(predicted, gold),
        "majority": {
            "class": "error" if majority_is_error else NO_ERROR,
            **classification_metrics([majority_is_error] * len(gold), gold),
        },
    }


def evaluate_pairwise_model(model: RewardModel, items: list[RankedAnswers]) -> dict[str, Any]:
    requests: list[ScoringRequest] = []
    index: list[int] = []
    for item in items:
        starts = len(requests)
        for answer in item.answers:
            whole = segments_at(answer, Granularity.EPISODE)[0]
            requests.append(ScoringRequest(item.example, answer[: whole.end], whole))
        index.append(starts)
    if not requests:
        raise InvalidValueError("no ranked pair to evaluate on")
    values = [s.value for s in model.score(requests)]
    correct = longer = first = 0.0
    pairs = 0
    for item, start in zip(items, index):
        for better, worse in item.pairs:
            pairs += 1
            a, b = values[start + better], values[start + worse]
            correct += 1.0 if a > b else 0.5 if a == b else 0.0
            la, lb = len(item.answers[better].strip()), len(item.answers[worse].strip())
            longer += 1.0 if la > lb else 0.5 if la == lb else 0.0
            first += 1.0 if better < worse else 0.0
    return {
        "kind": "pairwise",
        "questions": len(items),
        "pairs": pairs,
        "model": {"accuracy": _ratio(correct, pairs)},
        "majority": {"accuracy": max(_ratio(first, pairs), 1 - _ratio(first, pairs))},
        "longer_answer": {"accuracy": _ratio(longer, pairs)},
    }


def evaluate_reward_model(model: RewardModel, data: FeedbackData) -> dict[str, Any]:
    """Evaluate ``model`` on ``data`` (items of the model's component)."""
    if data.items and isinstance(data.items[0], LabelledAnswer):
        result = evaluate_token_model(model, [i for i in data.items if isinstance(i, LabelledAnswer)])
    else:
        result = evaluate_pairwise_model(model, [i for i in data.items if isinstance(i, RankedAnswers)])
    # What scored this: the model's checkpoint, judged against labels from the annotator (synthetic feedback).
    scorers = scored_by(model, annotator=data.annotator is not None)
    return {
        "component": data.component,
        "model_name": model.name,
        "source": data.source,
        "questions": data.questions,
        SCORED_BY: scorers,
        **result,
    }


def format_report(result: dict[str, Any]) -> str:
    """A plain-text table of :func:`evaluate_reward_model`'s result."""
    head = f"{result['component']} on {result['source']} ({result['questions']} questions"
    if result["kind"] == "token":
        lines = [
            f"{head}, {result['segments']} segments: {result['errors']} error / {result['segments'] - result['errors']} no-error)",
            f"{'':<22}{'error P':>9}{'error R':>9}{'error F1':>9}{'ok P':>9}{'ok R':>9}{'ok F1':>9}{'acc':>9}",
        ]
        rows = [("model", result["model"]), (f"majority ({result['majority']['class']})", result["majority"])]
        for name, m in rows:
            e, n = m["error"], m["no_error"]
            lines.append(
                f"{name:<22}{e['precision']:>9.3f}{e['recall']:>9.3f}{e['f1']:>9.3f}"
                f"{n['precision']:>9.3f}{n['recall']:>9.3f}{n['f1']:>9.3f}{m['accuracy']:>9.3f}"
            )
        return "\n".join(lines)
    lines = [f"{head}, {result['pairs']} pairs)", f"{'':<22}{'pairwise accuracy':>18}"]
    for name, key in (("model", "model"), ("majority (one side)", "majority"), ("longer answer", "longer_answer")):
        lines.append(f"{name:<22}{result[key]['accuracy']:>18.3f}")
    return "\n".join(lines)


def write_json(result: dict[str, Any], path: str | Path) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
