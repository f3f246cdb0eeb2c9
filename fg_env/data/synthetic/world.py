"""Generation of one question of the built-in world: entities, passages, gold answers and ground truth.

One call of :func:`generate_example` draws, from its own ``random.Random``:

1. the attribute the question asks for (year, creator, company or setting) and 2 to 4
   interpretations of the given ambiguous name, each a work of a different kind ("Harlow Bridge" the
   film, the album, the song);
2. every attribute of each work, and background entities (the creators' lives, the companies, the
   creators' other works) that serve as distractors;
3. 1 to 4 passages of 4 to 12 sentences: one per interpretation, several interpretations sharing a
   passage when there are fewer passages than interpretations, or an extra passage about a creator or
   a company; every required fact is stated in at least one passage sentence;
4. one or two gold long-form answers (ASQA style) covering every interpretation;
5. the :class:`~fg_env.data.synthetic.facts.World` ground truth, with each fact's role and locations.

Example:
    >>> import random
    >>> ex = generate_example(random.Random(3), "Harlow Bridge", "demo-0", "synthetic:demo:0")
    >>> "Harlow Bridge" in ex.question and 1 <= len(ex.passages) <= 4
    True
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from fg_env.data.synthetic import phrasing as ph
from fg_env.data.synthetic.facts import (
    ANSWER,
    DISTRACTOR,
    MAJOR,
    MINOR,
    SUPPORTING,
    Entity,
    Fact,
    FactLocation,
    Interpretation,
    World,
)
from fg_env.data.synthetic.vocab import (
    BIRTH_YEAR,
    BIRTHPLACE,
    CONTRIBUTOR,
    CORE_WORK_ATTRIBUTES,
    CREATOR,
    FEMALE_FIRST_NAMES,
    FOUNDED,
    GENRE,
    HEADQUARTERS,
    KINDS,
    LENGTH,
    MALE_FIRST_NAMES,
    ORG_WORDS,
    ORGANIZATION,
    ORGANIZATION_KIND,
    PERSON,
    PLACE,
    PLACES,
    RECEPTION,
    RECEPTIONS,
    SURNAMES,
    TITLE_FIRST_WORDS,
    TITLE_SECOND_WORDS,
    YEAR,
    KindSpec,
)
from fg_env.types import Passage, QAExample

QUESTION_ATTRIBUTE_WEIGHTS: dict[str, float] = {YEAR: 0.45, CREATOR: 0.35, ORGANIZATION: 0.1, PLACE: 0.1}
INTERPRETATION_COUNT_WEIGHTS: dict[int, float] = {2: 0.45, 3: 0.35, 4: 0.2}
MIN_PASSAGE_SENTENCES, MAX_PASSAGE_SENTENCES = 4, 12
MINOR_AUXILIARY_PROBABILITY = 0.6


@dataclass
class _Person:
    entity: str
    name: str
    female: bool

    @property
    def surname(self) -> str:
        return self.name.split()[-1]

    @property
    def pronoun(self) -> str:
        return "She" if self.female else "He"


@dataclass
class _Work:
    entity: str
    spec: KindSpec
    title: str
    values: dict[str, str] = field(default_factory=dict)
    creator: _Person | None = None
    contributor: _Person | None = None
    organization: str = ""
    organization_entity: str = ""


class _Builder:
    """Accumulates entities, facts with their locations, and passages while one question is generated."""

    def __init__(self, rng: random.Random, name: str) -> None:
        self.rng = rng
        self.name = name
        self.entities: list[Entity] = []
        self.values: dict[tuple[str, str], str] = {}
        self.locations: dict[tuple[str, str], list[FactLocation]] = {}
        self.passages: list[Passage] = []
        self.used_surnames: set[str] = set()
        self.used_org_words: set[str] = set()
        self.used_titles: set[str] = {name.lower()}
        self.used_years: set[int] = set()

    # -- entities --------------------------------------------------------------------------------
    def new_entity(self, kind: str, name: str) -> str:
        entity_id = f"e{len(self.entities) + 1}"
        self.entities.append(Entity(entity_id, kind, name))
        return entity_id

    def new_person(self) -> _Person:
        female = self.rng.random() < 0.5
        first = self.rng.choice(FEMALE_FIRST_NAMES if female else MALE_FIRST_NAMES)
        surname = self.rng.choice([s for s in SURNAMES if s not in self.used_surnames])
        self.used_surnames.add(surname)
        name = f"{first} {surname}"
        return _Person(self.new_entity(PERSON, name), name, female)

    def new_organization(self, spec: KindSpec) -> tuple[str, str]:
        word = self.rng.choice([w for w in ORG_WORDS if w not in self.used_org_words])
        self.used_org_words.add(word)
        name = f"{word} {self.rng.choice(spec.org_suffixes)}"
        return self.new_entity(ORGANIZATION_KIND, name), name

    def new_title(self) -> str:
        while True:
            title = f"{self.rng.choice(TITLE_FIRST_WORDS)} {self.rng.choice(TITLE_SECOND_WORDS)}"
            if title.lower() not in self.used_titles:
                self.used_titles.add(title.lower())
                return title

    def new_year(self, low: int, high: int) -> int:
        while True:
            year = self.rng.randint(low, high)
            if year not in self.used_years:
                self.used_years.add(year)
                return year

    def set_value(self, entity: str, attribute: str, value: str) -> None:
        self.values[(entity, attribute)] = value

    # -- passages --------------------------------------------------------------------------------
    def add_passage(self, title: str, sentences: list[tuple[str, list[tuple[str, str]]]]) -> None:
        passage_id = len(self.passages) + 1
        for sentence_id, (_, stated) in enumerate(sentences, start=1):
            for key in stated:
                if key not in self.values:
                    raise AssertionError(f"sentence states unknown fact {key}")  # a generator bug
                self.locations.setdefault(key, []).append(FactLocation(passage_id, sentence_id))
        self.passages.append(Passage(title, tuple(text for text, _ in sentences)))


Sentence = tuple[str, list[tuple[str, str]]]  # text and the (entity, attribute) facts it states


def _work_sentence_body(rng: random.Random, work: _Work, attributes: list[str]) -> str:
    """One or two verb phrases about ``work`` joined by "and" (without a subject)."""
    phrases = [ph.verb_phrase(rng, work.spec, a, work.values[a]) for a in attributes]
    return " and ".join(phrases)


def _intro_sentence(rng: random.Random, work: _Work, also: bool) -> Sentence:
    """The sentence that opens a work's part of a passage: kind, year, genre and creator."""
    spec, v = work.spec, work.values
    kind_noun = ph.noun(rng, spec)
    creator_part = ph.participle(rng, spec, CREATOR, v[CREATOR])
    stated = [(work.entity, YEAR), (work.entity, GENRE), (work.entity, CREATOR)]
    if also:
        text = rng.choice(
            (
                f"{work.title} is also the title of a {v[YEAR]} {v[GENRE]} {kind_noun} {creator_part}.",
                f"{work.title} is also a {v[YEAR]} {v[GENRE]} {kind_noun} {creator_part}.",
                f"There is also a {v[YEAR]} {v[GENRE]} {kind_noun} called {work.title}, {creator_part}.",
            )
        )
    else:
        year_part = ph.participle(rng, spec, YEAR, v[YEAR])
        text = rng.choice(
            (
                f"{work.title} is a {v[YEAR]} {v[GENRE]} {kind_noun} {creator_part}.",
                f"{work.title} ({v[YEAR]}) is a {v[GENRE]} {kind_noun} {creator_part}.",
                f"{work.title} is a {v[GENRE]} {kind_noun} {creator_part}, {year_part}.",
            )
        )
    return text, stated


def _person_sentence(
    rng: random.Random, builder: _Builder, person: _Person, subject: str | None = None
) -> Sentence | None:
    year, place = builder.values.get((person.entity, BIRTH_YEAR)), builder.values.get((person.entity, BIRTHPLACE))
    subject = subject or rng.choice((person.name, person.surname))
    if year and place:
        text = rng.choice((f"{subject} was born in {year} in {place}.", f"{subject} was born in {place} in {year}."))
        return text, [(person.entity, BIRTH_YEAR), (person.entity, BIRTHPLACE)]
    if year:
        return f"{subject} was born in {year}.", [(person.entity, BIRTH_YEAR)]
    if place:
        return f"{subject} was born in {place}.", [(person.entity, BIRTHPLACE)]
    return None


def _organization_sentence(rng: random.Random, builder: _Builder, entity: str, name: str) -> Sentence | None:
    year, place = builder.values.get((entity, FOUNDED)), builder.values.get((entity, HEADQUARTERS))
    if year and place:
        text = rng.choice(
            (
                f"{name} was founded in {year} and is based in {place}.",
                f"{name}, founded in {year}, is based in {place}.",
            )
        )
        return text, [(entity, FOUNDED), (entity, HEADQUARTERS)]
    if year:
        return f"{name} was founded in {year}.", [(entity, FOUNDED)]
    if place:
        return f"{name} is based in {place}.", [(entity, HEADQUARTERS)]
    return None


def _other_work_sentence(rng: random.Random, work: _Work, other: _Work) -> Sentence:
    assert work.creator is not None
    adverb = rng.choice(("also", "later"))
    kind_noun = ph.noun(rng, other.spec)
    year = other.values[YEAR]
    text = rng.choice(
        (
            f"{ph.creator_active(rng, other.spec, work.creator.surname, adverb)} the {year} {kind_noun} {other.title}.",
            f"{ph.creator_active(rng, other.spec, work.creator.surname, adverb)} {other.title} ({year}).",
        )
    )
    return text, [(other.entity, CREATOR), (other.entity, YEAR)]


def _generate(rng: random.Random, name: str) -> tuple[_Builder, str, list[_Work], dict[int, list[str]]]:
    """Draw the entities and facts, then write the passages. Returns what the gold answers need.

    Every step draws from ``rng`` in turn, so the order of the steps (and of the draws inside each)
    is part of the world: changing it changes every question.
    """
    b = _Builder(rng, name)
    question_attribute, count, kinds = _draw_question(rng)
    works = [_draw_work(b, kind, name) for kind in kinds]
    required = _draw_required_attributes(rng, works, question_attribute)
    other_works = _draw_background(b, works)
    groups, extra_passages = _draw_passage_layout(rng, count, len(works))
    stated_optional = _draw_optional_attributes(rng, works, required)
    protected = {(works[i].entity, a) for i in range(len(works)) for a in required[i]}
    for group in groups:
        _write_passage(b, works, group, stated_optional, other_works, protected)
    for _ in range(extra_passages):
        i = rng.randrange(len(works))
        b.add_passage(*_background_passage(rng, b, works[i], other_works.get(i)))
    return b, question_attribute, works, required


def _draw_question(rng: random.Random) -> tuple[str, int, list[str]]:
    """The attribute asked for, how many interpretations, and their kinds (all able to have it)."""
    question_attribute = rng.choices(list(QUESTION_ATTRIBUTE_WEIGHTS), list(QUESTION_ATTRIBUTE_WEIGHTS.values()))[0]
    count = rng.choices(list(INTERPRETATION_COUNT_WEIGHTS), list(INTERPRETATION_COUNT_WEIGHTS.values()))[0]
    eligible = [
        k
        for k, spec in KINDS.items()
        if (question_attribute != PLACE or spec.has_setting)
        and (question_attribute != ORGANIZATION or spec.released_by_company)
    ]
    return question_attribute, count, rng.sample(eligible, min(count, len(eligible)))


def _draw_work(b: _Builder, kind: str, name: str) -> _Work:
    """One interpretation: a work of ``kind`` called ``name``, its people, company and every attribute."""
    rng, spec = b.rng, KINDS[kind]
    work = _Work(b.new_entity(kind, name), spec, name)
    work.creator, work.contributor = b.new_person(), b.new_person()
    work.organization_entity, work.organization = b.new_organization(spec)
    values = {
        YEAR: str(b.new_year(1952, 2022)),
        CREATOR: work.creator.name,
        ORGANIZATION: work.organization,
        PLACE: rng.choice(PLACES),
        GENRE: rng.choice(spec.genres),
        CONTRIBUTOR: work.contributor.name,
        RECEPTION: rng.choice(list(RECEPTIONS)),
    }
    if spec.length_unit:
        values[LENGTH] = f"{rng.randint(*spec.length_range)} {spec.length_unit}"
    work.values = values
    for attribute, value in values.items():
        b.set_value(work.entity, attribute, value)
    return work


def _draw_required_attributes(rng: random.Random, works: list[_Work], question_attribute: str) -> dict[int, list[str]]:
    """Required facts per interpretation: the answer, a major detail, sometimes a minor one."""
    major_attribute = YEAR if question_attribute == CREATOR else CREATOR
    required: dict[int, list[str]] = {}
    for i, work in enumerate(works):
        attributes = [question_attribute, major_attribute]
        if rng.random() < MINOR_AUXILIARY_PROBABILITY:
            options = [a for a in (ORGANIZATION, PLACE) if a != question_attribute]
            if work.spec.name == "painting":
                options = [a for a in options if a != ORGANIZATION] or options
            attributes.append(rng.choice(options))
        required[i] = attributes
    return required


def _draw_background(b: _Builder, works: list[_Work]) -> dict[int, _Work]:
    """Background facts, the distractors: creators' lives, companies, and (returned, by the index of
    the work they relate to) creators' other works."""
    rng = b.rng
    other_works: dict[int, _Work] = {}
    for work in works:
        assert work.creator is not None
        year = int(work.values[YEAR])
        if rng.random() < 0.5:
            b.set_value(work.creator.entity, BIRTH_YEAR, str(b.new_year(year - 60, year - 22)))
            if rng.random() < 0.7:
                b.set_value(work.creator.entity, BIRTHPLACE, rng.choice(PLACES))
        if rng.random() < 0.35:
            b.set_value(work.organization_entity, FOUNDED, str(b.new_year(year - 60, year - 3)))
            if rng.random() < 0.6:
                b.set_value(work.organization_entity, HEADQUARTERS, rng.choice(PLACES))
        if rng.random() < 0.45:
            title = b.new_title()
            other = _Work(b.new_entity(work.spec.name, title), work.spec, title, creator=work.creator)
            other.values = {
                YEAR: str(b.new_year(max(1950, year - 15), min(2024, year + 15))),
                CREATOR: work.creator.name,
            }
            b.set_value(other.entity, YEAR, other.values[YEAR])
            b.set_value(other.entity, CREATOR, other.creator.name if other.creator else "")
            other_works[works.index(work)] = other
    return other_works


def _draw_passage_layout(rng: random.Random, count: int, n_works: int) -> tuple[list[list[int]], int]:
    """Which works share a passage (one per work, neighbours merged when there are fewer passages),
    and how many background passages follow (when there are more)."""
    passage_count = max(1, min(4, count + rng.choices((-1, 0, 1), (0.25, 0.5, 0.25))[0]))
    groups: list[list[int]] = [[i] for i in range(n_works)]
    while len(groups) > passage_count:
        j = rng.randrange(len(groups) - 1)
        groups[j : j + 2] = [groups[j] + groups[j + 1]]
    return groups, passage_count - len(groups)


def _draw_optional_attributes(
    rng: random.Random, works: list[_Work], required: dict[int, list[str]]
) -> dict[int, list[str]]:
    """The further attributes each work's passage states: the required ones, and others at random."""
    stated_optional: dict[int, list[str]] = {}
    for i, work in enumerate(works):
        optional = [a for a in (ORGANIZATION, PLACE, CONTRIBUTOR, LENGTH, RECEPTION) if a in work.values]
        stated_optional[i] = [a for a in optional if a in required[i] or rng.random() < 0.55]
    return stated_optional


def _work_body(rng: random.Random, work: _Work, attributes: list[str], subject_it: bool) -> list[Sentence]:
    """Sentences stating ``attributes`` of a work in random order, one or two a sentence; the first
    says "It" when ``subject_it``, the others "The film" (or another noun of its kind)."""
    attributes = list(attributes)
    rng.shuffle(attributes)
    sentences: list[Sentence] = []
    while attributes:
        take = attributes[:2] if len(attributes) > 1 and rng.random() < 0.35 else attributes[:1]
        attributes = attributes[len(take) :]
        if subject_it and not sentences:
            subject = "It"
        else:
            subject = f"The {ph.noun(rng, work.spec)}"
        body = _work_sentence_body(rng, work, take)
        sentences.append((f"{subject} {body}.", [(work.entity, a) for a in take]))
    return sentences


def _background_sentences(rng: random.Random, b: _Builder, work: _Work, other: _Work | None) -> list[Sentence]:
    """The background of a work, as drawn: its creator's birth, its company, the creator's other work."""
    assert work.creator is not None
    sentences: list[Sentence] = []
    person = _person_sentence(rng, b, work.creator)
    if person:
        sentences.append(person)
    organization = _organization_sentence(rng, b, work.organization_entity, work.organization)
    if organization:
        sentences.append(organization)
    if other is not None:
        sentences.append(_other_work_sentence(rng, work, other))
    return sentences


def _write_passage(
    b: _Builder,
    works: list[_Work],
    group: list[int],
    stated_optional: dict[int, list[str]],
    other_works: dict[int, _Work],
    protected: set[tuple[str, str]],
) -> None:
    """One passage about the works of ``group``: each work's intro, its attributes, its background."""
    rng = b.rng
    sentences: list[Sentence] = []
    for position, i in enumerate(group):
        sentences.append(_intro_sentence(rng, works[i], also=position > 0))
        body = _work_body(rng, works[i], stated_optional[i], subject_it=True)
        extra = _background_sentences(rng, b, works[i], other_works.get(i))
        # Background facts sit after the work's own sentences, shuffled among themselves.
        rng.shuffle(extra)
        sentences.extend(body + extra)
    _pad_and_trim(rng, b, works, group, sentences, protected)
    title = b.name if len(group) > 1 else f"{b.name} ({works[group[0]].spec.name})"
    b.add_passage(title, sentences)


def _pad_and_trim(
    rng: random.Random,
    b: _Builder,
    works: list[_Work],
    group: list[int],
    sentences: list[Sentence],
    protected: set[tuple[str, str]],
) -> None:
    """Bring a passage to 4..12 sentences: pad with background facts, drop background when too long."""
    target = rng.randint(MIN_PASSAGE_SENTENCES, MAX_PASSAGE_SENTENCES)
    attempts = 0
    while len(sentences) < max(MIN_PASSAGE_SENTENCES, min(target, 7)) and attempts < 20:
        attempts += 1
        work = works[rng.choice(group)]
        padded = _padding_sentence(rng, b, work)
        if padded:
            sentences.append(padded)
    while len(sentences) > MAX_PASSAGE_SENTENCES:
        # Drop the last sentence that states no required fact (intros state year and creator).
        for k in range(len(sentences) - 1, -1, -1):
            stated = sentences[k][1]
            if not any(key in protected for key in stated) and k > 0:
                del sentences[k]
                break
        else:  # pragma: no cover - a group of 4 works with every fact would need this
            del sentences[-1]


def _padding_sentence(rng: random.Random, b: _Builder, work: _Work) -> Sentence | None:
    """A new background fact, stated in a sentence: a creator's birth, a company's founding, another work."""
    assert work.creator is not None
    choice = rng.random()
    if choice < 0.4 and (work.creator.entity, BIRTH_YEAR) not in b.values:
        year = int(work.values[YEAR])
        b.set_value(work.creator.entity, BIRTH_YEAR, str(b.new_year(year - 60, year - 22)))
        return _person_sentence(rng, b, work.creator)
    if choice < 0.7 and (work.organization_entity, FOUNDED) not in b.values:
        year = int(work.values[YEAR])
        b.set_value(work.organization_entity, FOUNDED, str(b.new_year(year - 60, year - 3)))
        return _organization_sentence(rng, b, work.organization_entity, work.organization)
    title = b.new_title()
    other = _Work(b.new_entity(work.spec.name, title), work.spec, title, creator=work.creator)
    year = int(work.values[YEAR])
    other.values = {YEAR: str(b.new_year(max(1950, year - 15), min(2024, year + 15))), CREATOR: work.creator.name}
    b.set_value(other.entity, YEAR, other.values[YEAR])
    b.set_value(other.entity, CREATOR, work.creator.name)
    return _other_work_sentence(rng, work, other)


def _background_passage(
    rng: random.Random, b: _Builder, work: _Work, other: _Work | None
) -> tuple[str, list[Sentence]]:
    """A passage about the creator of a work: their birth, the work itself, their other works."""
    person = work.creator
    assert person is not None
    sentences: list[Sentence] = []
    year = int(work.values[YEAR])
    if (person.entity, BIRTH_YEAR) not in b.values:
        b.set_value(person.entity, BIRTH_YEAR, str(b.new_year(year - 60, year - 22)))
    if (person.entity, BIRTHPLACE) not in b.values:
        b.set_value(person.entity, BIRTHPLACE, rng.choice(PLACES))
    born = _person_sentence(rng, b, person, subject=person.name)
    assert born is not None
    sentences.append(born)
    kind_noun = ph.noun(rng, work.spec)
    verb = ph.creator_active(rng, work.spec, person.pronoun)
    sentences.append(
        (f"{verb} the {work.values[YEAR]} {kind_noun} {work.title}.", [(work.entity, CREATOR), (work.entity, YEAR)])
    )
    if other is not None:
        sentences.append(_other_work_sentence(rng, work, other))
    target = rng.randint(MIN_PASSAGE_SENTENCES, 6)
    while len(sentences) < target:
        padded = _padding_sentence(rng, b, work)
        if padded:
            sentences.append(padded)
    return person.name, sentences


# -- gold answers ----------------------------------------------------------------------------------
def _gold_answer(rng: random.Random, name: str, works: list[_Work], required: dict[int, list[str]]) -> str:
    """One ASQA-style long-form answer that states every required fact of every interpretation."""
    sentences: list[str] = []
    if rng.random() < 0.7:
        sentences.append(ph.opening(rng, name, len(works)))
    order = list(range(len(works)))
    if len(works) == 2 and rng.random() < 0.35:
        sentences.extend(_paired_sentences(rng, name, works, required))
        return " ".join(sentences)
    for position, i in enumerate(order):
        sentences.extend(_describe(rng, name, works[i], required[i], also=position > 0))
    return " ".join(sentences)


def _paired_sentences(rng: random.Random, name: str, works: list[_Work], required: dict[int, list[str]]) -> list[str]:
    """Two interpretations answered side by side: "The film X came out in 1994, while the album ..."."""
    first, second = works
    answer_attribute = required[0][0]
    lead = ph.capitalize(ph.first_mention(rng, first.spec, name))
    sentences = [
        f"{lead} {ph.verb_phrase(rng, first.spec, answer_attribute, first.values[answer_attribute])}, while the "
        f"{ph.noun(rng, second.spec)} of the same name "
        f"{ph.verb_phrase(rng, second.spec, answer_attribute, second.values[answer_attribute])}."
    ]
    rest_first, rest_second = required[0][1:], required[1][1:]
    # The major details, again side by side; the minor ones, one sentence each.
    sentences.append(
        f"The {ph.noun(rng, first.spec)} {ph.verb_phrase(rng, first.spec, rest_first[0], first.values[rest_first[0]])}, "
        f"and the {ph.noun(rng, second.spec)} "
        f"{ph.verb_phrase(rng, second.spec, rest_second[0], second.values[rest_second[0]])}."
    )
    for work, rest in ((first, rest_first[1:]), (second, rest_second[1:])):
        for attribute in rest:
            sentences.append(
                f"The {ph.noun(rng, work.spec)} {ph.verb_phrase(rng, work.spec, attribute, work.values[attribute])}."
            )
    return sentences


def _describe(rng: random.Random, name: str, work: _Work, attributes: list[str], also: bool) -> list[str]:
    """Sentences that state ``attributes`` of one interpretation, naming it with its kind first."""
    spec, v = work.spec, work.values
    todo = list(attributes)
    sentences: list[str] = []
    has_year_and_creator = YEAR in todo and CREATOR in todo
    style = rng.random()
    if has_year_and_creator and style < 0.45:
        kind_noun = ph.noun(rng, spec)
        creator_part = ph.participle(rng, spec, CREATOR, v[CREATOR])
        if also:
            sentences.append(
                rng.choice(
                    (
                        f"{name} is also the title of a {v[YEAR]} {kind_noun} {creator_part}.",
                        f"There is also a {v[YEAR]} {kind_noun} called {name}, {creator_part}.",
                        f"{ph.creator_active(rng, spec, v[CREATOR])} a {kind_noun} called {name} in {v[YEAR]}.",
                    )
                )
            )
        else:
            sentences.append(
                rng.choice(
                    (
                        f"{name} is a {v[YEAR]} {kind_noun} {creator_part}.",
                        f"{ph.creator_active(rng, spec, v[CREATOR])} the {v[YEAR]} {kind_noun} {name}.",
                        f"In {v[YEAR]}, {ph.creator_active(rng, spec, v[CREATOR])} the {kind_noun} {name}.",
                        f"The {v[YEAR]} {kind_noun} {name} {ph.verb_phrase(rng, spec, CREATOR, v[CREATOR])}.",
                    )
                )
            )
        todo = [a for a in todo if a not in (YEAR, CREATOR)]
    else:
        first, second = todo[0], todo[1]
        todo = todo[2:]
        subject = ph.first_mention(rng, spec, name)
        if also and rng.random() < 0.5:
            subject = f"the {ph.noun(rng, spec)} of the same name"
        second_part = ph.participle(rng, spec, second, v[second])
        if second_part and rng.random() < 0.5:
            sentences.append(f"{ph.capitalize(subject)}, {second_part}, {ph.verb_phrase(rng, spec, first, v[first])}.")
        else:
            sentences.append(
                f"{ph.capitalize(subject)} {ph.verb_phrase(rng, spec, first, v[first])} and "
                f"{ph.verb_phrase(rng, spec, second, v[second])}."
            )
    for attribute in todo:
        subject = rng.choice(("It", f"The {ph.noun(rng, spec)}"))
        sentences.append(f"{subject} {ph.verb_phrase(rng, spec, attribute, v[attribute])}.")
    return sentences


def generate_example(rng: random.Random, name: str, example_id: str, key: str) -> QAExample:
    """Generate one question about the ambiguous ``name`` (see the module docstring)."""
    b, question_attribute, works, required = _generate(rng, name)
    references = [_gold_answer(rng, name, works, required)]
    if rng.random() < 0.5:
        second = _gold_answer(rng, name, works, required)
        if second != references[0]:
            references.append(second)

    roles: dict[tuple[str, str], tuple[str, int | None]] = {}
    for i, work in enumerate(works):
        for attribute in work.values:
            roles[(work.entity, attribute)] = (SUPPORTING if attribute in CORE_WORK_ATTRIBUTES else DISTRACTOR, i)
        for attribute, role in zip(required[i], (ANSWER, MAJOR, MINOR)):
            roles[(work.entity, attribute)] = (role, i)
    facts = []
    for key_, locations in b.locations.items():
        role, interpretation = roles.get(key_, (DISTRACTOR, None))
        facts.append(Fact(key_[0], key_[1], b.values[key_], role, tuple(locations), interpretation))
    world = World(
        key=key,
        name=name,
        question_attribute=question_attribute,
        entities=tuple(b.entities),
        interpretations=tuple(Interpretation(w.entity, w.spec.name, w.values[question_attribute]) for w in works),
        facts=tuple(facts),
    )
    return QAExample(
        id=example_id,
        question=ph.question(rng, question_attribute, name),
        passages=tuple(b.passages),
        references=tuple(references),
        meta={"world": world},
    )
