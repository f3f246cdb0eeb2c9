"""Sampled answers for training reward models on the built-in world, until an SFT policy exists.

Each sample is a gold answer with one to three edits (two most often) of the kinds a weak policy
makes, which the annotator then labels:

* ``drop``: remove a sentence (information goes missing);
* ``duplicate``: repeat a sentence (Redundant);
* ``distract``: insert a passage sentence the gold answer does not use (often Irrelevant);
* ``swap``: replace a fact's value with another value of the same attribute from the question's
  world, e.g. another interpretation's year (Wrong-Grounding); on examples without a world, a number
  swapped for another number of the passages;
* ``truncate``: keep only the first sentences (information goes missing);
* ``cut``: end the answer in the middle of its last sentence (an incoherent fragment).

The edits work on sentences of :func:`fg_env.text.split_sentences`, so every sample is still a
sequence of sentences the environment could have received as actions.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable

from fg_env.text import split_sentences
from fg_env.types import QAExample

_NUMBER = re.compile(r"\b\d{2,4}\b")


def _sentences(text: str) -> list[str]:
    return [s.slice(text) for s in split_sentences(text)]


def _join(sentences: list[str]) -> str:
    return " ".join(sentences)


def drop(example: QAExample, sentences: list[str], rng: random.Random) -> list[str] | None:
    if len(sentences) < 2:
        return None
    k = rng.randrange(len(sentences))
    return sentences[:k] + sentences[k + 1 :]


def duplicate(example: QAExample, sentences: list[str], rng: random.Random) -> list[str] | None:
    if not sentences:
        return None
    k = rng.randrange(len(sentences))
    at = rng.randrange(k + 1, len(sentences) + 1)
    return sentences[:at] + [sentences[k]] + sentences[at:]


def distract(example: QAExample, sentences: list[str], rng: random.Random) -> list[str] | None:
    used = set(sentences)
    pool = [s for p in example.passages for s in p.sentences if s not in used and s.strip()]
    if not pool:
        return None
    at = rng.randrange(len(sentences) + 1)
    return sentences[:at] + [rng.choice(pool)] + sentences[at:]


def swap(example: QAExample, sentences: list[str], rng: random.Random) -> list[str] | None:
    text = _join(sentences)
    world = example.meta.get("world")
    candidates: list[tuple[str, str]] = []
    if world is not None:
        by_attribute: dict[str, set[str]] = {}
        for fact in world.facts:
            by_attribute.setdefault(fact.attribute, set()).add(fact.value)
        for fact in world.facts:
            if fact.value and re.search(rf"\b{re.escape(fact.value)}\b", text):
                others = sorted(by_attribute[fact.attribute] - {fact.value})
                candidates += [(fact.value, other) for other in others]
    else:
        present = sorted(set(_NUMBER.findall(text)))
        context = sorted(set(_NUMBER.findall(example.context)) - set(present))
        candidates = [(a, b) for a in present for b in context]
    if not candidates:
        return None
    old, new = rng.choice(sorted(set(candidates)))
    swapped = re.sub(rf"\b{re.escape(old)}\b", new, text, count=1)
    return _sentences(swapped)


def truncate(example: QAExample, sentences: list[str], rng: random.Random) -> list[str] | None:
    if len(sentences) < 2:
        return None
    return sentences[: rng.randrange(1, len(sentences))]


def cut(example: QAExample, sentences: list[str], rng: random.Random) -> list[str] | None:
    if not sentences:
        return None
    words = sentences[-1].split()
    if len(words) < 4:
        return None
    return sentences[:-1] + [" ".join(words[: rng.randrange(2, len(words) - 1)])]


PERTURBATIONS: dict[str, Callable[[QAExample, list[str], random.Random], list[str] | None]] = {
    "drop": drop,
    "duplicate": duplicate,
    "distract": distract,
    "swap": swap,
    "truncate": truncate,
    "cut": cut,
}


def perturb(example: QAExample, answer: str, rng: random.Random, edits: int = 1) -> str:
    """``answer`` with ``edits`` random edits (those that do not apply are skipped).

    Example:
        >>> from fg_env.types import Passage
        >>> ex = QAExample("q", "When?", (Passage("A", ("Ann won in 1990.", "It rained.")),), ("Ann won in 1990.",))
        >>> perturb(ex, "Ann won in 1990.", random.Random(1), edits=1) != "Ann won in 1990."
        True
    """
    sentences = _sentences(answer)
    names = list(PERTURBATIONS)
    done = 0
    for name in rng.sample(names, len(names)):
        if done == edits:
            break
        edited = PERTURBATIONS[name](example, sentences, rng)
        if edited is not None and edited != sentences:
            sentences, done = edited, done + 1
    return _join(sentences)


def sample_answers(example: QAExample, rng: random.Random, samples: int) -> list[str]:
    """The first gold answer and ``samples`` distinct perturbations of the gold answers (1 to 3 edits each).

    Example:
        >>> from fg_env.types import Passage
        >>> ex = QAExample("q", "When?", (Passage("A", ("Ann won in 1990.", "Bo won in 1994.")),),
        ...                ("Ann won in 1990. Bo won in 1994.",))
        >>> answers = sample_answers(ex, random.Random(0), 3)
        >>> answers[0], len(answers) == len(set(answers))
        ('Ann won in 1990. Bo won in 1994.', True)
    """
    golds = [r for r in example.references if r.strip()] or [""]
    answers = [_join(_sentences(golds[0]))]
    for _ in range(samples * 5):  # a few retries when an edit repeats an earlier sample
        if len(answers) > samples:
            break
        candidate = perturb(example, rng.choice(golds), rng, edits=rng.choice((1, 2, 2, 3)))
        if candidate not in answers:
            answers.append(candidate)
    return answers
