"""The value types every part of fg_env shares: questions, passages, spans and granularities.

They are plain frozen dataclasses so that datasets, reward models, the environment and agents can pass
them around without importing one another.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from functools import cached_property
from types import MappingProxyType
from typing import Any

from fg_env.errors import InvalidValueError
from fg_env.prompts import answer_prompt, format_passages


class Granularity(str, Enum):
    """The unit a reward model judges.

    Example:
        >>> Granularity("sub-sentence") is Granularity.SUB_SENTENCE
        True
    """

    SUB_SENTENCE = "sub-sentence"
    SENTENCE = "sentence"
    EPISODE = "episode"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class Span:
    """A half-open character span ``[start, end)`` of a text.

    Example:
        >>> Span(0, 5).slice("Hello world")
        'Hello'
    """

    start: int
    end: int

    def __post_init__(self) -> None:
        if not 0 <= self.start <= self.end:
            raise InvalidValueError(f"invalid span [{self.start}, {self.end}): need 0 <= start <= end")

    def slice(self, text: str) -> str:
        return text[self.start : self.end]

    def overlaps(self, other: Span) -> bool:
        return self.start < other.end and other.start < self.end

    def __len__(self) -> int:
        return self.end - self.start


@dataclass(frozen=True)
class Passage:
    """A retrieved passage, kept as its title and its sentences (QA-Feedback's layout).

    Sentence ids in feedback are 1-based, as in QA-Feedback: ``sentences[sentence_id - 1]``.

    Example:
        >>> p = Passage("Mira Holt", ("Mira Holt is a painter.", "She was born in 1950."))
        >>> p.text
        'Mira Holt is a painter. She was born in 1950.'
    """

    title: str
    sentences: tuple[str, ...]

    @cached_property
    def text(self) -> str:
        return " ".join(self.sentences)


@dataclass(frozen=True)
class QAExample:
    """One long-form question with its passages and gold answers.

    ``meta`` holds dataset-specific ground truth (the built-in world stores the interpretations and
    facts its annotator checks answers against); it is read-only.

    Example:
        >>> ex = QAExample("q1", "Who painted it?", (Passage("A", ("A painted it.",)),), ("A did.",))
        >>> ex.prompt
        'question: Who painted it? context: wikipage: A text: A painted it. answer:'
    """

    id: str
    question: str
    passages: tuple[Passage, ...]
    references: tuple[str, ...]
    meta: Mapping[str, Any] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "meta", MappingProxyType(dict(self.meta)))

    # A mapping proxy cannot be pickled or deep-copied: carry ``meta`` as a dict and wrap it again.
    def __getstate__(self) -> dict[str, Any]:
        state = {f: getattr(self, f) for f in ("id", "question", "passages", "references")}
        state["meta"] = dict(self.meta)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        for name, value in state.items():
            object.__setattr__(self, name, value)
        object.__setattr__(self, "meta", MappingProxyType(dict(state["meta"])))

    @cached_property  # read on every environment step; the example is immutable
    def context(self) -> str:
        """The passages in QA-Feedback's prompt layout: ``wikipage: TITLE text: ... | wikipage: ...``."""
        return format_passages((p.title, p.text) for p in self.passages)

    @cached_property
    def prompt(self) -> str:
        """The canonical prompt an LM agent continues (QA-Feedback's ``text`` field plus ``answer:``)."""
        return answer_prompt(self.question, self.context)


#: What FineGrainedQA-v0 observes: ``{"question": ..., "passages": ..., "response": ...}``.
Observation = dict[str, str]
#: What it takes: one sentence of the answer (the empty string ends it).
Action = str
