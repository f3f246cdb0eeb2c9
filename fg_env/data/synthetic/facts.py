"""The ground truth of one generated question, stored in ``QAExample.meta["world"]``.

A :class:`World` lists the entities a question's passages talk about, the interpretations of its
ambiguous name, and every fact the passages state, each with its role and where it is said:

* ``answer``: the value the question asks for, under one interpretation (one per interpretation);
* ``major-auxiliary``: the main identifying detail of an interpretation (its creator, or its year when
  the question asks for the creator);
* ``minor-auxiliary``: a smaller detail worth giving (its company or place), for some interpretations;
* ``supporting``: other core details of an interpretation (year, creator, company, place, genre) that
  are on topic but not required;
* ``distractor``: facts that do not help answer the question: background attributes of an
  interpretation (cast, length, reception) and everything about other entities (people, companies,
  other works).

Values are strings in display form ("1994", "Mira Ashby", "102 minutes"). Locations use QA-Feedback's
1-based passage and sentence ids, so missing-information feedback can point at them.

Example:
    >>> from fg_env.data.synthetic import SyntheticQA
    >>> world = SyntheticQA().split("dev")[0].meta["world"]
    >>> len(world.interpretations) >= 2 and all(f.locations for f in world.required_facts)
    True
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

ANSWER, MAJOR, MINOR = "answer", "major-auxiliary", "minor-auxiliary"
SUPPORTING, DISTRACTOR = "supporting", "distractor"
REQUIRED_ROLES: tuple[str, ...] = (ANSWER, MAJOR, MINOR)
# The QA-Feedback missing-info type reported when a required fact of each role is absent.
MISSING_TYPE: dict[str, str] = {
    ANSWER: "Missing-Answer",
    MAJOR: "Missing-Major-Auxiliary",
    MINOR: "Missing-Minor-Auxiliary",
}


@dataclass(frozen=True)
class Entity:
    """A thing the passages talk about: a work (``kind`` film, album, ...), a person or an organisation.

    Example:
        >>> Entity("e1", "film", "Harlow Bridge").name
        'Harlow Bridge'
    """

    id: str
    kind: str
    name: str


@dataclass(frozen=True)
class FactLocation:
    """Where a fact is stated: ``example.passages[passage_id - 1].sentences[sentence_id - 1]``.

    Example:
        >>> FactLocation(2, 3).sentence_id
        3
    """

    passage_id: int
    sentence_id: int


@dataclass(frozen=True)
class Fact:
    """One (entity, attribute, value) triple, its role for the question and where the passages say it.

    ``interpretation`` is the index of the interpretation a required or supporting fact belongs to,
    None for facts about other entities.

    Example:
        >>> Fact("e1", "year", "1994", "answer", (FactLocation(1, 1),), 0).is_required
        True
    """

    entity: str
    attribute: str
    value: str
    role: str
    locations: tuple[FactLocation, ...]
    interpretation: int | None = None

    @property
    def is_required(self) -> bool:
        return self.role in REQUIRED_ROLES


@dataclass(frozen=True)
class Interpretation:
    """One reading of the ambiguous name: which entity it means and the answer under that reading.

    Example:
        >>> Interpretation("e1", "film", "1994").kind
        'film'
    """

    entity: str
    kind: str
    answer: str


@dataclass(frozen=True)
class World:
    """The ground truth of one question (see the module docstring for the roles of facts).

    ``key`` is unique across seeds, splits and indices; the annotator caches its compiled matchers
    under it.

    Example:
        >>> from fg_env.data.synthetic import SyntheticQA
        >>> world = SyntheticQA().split("dev")[0].meta["world"]
        >>> world.key, len(world.answer_facts) == len(world.interpretations)
        ('synthetic:0:dev:0', True)
    """

    key: str
    name: str
    question_attribute: str
    entities: tuple[Entity, ...]
    interpretations: tuple[Interpretation, ...]
    facts: tuple[Fact, ...]

    @cached_property
    def entities_by_id(self) -> dict[str, Entity]:
        return {e.id: e for e in self.entities}

    @property
    def required_facts(self) -> tuple[Fact, ...]:
        return tuple(f for f in self.facts if f.is_required)

    @property
    def answer_facts(self) -> tuple[Fact, ...]:
        return tuple(f for f in self.facts if f.role == ANSWER)

    @property
    def distractor_facts(self) -> tuple[Fact, ...]:
        return tuple(f for f in self.facts if f.role == DISTRACTOR)
