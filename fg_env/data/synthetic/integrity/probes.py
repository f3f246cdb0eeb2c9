"""The adversarial probe generators, one per class, and what they share: each question's gold answers
read back into sentences and the facts they state (:class:`Question`).

Probes edit gold sentences (the fact values inside a sentence are found from the world's facts) or
use the world's own phrasings (:mod:`fg_env.data.synthetic.phrasing`) with the question's real facts,
so the English stays the world's. A probe whose label would be ambiguous for a question is skipped
for it (a pronoun that would change referent, a value said twice, a sentence about two works).

Example:
    >>> from fg_env.data.synthetic import SyntheticQA
    >>> cases = generate_cases(SyntheticQA().split("test")[:1], classes=["vacuous"])
    >>> {case.cls for case in cases}, all(case.expect.relevance == "Irrelevant" for case in cases)
    ({'vacuous'}, True)
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from fg_env.data.synthetic import phrasing as ph
from fg_env.data.synthetic import vocab
from fg_env.data.synthetic.facts import DISTRACTOR, Fact, World
from fg_env.data.synthetic.integrity.cases import (
    ANY,
    CLASSES,
    INCOHERENT,
    IRRELEVANT,
    MISSING_ANSWER,
    REDUNDANT,
    UNVERIFIABLE,
    WG,
    Expect,
    IntegrityCase,
)
from fg_env.data.synthetic.integrity.phrasings import (
    DENIALS,
    FOREIGN_LANGUAGES,
    FOREIGN_SCRIPTS,
    HEDGES,
    UNKNOWN_FIRST_NAMES,
    UNKNOWN_ORG_NAMES,
    UNKNOWN_ORG_WORDS,
    UNKNOWN_PLACES,
    UNKNOWN_SURNAMES,
    UNKNOWN_TITLE_FIRST_WORDS,
    UNKNOWN_TITLE_SECOND_WORDS,
    VACUOUS,
    foreign_sentence,
    foreign_templates,
    negations,
    number_words,
    year_words,
)
from fg_env.data.synthetic.vocab import (
    BIRTH_YEAR,
    CONTRIBUTOR,
    CORE_WORK_ATTRIBUTES,
    CREATOR,
    FOUNDED,
    KINDS,
    LENGTH,
    NUMBER_WORDS,
    ORGANIZATION,
    PLACE,
    RECEPTION,
    RECEPTIONS,
    YEAR,
)
from fg_env.errors import InvalidValueError
from fg_env.text import split_sentences, split_sub_sentences
from fg_env.types import QAExample, Span

MAX_CASES = 4  # cases per question and class (gold and framing keep all theirs)


# -- reading the gold answers ------------------------------------------------------------------------
_SOURCE_ATTRIBUTES = (YEAR, CREATOR, ORGANIZATION, PLACE)
_KIND_BY_NOUN = {noun.lower(): kind for kind, spec in KINDS.items() for noun in spec.nouns}
_KIND_NOUN = re.compile(
    r"(?<!\w)(" + "|".join(re.escape(n) for n in sorted(_KIND_BY_NOUN, key=len, reverse=True)) + r")(?!\w)",
    re.IGNORECASE,
)
_PRONOUN_START = re.compile(r"^(It|He|She|They|Its|His|Her|Their)\b")
_FIRST_WORDS_TO_LOWER = frozenset({"The", "It", "In", "There", "A", "An", "Its"})


@dataclass(frozen=True)
class _Claim:
    """A fact value found in a gold sentence, at ``sentence[start:end]``."""

    interpretation: int
    attribute: str
    value: str
    start: int
    end: int


@dataclass(frozen=True)
class _GoldSentence:
    text: str
    context: str  # the gold sentences before it
    interpretations: tuple[int, ...]  # the works it is about (by kind noun, or carried from the previous one)
    claims: tuple[_Claim, ...]
    framing: bool
    new_required: frozenset[tuple[str, str]]  # required facts it states that no sentence before it did
    keys: frozenset[tuple[str, str]]  # every fact it states

    @property
    def single(self) -> int | None:
        """The one interpretation it is about, or None."""
        return self.interpretations[0] if len(self.interpretations) == 1 else None


class Question:
    """One question's ground truth, arranged for making probes: its facts, works and gold sentences.

    Example:
        >>> from fg_env.data.synthetic import SyntheticQA
        >>> q = Question(SyntheticQA().split("test")[0])
        >>> q.name, q.kinds, q.references[0][0].text
        ('Shattered Echo', ['film', 'TV series'], 'The film titled Shattered Echo takes place in Pinecrest and was made by director Tessa Weatherby.')
    """

    def __init__(self, example: QAExample) -> None:
        world = example.meta.get("world")
        if not isinstance(world, World):
            raise InvalidValueError(f"example {example.id!r} is not a built-in world question (no meta['world'])")
        self.example, self.world, self.name = example, world, world.name
        self.facts: dict[tuple[str, str], Fact] = {(f.entity, f.attribute): f for f in world.facts}
        self.entities = [i.entity for i in world.interpretations]
        self.kinds = [i.kind for i in world.interpretations]
        self.specs = [KINDS[k] for k in self.kinds]
        self.index_of_kind = {k: i for i, k in enumerate(self.kinds)}
        self.required = frozenset((f.entity, f.attribute) for f in world.required_facts)
        self.years = frozenset(int(f.value) for f in world.facts if f.attribute in (YEAR, BIRTH_YEAR, FOUNDED))
        self.entity_names = frozenset(e.name.lower() for e in world.entities)
        self.persons = [e.name for e in world.entities if e.kind == vocab.PERSON]
        self.words_used = frozenset(w for e in world.entities for w in e.name.lower().split())
        self.values_used = frozenset(f.value.lower() for f in world.facts)
        self.openings = {o.format(N=self.name, count=NUMBER_WORDS[len(self.kinds) - 2]) for o in ph.OPENINGS}
        self.references = [self._read(reference) for reference in example.references]

    def value(self, i: int, attribute: str) -> str | None:
        fact = self.facts.get((self.entities[i], attribute))
        return fact.value if fact else None

    def key(self, claim: _Claim) -> tuple[str, str]:
        return self.entities[claim.interpretation], claim.attribute

    def _read(self, reference: str) -> list[_GoldSentence]:
        texts = [reference[s.start : s.end] for s in split_sentences(reference)]
        said: set[tuple[str, str]] = set()
        previous: tuple[int, ...] = ()
        sentences = []
        for k, text in enumerate(texts):
            framing = text in self.openings
            found = {self.index_of_kind.get(_KIND_BY_NOUN[m.group(1).lower()]) for m in _KIND_NOUN.finditer(text)}
            interpretations = () if framing else tuple(sorted(i for i in found if i is not None)) or previous
            claims = []
            for i in interpretations:
                for attribute in _SOURCE_ATTRIBUTES:
                    value = self.value(i, attribute)
                    if value:
                        for m in re.finditer(rf"(?<!\w){re.escape(value)}(?!\w)", text):
                            claims.append(_Claim(i, attribute, value, m.start(), m.end()))
            keys = frozenset(self.key(c) for c in claims)
            new = frozenset(k for k in keys if k in self.required and k not in said)
            sentences.append(
                _GoldSentence(text, " ".join(texts[:k]), interpretations, tuple(claims), framing, new, keys)
            )
            said |= keys
            previous = interpretations or previous
        return sentences

    def claim_sentences(self) -> list[_GoldSentence]:
        """Every gold sentence that states a fact, over all gold answers, without repeats."""
        seen: set[tuple[str, str]] = set()
        out = []
        for sentences in self.references:
            for s in sentences:
                if s.claims and not s.framing and (s.context, s.text) not in seen:
                    seen.add((s.context, s.text))
                    out.append(s)
        return out

    def single_value_claims(self, attributes: Iterable[str]) -> list[tuple[_GoldSentence, _Claim]]:
        """(sentence, claim) for claims of ``attributes`` in sentences about one work, whose value
        the sentence says once (so replacing it leaves no trace of the truth)."""
        wanted = set(attributes)
        out = []
        for s in self.claim_sentences():
            if s.single is None:
                continue
            for c in s.claims:
                if c.attribute in wanted and s.text.count(c.value) == 1:
                    out.append((s, c))
        return out

    def gain_if_replaced(self, sentence: _GoldSentence, claim: _Claim) -> bool | None:
        """Whether completeness may rise once ``claim`` is made false: False when the sentence states no
        other required fact the context lacks, else None (its other facts may count, not checked)."""
        others = sentence.new_required - {self.key(claim)}
        return None if others else False

    def template(self, rng: random.Random, i: int, attribute: str, value: str, title: str | None = None) -> str:
        """A sentence in the world's phrasing: "The film Harlow Bridge was released in 1994."."""
        spec = self.specs[i]
        return f"The {rng.choice(spec.nouns)} {title or self.name} {ph.verb_phrase(rng, spec, attribute, value)}."

    def full_gold(self) -> str:
        return " ".join(s.text for s in self.references[0])

    def some_context(self, rng: random.Random) -> str:
        """No context, the whole first gold answer, or a prefix of it made of whole sentences."""
        sentences = self.references[0]
        k = rng.choice((0, len(sentences), rng.randint(1, len(sentences))))
        return " ".join(s.text for s in sentences[:k])


def _lower_first(sentence: str) -> str:
    """The sentence with its first letter lower-cased when it starts with a common word, for embedding."""
    first = sentence.split(" ", 1)[0]
    return sentence[:1].lower() + sentence[1:] if first in _FIRST_WORDS_TO_LOWER else sentence


def _without_period(sentence: str) -> str:
    return sentence[:-1] if sentence.endswith(".") else sentence


def _replace(text: str, claim: _Claim, value: str) -> str:
    return text[: claim.start] + value + text[claim.end :]


def _one_sentence(context: str, sentence: str) -> bool:
    """Whether the probe reads as exactly one sentence after the context (else the probe is skipped)."""
    answer = f"{context} {sentence}" if context else sentence
    spans = split_sentences(answer)
    return bool(spans) and spans[-1] == Span(len(answer) - len(sentence), len(answer))


def _one_sub_sentence(sentence: str) -> bool:
    return len(split_sub_sentences(sentence)) == 1


def _wrong_year(rng: random.Random, q: Question, truth: int) -> int | None:
    """A year near ``truth`` that the world gives nothing (so it is wrong, and no other work's)."""
    options = [y for y in range(max(1950, truth - 30), min(2024, truth + 30) + 1) if y not in q.years]
    return rng.choice(options) if options else None


def _made_up_person(rng: random.Random) -> str:
    return f"{rng.choice(UNKNOWN_FIRST_NAMES)} {rng.choice(UNKNOWN_SURNAMES)}"


def _made_up_title(rng: random.Random, q: Question) -> str:
    """Half from the world's title words (a pair this question never uses), half from unknown words."""
    while True:
        if rng.random() < 0.5:
            title = f"{rng.choice(vocab.TITLE_FIRST_WORDS)} {rng.choice(vocab.TITLE_SECOND_WORDS)}"
        else:
            title = f"{rng.choice(UNKNOWN_TITLE_FIRST_WORDS)} {rng.choice(UNKNOWN_TITLE_SECOND_WORDS)}"
        if title.lower() not in q.entity_names:
            return title


def _foreign(rng: random.Random, language: str, kind: str, attribute: str, name: str, value: str) -> str:
    template = rng.choice(foreign_templates(language, kind, attribute))
    return foreign_sentence(language, kind, template, name, value)


# -- generators, one per class -----------------------------------------------------------------------------
_Maker = Callable[[random.Random, Question], list[IntegrityCase]]


def _case(
    q: Question,
    cls: str,
    context: str,
    sentence: str,
    expect: Expect,
    inserted: tuple[str, ...] = (),
    note: str = "",
    about: tuple[str, str] | None = None,
) -> IntegrityCase:
    return IntegrityCase(cls, q.example, context, sentence, expect, inserted, note, about)


def _gold(rng: random.Random, q: Question) -> list[IntegrityCase]:
    cases = []
    for sentences in q.references:
        for s in sentences:
            # A framing sentence states nothing; a claim sentence counts when it adds a required fact.
            gain: bool | None = False if s.framing else (True if s.new_required else None)
            cases.append(_case(q, "gold", s.context, s.text, Expect(completeness_gain=gain)))
    return cases


def _framing(rng: random.Random, q: Question) -> list[IntegrityCase]:
    sentences = {s.text for ref in q.references for s in ref if s.framing}
    # The gold answers' own framing sentences, and two more of the world's openings for this name.
    others = sorted(q.openings - sentences)
    sentences |= set(rng.sample(others, min(2, len(others))))
    return [_case(q, "framing", "", s, Expect(completeness_gain=False)) for s in sorted(sentences)]


def _hedged_true(rng: random.Random, q: Question) -> list[IntegrityCase]:
    cases = []
    for s in q.claim_sentences():
        if not s.new_required:
            continue
        hedge = rng.choice(HEDGES)
        sentence = hedge.format(s=_lower_first(s.text), S=_without_period(s.text))
        cases.append(_case(q, "hedged-true", s.context, sentence, Expect(completeness_gain=True), note=hedge))
    return cases


def _number_words_true(rng: random.Random, q: Question) -> list[IntegrityCase]:
    cases = []
    for s in q.claim_sentences():
        for c in s.claims:
            if c.attribute == YEAR and s.text.count(c.value) == 1:
                words = year_words(int(c.value), rng.randrange(3))
                expect = Expect(completeness_gain=True if s.new_required else None)
                sentence = _replace(s.text, c, words)
                cases.append(_case(q, "number-words-true", s.context, sentence, expect, (words,), about=q.key(c)))
    # A length in words, as a background fact: true, so no factuality error, but off topic like its digits.
    for i, spec in enumerate(q.specs):
        length = q.value(i, LENGTH)
        if length and spec.length_unit:
            words = number_words(int(length.split()[0]), use_and=rng.random() < 0.7)
            sentence = f"The {rng.choice(spec.nouns)} {q.name} {rng.choice(spec.length_vps).format(n=words)}."
            expect = Expect(relevance=IRRELEVANT, completeness_gain=False)
            about = (q.entities[i], LENGTH)
            cases.append(
                _case(q, "number-words-true", q.some_context(rng), sentence, expect, (words,), "length", about)
            )
    return cases


def _wrong_years(rng: random.Random, q: Question, cls: str, spell: Callable[[int], str]) -> list[IntegrityCase]:
    """A work's year made wrong (a year the world gives nothing), in gold sentences and the world's phrasing."""
    cases = []
    for s, c in q.single_value_claims([YEAR]):
        year = _wrong_year(rng, q, int(c.value))
        if year is not None:
            expect = Expect(factuality=WG, completeness_gain=q.gain_if_replaced(s, c))
            sentence = _replace(s.text, c, spell(year))
            cases.append(_case(q, cls, s.context, sentence, expect, (str(year),), about=q.key(c)))
    for i in range(len(q.kinds)):
        truth = q.value(i, YEAR)
        year = _wrong_year(rng, q, int(truth)) if truth else None
        if year is not None:
            sentence = q.template(rng, i, YEAR, spell(year))
            expect = Expect(factuality=WG, completeness_gain=False)
            cases.append(_case(q, cls, "", sentence, expect, (str(year),), about=(q.entities[i], YEAR)))
    return cases


def _wrong_value(rng: random.Random, q: Question) -> list[IntegrityCase]:
    return _wrong_years(rng, q, "wrong-value", str)


def _number_words_false(rng: random.Random, q: Question) -> list[IntegrityCase]:
    return _wrong_years(rng, q, "number-words-false", lambda year: year_words(year, rng.randrange(3)))


def _other_interpretation(rng: random.Random, q: Question) -> list[IntegrityCase]:
    cases = []
    n = len(q.kinds)
    for s, c in q.single_value_claims(_SOURCE_ATTRIBUTES):
        others = [j for j in range(n) if j != c.interpretation and q.value(j, c.attribute) not in (None, c.value)]
        if others:
            value = q.value(rng.choice(others), c.attribute)
            assert value is not None
            expect = Expect(factuality=WG, completeness_gain=q.gain_if_replaced(s, c))
            sentence = _replace(s.text, c, value)
            cases.append(_case(q, "other-interpretation", s.context, sentence, expect, (value,), about=q.key(c)))
    for i in range(n):
        options = [
            (j, a)
            for j in range(n)
            for a in _SOURCE_ATTRIBUTES
            if j != i and q.value(i, a) and q.value(j, a) and q.value(j, a) != q.value(i, a)
        ]
        if options:
            j, attribute = rng.choice(options)
            value = q.value(j, attribute)
            assert value is not None
            sentence = q.template(rng, i, attribute, value)
            expect = Expect(factuality=WG, completeness_gain=False)
            about = (q.entities[i], attribute)
            cases.append(_case(q, "other-interpretation", "", sentence, expect, (value,), about=about))
    return cases


def _unverifiable(rng: random.Random, q: Question) -> list[IntegrityCase]:
    """Attributes the passages never state for a work, with values the world never gives it."""
    cases = []
    free_surnames = [s for s in vocab.SURNAMES if s.lower() not in q.words_used]
    free_places = [p for p in vocab.PLACES if p.lower() not in q.values_used]
    free_org_words = [w for w in vocab.ORG_WORDS if w.lower() not in q.words_used]
    for i, spec in enumerate(q.specs):
        for attribute in (ORGANIZATION, PLACE, CONTRIBUTOR, LENGTH, RECEPTION):
            if q.value(i, attribute) is not None:
                continue
            if attribute == ORGANIZATION:
                value = f"{rng.choice(free_org_words)} {rng.choice(spec.org_suffixes)}"
            elif attribute == PLACE:
                value = rng.choice(free_places)
            elif attribute == CONTRIBUTOR:
                first = rng.choice(vocab.FEMALE_FIRST_NAMES + vocab.MALE_FIRST_NAMES)
                value = f"{first} {rng.choice(free_surnames)}"
            elif attribute == LENGTH:
                if not spec.length_unit:
                    continue
                value = f"{rng.randint(*spec.length_range)} {spec.length_unit}"
            else:
                value = rng.choice(sorted(RECEPTIONS))
            # A background attribute (cast, length, reception) is off topic besides; a core one is not.
            relevance = None if attribute in CORE_WORK_ATTRIBUTES else IRRELEVANT
            expect = Expect(factuality=UNVERIFIABLE, relevance=relevance, completeness_gain=False)
            sentence = q.template(rng, i, attribute, value)
            about = (q.entities[i], attribute)
            cases.append(_case(q, "unverifiable", q.some_context(rng), sentence, expect, (value,), about=about))
    return cases


def _distractor(rng: random.Random, q: Question) -> list[IntegrityCase]:
    cases = []
    expect = Expect(relevance=IRRELEVANT, completeness_gain=False)
    # Passage sentences that state only distractor facts and name what they are about.
    by_location: dict[tuple[int, int], list[Fact]] = {}
    for f in q.world.facts:
        for loc in f.locations:
            by_location.setdefault((loc.passage_id, loc.sentence_id), []).append(f)
    for p, passage in enumerate(q.example.passages, start=1):
        for k, text in enumerate(passage.sentences, start=1):
            facts = by_location.get((p, k), [])
            if facts and all(f.role == DISTRACTOR for f in facts) and not _PRONOUN_START.match(text):
                about = (facts[0].entity, facts[0].attribute)
                cases.append(_case(q, "distractor", q.some_context(rng), text, expect, note="passage", about=about))
    # Background attributes of the interpretations, in the world's phrasing.
    for i in range(len(q.kinds)):
        for attribute in (CONTRIBUTOR, LENGTH, RECEPTION):
            value = q.value(i, attribute)
            if value:
                sentence = q.template(rng, i, attribute, value)
                about = (q.entities[i], attribute)
                cases.append(_case(q, "distractor", q.some_context(rng), sentence, expect, about=about))
    return cases


def _repeat(rng: random.Random, q: Question) -> list[IntegrityCase]:
    full = q.full_gold()
    expect = Expect(relevance=REDUNDANT, completeness_gain=False)
    # "It ..." would point at the last work named, not its own: only sentences that name their work.
    return [
        _case(q, "repeat", full, s.text, expect)
        for s in q.references[0]
        if s.claims and not s.framing and not _PRONOUN_START.match(s.text)
    ]


_CUT_WORDS = frozenset({"by", "the", "in"})


def _cut_off(rng: random.Random, q: Question) -> list[IntegrityCase]:
    cases = []
    for s in q.claim_sentences():
        words = list(re.finditer(r"\S+", s.text))
        cuts = [
            w.end()
            for n, w in enumerate(words[:-1])
            if n >= 3 and w.group() in _CUT_WORDS and _one_sub_sentence(s.text[: w.end()])
        ]
        for end in rng.sample(cuts, min(1, len(cuts))):
            # Usually as generation stops (no full stop); sometimes with one, which mends nothing.
            sentence = s.text[:end] + ("." if rng.random() < 0.3 else "")
            cases.append(_case(q, "cut-off", s.context, sentence, Expect(relevance=INCOHERENT)))
    return cases


def _shuffled(rng: random.Random, q: Question) -> list[IntegrityCase]:
    cases = []
    for s in q.claim_sentences():
        tokens = re.findall(r"[\w'\u2019-]+", s.text)
        if len(tokens) < 5:
            continue
        pairs = {(a.lower(), b.lower()) for a, b in zip(tokens, tokens[1:])}
        for _ in range(200):
            order = tokens[:]
            rng.shuffle(order)
            # Word salad: no two words still side by side as they were, and another first word.
            if order[0] != tokens[0] and not any((a.lower(), b.lower()) in pairs for a, b in zip(order, order[1:])):
                break
        else:
            continue
        words = [w.lower() if w in _FIRST_WORDS_TO_LOWER else w for w in order]
        sentence = ph.capitalize(" ".join(words)) + "."
        cases.append(_case(q, "shuffled", s.context, sentence, Expect(relevance=INCOHERENT, completeness_gain=False)))
    return cases


def _missing_answer(rng: random.Random, q: Question) -> list[IntegrityCase]:
    cases = []
    for sentences in q.references:
        for i in range(len(q.kinds)):
            kept = [s for s in sentences if i not in s.interpretations]
            if not kept or len(kept) == len(sentences) or not _reads_without(sentences, kept, q.name):
                continue
            context = " ".join(s.text for s in kept)
            expect = Expect(missing=MISSING_ANSWER)
            answer = (q.entities[i], q.world.question_attribute)
            cases.append(
                _case(q, "missing-answer", context, "", expect, note=f"without interpretation {i}", about=answer)
            )
    return cases


def _reads_without(sentences: list[_GoldSentence], kept: list[_GoldSentence], name: str) -> bool:
    """Whether the kept sentences still read right: the answer opens with the name (not "The film is
    set in X." alone), each "It ..." follows the sentence it followed, and "the X of the same name"
    comes after the name was said."""
    if name not in kept[0].text:
        return False
    position = {id(s): n for n, s in enumerate(sentences)}
    for n, s in enumerate(kept):
        if _PRONOUN_START.match(s.text) and (n == 0 or position[id(kept[n - 1])] != position[id(s)] - 1):
            return False
        if "of the same name" in s.text and not any(name in t.text for t in kept[:n]):
            return False
    return True


def _unknown_person(rng: random.Random, q: Question) -> list[IntegrityCase]:
    cases = []
    for s, c in q.single_value_claims([CREATOR]):
        name = _made_up_person(rng)
        expect = Expect(factuality=WG, completeness_gain=q.gain_if_replaced(s, c))
        cases.append(_case(q, "unknown-person", s.context, _replace(s.text, c, name), expect, (name,), about=q.key(c)))
    for i in range(len(q.kinds)):
        name = _made_up_person(rng)
        sentence = q.template(rng, i, CREATOR, name)
        expect = Expect(factuality=WG, completeness_gain=False)
        cases.append(_case(q, "unknown-person", "", sentence, expect, (name,), about=(q.entities[i], CREATOR)))
    return cases


def _mixed_name(rng: random.Random, q: Question) -> list[IntegrityCase]:
    """A person's name half known, half not: a known first name with an unknown surname, or an unknown
    first name with the surname of a person of this world (often the true creator's)."""
    cases = []
    surnames = [p.split()[-1] for p in q.persons]
    first_names = vocab.FEMALE_FIRST_NAMES + vocab.MALE_FIRST_NAMES

    def mixed(truth: str) -> tuple[str, str]:
        """The name, and its unknown half."""
        if rng.random() < 0.5:
            first = truth.split()[0] if rng.random() < 0.5 else rng.choice(first_names)
            surname = rng.choice(UNKNOWN_SURNAMES)
            return f"{first} {surname}", surname
        first = rng.choice(UNKNOWN_FIRST_NAMES)
        surname = truth.split()[-1] if rng.random() < 0.5 else rng.choice(surnames)
        return f"{first} {surname}", first

    for s, c in q.single_value_claims([CREATOR]):
        name, unknown = mixed(c.value)
        expect = Expect(factuality=WG, completeness_gain=q.gain_if_replaced(s, c))
        sentence = _replace(s.text, c, name)
        cases.append(_case(q, "mixed-name", s.context, sentence, expect, (unknown,), name, q.key(c)))
    for i in range(len(q.kinds)):
        truth = q.value(i, CREATOR)
        if truth:
            name, unknown = mixed(truth)
            sentence = q.template(rng, i, CREATOR, name)
            expect = Expect(factuality=WG, completeness_gain=False)
            cases.append(_case(q, "mixed-name", "", sentence, expect, (unknown,), name, (q.entities[i], CREATOR)))
    return cases


def _unknown_title(rng: random.Random, q: Question) -> list[IntegrityCase]:
    """One true fact of a work, said of a title the world never uses: about a work the passages do not
    know. Only one fact a probe: "the 1954 artwork by Lena Kaminski" would pick out the known work, and
    a careful annotator might then read the sentence as giving that work a wrong title."""
    cases = []
    expect = Expect(factuality=UNVERIFIABLE, relevance=IRRELEVANT, completeness_gain=False)
    for s in q.claim_sentences():
        # The title must name the one work the sentence is about, with its kind said in the sentence,
        # in one sub-sentence ("The film titled X," alone names a work without a claim: no clear label).
        if s.single is None or len(s.claims) != 1 or s.text.count(q.name) != 1 or "of the same name" in s.text:
            continue
        if _KIND_NOUN.search(s.text) and _one_sub_sentence(s.text):
            title = _made_up_title(rng, q)
            sentence = s.text.replace(q.name, title)
            cases.append(_case(q, "unknown-title", s.context, sentence, expect, (title,), about=q.key(s.claims[0])))
    for i in range(len(q.kinds)):
        for attribute in (YEAR, CREATOR):
            value = q.value(i, attribute)
            if value:
                title = _made_up_title(rng, q)
                sentence = q.template(rng, i, attribute, value, title=title)
                about = (q.entities[i], attribute)
                cases.append(_case(q, "unknown-title", q.some_context(rng), sentence, expect, (title,), about=about))
    return cases


# Verbs after which a company needs no suffix to read as one ("was published by Blue Heron").
_BARE_COMPANY_VPS: dict[str, str] = {
    "film": "was released by",
    "novel": "was published by",
    "video game": "was published by",
}


def _unknown_company(rng: random.Random, q: Question) -> list[IntegrityCase]:
    cases = []
    for s, c in q.single_value_claims([ORGANIZATION]):
        spec = q.specs[c.interpretation]
        company = f"{rng.choice(UNKNOWN_ORG_WORDS)} {rng.choice(spec.org_suffixes)}"
        expect = Expect(factuality=WG, completeness_gain=q.gain_if_replaced(s, c))
        sentence = _replace(s.text, c, company)
        cases.append(_case(q, "unknown-company", s.context, sentence, expect, (company,), about=q.key(c)))
    for i, spec in enumerate(q.specs):
        if q.value(i, ORGANIZATION) is None:
            continue  # the passages do not say: a made-up company would be unverifiable, not wrong
        expect = Expect(factuality=WG, completeness_gain=False)
        about = (q.entities[i], ORGANIZATION)
        company = f"{rng.choice(UNKNOWN_ORG_WORDS)} {rng.choice(spec.org_suffixes)}"
        sentence = q.template(rng, i, ORGANIZATION, company)
        cases.append(_case(q, "unknown-company", "", sentence, expect, (company,), about=about))
        verb = _BARE_COMPANY_VPS.get(q.kinds[i])
        if verb:
            company = rng.choice(UNKNOWN_ORG_NAMES)
            sentence = f"The {rng.choice(spec.nouns)} {q.name} {verb} {company}."
            cases.append(_case(q, "unknown-company", "", sentence, expect, (company,), "no suffix", about))
    return cases


def _unknown_place(rng: random.Random, q: Question) -> list[IntegrityCase]:
    cases = []
    for s, c in q.single_value_claims([PLACE]):
        place = rng.choice(UNKNOWN_PLACES)
        expect = Expect(factuality=WG, completeness_gain=q.gain_if_replaced(s, c))
        cases.append(_case(q, "unknown-place", s.context, _replace(s.text, c, place), expect, (place,), about=q.key(c)))
    for i in range(len(q.kinds)):
        if q.value(i, PLACE) is None:
            continue  # unverifiable, not wrong
        place = rng.choice(UNKNOWN_PLACES)
        sentence = q.template(rng, i, PLACE, place)
        expect = Expect(factuality=WG, completeness_gain=False)
        cases.append(_case(q, "unknown-place", "", sentence, expect, (place,), about=(q.entities[i], PLACE)))
    return cases


def _single_claim_sentences(rng: random.Random, q: Question) -> list[tuple[str, str, str, tuple[str, str]]]:
    """(context, subject, verb phrase, fact) of true one-fact sentences: gold sentences that say one
    fact ("It came out on Cobblestone Records."), and the world's phrasing of each core fact of each work."""
    out = []
    for s in q.claim_sentences():
        if s.single is None or len(s.claims) != 1:
            continue
        m = re.fullmatch(r"(It|The [\w ]+?) ((?:was|is|came|premiered|debuted|aired|takes|dates|hangs) .+)\.", s.text)
        if m and (m.group(1) == "It" or m.group(1)[4:].lower() in _KIND_BY_NOUN):
            out.append((s.context, m.group(1), m.group(2), q.key(s.claims[0])))
    for i, spec in enumerate(q.specs):
        for attribute in _SOURCE_ATTRIBUTES:
            value = q.value(i, attribute)
            if value:
                subject = f"The {rng.choice(spec.nouns)} {q.name}"
                out.append(("", subject, ph.verb_phrase(rng, spec, attribute, value), (q.entities[i], attribute)))
    return out


def _negated_true(rng: random.Random, q: Question) -> list[IntegrityCase]:
    cases = []
    # A false denial is wrong and earns nothing; whether it is also off topic is not what this tests.
    expect = Expect(factuality=WG, relevance=ANY, completeness_gain=False)
    for context, subject, verb_phrase, about in _single_claim_sentences(rng, q):
        forms = negations(verb_phrase)
        if forms:
            negated = rng.choice(forms)
            cases.append(_case(q, "negated-true", context, f"{subject} {negated}.", expect, note=negated, about=about))
    return cases


def _denied_true(rng: random.Random, q: Question) -> list[IntegrityCase]:
    cases = []
    expect = Expect(factuality=WG, relevance=ANY, completeness_gain=False)
    for context, subject, verb_phrase, about in _single_claim_sentences(rng, q):
        template = rng.choice(DENIALS)
        sentence = template.format(s=_lower_first(f"{subject} {verb_phrase}."))
        cases.append(_case(q, "denied-true", context, sentence, expect, note=template, about=about))
    return cases


def _vacuous(rng: random.Random, q: Question) -> list[IntegrityCase]:
    expect = Expect(relevance=IRRELEVANT, completeness_gain=False)
    return [
        _case(q, "vacuous", q.some_context(rng), template.format(N=q.name), expect)
        for template in rng.sample(VACUOUS, 3)
    ]


def _question_restated(rng: random.Random, q: Question) -> list[IntegrityCase]:
    question = q.example.question
    paraphrase = rng.choice(ph.QUESTIONS[q.world.question_attribute]).format(N=q.name)
    sentences = {question, f"The question is {question.rstrip('?').strip().lower()}.", paraphrase}
    expect = Expect(relevance=IRRELEVANT, completeness_gain=False)
    return [_case(q, "question-restated", q.some_context(rng), s, expect) for s in sorted(sentences)]


def _translated(cls: str, languages: tuple[str, ...]) -> _Maker:
    def make(rng: random.Random, q: Question) -> list[IntegrityCase]:
        cases = []
        # True facts, so no factuality error; unreadable to an English reader, so Incoherent.
        expect = Expect(relevance=INCOHERENT)
        for i, kind in enumerate(q.kinds):
            attributes = [a for a in _SOURCE_ATTRIBUTES if q.value(i, a)]
            for attribute in rng.sample(attributes, min(2, len(attributes))):
                value = q.value(i, attribute)
                assert value is not None
                language = rng.choice(languages)
                sentence = _foreign(rng, language, kind, attribute, q.name, value)
                context = rng.choice(("", q.full_gold()))
                about = (q.entities[i], attribute)
                cases.append(_case(q, cls, context, sentence, expect, (value,), language, about))
        return cases

    return make


_MAKERS: dict[str, _Maker] = {
    "gold": _gold,
    "framing": _framing,
    "hedged-true": _hedged_true,
    "number-words-true": _number_words_true,
    "wrong-value": _wrong_value,
    "other-interpretation": _other_interpretation,
    "unverifiable": _unverifiable,
    "distractor": _distractor,
    "repeat": _repeat,
    "cut-off": _cut_off,
    "shuffled": _shuffled,
    "missing-answer": _missing_answer,
    "unknown-person": _unknown_person,
    "mixed-name": _mixed_name,
    "unknown-title": _unknown_title,
    "unknown-company": _unknown_company,
    "unknown-place": _unknown_place,
    "negated-true": _negated_true,
    "denied-true": _denied_true,
    "vacuous": _vacuous,
    "question-restated": _question_restated,
    "number-words-false": _number_words_false,
    "foreign-language": _translated("foreign-language", FOREIGN_LANGUAGES),
    "foreign-script": _translated("foreign-script", FOREIGN_SCRIPTS),
}
_UNCAPPED = frozenset({"gold", "framing"})


def generate_cases(
    examples: Iterable[QAExample], seed: int = 0, classes: Sequence[str] = CLASSES
) -> list[IntegrityCase]:
    """The suite's cases for ``examples`` (built-in world questions), in question then class order.

    Each question and class draws from its own ``random.Random`` (seeded by ``seed``, the question's
    key and the class), so the cases of one question do not depend on the others, and at most four
    cases are kept per question and class (every gold and framing sentence is kept).

    Example:
        >>> from fg_env.data.synthetic import SyntheticQA
        >>> examples = SyntheticQA().split("test")[:3]
        >>> generate_cases(examples, seed=1) == generate_cases(examples, seed=1)
        True
    """
    unknown = [c for c in classes if c not in _MAKERS]
    if unknown:
        raise InvalidValueError(f"unknown integrity classes {unknown}; the classes are {', '.join(CLASSES)}")
    cases: list[IntegrityCase] = []
    for example in examples:
        q = Question(example)
        for cls in classes:
            rng = random.Random(f"fg_env-integrity/{seed}/{q.world.key}/{cls}")
            made = [c for c in _MAKERS[cls](rng, q) if _well_formed(c)]
            if cls not in _UNCAPPED and len(made) > MAX_CASES:
                keep = sorted(rng.sample(range(len(made)), MAX_CASES))
                made = [made[k] for k in keep]
            cases.extend(made)
    return cases


def _well_formed(case: IntegrityCase) -> bool:
    """A probe must be one sentence after its context, and one sub-sentence when its label is uniform
    only for a whole (a cut-off or shuffled sentence: the cut is in its last words)."""
    if not case.sentence:
        return bool(case.context)
    if not _one_sentence(case.context, case.sentence):
        return False
    return case.cls not in ("cut-off", "shuffled") or _one_sub_sentence(case.sentence)
