"""The built-in world's annotator: exact fine-grained feedback on any answer, as QA-Feedback writes it.

The annotator is a simulated human whose feedback is exact because it knows the world: it reads each
sentence of an answer (:mod:`fg_env.data.synthetic.reading`), turns what it reads into
:class:`Claim` records (this attribute of this referent has this value), and checks each claim against
the question's ground truth (``example.meta["world"]``, a
:class:`~fg_env.data.synthetic.facts.World`), giving it a :class:`Verdict`. Matching is by normalised
tokens and values, never by string equality with a gold answer: a paraphrase of a true fact is
supported, a true fact with a changed value is contradicted by the passages, a fact the passages do
not hold cannot be verified.

Error types (QA-Feedback's, in :mod:`fg_env.feedback.schema`), and the unit each is judged on:

* per **sub-sentence** (relevance, from each clause's :class:`Relevance`): ``Incoherent`` (a clause it
  cannot read: no words, mostly unknown words, a stuck loop, or cut off after "by", "the", ...),
  ``Redundant`` (every claim was already made earlier in the answer, or the same words were already
  said), ``Irrelevant`` (only claims that do not help answer: about other entities, or background
  attributes such as cast, length, reception, or denials; or words with no claim at all: "nobody
  really knows who made X", the question restated; only the framing "X may refer to several works"
  and a bare mention of a work are no error without a claim);
* per **sentence** (factuality): ``Wrong-Grounding`` (a claim the passages contradict: a wrong year,
  another interpretation's creator, a name they never use in a role they fill, a true fact denied) over
  ``Unverifiable`` (a claim the passages do not hold: an attribute they never state, an entity they
  never mention); a hedged claim ("reportedly, ...") is judged by what it claims;
* **missing information**: ``Missing-Answer``, ``Missing-Major-Auxiliary``, ``Missing-Minor-Auxiliary``
  for each required fact the answer does not state, pointing at the passage sentences that state it.

Claims bind to the work a sentence names ("the film Harlow Bridge", "the album", "it"); a bare
ambiguous name is read charitably, as the interpretation that makes most of the sentence's claims
true. A sentence with no work named continues the previous sentence's work.

**Prefix consistency.** A clause's relevance depends only on the text before it and its own words,
and a sentence's factuality only on the text up to its end, so annotating a prefix that ends at a
sentence (or sub-sentence) boundary gives exactly the errors of the whole answer inside that prefix.
The reward models rely on it: they see answers cut at the segment they score.

**Completeness** is the weighted share of required facts stated correctly (and not denied) anywhere
in the answer:
each interpretation's answer weighs 1, its major auxiliary fact 0.5, its minor auxiliary fact 0.25
(:data:`COMPLETENESS_WEIGHTS`).

**Version.** :data:`ANNOTATOR_VERSION` (also ``Annotator.VERSION``) names the rules that give these verdicts,
so a result records which annotator scored it and a resumed experiment refuses to mix two. *Any change to a
verdict on any text* (an error span, a label, a completeness value, a missing-information item) bumps it,
however small or however much of a fix it is; a change that leaves every verdict as it was (speed, caches,
refactoring) does not.

**Speed.** Sentence readings are cached by text, per-question matchers by world key, and the analysis
of every answer prefix that ends a sentence by (world key, text), so scoring the newest sentence of a
growing answer reads only that sentence.

Example:
    >>> from fg_env.data.synthetic import SyntheticQA
    >>> example = SyntheticQA().split("dev")[1]
    >>> annotator = Annotator()
    >>> gold = example.references[0]
    >>> annotator.annotate(example, gold).errors, annotator.completeness(example, gold)
    ((), 1.0)
    >>> wrong = "The song Glimmering Machines came out in 1954."
    >>> [(e.error_type, e.start, e.end) for e in annotator.annotate(example, wrong).errors]
    [('Wrong-Grounding', 0, 46)]
"""

from __future__ import annotations

import enum
import re
from bisect import bisect_left, bisect_right
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, ClassVar, NamedTuple

from fg_env.data.synthetic.facts import ANSWER, MAJOR, MINOR, MISSING_TYPE, Fact, World
from fg_env.data.synthetic.reading import KIND_SEPARATOR, NameRef, SentenceReading, ValueSlot, read_sentence
from fg_env.data.synthetic.vocab import (
    BIRTH_YEAR,
    CONTRIBUTOR,
    CORE_WORK_ATTRIBUTES,
    CREATOR,
    FOUNDED,
    LENGTH,
    ORGANIZATION_KIND,
    PERSON,
    WORK_KINDS,
    YEAR,
)
from fg_env.errors import InvalidTypeError, MissingWorldError
from fg_env.feedback.schema import ErrorSpan, Feedback, MissingInfo
from fg_env.text import split_sentences, split_sub_sentences
from fg_env.types import QAExample, Span

__all__ = [
    "ANNOTATOR_VERSION",
    "COMPLETENESS_WEIGHTS",
    "Annotator",
    "Claim",
    "JudgedClaim",
    "MissingWorldError",
    "Referent",
    "Relevance",
    "SentenceAnalysis",
    "Statement",
    "Verdict",
    "annotate",
    "world_of",
]

#: The version of the annotator's rules, ``YEAR.MONTH.N`` (calendar versioning: the month of the change, then
#: the change's number within that month, from 0). **Bump it with any change to a verdict on any text**: an
#: error span or label, a completeness value, a missing-information item, on any answer to any question, even
#: one that fixes a mistake. Results record it (``scored_by`` in every ``results.json``, the ``annotator`` of
#: a run's key) and a resumed experiment refuses to mix runs scored by two versions; a change that keeps every
#: verdict (speed, caching, refactoring) keeps it. History: 2026.12.0, the first recorded version, is the
#: annotator as of 2026-12-04 (89601a5, "a company named where a place belongs"); results written before it
#: record none. 2026.12.1 (issue 20) reads claims, not the world's templates: word salad by word orders
#: English never has, a clause's own work governs its values, fronted phrases, clefts, possessives, discourse
#: markers and the kind nouns English uses (CHANGELOG says for which text the rewards changed).
ANNOTATOR_VERSION = "2026.12.1"

COMPLETENESS_WEIGHTS: dict[str, float] = {ANSWER: 1.0, MAJOR: 0.5, MINOR: 0.25}

_NUMERIC_ATTRIBUTES = frozenset({YEAR, BIRTH_YEAR, FOUNDED})
_SENTENCE_END = re.compile(r"[.!?][\"'\u201d\u2019)\]]*(?=\s|$)")
_MAX_PREFIX_CACHE = 8192
_MAX_WORLD_CACHE = 2048
_MAX_PREFIX_PROBES = 16
_SCAN_BELOW = 16  # sentences: below this, segment look-ups scan the answer's sentences instead of bisecting
_MAX_CACHED_ANSWER = 4096  # longer answers' sentence-ending prefixes are not worth keeping


# -- verdicts ---------------------------------------------------------------------------------------
class Verdict(enum.Enum):
    """What the passages say of one claim; a sentence takes the worst verdict of its claims.

    Example:
        >>> Verdict.CONTRADICTED.error_type, Verdict.SUPPORTED.error_type
        ('Wrong-Grounding', None)
        >>> Verdict.worst([Verdict.SUPPORTED, Verdict.UNVERIFIABLE])
        <Verdict.UNVERIFIABLE: 'unverifiable'>
    """

    SUPPORTED = "supported"  # the passages state it (or the sentence makes no claim)
    CONTRADICTED = "contradicted"  # the passages state another value: Wrong-Grounding
    UNVERIFIABLE = "unverifiable"  # the passages do not say: Unverifiable

    # Members are singletons compared by identity; Enum's own __hash__ is Python code, which the
    # annotator's hot loops (verdicts as dict keys) would pay for on every lookup.
    __hash__ = object.__hash__

    @property
    def error_type(self) -> str | None:
        """QA-Feedback's factuality error for this verdict (None: no error)."""
        return _FACTUALITY_ERROR[self]

    @staticmethod
    def worst(verdicts: Sequence[Verdict]) -> Verdict:
        """Contradicted over unverifiable over supported."""
        if _CONTRADICTED in verdicts:
            return _CONTRADICTED
        if _UNVERIFIABLE in verdicts:
            return _UNVERIFIABLE
        return _SUPPORTED


# Hot loops compare against these module names (an enum attribute lookup costs ten times more).
_SUPPORTED, _CONTRADICTED, _UNVERIFIABLE = Verdict.SUPPORTED, Verdict.CONTRADICTED, Verdict.UNVERIFIABLE
_FACTUALITY_ERROR = {_SUPPORTED: None, _CONTRADICTED: "Wrong-Grounding", _UNVERIFIABLE: "Unverifiable"}


class Relevance(enum.Enum):
    """A clause's relevance verdict. A sub-sentence's error comes from its clauses' verdicts: Incoherent
    if any clause is, else none if any is relevant, else Redundant, else Irrelevant (:meth:`combine`).

    Example:
        >>> Relevance.combine([Relevance.NEUTRAL, Relevance.REDUNDANT])
        'Redundant'
        >>> Relevance.combine([Relevance.REDUNDANT, Relevance.RELEVANT]) is None
        True
    """

    NEUTRAL = "neutral"  # neither helps nor hurts: names a work without a claim, or only function words
    RELEVANT = "relevant"  # a new claim that helps answer
    REDUNDANT = "redundant"  # only claims (or words) the answer already made
    IRRELEVANT = "irrelevant"  # only claims or content that do not help answer
    INCOHERENT = "incoherent"  # cannot be read as English

    __hash__ = object.__hash__  # as for Verdict

    @property
    def error_type(self) -> str | None:
        """QA-Feedback's relevance error for a clause with this verdict alone (None: no error)."""
        return _RELEVANCE_ERROR.get(self)

    @staticmethod
    def combine(verdicts: Sequence[Relevance]) -> str | None:
        """The relevance error of a span made of clauses with these verdicts (None: no error)."""
        return _combine(verdicts)


_NEUTRAL, _RELEVANT, _REDUNDANT = Relevance.NEUTRAL, Relevance.RELEVANT, Relevance.REDUNDANT
_IRRELEVANT, _INCOHERENT = Relevance.IRRELEVANT, Relevance.INCOHERENT
_RELEVANCE_ERROR = {_REDUNDANT: "Redundant", _IRRELEVANT: "Irrelevant", _INCOHERENT: "Incoherent"}


def _combine(verdicts: Sequence[Relevance]) -> str | None:
    """A sub-sentence's relevance error from its clauses' verdicts (None: no error)."""
    if not verdicts:
        return None
    if _INCOHERENT in verdicts:
        return "Incoherent"
    if _RELEVANT in verdicts:
        return None
    if _REDUNDANT in verdicts:
        return "Redundant"
    if _IRRELEVANT in verdicts:
        return "Irrelevant"
    return None


# -- claims -----------------------------------------------------------------------------------------
class Referent(NamedTuple):
    """What a claim is about: one entity, candidate interpretations, or something the world lacks.

    ``entity`` is set when the reference resolves to one entity; else ``candidates`` lists the
    interpretations an ambiguous name may mean; else ``unknown`` says how the answer named something
    the world does not have ("the novel", "? Smith"). ``on_topic``: the question is about it.

    Example:
        >>> Referent(None, ("e1", "e5"), None, True).candidates
        ('e1', 'e5')
    """

    entity: str | None
    candidates: tuple[str, ...]
    unknown: str | None
    on_topic: bool


class Claim(NamedTuple):
    """One thing a sentence asserts: ``attribute`` of ``referent`` is ``value`` (in clause ``clause``),
    or, ``negated``, is not.

    ``attribute`` None is a person named with no role cue (creator or contributor, whichever is
    true). Claims with the same ``group`` share one referent (one work reference, person or company),
    so an ambiguous name is resolved once for all of them.

    Example:
        >>> Claim(0, Referent("e1", (), None, True), "year", 1994, 0).attribute
        'year'
    """

    clause: int
    referent: Referent
    attribute: str | None
    value: Hashable
    group: Hashable
    negated: bool = False


class Statement(NamedTuple):
    """What a resolved claim says, as the answer's memory of what it said (for Redundant).

    ``subject`` is an entity id, or the name of something the world lacks.

    Example:
        >>> Statement("e1", "year", 1994) == ("e1", "year", 1994)
        True
    """

    subject: str
    attribute: str | None
    value: Hashable


class JudgedClaim(NamedTuple):
    """A claim checked against the world: what it says, its verdict, whether it is on topic.

    ``entity`` is the entity it was read as being about (None for something the world lacks).

    Example:
        >>> j = JudgedClaim(0, Statement("e1", "year", 1994), Verdict.SUPPORTED, True, "e1")
        >>> j.verdict.error_type is None
        True
    """

    clause: int
    statement: Statement
    verdict: Verdict
    on_topic: bool
    entity: str | None


# Records made for every claim of every sentence are built with tuple.__new__, which skips the
# named tuples' Python-level __new__ (a third of the cost of making one).
_new = tuple.__new__


# -- the compiled ground truth of one question --------------------------------------------------------


def world_of(example: QAExample) -> World:
    """The ground truth of a built-in world example, or a clear error for any other example."""
    world = example.meta.get("world") if hasattr(example, "meta") else None
    if not isinstance(world, World):
        raise MissingWorldError(
            f"example {getattr(example, 'id', example)!r} has no built-in world ground truth in meta['world']: "
            "the annotator and the annotator-backed reward models (relevance, factuality, completeness) need "
            "the built-in world (dataset='synthetic'); for real data such as QA-Feedback, use learned reward "
            "models trained on its feedback (fg_env.rewards.learned)"
        )
    return world


def _value_key(attribute: str, value: str) -> Hashable:
    """A fact's value as the reader normalises it: years as ints, lengths as (number, unit), else lower case."""
    if attribute in _NUMERIC_ATTRIBUTES:
        return int(value)
    if attribute == LENGTH:
        number, unit = value.split(maxsplit=1)
        return (int(number), unit.lower())
    return value.lower()


class _Compiled:
    """Lookup tables for one question, built once per world key."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.name = world.name.lower()
        self.interpretations = tuple(i.entity for i in world.interpretations)
        self.interpretation_set = frozenset(self.interpretations)
        self.interpretation_by_kind = {i.kind: i.entity for i in world.interpretations}
        self.kind_of = {e.id: e.kind for e in world.entities}
        self.titles: dict[str, str] = {}
        self.works_by_kind: dict[str, list[str]] = {}
        self.persons: dict[str, str] = {}
        self.surnames: dict[str, str] = {}  # surname -> full name (lower)
        self.organizations: dict[str, str] = {}
        for entity in world.entities:
            lowered = entity.name.lower()
            if entity.kind == PERSON:
                self.persons[lowered] = entity.id
                self.surnames[lowered.split()[-1]] = lowered
            elif entity.kind == ORGANIZATION_KIND:
                self.organizations[lowered] = entity.id
            elif entity.kind in WORK_KINDS:
                if entity.id not in self.interpretation_set:
                    self.titles.setdefault(lowered, entity.id)
                    self.works_by_kind.setdefault(entity.kind, []).append(entity.id)
        self.facts: dict[tuple[str, str], Hashable] = {
            (f.entity, f.attribute): _value_key(f.attribute, f.value) for f in world.facts
        }
        self.required: tuple[Fact, ...] = tuple(f for f in world.facts if f.is_required)
        self.required_index = {(f.entity, f.attribute): i for i, f in enumerate(self.required)}
        self.total_weight = sum(COMPLETENESS_WEIGHTS[f.role] for f in self.required)


class _Denied(NamedTuple):
    """A value a claim denies ("was not directed by X"): true when the passages give another value,
    contradicted when they give this one."""

    value: Hashable


_DENIAL_VERDICT = {_SUPPORTED: _CONTRADICTED, _CONTRADICTED: _SUPPORTED, _UNVERIFIABLE: _UNVERIFIABLE}


def _check(compiled: _Compiled, entity: str, attribute: str | None, value: Hashable) -> tuple[Verdict, str | None]:
    """Check one claim about a known entity; return the verdict and the attribute it was read as."""
    if type(value) is _Denied:
        verdict, read_as = _check(compiled, entity, attribute, value.value)
        return _DENIAL_VERDICT[verdict], read_as
    facts = compiled.facts
    if attribute is None:  # a person with no cue: true if they hold either person role
        if facts.get((entity, CREATOR)) == value:
            return _SUPPORTED, CREATOR
        if facts.get((entity, CONTRIBUTOR)) == value:
            return _SUPPORTED, CONTRIBUTOR
        return _UNVERIFIABLE, None
    truth = facts.get((entity, attribute))
    if truth is None:
        return _UNVERIFIABLE, attribute
    if truth == value:
        return _SUPPORTED, attribute
    if attribute == LENGTH and truth[1] != value[1]:  # type: ignore[index]
        return _UNVERIFIABLE, attribute  # pages of a film: not a contradiction the passages can show
    return _CONTRADICTED, attribute


# -- what the answer established before a sentence ----------------------------------------------------
class _Memory:
    """What an answer has said, shared by the states after each of its sentences.

    ``first[item]`` is the number of the sentence that first said ``item``; the state after ``n``
    sentences sees the items with ``first < n``. Copying a set per sentence would make an answer of n
    sentences cost O(n^2); this way a sentence costs what it adds. States stay persistent (a cached
    prefix may be continued by several answers): continuing a state that is not the memory's latest
    forks a copy of what that state sees first (:func:`_remember_said`).
    """

    __slots__ = ("first", "length")

    def __init__(self, first: dict[Hashable, int] | None = None, length: int = 0) -> None:
        self.first: dict[Hashable, int] = first if first is not None else {}
        self.length = length  # sentences recorded


class _Seen:
    """What the answer said before a sentence (a memory as of ``n`` sentences) plus what the sentence
    has said so far: supports ``in``, ``add`` and ``update``, like the set it replaces."""

    __slots__ = ("memory", "n", "new")

    def __init__(self, memory: _Memory | None, n: int) -> None:
        self.memory, self.n = memory, n
        self.new: set[Hashable] = set()

    def __contains__(self, item: Hashable) -> bool:
        return item in self.new or (self.memory is not None and self.memory.first.get(item, self.n) < self.n)

    def add(self, item: Hashable) -> None:
        self.new.add(item)

    def update(self, items: Iterable[Hashable]) -> None:
        self.new.update(items)


def _remember_said(seen: _Seen) -> _Memory:
    """The memory of the answer after this sentence: ``seen``'s memory extended by its new items (or,
    when another continuation already extended that memory past this state, a fork of it)."""
    memory, n = seen.memory, seen.n
    if memory is None:
        memory = _Memory()
    elif memory.length != n:
        memory = _Memory({item: k for item, k in memory.first.items() if k < n}, n)
    for item in seen.new:
        memory.first.setdefault(item, n)
    memory.length = n + 1
    return memory


@dataclass(frozen=True)
class _State:
    """What the answer has established before a sentence: focus for pronouns, what was said."""

    work_focus: tuple[str, ...] | None = None  # one entity id, several candidates, or nothing yet
    person_focus: str | None = None  # full name, lower case
    organization_focus: str | None = None
    sentences: int = 0  # sentences of the answer so far
    stated: _Memory | None = None  # Statements made so far (as of `sentences`)
    signatures: _Memory | None = None  # clauses' normalised words, for exact repeats
    covered: frozenset = frozenset()  # indices of required facts stated correctly

    def said(self) -> frozenset:
        """The statements made so far, as a set (for reading; the annotator asks its memory)."""
        if self.stated is None:
            return frozenset()
        return frozenset(item for item, k in self.stated.first.items() if k < self.sentences)


_INITIAL_STATE = _State()


@dataclass(frozen=True)
class SentenceAnalysis:
    """The annotator's verdicts on one sentence of an answer (offsets into the answer).

    ``clause_verdicts`` are the relevance of each clause (``clause_spans``), ``verdict`` the worst of
    the sentence's claims; ``state`` is what the answer has established after this sentence.

    Example:
        >>> from fg_env.data.synthetic import SyntheticQA
        >>> example = SyntheticQA().split("dev")[1]
        >>> (first, second) = Annotator().analyse(example, "It was a sunny day. The song Glimmering Machines came out in 1954.")
        >>> first.clause_verdicts, second.verdict, second.factuality
        ((<Relevance.IRRELEVANT: 'irrelevant'>,), <Verdict.CONTRADICTED: 'contradicted'>, 'Wrong-Grounding')
    """

    start: int
    end: int
    clause_spans: tuple[tuple[int, int], ...]
    clause_verdicts: tuple[Relevance, ...]
    verdict: Verdict
    state: _State  # after this sentence

    @property
    def factuality(self) -> str | None:
        """The sentence's factuality error: "Wrong-Grounding", "Unverifiable" or None."""
        return _FACTUALITY_ERROR[self.verdict]


# -- one sentence's claims, resolved and judged -------------------------------------------------------
class _Resolver:
    """Resolves one sentence's references and names against the world, given the answer so far."""

    def __init__(self, compiled: _Compiled, reading: SentenceReading, state: _State) -> None:
        self.c, self.state = compiled, state
        self.focus_target = self._focus_target(state.work_focus)
        targets: list[Referent] = []
        focus = state.work_focus
        for ref in reading.work_references:
            target = self._resolve_reference(ref.title, ref.kind, ref.pronoun, focus)
            targets.append(target)
            focus = (target.entity,) if target.entity else (target.candidates or focus)
        self.ref_targets = targets

    # -- references to works -------------------------------------------------------------------------
    def _focus_target(self, focus: tuple[str, ...] | None) -> Referent:
        if not focus:
            return Referent(None, self.c.interpretations, None, True)
        if len(focus) == 1:
            return self._entity_target(focus[0])
        return Referent(None, focus, None, True)

    def _entity_target(self, entity: str) -> Referent:
        return Referent(entity, (), None, entity in self.c.interpretation_set)

    def _resolve_reference(
        self, title: str | None, kind: str | None, pronoun: bool, focus: tuple[str, ...] | None
    ) -> Referent:
        """The work a reference points at: "it" the current work, a title (maybe with its kind), or
        a kind alone ("the album": the interpretation, or the one other work of that kind). A noun that
        may name several kinds ("the picture": a film or a painting) points at any work of those kinds,
        read charitably like an ambiguous title."""
        c = self.c
        if pronoun:
            return self._focus_target(focus)
        kinds = kind.split(KIND_SEPARATOR) if kind is not None else []
        entities = tuple(c.interpretation_by_kind[k] for k in kinds if k in c.interpretation_by_kind)
        if title is not None:
            if title == c.name:
                if kind is None:
                    return Referent(None, c.interpretations, None, True)
                if len(entities) == 1:
                    return self._entity_target(entities[0])
                return (
                    Referent(None, entities, None, True) if entities else Referent(None, (), f"{title} ({kind})", True)
                )
            entity = c.titles.get(title)
            return self._entity_target(entity) if entity else Referent(None, (), title, False)
        if focus and len(focus) == 1 and c.kind_of.get(focus[0]) in kinds:
            if len(kinds) == 1:
                return self._entity_target(focus[0])
            # "the picture" after the film: the film, unless the painting makes the claim true
            entities = (focus[0], *(e for e in entities if e != focus[0]))
        if len(entities) == 1:
            return self._entity_target(entities[0])
        if entities:
            return Referent(None, entities, None, True)
        others = tuple(e for k in kinds for e in c.works_by_kind.get(k, ()))
        if len(others) == 1:
            return self._entity_target(others[0])
        return Referent(None, (), f"the {kind}", True)

    # -- people ----------------------------------------------------------------------------------------
    def person_name(self, value: NameRef | None) -> str:
        """The full name (lower case) a person mention stands for; unknown names keep a "?" mark."""
        if value is None:
            return self.state.person_focus or "? someone"
        kind, name = value
        if kind == "PERSON":
            return str(name)
        if kind == "SURNAME":
            return self.c.surnames.get(str(name), f"? {name}")
        return self.person_name(name)  # type: ignore[arg-type]  # a pronoun: its antecedent

    # -- claims ------------------------------------------------------------------------------------------
    def claims(
        self, reading: SentenceReading, sentence_level: bool, clauses: frozenset[int] | None = None
    ) -> list[Claim]:
        """The claims of the sentence's readable clauses (only of ``clauses``, when given), read up to each
        clause's end or as a whole."""
        out = []
        incoherent = reading.clause_incoherent
        for slot in reading.slots:
            if incoherent[slot.clause] or (clauses is not None and slot.clause not in clauses):
                continue  # what cannot be read makes no claim
            if slot.subject != "work":
                out.append(self._person_claim(slot) if slot.subject == "person" else self._organization_claim(slot))
                continue
            # A work's value (most claims, so made here rather than in a helper).
            ref = slot.ref_sentence if sentence_level else slot.ref_clause
            if ref is None:
                continue  # not a claim at this level of reading
            target = self.focus_target if ref < 0 else self.ref_targets[ref]
            attribute = slot.attribute_sentence if sentence_level else slot.attribute_clause
            value = slot.value
            if isinstance(value, NameRef):
                value = self.person_name(value)
            out.append(_new(Claim, (slot.clause, target, attribute, value, ref, slot.negated)))
        return out

    def _person_claim(self, slot: ValueSlot) -> Claim:
        name = self.person_name(slot.subject_name)
        entity = self.c.persons.get(name)
        target = Referent(entity, (), None if entity else name, False)
        return Claim(slot.clause, target, slot.attribute_sentence, slot.value, ("person", name), slot.negated)

    def _organization_claim(self, slot: ValueSlot) -> Claim:
        name = slot.subject_name.value if slot.subject_name else self.state.organization_focus
        entity = self.c.organizations.get(name) if name else None  # type: ignore[arg-type]
        target = Referent(entity, (), None if entity else (name or "? some company"), False)  # type: ignore[arg-type]
        return Claim(slot.clause, target, slot.attribute_sentence, slot.value, ("organization", name), slot.negated)

    # -- judging -----------------------------------------------------------------------------------------
    def judge(self, claims: list[Claim], jointly: bool) -> tuple[list[JudgedClaim], dict[Hashable, str]]:
        """Check claims against the world. An ambiguous name resolves to the interpretation that makes
        the most claims of its group true (``jointly``) or, claim by claim, to any that makes it true.

        Also returns, by group, the interpretation chosen for the groups where it made a claim true.
        """
        c = self.c
        chosen, resolved = self._choose_interpretations(claims) if jointly else (None, {})
        judged: list[JudgedClaim] = []
        for clause, target, attribute, value, group, negated in claims:
            if negated:
                value = _Denied(value)
            if target.unknown is not None:
                statement = _new(Statement, (target.unknown, attribute, value))
                judged.append(_new(JudgedClaim, (clause, statement, _UNVERIFIABLE, target.on_topic, None)))
                continue
            if target.entity is not None:
                entity = target.entity
                verdict, read_as = _check(c, entity, attribute, value)
            elif chosen is not None:
                entity = chosen[group]
                verdict, read_as = _check(c, entity, attribute, value)
            else:
                entity, verdict, read_as = self._charitable_reading(target.candidates, attribute, value)
            statement = _new(Statement, (entity, read_as or PERSON, value))
            if negated:  # a denial helps answer nothing and states no required fact
                judged.append(_new(JudgedClaim, (clause, statement, verdict, False, None)))
                continue
            on_topic = entity in c.interpretation_set and (read_as is None or read_as in CORE_WORK_ATTRIBUTES)
            judged.append(_new(JudgedClaim, (clause, statement, verdict, on_topic, entity)))
        return judged, resolved

    def _choose_interpretations(self, claims: list[Claim]) -> tuple[dict[Hashable, str], dict[Hashable, str]]:
        """For each group of claims about an ambiguous name, the candidate that makes the most of them
        true (the fewest contradicted on a tie, the first on a full tie); and the groups whose choice
        made at least one claim true."""
        c = self.c
        groups: dict[Hashable, list[Claim]] = {}
        for claim in claims:
            if claim.referent.candidates:
                groups.setdefault(claim.group, []).append(claim)
        chosen: dict[Hashable, str] = {}
        resolved: dict[Hashable, str] = {}
        for group, members in groups.items():
            candidates = members[0].referent.candidates
            best, best_score = candidates[0], None
            for candidate in candidates:
                verdicts = [
                    _check(c, candidate, m.attribute, _Denied(m.value) if m.negated else m.value)[0] for m in members
                ]
                score = (verdicts.count(_SUPPORTED), -verdicts.count(_CONTRADICTED))
                if best_score is None or score > best_score:
                    best, best_score = candidate, score
            chosen[group] = best
            if best_score and best_score[0] > 0:
                resolved[group] = best
        return chosen, resolved

    def _charitable_reading(
        self, candidates: tuple[str, ...], attribute: str | None, value: Hashable
    ) -> tuple[str, Verdict, str | None]:
        """The first candidate that makes the claim true; the first candidate when none does."""
        entity = candidates[0]
        verdict, read_as = _check(self.c, entity, attribute, value)
        if verdict is not _SUPPORTED:
            for candidate in candidates[1:]:
                v, a = _check(self.c, candidate, attribute, value)
                if v is _SUPPORTED:
                    return candidate, v, a
        return entity, verdict, read_as


# -- one sentence, step by step -----------------------------------------------------------------------
def _relevance(
    reading: SentenceReading, clause: int, own: Sequence[JudgedClaim], said: _Seen, signatures: _Seen
) -> Relevance:
    """A clause's relevance verdict from its own claims and what the answer said before it."""
    if reading.clause_incoherent[clause]:
        return _INCOHERENT
    if own:
        if any(j.on_topic and j.statement not in said for j in own):
            return _RELEVANT
        if any(j.statement in said for j in own):
            return _REDUNDANT
        return _IRRELEVANT
    signature = reading.clause_signatures[clause]
    if signature is not None and signature in signatures:
        return _REDUNDANT
    if reading.clause_frames[clause]:
        return _NEUTRAL  # names a work, or frames the answer, with nothing else said
    return _IRRELEVANT  # says something, but nothing that answers, identifies or disambiguates


def _deferred_clauses(reading: SentenceReading) -> set[int]:
    """Clauses whose values wait for the rest of their sentence ("In 1962, X created the show Y."):
    the clause ends in a comma or semicolon, and each of its values belongs to no work it names. Read
    alone, "In 1962," would claim the current work's year; it is the next clause that says whose. Such
    a clause is neutral for relevance (its sentence's other clauses decide), and its claims are judged
    for factuality with the whole sentence. Decided from the clause's own words, so prefixes agree."""
    text = reading.text
    candidates: dict[int, bool] = {}
    for slot in reading.slots:
        waits = slot.subject == "work" and slot.ref_clause == -1
        candidates[slot.clause] = candidates.get(slot.clause, True) and waits
    return {
        clause for clause, waits in candidates.items() if waits and text[reading.clause_spans[clause][1] - 1] in ",;"
    }


def _clause_relevance(reading: SentenceReading, resolver: _Resolver, said: _Seen, signatures: _Seen) -> list[Relevance]:
    """Each clause's relevance, in order; adds each clause's statements and words to ``said`` and
    ``signatures`` as it goes (a clause is judged against the answer before it, never after)."""
    # The clause-level reading: a claim's referent and attribute from the words up to its clause's
    # end only, so that cutting the answer after a clause gives that clause the same verdict.
    judged, _ = resolver.judge(resolver.claims(reading, sentence_level=False), jointly=False)
    by_clause: dict[int, list[JudgedClaim]] = {}
    for j in judged:
        by_clause.setdefault(j.clause, []).append(j)
    verdicts = []
    deferred = _deferred_clauses(reading)
    if deferred:
        # "In 1994, the film was released.": the clause a deferred phrase waits for makes its claims, when
        # that clause names the work they are about (so its verdict still needs no words after it).
        references = reading.work_references
        waiting = [
            claim
            for claim in resolver.claims(reading, sentence_level=True, clauses=frozenset(deferred))
            if isinstance(claim.group, int) and claim.group >= 0 and references[claim.group].clause == claim.clause + 1
        ]
        for j in resolver.judge(waiting, jointly=False)[0]:
            by_clause.setdefault(j.clause + 1, []).append(j)
    for clause, signature in enumerate(reading.clause_signatures):
        own = by_clause.get(clause, ())
        if clause in deferred and not reading.clause_incoherent[clause]:
            verdicts.append(_NEUTRAL)
            own = ()  # read alone its values are the current work's; the clause they wait for says whose
        else:
            verdicts.append(_relevance(reading, clause, own, said, signatures))
        said.update(j.statement for j in own)
        if signature is not None:
            signatures.add(signature)
    return verdicts


def _factuality_and_coverage(
    compiled: _Compiled, judged: list[JudgedClaim], covered: frozenset
) -> tuple[Verdict, frozenset]:
    """The sentence's verdict (the worst of its claims'), and ``covered`` plus the required facts
    that its supported claims state."""
    verdict = _SUPPORTED
    new = []
    for j in judged:
        if j.verdict is _CONTRADICTED:
            verdict = _CONTRADICTED
        elif j.verdict is _UNVERIFIABLE:
            if verdict is _SUPPORTED:
                verdict = _UNVERIFIABLE
        elif j.entity is not None:
            index = compiled.required_index.get((j.entity, j.statement.attribute))  # type: ignore[arg-type]
            if index is not None and index not in covered:
                new.append(index)
    return verdict, (covered.union(new) if new else covered)


def _work_focus_after(
    reading: SentenceReading, resolver: _Resolver, resolved: dict[Hashable, str], focus: tuple[str, ...] | None
) -> tuple[str, ...] | None:
    """The work "it" means in the next sentence: this sentence's last work reference, as resolved."""
    if reading.work_references:
        last = len(reading.work_references) - 1
        target = resolver.ref_targets[last]
        if target.entity is not None:
            return (target.entity,)
        if last in resolved:
            return (resolved[last],)
        if target.candidates:
            return target.candidates
        return focus
    if -1 in resolved:  # claims about the current work resolved an ambiguous focus
        return (resolved[-1],)
    return focus


def _name_focus_after(reading: SentenceReading, resolver: _Resolver, state: _State) -> tuple[str | None, str | None]:
    """The person "he"/"she" and the company a bare cue mean next: the last of each the sentence names."""
    person_focus, organization_focus = state.person_focus, state.organization_focus
    for m in reading.mentions:
        if m.type == "PERSON" or m.type == "SURNAME":
            person_focus = resolver.person_name(_new(NameRef, (m.type, m.value)))
        elif m.type == "ORG":
            organization_focus = str(m.value)
    return person_focus, organization_focus


def _analyse_sentence(compiled: _Compiled, text: str, start: int, state: _State) -> SentenceAnalysis:
    """The verdicts on one sentence (at ``start`` in the answer), given the answer's state before it."""
    reading = read_sentence(text)
    resolver = _Resolver(compiled, reading, state)
    said, signatures = _Seen(state.stated, state.sentences), _Seen(state.signatures, state.sentences)
    relevance = _clause_relevance(reading, resolver, said, signatures)

    # Factuality and what the sentence establishes come from the whole-sentence reading.
    judged, resolved = resolver.judge(resolver.claims(reading, sentence_level=True), jointly=True)
    said.update(j.statement for j in judged)
    verdict, covered = _factuality_and_coverage(compiled, judged, state.covered)
    person_focus, organization_focus = _name_focus_after(reading, resolver, state)
    new_state = _State(
        work_focus=_work_focus_after(reading, resolver, resolved, state.work_focus),
        person_focus=person_focus,
        organization_focus=organization_focus,
        sentences=state.sentences + 1,
        stated=_remember_said(said),
        signatures=_remember_said(signatures),
        covered=covered,
    )
    return SentenceAnalysis(
        start=start,
        end=start + len(text),
        clause_spans=tuple((start + a, start + b) for a, b in reading.clause_spans),
        clause_verdicts=tuple(relevance),
        verdict=verdict,
        state=new_state,
    )


# -- whole answers --------------------------------------------------------------------------------------
def _overlapping(analyses: Sequence[SentenceAnalysis], start: int, end: int) -> Sequence[SentenceAnalysis]:
    """The sentences overlapping [start, end). The analyses are in order and do not overlap, so a
    binary search finds the first: looking a segment up stays logarithmic in the answer's length."""
    if len(analyses) <= _SCAN_BELOW:  # the usual answer: a scan is cheaper than a keyed bisect
        return [s for s in analyses if s.start < end and start < s.end]
    first = bisect_right(analyses, start, key=_sentence_end)
    last = first
    while last < len(analyses) and analyses[last].start < end:
        last += 1
    return analyses[first:last]


def _sentence_end(sentence: SentenceAnalysis) -> int:
    return sentence.end


def _sentence_at(analyses: tuple[SentenceAnalysis, ...], offset: int) -> SentenceAnalysis | None:
    """The sentence with ``start < offset <= end``, by binary search; None when none holds it."""
    index = bisect_left(analyses, offset, key=_sentence_end)
    if index < len(analyses) and analyses[index].start < offset:
        return analyses[index]
    return None


def _clause_end(span: tuple[int, int]) -> int:
    return span[1]


def _ends_a_clause(analyses: tuple[SentenceAnalysis, ...], offset: int) -> bool:
    sentence = _sentence_at(analyses, offset)
    if sentence is None:
        return False
    # Clauses are sorted and disjoint: a binary search, not a scan (a sentence may have thousands of them).
    spans = sentence.clause_spans
    k = bisect_left(spans, offset, key=_clause_end)
    return k < len(spans) and spans[k][1] == offset


def _clause_verdicts_in(sentence: SentenceAnalysis, start: int, end: int) -> list[Relevance]:
    """The verdicts of the sentence's clauses that overlap [start, end), found by binary search."""
    spans, verdicts = sentence.clause_spans, sentence.clause_verdicts
    k = bisect_right(spans, start, key=_clause_end)
    found = []
    while k < len(spans) and spans[k][0] < end:
        found.append(verdicts[k])
        k += 1
    return found


def _ends_a_sentence(analyses: tuple[SentenceAnalysis, ...], offset: int) -> bool:
    sentence = _sentence_at(analyses, offset)
    return sentence is not None and sentence.end == offset


@lru_cache(maxsize=32768)
def _sub_sentence_spans(sentence: str) -> tuple[tuple[int, int], ...]:
    """The paper's sub-sentences of one sentence, relative to it (they depend on its words only)."""
    return tuple((s.start, s.end) for s in split_sub_sentences(sentence))


def _factuality_in(analyses: Sequence[SentenceAnalysis], segment: Span) -> str | None:
    """The factuality error of the sentence(s) overlapping ``segment`` (None: no error)."""
    return _FACTUALITY_ERROR[Verdict.worst([s.verdict for s in _overlapping(analyses, segment.start, segment.end)])]


def _relevance_in(analyses: Sequence[SentenceAnalysis], start: int, end: int) -> str | None:
    """The relevance error of the clauses overlapping [start, end) (None: no error)."""
    return _combine(
        [v for sentence in _overlapping(analyses, start, end) for v in _clause_verdicts_in(sentence, start, end)]
    )


def _error_spans(answer: str, analyses: Sequence[SentenceAnalysis]) -> tuple[ErrorSpan, ...]:
    """Each sentence's factuality error, and each of its sub-sentences' relevance error, in order."""
    errors: list[ErrorSpan] = []
    for sentence in analyses:
        factuality = _FACTUALITY_ERROR[sentence.verdict]
        if factuality is not None:
            errors.append(ErrorSpan(factuality, sentence.start, sentence.end))
        for a, b in _sub_sentence_spans(answer[sentence.start : sentence.end]):
            start, end = sentence.start + a, sentence.start + b
            label = _combine(_clause_verdicts_in(sentence, start, end))
            if label is not None:
                errors.append(ErrorSpan(label, start, end))
    errors.sort(key=lambda e: (e.start, e.end, e.error_type))
    return tuple(errors)


def _missing_info(compiled: _Compiled, covered: frozenset) -> tuple[MissingInfo, ...]:
    """A missing-info record for each required fact not covered, pointing at its first passage."""
    missing = []
    for index, fact in enumerate(compiled.required):
        if index in covered:
            continue
        passage_id = fact.locations[0].passage_id
        sentence_ids = tuple(loc.sentence_id for loc in fact.locations if loc.passage_id == passage_id)
        missing.append(MissingInfo(MISSING_TYPE[fact.role], passage_id, sentence_ids))
    return tuple(missing)


def _covered(analyses: Sequence[SentenceAnalysis]) -> frozenset:
    return analyses[-1].state.covered if analyses else frozenset()


def _last_sentence_ends(answer: str, count: int) -> list[int]:
    """The last ``count`` sentence ends of ``answer`` before its end, found by searching a tail of it
    that grows until it holds enough: linear in the tail, not in the answer (a match can only start at
    a sentence-ending character, so a search that starts mid-answer finds exactly the answer's own)."""
    window = 512
    while True:
        start = max(0, len(answer) - window)
        ends = [m.end() for m in _SENTENCE_END.finditer(answer, start) if m.end() < len(answer)]
        if len(ends) >= count or start == 0:
            return ends[-count:]
        window *= 4


class Annotator:
    """Exact fine-grained feedback on answers to the built-in world's questions (see the module docstring).

    ``Annotator.VERSION`` is :data:`ANNOTATOR_VERSION`: the rules these verdicts come from.

    Example:
        >>> from fg_env.data.synthetic import SyntheticQA
        >>> example = SyntheticQA().split("dev")[1]
        >>> feedback = Annotator().annotate(example, "It was a sunny day. The song Glimmering Machines came out in 1963.")
        >>> [(e.error_type, e.start, e.end) for e in feedback.errors]
        [('Irrelevant', 0, 19)]
        >>> sorted({m.error_type for m in feedback.missing_info})
        ['Missing-Answer', 'Missing-Major-Auxiliary', 'Missing-Minor-Auxiliary']
    """

    #: The version of the rules (:data:`ANNOTATOR_VERSION`); results record it to say what scored them.
    VERSION: ClassVar[str] = ANNOTATOR_VERSION

    def __init__(self) -> None:
        self._compiled: OrderedDict[str, _Compiled] = OrderedDict()
        self._prefixes: OrderedDict[tuple[str, str], tuple[SentenceAnalysis, ...]] = OrderedDict()

    # -- public API ------------------------------------------------------------------------------
    def annotate(self, example: QAExample, answer: str) -> Feedback:
        """QA-Feedback-style feedback on ``answer``: error spans (character offsets) and missing info."""
        compiled = self._compile(example)
        analyses = self.analyse(example, answer)
        return Feedback(errors=_error_spans(answer, analyses), missing_info=_missing_info(compiled, _covered(analyses)))

    def completeness(self, example: QAExample, answer: str) -> float:
        """Weighted share of required facts stated correctly: answers 1, major 0.5, minor 0.25 each."""
        compiled = self._compile(example)
        analyses = self.analyse(example, answer)
        if not analyses or compiled.total_weight == 0:
            return 0.0
        weight = sum(COMPLETENESS_WEIGHTS[compiled.required[i].role] for i in _covered(analyses))
        return weight / compiled.total_weight

    def most_important_missing(self, example: QAExample, answer: str) -> str | None:
        """The most important kind of required information ``answer`` lacks (Missing-Answer first), or None."""
        compiled = self._compile(example)
        covered = _covered(self.analyse(example, answer))
        roles = {f.role for i, f in enumerate(compiled.required) if i not in covered}
        for role in (ANSWER, MAJOR, MINOR):
            if role in roles:
                return MISSING_TYPE[role]
        return None

    def relevance_of_segment(self, example: QAExample, answer: str, segment: Span) -> str | None:
        """The relevance error of ``answer[segment]`` (any span made of whole clauses), or None."""
        return _relevance_in(self.analyse(example, answer), segment.start, segment.end)

    def relevance_of_segments(self, items: Sequence[tuple[QAExample, str, Span]]) -> list[str | None]:
        """:meth:`relevance_of_segment` for many (example, answer, segment) at once.

        The sub-sentences of one new sentence arrive as answers that are prefixes of one another; by
        prefix consistency the longest one's analysis holds the verdicts of the shorter ones, so it is
        read once (when a shorter answer ends exactly at one of its clause ends).
        """
        analyses = self._batched_analyses(items, _ends_a_clause)
        return [_relevance_in(a, segment.start, segment.end) for a, (_, _, segment) in zip(analyses, items)]

    def factuality_of_segment(self, example: QAExample, answer: str, segment: Span) -> str | None:
        """The factuality error of the sentence(s) overlapping ``segment``, or None."""
        return _factuality_in(self.analyse(example, answer), segment)

    def factuality_of_segments(self, items: Sequence[tuple[QAExample, str, Span]]) -> list[str | None]:
        """:meth:`factuality_of_segment` for many (example, answer, segment) at once: answers that end a
        sentence of a longer answer in the batch are read from its analysis (prefix consistency), so
        an action of n sentences is analysed once, not n times.
        """
        analyses = self._batched_analyses(items, _ends_a_sentence)
        return [_factuality_in(a, segment) for a, (_, _, segment) in zip(analyses, items)]

    def _batched_analyses(
        self,
        items: Sequence[tuple[QAExample, str, Span]],
        reusable: Callable[[tuple[SentenceAnalysis, ...], int], bool],
    ) -> list[tuple[SentenceAnalysis, ...]]:
        """An analysis for each item's answer; longest answers first, and a shorter answer that is a
        prefix of an analysed one ending where ``reusable(analysis, len(answer))`` allows reads that
        one's analysis (the verdicts of a prefix are the same in the longer answer)."""
        if len(items) == 1:  # one new sentence per step: nothing to share
            example, answer, _ = items[0]
            return [self.analyse(example, answer)]
        results: list[tuple[SentenceAnalysis, ...]] = [()] * len(items)
        analysed: dict[str, list[tuple[str, tuple[SentenceAnalysis, ...]]]] = {}
        for i in sorted(range(len(items)), key=lambda i: -len(items[i][1])):
            example, answer, _ = items[i]
            key = self._compile(example).world.key
            found = None
            for text, candidate in analysed.get(key, ()):
                if text.startswith(answer) and reusable(candidate, len(answer)):
                    found = candidate
                    break
            if found is None:
                found = self.analyse(example, answer)
                analysed.setdefault(key, []).append((answer, found))
            results[i] = found
        return results

    def analyse(self, example: QAExample, answer: str) -> tuple[SentenceAnalysis, ...]:
        """Per-sentence verdicts on ``answer``, reusing the analysis of its longest analysed prefix."""
        if not isinstance(answer, str):
            raise InvalidTypeError(f"an answer must be a string, not {type(answer).__name__}")
        compiled = self._compile(example)
        key = compiled.world.key
        cached = self._prefixes.get((key, answer))
        if cached is not None:
            self._prefixes.move_to_end((key, answer))
            return cached
        done, offset = self._longest_analysed_prefix(key, answer)
        state = done[-1].state if done else _INITIAL_STATE
        analyses = list(done)
        for span in split_sentences(answer[offset:]):
            start, end = offset + span.start, offset + span.end
            sentence = _analyse_sentence(compiled, answer[start:end], start, state)
            analyses.append(sentence)
            state = sentence.state
            if end < len(answer) and len(answer) <= _MAX_CACHED_ANSWER:
                self._remember((key, answer[:end]), tuple(analyses))
        result = tuple(analyses)
        self._remember((key, answer), result)
        return result

    # -- internals -------------------------------------------------------------------------------
    def _longest_analysed_prefix(self, key: str, answer: str) -> tuple[tuple[SentenceAnalysis, ...], int]:
        """The analysis of the longest prefix of ``answer`` that ends a sentence and was analysed
        before (a growing answer's previous step), and where it ends; ((), 0) when there is none."""
        for end in reversed(_last_sentence_ends(answer, _MAX_PREFIX_PROBES)):  # a hit is nearly always the last
            hit = self._prefixes.get((key, answer[:end]))
            if hit is not None:
                return hit, end
        return (), 0

    def _remember(self, key: tuple[str, str], value: tuple[SentenceAnalysis, ...]) -> None:
        self._prefixes[key] = value
        if len(self._prefixes) > _MAX_PREFIX_CACHE:
            self._prefixes.popitem(last=False)

    def _compile(self, example: QAExample) -> _Compiled:
        world = world_of(example)
        compiled = self._compiled.get(world.key)
        if compiled is None:  # world keys are unique (seed, split, index), so the key alone identifies it
            compiled = self._compiled[world.key] = _Compiled(world)
            if len(self._compiled) > _MAX_WORLD_CACHE:
                self._compiled.popitem(last=False)
        return compiled

    def __repr__(self) -> str:
        return "Annotator()"


def annotate(example: QAExample, answer: str, annotator: Annotator | None = None) -> dict[str, Any]:
    """QA-Feedback JSON (``{"errors": [...], "missing-info": [...], ...}``) for one answer."""
    return (annotator or Annotator()).annotate(example, answer).to_dict()
