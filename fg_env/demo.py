"""Helpers for demonstrations: a spoiled version of a gold answer and a table of scored segments."""

from __future__ import annotations

import re
from typing import Any

from fg_env.text import split_sentences
from fg_env.types import QAExample

_YEAR = re.compile(r"\b(1[5-9]\d\d|20\d\d)\b")


def flawed_answer(example: QAExample) -> list[str]:
    """Sentences of a gold answer spoiled in the usual ways: a changed year, a repeat, an off-topic
    passage sentence and word salad (each a different error type for the annotator to find)."""
    gold = example.references[0]
    sentences = [gold[s.start : s.end] for s in split_sentences(gold)]
    spoiled = list(sentences[:2])
    if len(spoiled) > 1 and _YEAR.search(spoiled[1]):
        spoiled[1] = _YEAR.sub(lambda m: str(int(m.group()) + 3), spoiled[1], count=1)
    spoiled.append(sentences[0])
    gold_text = gold.lower()
    off_topic = [s for p in example.passages for s in p.sentences if s.lower() not in gold_text]
    if off_topic:
        spoiled.append(off_topic[-1])
    spoiled.append("Released the of which, famous and.")
    return spoiled


def format_segment_table(segments: list[dict[str, Any]], width: int = 70) -> str:
    """A plain-text table: component, granularity, span, value, label, text."""
    header = f"{'component':<13}{'granularity':<14}{'span':<12}{'value':>6}  {'label':<16}text"
    rows = [header, "-" * len(header)]
    for s in segments:
        text = s["text"] if len(s["text"]) <= width else s["text"][: width - 1] + "…"
        rows.append(
            f"{s['component']:<13}{s['granularity']:<14}{s['start']:>4}-{s['end']:<7}{s['value']:>+6.2f}  {s['label'] or '':<16}{text}"
        )
    return "\n".join(rows)
