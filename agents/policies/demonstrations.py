"""Careless demonstrations: gold answers rewritten with two habits of a hurried annotator, so that an
SFT policy imitating them makes the relevance errors RL is meant to fix.

The built-in world's gold answers contain no relevance error, and a policy that imitates them greedily
makes almost none (the default policy, on 100 dev questions: Irrelevant in 0% of answers, Incoherent in
1%), whereas the paper's SFT policy made many (relevance ratio 0.51). Two habits, each taken with
probability ``share`` wherever it applies:

* **biography**: after the first sentence that names a person whose birth the passages state, the
  annotator copies that birth sentence ("Elsa Jessop was born in 1931 in Ormsby."). It answers
  nothing that was asked: Irrelevant.
* **unfinished ending**: the last sentence stops before its last value ("It takes place in"):
  Incoherent, and that fact goes missing.

Both depend on what the prompt shows (a birth sentence in the passages; the last interpretation to
cover), so a model can learn where they happen; at ``share`` 0.5 greedy decoding keeps some and drops
others, and sampled answers show both ways, which gives RL a choice to learn from.

Example:
    >>> from fg_env.types import Passage, QAExample
    >>> passage = Passage("Glimmer (song)", ("Glimmer is a single by Elsa Jessop.", "Elsa Jessop was born in 1931."))
    >>> example = QAExample("q", "Who sang Glimmer?", (passage,), ("The single Glimmer is by Elsa Jessop.",))
    >>> careless_answer(example, "The single Glimmer is by Elsa Jessop. It came out in 1963.", random.Random(0), share=1.0)
    'The single Glimmer is by Elsa Jessop. Elsa Jessop was born in 1931. It came out in'
"""

from __future__ import annotations

import random
import re

from fg_env.errors import InvalidValueError
from fg_env.text import split_sentences
from fg_env.types import QAExample

__all__ = ["add_biography", "careless_answer", "leave_unfinished"]

# "Elsa Jessop was born in 1931 in Ormsby.": the world's birth sentences open with the person's full name.
_BIRTH = re.compile(r"(?P<person>[A-Z][\w'-]+(?: [A-Z][\w'-]+)+) was born\b")
# The last sentence up to its last relation word, e.g. "The film was directed by" of "... by Ana Ashby."
_UNFINISHED = re.compile(r"(?P<head>.*\b(?:in|by|on|at|from))\s+[^,;]+\.?\s*$")


def add_biography(example: QAExample, sentences: list[str], rng: random.Random, share: float) -> list[str]:
    """``sentences`` with, after the first one naming each person born in the passages, that birth
    sentence, with probability ``share`` per person."""
    births: dict[str, str] = {}
    for passage in example.passages:
        for sentence in passage.sentences:
            match = _BIRTH.match(sentence)
            if match:
                births.setdefault(match.group("person"), sentence)
    written: list[str] = []
    seen: set[str] = set()
    for sentence in sentences:
        written.append(sentence)
        for person, birth in births.items():
            if person in sentence and person not in seen:
                seen.add(person)
                if rng.random() < share and birth not in sentences:
                    written.append(birth)
    return written


def leave_unfinished(sentences: list[str], rng: random.Random, share: float) -> list[str]:
    """``sentences`` whose last one stops before its last value, with probability ``share`` (when it has
    a relation word such as "in" or "by" before that value)."""
    if not sentences or rng.random() >= share:
        return sentences
    match = _UNFINISHED.fullmatch(sentences[-1])
    if match is None:
        return sentences
    return [*sentences[:-1], match.group("head")]


def careless_answer(example: QAExample, answer: str, rng: random.Random, share: float) -> str:
    """``answer`` as the careless annotator writes it: both habits, each with probability ``share``."""
    if not 0.0 <= share <= 1.0:
        raise InvalidValueError(f"share must be a probability in [0, 1], got {share!r}")
    sentences = [span.slice(answer) for span in split_sentences(answer)]
    sentences = leave_unfinished(add_biography(example, sentences, rng, share), rng, share)
    return " ".join(sentences)
