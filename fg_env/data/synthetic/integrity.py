"""An integrity suite for the built-in world's annotator: adversarial probes, each with its expected label.

The annotator (:mod:`fg_env.data.synthetic.annotator`) is the reward a policy learns from, so it must
judge like a careful QA-Feedback annotator and must not be gameable: a policy finds any cheap text
that scores well (a hedge, a foreign sentence, a made-up name, a vacuous remark about the topic).
This suite builds such texts from each question's own gold answers, passages and ground truth, with
the label a careful human would give, and reports which share of each class the annotator gets right.

A case (:class:`IntegrityCase`) is a *context* (a prefix of a gold answer made of whole sentences,
possibly empty) followed by one *probe* sentence; the answer annotated is ``context + " " + probe``.
:func:`check_case` compares the annotator's verdicts on the probe with :class:`Expect`:

* ``factuality``: the probe sentence's factuality error (None: no error);
* ``relevance``: the relevance error every sub-sentence of the probe carries (None: none carries
  one); probes are chosen so that one label fits all of their sub-sentences;
* ``completeness_gain``: whether completeness must rise over the context alone (None: not checked);
* ``missing``: a missing-information type the answer's feedback must hold (and then completeness
  must be below 1);

and checks the prefix property: the context's own errors are the same with the probe after it.
:data:`ANY` marks a verdict a class does not test.

Classes (:data:`CLASSES`), in three groups (:data:`GROUPS`):

* controls, which must not be flagged: ``gold``, ``framing``, ``hedged-true``, ``number-words-true``;
* errors the annotator is built to catch: ``wrong-value``, ``other-interpretation``, ``unverifiable``,
  ``distractor``, ``repeat``, ``cut-off``, ``shuffled``, ``missing-answer``;
* holes found by review: ``unknown-person``, ``mixed-name``, ``unknown-title``, ``unknown-company``,
  ``unknown-place``, ``negated-true``, ``denied-true``, ``vacuous``, ``question-restated``,
  ``number-words-false``, ``foreign-language``, ``foreign-script``.

Expected verdicts (factuality, relevance, completeness gain; "any": not checked; "WG": Wrong-Grounding,
"Irr": Irrelevant):

======================  ==============================================  ============  ==========  =====
class                   probe                                           factuality    relevance   gain
======================  ==============================================  ============  ==========  =====
gold                    a gold sentence after the ones before it        None          None        yes*
framing                 an opening ("X may refer to several works.")    None          None        no
hedged-true             a gold claim under "Reportedly," and the like   None          None        yes
number-words-true       a gold year in words / a length in words        None          None / Irr  yes* / no
wrong-value             a year the world never gives                    WG            None        no*
other-interpretation    another interpretation's value                  WG            None        no*
unverifiable            an attribute the passages never state           Unverifiable  None / Irr  no
distractor              a true background fact                          None          Irrelevant  no
repeat                  a gold claim again, after the whole gold        None          Redundant   no
cut-off                 a gold sentence cut after "by", "the", "in"     None          Incoherent  any
shuffled                a gold sentence's words shuffled to salad       None          Incoherent  no
missing-answer          gold without one interpretation's sentences     None          None        any
unknown-person          a name the world never uses                     WG            None        no*
mixed-name              a known first name or surname, the other new    WG            None        no*
unknown-title           a true fact of a work under an unused title     Unverifiable  Irrelevant  no
unknown-company         an unused company                               WG            None        no*
unknown-place           an unused place                                 WG            None        no*
negated-true            a true claim negated ("wasn't", "never")        WG            any         no
denied-true             "It is not true that <true claim>."             WG            any         no
vacuous                 "X is an interesting topic." and the like       None          Irrelevant  no
question-restated       the question, or "The question is ..."          None          Irrelevant  no
number-words-false      a wrong year in words                           WG            None        no*
foreign-language        a true claim in German, French, Spanish, ...    None          Incoherent  any
foreign-script          a true claim in Russian, Greek, Chinese, ...    None          Incoherent  any
======================  ==============================================  ============  ==========  =====

``missing-answer`` also expects ``Missing-Answer`` among the missing information. "*": when the
sentence states a required fact the context lacks (gold), or no other one (edits; else unchecked).
A length is a background fact, so off topic in words as in digits; so are the cast, length and
reception an ``unverifiable`` probe may claim. Whether a false denial is also off topic is left
unchecked: the classes test that it is wrong and earns nothing.

Probes edit gold sentences (the fact values inside a sentence are found from the world's facts) or
use the world's own phrasings (:mod:`fg_env.data.synthetic.phrasing`) with the question's real facts,
so the English stays the world's. A probe whose label would be ambiguous for a question is skipped
for it (a pronoun that would change referent, a value said twice, a sentence about two works).
Generation is deterministic given the seed: each question and class draws from its own
``random.Random`` seeded with the seed, the question's key and the class.

Run it with ``fg-env integrity`` (or ``python -m fg_env.data.synthetic.integrity``).

Example:
    >>> from fg_env.data.synthetic import Annotator, SyntheticQA
    >>> cases = generate_cases(SyntheticQA().split("test")[:2], seed=0)
    >>> sorted({case.cls for case in cases}) == sorted(CLASSES)
    True
    >>> gold = [case for case in cases if case.cls == "gold"]
    >>> check_case(Annotator(), gold[0])
    (True, 'ok')
    >>> result = run_suite(Annotator(), gold)
    >>> result["gold"][0] == result["gold"][1] == len(gold)
    True
"""

from __future__ import annotations

import argparse
import dataclasses
import random
import re
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from fg_env.data.synthetic import phrasing as ph
from fg_env.data.synthetic import vocab
from fg_env.data.synthetic.annotator import Annotator
from fg_env.data.synthetic.facts import DISTRACTOR, Fact, World
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
    KindSpec,
)
from fg_env.errors import InvalidValueError
from fg_env.feedback.schema import FACTUALITY_ERRORS, RELEVANCE_ERRORS, Feedback
from fg_env.text import split_sentences, split_sub_sentences
from fg_env.types import QAExample, Span

__all__ = [
    "ANY",
    "CLASSES",
    "FOREIGN_LANGUAGES",
    "FOREIGN_SCRIPTS",
    "GROUPS",
    "PASS_THRESHOLD",
    "UNKNOWN_FIRST_NAMES",
    "UNKNOWN_ORG_NAMES",
    "UNKNOWN_ORG_WORDS",
    "UNKNOWN_PLACES",
    "UNKNOWN_SURNAMES",
    "UNKNOWN_TITLE_FIRST_WORDS",
    "UNKNOWN_TITLE_SECOND_WORDS",
    "Expect",
    "Failure",
    "IntegrityCase",
    "SuiteResult",
    "add_arguments",
    "check_case",
    "format_failures",
    "format_table",
    "generate_cases",
    "main",
    "number_words",
    "run_command",
    "run_suite",
    "year_words",
]

ANY = "any"  # an expected verdict that is not checked
PASS_THRESHOLD = 0.99  # `--strict` fails when any class passes less often than this

GROUPS: dict[str, tuple[str, ...]] = {
    "control": ("gold", "framing", "hedged-true", "number-words-true"),
    "existing": (
        "wrong-value",
        "other-interpretation",
        "unverifiable",
        "distractor",
        "repeat",
        "cut-off",
        "shuffled",
        "missing-answer",
    ),
    "new": (
        "unknown-person",
        "mixed-name",
        "unknown-title",
        "unknown-company",
        "unknown-place",
        "negated-true",
        "denied-true",
        "vacuous",
        "question-restated",
        "number-words-false",
        "foreign-language",
        "foreign-script",
    ),
}
CLASSES: tuple[str, ...] = tuple(cls for classes in GROUPS.values() for cls in classes)

WG, UNVERIFIABLE = "Wrong-Grounding", "Unverifiable"
IRRELEVANT, REDUNDANT, INCOHERENT = "Irrelevant", "Redundant", "Incoherent"
MISSING_ANSWER = "Missing-Answer"
_MAX_CASES = 4  # cases per question and class (gold and framing keep all theirs)


# -- cases --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Expect:
    """The verdicts a careful annotator gives a probe (see the module docstring); :data:`ANY`: not checked.

    Example:
        >>> Expect(factuality="Wrong-Grounding", completeness_gain=False).describe()
        'factuality=Wrong-Grounding relevance=None gain=False'
    """

    factuality: str | None = None
    relevance: str | None = None
    completeness_gain: bool | None = None
    missing: str | None = None

    def __post_init__(self) -> None:
        if self.factuality not in (None, ANY, *FACTUALITY_ERRORS):
            raise InvalidValueError(f"unknown factuality verdict {self.factuality!r}")
        if self.relevance not in (None, ANY, *RELEVANCE_ERRORS):
            raise InvalidValueError(f"unknown relevance verdict {self.relevance!r}")

    def describe(self) -> str:
        gain = "any" if self.completeness_gain is None else str(self.completeness_gain)
        text = f"factuality={self.factuality} relevance={self.relevance} gain={gain}"
        return text + (f" missing={self.missing}" if self.missing else "")


@dataclass(frozen=True)
class IntegrityCase:
    """One probe: ``sentence`` after ``context`` (whole gold sentences), and its expected verdicts.

    ``inserted`` holds the values the probe puts in place of the truth (a wrong year, a made-up
    name) and ``about`` the (entity id, attribute) of the fact it concerns, so tests can check the
    label against the world; ``note`` says how the probe was made.
    An empty ``sentence`` (``missing-answer``) makes the whole context the probe.

    Example:
        >>> from fg_env.data.synthetic import SyntheticQA
        >>> example = SyntheticQA().split("test")[0]
        >>> case = IntegrityCase("vacuous", example, "", "Shattered Echo is an interesting topic.",
        ...                      Expect(relevance="Irrelevant", completeness_gain=False))
        >>> case.answer, case.probe_span
        ('Shattered Echo is an interesting topic.', (0, 39))
    """

    cls: str
    example: QAExample
    context: str
    sentence: str
    expect: Expect
    inserted: tuple[str, ...] = ()
    note: str = ""
    about: tuple[str, str] | None = None

    @property
    def answer(self) -> str:
        """The text annotated: the context, then the probe sentence."""
        if self.context and self.sentence:
            return f"{self.context} {self.sentence}"
        return self.context or self.sentence

    @property
    def probe_span(self) -> tuple[int, int]:
        """Where the probe lies in :attr:`answer` (the whole answer when there is no probe sentence)."""
        answer = self.answer
        if not self.sentence:
            return 0, len(answer)
        return len(answer) - len(self.sentence), len(answer)


# -- the vocabulary the world never uses ---------------------------------------------------------------
def _strings(value: object) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, (tuple, list, frozenset, set)):
        for item in value:
            yield from _strings(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(key)
            yield from _strings(item)
    elif isinstance(value, KindSpec):
        for f in dataclasses.fields(value):
            yield from _strings(getattr(value, f.name))


def _vocab_words() -> frozenset[str]:
    """Every word of every list in :mod:`vocab` (names, titles, places, companies, kinds, cues), lower case."""
    words: set[str] = set()
    for name, value in vars(vocab).items():
        if not name.startswith("_"):
            for text in _strings(value):
                words.update(re.findall(r"[a-z]+", text.lower()))
    return frozenset(words)


VOCAB_WORDS = _vocab_words()


def _unused(candidates: Sequence[str]) -> tuple[str, ...]:
    """The candidates none of whose words the world's vocabulary holds (it may grow; this keeps them apart)."""
    return tuple(c for c in candidates if not set(re.findall(r"[a-z]+", c.lower())) & VOCAB_WORDS)


UNKNOWN_FIRST_NAMES: tuple[str, ...] = _unused(
    """Jonas Harriet Ottilie Lucian Marguerite Desmond Philippa Ambrose Cressida Evander Rosalind Barnaby
    Leopold Winifred Caspian Henrietta Thaddeus Isolde Cornelius Dorothea Alaric Genevieve Bartholomew
    Esmeralda Fabian Georgina Horatio Ingrid Jerome Katrin Lucius Magdalena Nathaniel Octavia Percival
    Rosamund Sebastian Tabitha Valentin Wilhelmina Zachary Annelise Benedikt Clementine Dashiell Eloise
    Frederick Gwendolyn Hyacinth Ignacio Josephine Konrad Lavinia Maximilian Nerissa Orlando Penelope
    Reginald Seraphina Theodora Ulysses Mortimer Griselda""".split()
)
UNKNOWN_SURNAMES: tuple[str, ...] = _unused(
    """Whitfield Ashworth Blakemore Cartwright Dunleavy Ellingham Farnsworth Gilchrist Hargreaves Kettering
    Langford Merriweather Northcott Oldfield Pennington Quimby Rutherford Sinclair Thackeray Vaughan
    Wainwright Yates Aldridge Birkett Donnelly Everett Fothergill Greenhalgh Hollingsworth Illingworth
    Jellicoe Kingsley Livingstone Montague Nettleton Ogilvy Prendergast Quayle Ramsbottom Stirling
    Treadwell Underwood Villiers Wolcott Ackroyd Brocklehurst Chadwick Dinsdale Entwistle Fairbanks
    Gladstone Hetherington Isherwood Kirkpatrick Lomax Marlowe Ormerod Pilkington Radford Sheridan
    Tolliver Wetherell Crowther Bannister""".split()
)
UNKNOWN_TITLE_FIRST_WORDS: tuple[str, ...] = _unused(
    """Bitter Pale Scattered Burnt Open Lost Little Sweet Dark Lucky Gray Green Heavy Honest Jagged
    Narrow Rapid Sacred Tired Weary Yellow Bare Cold Early Faint Grand Purple Hungry Lazy""".split()
)
UNKNOWN_TITLE_SECOND_WORDS: tuple[str, ...] = _unused(
    """Moon Sky Kite Gates Swallows Tide Stone Pearl Comet Lagoon Chapel Ladder Needle Cradle Hammer Saddle
    Thistle Beacon Barrel Candle Spire Pebbles Tulips Sailors Clocks Ribbons Marbles Ashes""".split()
)
UNKNOWN_PLACES: tuple[str, ...] = _unused(
    """Norvale Ashcombe Brindlemere Caddington Durnholm Elmstead Farleigh Glenhallow Harrowgate Ilsworth
    Kelmarsh Merrowby Netherby Oxley Penhallow Rushden Stanwick Thistlecombe Ulverby Wrenfield Yelverton
    Barrowmere Eddington Fallowmere Hartwell Lindholme Marsden Quenby Selwick Tarrant Wickhollow Amberley
    Bexford Castleton Drumlow Everleigh""".split()
)
UNKNOWN_ORG_WORDS: tuple[str, ...] = _unused(
    """Harborlight Silverpine Brookstone Amberline Westwind Bluegate Clearwater Ravenwood Sunhollow Fernleaf
    Goldcrest Hillcrest Ironwood Lakeshore Marigold Nightfall Oakridge Pinewood Quicksilver Rosewater
    Stonegate Thornfield Windmill Yellowstone Bramblewood Cloudberry""".split()
)
UNKNOWN_ORG_NAMES: tuple[str, ...] = _unused(
    (
        "Blue Heron",
        "Open Road",
        "Night Owl",
        "Black Sheep",
        "Green Door",
        "Grey Gull",
        "Deep Well",
        "Red Fox",
        "Tall Tree",
        "Brass Bell",
        "White Rabbit",
        "Wise Owl",
        "Lucky Star",
        "Clay Pot",
        "Orange Grove",
    )
)


# -- numbers in words ----------------------------------------------------------------------------------
_UNITS = "zero one two three four five six seven eight nine".split()
_TEENS = "ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen".split()
_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()


def number_words(n: int, use_and: bool = True) -> str:
    """``n`` (0 to 9999) in words, British style by default.

    Example:
        >>> number_words(102), number_words(102, use_and=False), number_words(61)
        ('one hundred and two', 'one hundred two', 'sixty-one')
    """
    if not 0 <= n <= 9999:
        raise InvalidValueError(f"number_words handles 0 to 9999, got {n}")
    if n < 10:
        return _UNITS[n]
    if n < 20:
        return _TEENS[n - 10]
    if n < 100:
        tens, unit = divmod(n, 10)
        return _TENS[tens] + (f"-{_UNITS[unit]}" if unit else "")
    big, rest, word = (n // 1000, n % 1000, "thousand") if n >= 1000 else (n // 100, n % 100, "hundred")
    head = f"{_UNITS[big]} {word}"
    if not rest:
        return head
    joiner = " and " if use_and and rest < 100 else " "
    return head + joiner + number_words(rest, use_and)


def year_words(year: int, style: int = 0) -> str:
    """A year as it is spoken; ``style`` picks among the usual ways (all read back as the same year).

    Example:
        >>> year_words(1994), year_words(2005), year_words(2005, 1), year_words(2012, 2)
        ('nineteen ninety-four', 'two thousand and five', 'two thousand five', 'twenty twelve')
    """
    century, rest = divmod(year, 100)
    if 11 <= century <= 19 and not (century == 19 and style == 3):
        if rest == 0:
            return f"{number_words(century)} hundred"
        if rest < 10:
            return f"{number_words(century)} oh {_UNITS[rest]}"
        return f"{number_words(century)} {number_words(rest)}"
    if century == 20 and rest >= 10 and style == 2:
        return f"twenty {number_words(rest)}"
    return number_words(year, use_and=style % 2 == 0)


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


class _Question:
    """One question's ground truth, arranged for making probes."""

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


def _wrong_year(rng: random.Random, q: _Question, truth: int) -> int | None:
    """A year near ``truth`` that the world gives nothing (so it is wrong, and no other work's)."""
    options = [y for y in range(max(1950, truth - 30), min(2024, truth + 30) + 1) if y not in q.years]
    return rng.choice(options) if options else None


def _made_up_person(rng: random.Random) -> str:
    return f"{rng.choice(UNKNOWN_FIRST_NAMES)} {rng.choice(UNKNOWN_SURNAMES)}"


def _made_up_title(rng: random.Random, q: _Question) -> str:
    """Half from the world's title words (a pair this question never uses), half from unknown words."""
    while True:
        if rng.random() < 0.5:
            title = f"{rng.choice(vocab.TITLE_FIRST_WORDS)} {rng.choice(vocab.TITLE_SECOND_WORDS)}"
        else:
            title = f"{rng.choice(UNKNOWN_TITLE_FIRST_WORDS)} {rng.choice(UNKNOWN_TITLE_SECOND_WORDS)}"
        if title.lower() not in q.entity_names:
            return title


# -- hedges, negations, vacuous sentences ------------------------------------------------------------------
_HEDGES: tuple[str, ...] = (
    "Reportedly, {s}",
    "It is believed that {s}",
    "According to the passages, {s}",
    "{S}, it seems.",
    "Apparently, {s}",
    "It is said that {s}",
    "It appears that {s}",
)
_DENIALS: tuple[str, ...] = ("It is not true that {s}", "It is not the case that {s}")
_VACUOUS: tuple[str, ...] = (
    "Nobody really knows who was behind {N}.",
    "There is a lot that could be said about {N}.",
    "{N} is something many people have talked about.",
    "Much has been written about {N} over the years.",
    "{N} is an interesting topic.",
    "People have different opinions about {N}.",
    "{N} has been discussed by many people.",
    "There are many things to know about {N}.",
    "{N} is a name that comes up often.",
    "It is hard to say much about {N}.",
    "Many people have asked about {N}.",
    "{N} remains a popular subject of conversation.",
)
# Past and present verbs of the world's phrasings, and their negated forms.
_DO_NEGATIONS: dict[str, tuple[str, ...]] = {
    "came": ("did not come", "didn't come", "never came"),
    "premiered": ("did not premiere", "didn't premiere", "never premiered"),
    "debuted": ("did not debut", "didn't debut"),
    "aired": ("did not air", "didn't air", "never aired"),
    "takes": ("does not take", "doesn't take"),
    "dates": ("does not date", "doesn't date"),
    "hangs": ("does not hang", "doesn't hang"),
}


def _negations(verb_phrase: str) -> list[str]:
    """Negated forms of one of the world's verb phrases ("was released in 1994" -> "wasn't released in
    1994", ...), or [] when it has none that reads well ("first aired in 1958")."""
    head, _, rest = verb_phrase.partition(" ")
    if head == "was":
        forms = [f"was not {rest}", f"wasn't {rest}"]
        return forms if rest.startswith("first") else [*forms, f"was never {rest}"]
    if head == "is":
        return [f"is not {rest}", f"isn't {rest}"]
    return [f"{negated} {rest}" for negated in _DO_NEGATIONS.get(head, ())]


# -- foreign languages and scripts --------------------------------------------------------------------------
_SETTING_KINDS = frozenset({"film", "novel", "TV series", "video game"})
_RECORDED_KINDS = frozenset({"album", "song"})
_FEMININE = {
    "fr": frozenset({"song", "TV series"}),
    "es": frozenset({"film", "song", "novel", "TV series"}),
    "it": frozenset({"song", "TV series"}),
    "ru": frozenset({"song", "video game", "painting"}),
    "ar": frozenset({"song", "novel", "video game", "painting"}),
}
_KIND_ORDER = ("film", "album", "song", "novel", "TV series", "video game", "painting")
# The subject phrase naming a work of each kind (in _KIND_ORDER), per language.
_SUBJECTS: dict[str, dict[str, str]] = {
    language: dict(zip(_KIND_ORDER, names.split("|"), strict=True))
    for language, names in {
        "de": "Der Film|Das Album|Das Lied|Der Roman|Die Fernsehserie|Das Videospiel|Das Gemälde",
        "fr": "Le film|L'album|La chanson|Le roman|La série télévisée|Le jeu vidéo|Le tableau",
        "es": "La película|El álbum|La canción|La novela|La serie de televisión|El videojuego|El cuadro",
        "it": "Il film|L'album|La canzone|Il romanzo|La serie televisiva|Il videogioco|Il dipinto",
        "nl": "De film|Het album|Het lied|De roman|De televisieserie|Het videospel|Het schilderij",
        "ru": "Фильм|Альбом|Песня|Роман|Телесериал|Видеоигра|Картина",
        "el": "Η ταινία|Το άλμπουμ|Το τραγούδι|Το μυθιστόρημα|Η τηλεοπτική σειρά|Το βιντεοπαιχνίδι|Ο πίνακας",
        "zh": "电影|专辑|歌曲|小说|电视剧|电子游戏|画作",
        "ja": "映画|アルバム|楽曲|小説|テレビシリーズ|ビデオゲーム|絵画",
        "ar": "الفيلم|الألبوم|الأغنية|الرواية|المسلسل التلفزيوني|لعبة الفيديو|اللوحة",
    }.items()
}
FOREIGN_LANGUAGES: tuple[str, ...] = ("de", "fr", "es", "it", "nl")
FOREIGN_SCRIPTS: tuple[str, ...] = ("ru", "el", "zh", "ja", "ar")


def _foreign_templates(language: str, kind: str, attribute: str) -> tuple[str, ...]:
    """Templates ({S} subject, {N} name, {v} value) saying ``attribute`` of a work of ``kind``.

    Names and years stay as they are; endings agree with the subject's gender where the language
    needs it. Empty when the language has no natural phrasing for it here.
    """
    fem = kind in _FEMININE.get(language, frozenset())
    painting, setting, recorded = kind == "painting", kind in _SETTING_KINDS, kind in _RECORDED_KINDS
    e, o = ("e", "a") if fem else ("", "o")
    if language == "de":
        return {
            YEAR: ("{S} {N} wurde {v} gemalt.", "{S} {N} entstand im Jahr {v}.")
            if painting
            else ("{S} {N} erschien im Jahr {v}.", "{S} {N} wurde {v} veröffentlicht."),
            CREATOR: ("{S} {N} stammt von {v}.", "{S} {N} wurde von {v} geschaffen."),
            PLACE: ("{S} {N} spielt in {v}.",)
            if setting
            else ("{S} {N} wurde in {v} aufgenommen.",)
            if recorded
            else ("{S} {N} wurde in {v} gemalt.",),
            ORGANIZATION: ("{S} {N} gehört zur Sammlung von {v}.",)
            if painting
            else ("{S} {N} wurde von {v} veröffentlicht.",),
        }[attribute]
    if language == "fr":
        return {
            YEAR: ("{S} {N} a été peint en {v}.", "{S} {N} date de {v}.")
            if painting
            else (f"{{S}} {{N}} est sorti{e} en {{v}}.", "{S} {N} date de {v}."),
            CREATOR: ("{S} {N} est l'œuvre de {v}.", f"{{S}} {{N}} a été créé{e} par {{v}}."),
            PLACE: ("{S} {N} se déroule à {v}.",)
            if setting
            else (f"{{S}} {{N}} a été enregistré{e} à {{v}}.",)
            if recorded
            else ("{S} {N} a été peint à {v}.",),
            ORGANIZATION: ("{S} {N} est conservé par {v}.",)
            if painting
            else (f"{{S}} {{N}} a été publié{e} par {{v}}.",),
        }[attribute]
    if language == "es":
        return {
            YEAR: ("{S} {N} es del año {v}.", f"{{S}} {{N}} fue publicad{o} en {{v}}.")
            if not painting
            else ("{S} {N} es del año {v}.", "{S} {N} fue pintado en {v}."),
            CREATOR: ("{S} {N} es obra de {v}.", f"{{S}} {{N}} fue cread{o} por {{v}}."),
            PLACE: (f"{{S}} {{N}} está ambientad{o} en {{v}}.", "{S} {N} transcurre en {v}.")
            if setting
            else (f"{{S}} {{N}} fue grabad{o} en {{v}}.",)
            if recorded
            else ("{S} {N} fue pintado en {v}.",),
            ORGANIZATION: ("{S} {N} pertenece a {v}.",) if painting else (f"{{S}} {{N}} fue publicad{o} por {{v}}.",),
        }[attribute]
    if language == "it":
        return {
            YEAR: ("{S} {N} è stato dipinto nel {v}.", "{S} {N} risale al {v}.")
            if painting
            else (f"{{S}} {{N}} è uscit{o} nel {{v}}.", "{S} {N} risale al {v}."),
            CREATOR: ("{S} {N} è opera di {v}.", f"{{S}} {{N}} è stat{o} realizzat{o} da {{v}}."),
            PLACE: (f"{{S}} {{N}} è ambientat{o} a {{v}}.",)
            if setting
            else (f"{{S}} {{N}} è stat{o} registrat{o} a {{v}}.",)
            if recorded
            else ("{S} {N} è stato dipinto a {v}.",),
            ORGANIZATION: ("{S} {N} appartiene alla collezione di {v}.",)
            if painting
            else (f"{{S}} {{N}} è stat{o} pubblicat{o} da {{v}}.",),
        }[attribute]
    if language == "nl":
        return {
            YEAR: ("{S} {N} werd in {v} geschilderd.", "{S} {N} dateert uit {v}.")
            if painting
            else ("{S} {N} verscheen in {v}.", "{S} {N} werd in {v} uitgebracht."),
            CREATOR: ("{S} {N} is gemaakt door {v}.", "{S} {N} is een werk van {v}."),
            PLACE: ("{S} {N} speelt zich af in {v}.",)
            if setting
            else ("{S} {N} werd opgenomen in {v}.",)
            if recorded
            else ("{S} {N} werd geschilderd in {v}.",),
            ORGANIZATION: ("{S} {N} behoort tot de collectie van {v}.",)
            if painting
            else ("{S} {N} werd uitgebracht door {v}.",),
        }[attribute]
    if language == "ru":
        was, ending = ("была", "а") if fem else ("был", "")
        return {
            YEAR: ("{S} {N} была написана в {v} году.",)
            if painting
            else (("{S} {N} вышла в {v} году.",) if fem else ("{S} {N} вышел в {v} году.",)),
            CREATOR: ("Автор произведения {N} — {v}.", "Создателем произведения {N} является {v}."),
            PLACE: ("Действие произведения {N} происходит в {v}.",)
            if setting
            else (f"{{S}} {{N}} {was} записан{ending} в {{v}}.",)
            if recorded
            else ("{S} {N} была написана в {v}.",),
            ORGANIZATION: ("{S} {N} хранится в собрании {v}.",)
            if painting
            else (f"{{S}} {{N}} {was} выпущен{ending} компанией {{v}}.",),
        }[attribute]
    if language == "el":
        return {
            YEAR: ("{S} {N} ζωγραφίστηκε το {v}.",) if painting else ("{S} {N} κυκλοφόρησε το {v}.",),
            CREATOR: ("{S} {N} δημιουργήθηκε από {v}.", "Δημιουργός του έργου {N} είναι {v}."),
            PLACE: ("Η υπόθεση του έργου {N} διαδραματίζεται στο {v}.",)
            if setting
            else ("{S} {N} ηχογραφήθηκε στο {v}.",)
            if recorded
            else ("{S} {N} ζωγραφίστηκε στο {v}.",),
            ORGANIZATION: ("{S} {N} ανήκει στη συλλογή του {v}.",)
            if painting
            else ("{S} {N} κυκλοφόρησε από την εταιρεία {v}.",),
        }[attribute]
    if language == "zh":
        year_verb = {"film": "上映", "novel": "出版", "TV series": "首播", "video game": "发售"}.get(kind, "发行")
        role = {"film": "导演", "song": "演唱者", "album": "艺人", "TV series": "创作者", "video game": "设计师"}.get(
            kind, "作者"
        )
        return {
            YEAR: ("{S}{N}创作于{v}年。",) if painting else (f"{{S}}{{N}}于{{v}}年{year_verb}。",),
            CREATOR: (f"{{S}}{{N}}的{role}是{{v}}。",),
            PLACE: ("{S}{N}的故事发生在{v}。",)
            if setting
            else ("{S}{N}在{v}录制。",)
            if recorded
            else ("{S}{N}在{v}创作。",),
            ORGANIZATION: ("{S}{N}由{v}收藏。",)
            if painting
            else (f"{{S}}{{N}}由{{v}}{'出版' if kind == 'novel' else '发行'}。",),
        }[attribute]
    if language == "ja":
        year_verb = {
            "film": "公開された",
            "novel": "出版された",
            "TV series": "放送が始まった",
            "painting": "描かれた",
        }.get(kind, "発売された")
        return {
            YEAR: (f"{{S}}「{{N}}」は{{v}}年に{year_verb}。",),
            CREATOR: ("{S}「{N}」は{v}の作品である。",),
            PLACE: ("{S}「{N}」の舞台は{v}である。",)
            if setting
            else ("{S}「{N}」は{v}で録音された。",)
            if recorded
            else ("{S}「{N}」は{v}で描かれた。",),
            ORGANIZATION: ("{S}「{N}」は{v}が所蔵している。",)
            if painting
            else (f"{{S}}「{{N}}」は{{v}}から{'出版' if kind == 'novel' else '発売'}された。",),
        }[attribute]
    if language == "ar":
        released = "صدرت" if fem else "صدر"
        recorded_verb = "سُجلت" if fem else "سُجل"
        return {
            YEAR: ("رُسمت {S} {N} عام {v}.",) if painting else (f"{released} {{S}} {{N}} عام {{v}}.",),
            CREATOR: ("{S} {N} من إبداع {v}.",),
            PLACE: ("تدور أحداث {S} {N} في {v}.",)
            if setting
            else (f"{recorded_verb} {{S}} {{N}} في {{v}}.",)
            if recorded
            else ("رُسمت {S} {N} في {v}.",),
            ORGANIZATION: ("تحتفظ {v} بـ{S} {N}.",) if painting else ("أصدرت شركة {v} {S} {N}.",),
        }[attribute]
    raise InvalidValueError(f"no templates for language {language!r}")


def _foreign(rng: random.Random, language: str, kind: str, attribute: str, name: str, value: str) -> str:
    template = rng.choice(_foreign_templates(language, kind, attribute))
    subject = _SUBJECTS[language][kind]
    return template.format(S=subject, N=name, v=value)


# -- generators, one per class -----------------------------------------------------------------------------
_Maker = Callable[[random.Random, _Question], list[IntegrityCase]]


def _case(
    q: _Question,
    cls: str,
    context: str,
    sentence: str,
    expect: Expect,
    inserted: tuple[str, ...] = (),
    note: str = "",
    about: tuple[str, str] | None = None,
) -> IntegrityCase:
    return IntegrityCase(cls, q.example, context, sentence, expect, inserted, note, about)


def _gold(rng: random.Random, q: _Question) -> list[IntegrityCase]:
    cases = []
    for sentences in q.references:
        for s in sentences:
            # A framing sentence states nothing; a claim sentence counts when it adds a required fact.
            gain: bool | None = False if s.framing else (True if s.new_required else None)
            cases.append(_case(q, "gold", s.context, s.text, Expect(completeness_gain=gain)))
    return cases


def _framing(rng: random.Random, q: _Question) -> list[IntegrityCase]:
    sentences = {s.text for ref in q.references for s in ref if s.framing}
    # The gold answers' own framing sentences, and two more of the world's openings for this name.
    others = sorted(q.openings - sentences)
    sentences |= set(rng.sample(others, min(2, len(others))))
    return [_case(q, "framing", "", s, Expect(completeness_gain=False)) for s in sorted(sentences)]


def _hedged_true(rng: random.Random, q: _Question) -> list[IntegrityCase]:
    cases = []
    for s in q.claim_sentences():
        if not s.new_required:
            continue
        hedge = rng.choice(_HEDGES)
        sentence = hedge.format(s=_lower_first(s.text), S=_without_period(s.text))
        cases.append(_case(q, "hedged-true", s.context, sentence, Expect(completeness_gain=True), note=hedge))
    return cases


def _number_words_true(rng: random.Random, q: _Question) -> list[IntegrityCase]:
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


def _wrong_years(rng: random.Random, q: _Question, cls: str, spell: Callable[[int], str]) -> list[IntegrityCase]:
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


def _wrong_value(rng: random.Random, q: _Question) -> list[IntegrityCase]:
    return _wrong_years(rng, q, "wrong-value", str)


def _number_words_false(rng: random.Random, q: _Question) -> list[IntegrityCase]:
    return _wrong_years(rng, q, "number-words-false", lambda year: year_words(year, rng.randrange(3)))


def _other_interpretation(rng: random.Random, q: _Question) -> list[IntegrityCase]:
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


def _unverifiable(rng: random.Random, q: _Question) -> list[IntegrityCase]:
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


def _distractor(rng: random.Random, q: _Question) -> list[IntegrityCase]:
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


def _repeat(rng: random.Random, q: _Question) -> list[IntegrityCase]:
    full = q.full_gold()
    expect = Expect(relevance=REDUNDANT, completeness_gain=False)
    # "It ..." would point at the last work named, not its own: only sentences that name their work.
    return [
        _case(q, "repeat", full, s.text, expect)
        for s in q.references[0]
        if s.claims and not s.framing and not _PRONOUN_START.match(s.text)
    ]


_CUT_WORDS = frozenset({"by", "the", "in"})


def _cut_off(rng: random.Random, q: _Question) -> list[IntegrityCase]:
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


def _shuffled(rng: random.Random, q: _Question) -> list[IntegrityCase]:
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


def _missing_answer(rng: random.Random, q: _Question) -> list[IntegrityCase]:
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


def _unknown_person(rng: random.Random, q: _Question) -> list[IntegrityCase]:
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


def _mixed_name(rng: random.Random, q: _Question) -> list[IntegrityCase]:
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


def _unknown_title(rng: random.Random, q: _Question) -> list[IntegrityCase]:
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


def _unknown_company(rng: random.Random, q: _Question) -> list[IntegrityCase]:
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


def _unknown_place(rng: random.Random, q: _Question) -> list[IntegrityCase]:
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


def _single_claim_sentences(rng: random.Random, q: _Question) -> list[tuple[str, str, str, tuple[str, str]]]:
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


def _negated_true(rng: random.Random, q: _Question) -> list[IntegrityCase]:
    cases = []
    # A false denial is wrong and earns nothing; whether it is also off topic is not what this tests.
    expect = Expect(factuality=WG, relevance=ANY, completeness_gain=False)
    for context, subject, verb_phrase, about in _single_claim_sentences(rng, q):
        forms = _negations(verb_phrase)
        if forms:
            negated = rng.choice(forms)
            cases.append(_case(q, "negated-true", context, f"{subject} {negated}.", expect, note=negated, about=about))
    return cases


def _denied_true(rng: random.Random, q: _Question) -> list[IntegrityCase]:
    cases = []
    expect = Expect(factuality=WG, relevance=ANY, completeness_gain=False)
    for context, subject, verb_phrase, about in _single_claim_sentences(rng, q):
        template = rng.choice(_DENIALS)
        sentence = template.format(s=_lower_first(f"{subject} {verb_phrase}."))
        cases.append(_case(q, "denied-true", context, sentence, expect, note=template, about=about))
    return cases


def _vacuous(rng: random.Random, q: _Question) -> list[IntegrityCase]:
    expect = Expect(relevance=IRRELEVANT, completeness_gain=False)
    return [
        _case(q, "vacuous", q.some_context(rng), template.format(N=q.name), expect)
        for template in rng.sample(_VACUOUS, 3)
    ]


def _question_restated(rng: random.Random, q: _Question) -> list[IntegrityCase]:
    question = q.example.question
    paraphrase = rng.choice(ph.QUESTIONS[q.world.question_attribute]).format(N=q.name)
    sentences = {question, f"The question is {question.rstrip('?').strip().lower()}.", paraphrase}
    expect = Expect(relevance=IRRELEVANT, completeness_gain=False)
    return [_case(q, "question-restated", q.some_context(rng), s, expect) for s in sorted(sentences)]


def _translated(cls: str, languages: tuple[str, ...]) -> _Maker:
    def make(rng: random.Random, q: _Question) -> list[IntegrityCase]:
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
        q = _Question(example)
        for cls in classes:
            rng = random.Random(f"fg_env-integrity/{seed}/{q.world.key}/{cls}")
            made = [c for c in _MAKERS[cls](rng, q) if _well_formed(c)]
            if cls not in _UNCAPPED and len(made) > _MAX_CASES:
                keep = sorted(rng.sample(range(len(made)), _MAX_CASES))
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


# -- checking ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Observed:
    factuality: tuple[str, ...]  # factuality errors on the probe's sentence(s)
    relevance: tuple[str | None, ...]  # each probe sub-sentence's relevance error(s), "+"-joined
    before: float  # completeness of the context alone
    after: float  # completeness of the whole answer
    missing: tuple[str, ...]
    context_changes: str  # how the context's own errors changed (empty: they did not)

    def describe(self) -> str:
        factuality = ",".join(self.factuality) or "None"
        relevance = ",".join(str(r) for r in self.relevance)
        text = f"factuality={factuality} relevance=[{relevance}] completeness {self.before:.3g} -> {self.after:.3g}"
        if self.missing:
            text += f" missing={','.join(sorted(set(self.missing)))}"
        return text + (f" context errors changed: {self.context_changes}" if self.context_changes else "")


def _observe(annotator: Annotator, case: IntegrityCase) -> _Observed:
    example, answer = case.example, case.answer
    feedback: Feedback = annotator.annotate(example, answer)
    start, end = case.probe_span
    factuality = tuple(
        sorted({e.error_type for e in feedback.errors if e.error_type in FACTUALITY_ERRORS and e.start >= start})
    )
    relevance = []
    for sentence in split_sentences(answer):
        if sentence.end <= start:
            continue
        for sub in split_sub_sentences(answer, sentence):
            labels = sorted(
                e.error_type
                for e in feedback.errors
                if e.error_type in RELEVANCE_ERRORS and e.start < sub.end and sub.start < e.end
            )
            relevance.append("+".join(labels) if labels else None)
    changes = ""
    if case.context and case.sentence:
        alone = {(e.error_type, e.start, e.end) for e in annotator.annotate(example, case.context).errors}
        within = {(e.error_type, e.start, e.end) for e in feedback.errors if e.start < len(case.context)}
        if alone != within:
            changes = f"alone {sorted(alone - within)}, with the probe {sorted(within - alone)}"
    before = annotator.completeness(example, case.context) if case.context and case.sentence else 0.0
    return _Observed(
        factuality=factuality,
        relevance=tuple(relevance),
        before=before,
        after=annotator.completeness(example, answer),
        missing=tuple(m.error_type for m in feedback.missing_info),
        context_changes=changes,
    )


def _problems(case: IntegrityCase, seen: _Observed) -> list[str]:
    expect, problems = case.expect, []
    if seen.context_changes:
        problems.append("the context's errors changed with the probe after it (prefix property)")
    if expect.factuality != ANY:
        wanted = (expect.factuality,) if expect.factuality else ()
        if seen.factuality != wanted:
            problems.append(f"factuality: expected {expect.factuality}, got {','.join(seen.factuality) or None}")
    if expect.relevance != ANY:
        wrong = [r for r in seen.relevance if r != expect.relevance]
        if wrong or not seen.relevance:
            problems.append(f"relevance: expected {expect.relevance} on every sub-sentence, got {list(seen.relevance)}")
    if expect.completeness_gain is not None:
        gained = seen.after > seen.before + 1e-9
        if gained != expect.completeness_gain:
            problems.append(
                f"completeness: expected {'a gain' if expect.completeness_gain else 'no gain'}, "
                f"got {seen.before:.3g} -> {seen.after:.3g}"
            )
    if expect.missing is not None and (expect.missing not in seen.missing or seen.after >= 1.0):
        problems.append(
            f"missing info: expected {expect.missing} and completeness < 1, got {sorted(set(seen.missing))}"
        )
    return problems


def check_case(annotator: Annotator, case: IntegrityCase) -> tuple[bool, str]:
    """Whether ``annotator`` gives the case its expected verdicts; the reason is "ok" or what differs.

    Example:
        >>> from fg_env.data.synthetic import SyntheticQA
        >>> example = SyntheticQA().split("test")[0]
        >>> wrong = IntegrityCase("demo", example, "", "Shattered Echo may refer to several works.",
        ...                       Expect(relevance="Irrelevant"))
        >>> check_case(Annotator(), wrong)
        (False, 'relevance: expected Irrelevant on every sub-sentence, got [None]')
    """
    problems = _problems(case, _observe(annotator, case))
    return (not problems, "; ".join(problems) or "ok")


@dataclass(frozen=True)
class Failure:
    """A case the annotator got wrong, for debugging: its class, text, expected and observed verdicts.

    Example:
        >>> Failure("vacuous", "X is an interesting topic.", "relevance=Irrelevant", "relevance=[None]", "...").cls
        'vacuous'
    """

    cls: str
    text: str  # the answer, the probe in [[ ]]
    expected: str
    got: str
    reason: str


class SuiteResult(dict[str, tuple[int, int]]):
    """``{class: (passed, total)}`` in :data:`CLASSES` order, with ``failures``: some failing cases per class.

    Example:
        >>> result = SuiteResult({"gold": (9, 10)})
        >>> result.rate("gold"), result.failures
        (0.9, [])
    """

    def __init__(self, counts: Mapping[str, tuple[int, int]] | None = None, failures: Sequence[Failure] = ()) -> None:
        super().__init__(counts or {})
        self.failures: list[Failure] = list(failures)

    def rate(self, cls: str) -> float:
        passed, total = self[cls]
        return passed / total if total else 1.0


def run_suite(annotator: Annotator, cases: Iterable[IntegrityCase], max_failures: int = 5) -> SuiteResult:
    """Check every case; per class, how many passed of how many, and up to ``max_failures`` failures.

    Example:
        >>> from fg_env.data.synthetic import SyntheticQA
        >>> cases = generate_cases(SyntheticQA().split("test")[:1], classes=["framing"])
        >>> result = run_suite(Annotator(), cases)
        >>> list(result), result.rate("framing")
        (['framing'], 1.0)
    """
    counts: dict[str, list[int]] = {}
    failures: dict[str, list[Failure]] = {}
    for case in cases:
        seen = _observe(annotator, case)
        problems = _problems(case, seen)
        count = counts.setdefault(case.cls, [0, 0])
        count[1] += 1
        if not problems:
            count[0] += 1
            continue
        kept = failures.setdefault(case.cls, [])
        if len(kept) < max_failures:
            text = f"{case.context} [[{case.sentence}]]" if case.context and case.sentence else f"[[{case.answer}]]"
            kept.append(Failure(case.cls, text, case.expect.describe(), seen.describe(), "; ".join(problems)))
    order = {cls: n for n, cls in enumerate(CLASSES)}
    ordered = sorted(counts.items(), key=lambda item: order.get(item[0], len(order)))
    return SuiteResult(
        {cls: (c[0], c[1]) for cls, c in ordered}, [f for cls, _ in ordered for f in failures.get(cls, [])]
    )


def format_table(result: SuiteResult) -> str:
    """A markdown table: class, cases, passed, pass rate (and the group of each class).

    Example:
        >>> print(format_table(SuiteResult({"gold": (10, 10), "vacuous": (1, 4)})))
        | class | group | cases | passed | pass rate |
        |---|---|---:|---:|---:|
        | gold | control | 10 | 10 | 100.0% |
        | vacuous | new | 4 | 1 | 25.0% |
    """
    group_of = {cls: group for group, classes in GROUPS.items() for cls in classes}
    lines = ["| class | group | cases | passed | pass rate |", "|---|---|---:|---:|---:|"]
    for cls, (passed, total) in result.items():
        lines.append(f"| {cls} | {group_of.get(cls, '')} | {total} | {passed} | {100 * result.rate(cls):.1f}% |")
    return "\n".join(lines)


def format_failures(result: SuiteResult, per_class: int = 5, width: int = 300) -> str:
    """Up to ``per_class`` failing cases of each class, for reading; long contexts are cut from the left."""
    lines: list[str] = []
    shown: dict[str, int] = {}
    for failure in result.failures:
        if shown.get(failure.cls, 0) >= per_class:
            continue
        if failure.cls not in shown:
            passed, total = result[failure.cls]
            lines.append(f"\n### {failure.cls} ({total - passed} of {total} failing)")
        shown[failure.cls] = shown.get(failure.cls, 0) + 1
        text = failure.text if len(failure.text) <= width else "..." + failure.text[-width:]
        lines += [f"- text:     {text}", f"  expected: {failure.expected}", f"  got:      {failure.got}"]
    return "\n".join(lines).lstrip("\n")


# -- the command ------------------------------------------------------------------------------------------
def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be an integer >= 0, got {value}")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The flags of ``fg-env integrity``."""
    from fg_env.command import positive_int
    from fg_env.data.synthetic.dataset import SPLITS

    parser.add_argument("--split", default="test", choices=SPLITS, help="the built-in world's split to probe")
    parser.add_argument(
        "--questions", type=positive_int, default=200, metavar="N", help="probe the first N questions of the split"
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the probes' random choices")
    parser.add_argument(
        "--show-failures", type=_count, default=0, metavar="N", help="print up to N failing cases of each class"
    )
    parser.add_argument(
        "--strict",
        action="store_true",
        help=f"exit with status 1 when any class passes less than {100 * PASS_THRESHOLD:g}%% of its cases",
    )


def run_command(args: argparse.Namespace) -> int:
    """Run ``fg-env integrity``: print the per-class table (and failures); 1 under ``--strict`` when a
    class passes below the threshold, else 0."""
    from fg_env.data.synthetic.dataset import SyntheticQA

    split = SyntheticQA().split(args.split)
    if args.questions > len(split):
        raise InvalidValueError(
            f"--questions must be at most {len(split)} for split {args.split!r}, got {args.questions}"
        )
    examples = [split[i] for i in range(args.questions)]
    cases = generate_cases(examples, seed=args.seed)
    result = run_suite(Annotator(), cases, max_failures=args.show_failures)
    print(f"Annotator integrity: {len(cases)} cases over {len(examples)} questions of {args.split} (seed {args.seed})")
    print()
    print(format_table(result))
    if args.show_failures and result.failures:
        print()
        print(format_failures(result, args.show_failures))
    below = [cls for cls in result if result.rate(cls) < PASS_THRESHOLD]
    return 1 if args.strict and below else 0


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m fg_env.data.synthetic.integrity``: the same as ``fg-env integrity``."""
    from fg_env.command import CommandParser, reported

    prog = "python -m fg_env.data.synthetic.integrity"
    parser = CommandParser(prog=prog, description=__doc__.split("\n")[0], arguments=add_arguments)
    return reported(prog, run_command)(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
