"""The several ways the world says one fact, asks one question and opens an answer.

Each function picks one phrasing at random (from the caller's ``random.Random``), so the same fact
reads differently across questions, passages and gold answers; a policy trained on them sees varied
English rather than one template.

Example:
    >>> import random
    >>> from fg_env.data.synthetic.vocab import KINDS
    >>> verb_phrase(random.Random(0), KINDS["film"], "year", "1994") in {
    ...     "was released in 1994", "came out in 1994", "premiered in 1994", "was first shown in 1994"}
    True
"""

from __future__ import annotations

import random

from fg_env.data.synthetic.vocab import (
    CONTRIBUTOR,
    CREATOR,
    GENRE,
    LENGTH,
    NUMBER_WORDS,
    ORGANIZATION,
    PLACE,
    RECEPTION,
    RECEPTIONS,
    YEAR,
    KindSpec,
)
from fg_env.errors import InvalidValueError

QUESTIONS: dict[str, tuple[str, ...]] = {
    YEAR: (
        "When was {N} released?",
        "When did {N} come out?",
        "What year did {N} come out?",
        "When was {N} made?",
        "In what year was {N} released?",
        "When did {N} first come out?",
        "What year is {N} from?",
        "When was {N} first released?",
    ),
    CREATOR: (
        "Who created {N}?",
        "Who made {N}?",
        "Who is the creator of {N}?",
        "Who was {N} by?",
        "Who is behind {N}?",
        "Who is responsible for {N}?",
    ),
    ORGANIZATION: (
        "Which company released {N}?",
        "What company put out {N}?",
        "Which company is behind the release of {N}?",
        "Who released {N}?",
    ),
    PLACE: (
        "Where is {N} set?",
        "Where does {N} take place?",
        "What is the setting of {N}?",
        "In what place is {N} set?",
    ),
}

OPENINGS: tuple[str, ...] = (
    "{N} may refer to several works.",
    "{N} can refer to {count} different works.",
    "There are {count} works called {N}.",
    "{N} is the title of several works.",
    "Several works share the name {N}.",
    "The name {N} refers to more than one work.",
)


def question(rng: random.Random, attribute: str, name: str) -> str:
    """An ASQA-like question about ``attribute`` of ``name``; a fifth are lower-cased, as users type."""
    text = rng.choice(QUESTIONS[attribute]).format(N=name)
    return text.lower() if rng.random() < 0.2 else text


def opening(rng: random.Random, name: str, count: int) -> str:
    """The sentence that says a name is ambiguous ("Harlow Bridge may refer to several works.")."""
    return rng.choice(OPENINGS).format(N=name, count=NUMBER_WORDS[count - 2])


def noun(rng: random.Random, spec: KindSpec) -> str:
    return rng.choice(spec.nouns)


def length_number(value: str) -> str:
    return value.split()[0]


def verb_phrase(rng: random.Random, spec: KindSpec, attribute: str, value: str) -> str:
    """A verb phrase stating ``attribute = value`` of a work of kind ``spec`` ("was directed by Ana Cole")."""
    if attribute == YEAR:
        return rng.choice(spec.year_vps).format(y=value)
    if attribute == CREATOR:
        return rng.choice(spec.creator_vps).format(p=value)
    if attribute == ORGANIZATION:
        return rng.choice(spec.org_vps).format(o=value)
    if attribute == PLACE:
        return rng.choice(spec.place_vps).format(pl=value)
    if attribute == CONTRIBUTOR:
        return rng.choice(spec.contributor_vps).format(p=value)
    if attribute == LENGTH:
        return rng.choice(spec.length_vps).format(n=length_number(value))
    if attribute == RECEPTION:
        return RECEPTIONS[value]
    if attribute == GENRE:
        return f"is a {value} {spec.nouns[0]}"
    raise InvalidValueError(f"no phrasing for attribute {attribute!r}")


def participle(rng: random.Random, spec: KindSpec, attribute: str, value: str) -> str | None:
    """A phrase that attaches to a noun ("directed by Ana Cole"), or None when the attribute has none."""
    templates = {
        YEAR: spec.year_participles,
        CREATOR: spec.creator_participles,
        ORGANIZATION: spec.org_participles,
        PLACE: spec.place_participles,
        CONTRIBUTOR: spec.contributor_participles,
    }.get(attribute)
    if not templates:
        return None
    return rng.choice(templates).format(y=value, p=value, o=value, pl=value)


def creator_active(rng: random.Random, spec: KindSpec, person: str, adverb: str = "") -> str:
    """The creator as subject: "Ana Cole directed", "Ana Cole also directed"."""
    template = rng.choice(spec.creator_active)
    return template.format(p=f"{person} {adverb}".strip()) if adverb else template.format(p=person)


def first_mention(rng: random.Random, spec: KindSpec, name: str) -> str:
    """A noun phrase naming a work and its kind, as an answer introduces an interpretation."""
    kind_noun = noun(rng, spec)
    return rng.choice(
        (
            f"the {kind_noun} {name}",
            f"the {kind_noun} {name}",
            f"the {kind_noun} titled {name}",
            f"the {kind_noun} called {name}",
        )
    )


def capitalize(text: str) -> str:
    return text[:1].upper() + text[1:]
