"""The built-in world's annotator: exact fine-grained feedback on any answer, as QA-Feedback writes it.

The annotator is a simulated human whose feedback is exact because it knows the world: it reads each
sentence of an answer (:mod:`fg_env.data.synthetic.reading`), turns what it reads into claims
(entity, attribute, value), and checks each claim against the question's ground truth
(``example.meta["world"]``, a :class:`~fg_env.data.synthetic.facts.World`). Matching is by normalised
tokens and values, never by string equality with a gold answer: a paraphrase of a true fact is
correct, a true fact with a changed value contradicts the passages, a fact the passages do not hold
cannot be verified.

Error types (QA-Feedback's), and the unit each is judged on:

* per **sub-sentence** (relevance): ``Incoherent`` (a clause it cannot read: no words, mostly unknown
  words, a stuck loop, or cut off after "by", "the", ...), ``Redundant`` (every claim was already made
  earlier in the answer, or the same words were already said), ``Irrelevant`` (only claims that do not
  help answer: about other entities, or background attributes such as cast, length, reception; or
  content that names nothing of the question);
* per **sentence** (factuality): ``Wrong-Grounding`` (a claim the passages contradict: a wrong year,
  another interpretation's creator) over ``Unverifiable`` (a claim the passages do not hold: an
  attribute they never state, an entity they never mention);
* **missing information**: ``Missing-Answer``, ``Missing-Major-Auxiliary``, ``Missing-Minor-Auxiliary``
  for each required fact the answer does not state, pointing at the passage sentences that state it.

Claims bind to the work a sentence names ("the film Harlow Bridge", "the album", "it"); a bare
ambiguous name is read charitably, as the interpretation that makes most of the sentence's claims
true. A sentence with no work named continues the previous sentence's work.

**Prefix consistency.** A clause's relevance depends only on the text before it and its own words,
and a sentence's factuality only on the text up to its end, so annotating a prefix that ends at a
sentence (or sub-sentence) boundary gives exactly the errors of the whole answer inside that prefix.
The reward models rely on it: they see answers cut at the segment they score.

**Completeness** is the weighted share of required facts stated correctly anywhere in the answer:
each interpretation's answer weighs 1, its major auxiliary fact 0.5, its minor auxiliary fact 0.25
(:data:`COMPLETENESS_WEIGHTS`).

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

import re
from collections import OrderedDict
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Hashable, NamedTuple, Sequence

from fg_env.data.synthetic.facts import ANSWER, MAJOR, MINOR, MISSING_TYPE, World
from fg_env.data.synthetic.reading import SentenceReading, read_sentence
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
from fg_env.feedback.schema import ErrorSpan, Feedback, MissingInfo
from fg_env.text import split_sentences, split_sub_sentences
from fg_env.types import QAExample, Span

COMPLETENESS_WEIGHTS: dict[str, float] = {ANSWER: 1.0, MAJOR: 0.5, MINOR: 0.25}

# Relevance verdicts of a clause, in the order a sub-sentence's verdict is chosen from its clauses.
NEUTRAL, RELEVANT, REDUNDANT, IRRELEVANT, INCOHERENT = 0, 1, 2, 3, 4
_RELEVANCE_LABEL = {REDUNDANT: "Redundant", IRRELEVANT: "Irrelevant", INCOHERENT: "Incoherent"}
OK, WRONG, UNVERIFIABLE = "ok", "Wrong-Grounding", "Unverifiable"

_NUMERIC_ATTRIBUTES = frozenset({YEAR, BIRTH_YEAR, FOUNDED})
_SENTENCE_END = re.compile(r"[.!?][\"'\u201d\u2019)\]]*(?=\s|$)")
_MAX_PREFIX_CACHE = 8192
_MAX_WORLD_CACHE = 2048
_MAX_PREFIX_PROBES = 16


class MissingWorldError(ValueError):
    """An example without the built-in world's ground truth was given to the annotator."""


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


# -- the compiled ground truth of one question --------------------------------------------------------
def _value_key(attribute: str, value: str) -> Hashable:
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
        self.required = tuple(f for f in world.facts if f.is_required)
        self.required_index = {(f.entity, f.attribute): i for i, f in enumerate(self.required)}
        self.total_weight = sum(COMPLETENESS_WEIGHTS[f.role] for f in self.required)


# -- claims -----------------------------------------------------------------------------------------
class _Target(NamedTuple):
    """What a claim is about: one entity, candidate interpretations, or something the world lacks."""

    entity: str | None
    candidates: tuple[str, ...]
    unknown: str | None
    on_topic: bool


class _Judged(NamedTuple):
    clause: int
    key: tuple
    verdict: str
    on_topic: bool
    entity: str | None


@dataclass(frozen=True)
class _State:
    """What the answer has established before a sentence: focus for pronouns, what was said."""

    work_focus: tuple[str, ...] | None = None  # one entity id, several candidates, or nothing yet
    person_focus: str | None = None  # full name, lower case
    organization_focus: str | None = None
    stated: frozenset = frozenset()
    signatures: frozenset = frozenset()
    covered: frozenset = frozenset()


@dataclass(frozen=True)
class SentenceAnalysis:
    """The annotator's verdicts on one sentence of an answer (offsets into the answer)."""

    start: int
    end: int
    clause_spans: tuple[tuple[int, int], ...]
    clause_verdicts: tuple[int, ...]
    factuality: str | None  # "Wrong-Grounding", "Unverifiable" or None
    state: _State  # after this sentence


def _verdict(compiled: _Compiled, entity: str, attribute: str | None, value: Hashable) -> tuple[str, str | None]:
    """Check one claim about a known entity; return the verdict and the attribute it was read as."""
    facts = compiled.facts
    if attribute is None:  # a person with no cue: true if they hold either person role
        if facts.get((entity, CREATOR)) == value:
            return OK, CREATOR
        if facts.get((entity, CONTRIBUTOR)) == value:
            return OK, CONTRIBUTOR
        return UNVERIFIABLE, None
    truth = facts.get((entity, attribute))
    if truth is None:
        return UNVERIFIABLE, attribute
    if truth == value:
        return OK, attribute
    if attribute == LENGTH and truth[1] != value[1]:  # type: ignore[index]
        return UNVERIFIABLE, attribute  # pages of a film: not a contradiction the passages can show
    return WRONG, attribute


class _Resolver:
    """Resolves one sentence's references and names against the world, given the answer so far."""

    def __init__(self, compiled: _Compiled, reading: SentenceReading, state: _State) -> None:
        self.c, self.state = compiled, state
        self.focus_target = self._focus_target(state.work_focus)
        targets: list[_Target] = []
        focus = state.work_focus
        for ref in reading.work_references:
            target = self._resolve_reference(ref.title, ref.kind, ref.pronoun, focus)
            targets.append(target)
            focus = (target.entity,) if target.entity else (target.candidates or focus)
        self.ref_targets = targets

    def _focus_target(self, focus: tuple[str, ...] | None) -> _Target:
        if not focus:
            return _Target(None, self.c.interpretations, None, True)
        if len(focus) == 1:
            return self._entity_target(focus[0])
        return _Target(None, focus, None, True)

    def _entity_target(self, entity: str) -> _Target:
        return _Target(entity, (), None, entity in self.c.interpretation_set)

    def _resolve_reference(self, title: str | None, kind: str | None, pronoun: bool, focus) -> _Target:
        c = self.c
        if pronoun:
            return self._focus_target(focus)
        if title is not None:
            if title == c.name:
                if kind is None:
                    return _Target(None, c.interpretations, None, True)
                entity = c.interpretation_by_kind.get(kind)
                return self._entity_target(entity) if entity else _Target(None, (), f"{title} ({kind})", True)
            entity = c.titles.get(title)
            return self._entity_target(entity) if entity else _Target(None, (), title, False)
        if focus and len(focus) == 1 and c.kind_of.get(focus[0]) == kind:
            return self._entity_target(focus[0])
        entity = c.interpretation_by_kind.get(kind)  # type: ignore[arg-type]
        if entity:
            return self._entity_target(entity)
        others = c.works_by_kind.get(kind, ())  # type: ignore[arg-type]
        if len(others) == 1:
            return self._entity_target(others[0])
        return _Target(None, (), f"the {kind}", True)

    def person_name(self, value: tuple[str, object] | None) -> str:
        """The full name (lower case) a person mention stands for; unknown names keep a "?" mark."""
        if value is None:
            return self.state.person_focus or "? someone"
        kind, name = value
        if kind == "PERSON":
            return str(name)
        if kind == "SURNAME":
            return self.c.surnames.get(str(name), f"? {name}")
        return self.person_name(name)  # type: ignore[arg-type]  # a pronoun: its antecedent

    def claims(self, reading: SentenceReading, sentence_level: bool) -> list[tuple[int, _Target, str | None, Hashable, Hashable]]:
        """(clause, target, attribute, value, group) for each claim; a group shares one referent."""
        out = []
        incoherent = reading.clause_incoherent
        for slot in reading.slots:
            if incoherent[slot.clause]:
                continue  # what cannot be read makes no claim
            if slot.subject == "work":
                ref = slot.ref_sentence if sentence_level else slot.ref_clause
                if ref is None:
                    continue
                target = self.focus_target if ref < 0 else self.ref_targets[ref]
                attribute = slot.attribute_sentence if sentence_level else slot.attribute_clause
                value = slot.value
                if isinstance(value, tuple) and attribute not in (LENGTH,):
                    value = self.person_name(value)  # type: ignore[arg-type]
                out.append((slot.clause, target, attribute, value, ref))
            elif slot.subject == "person":
                name = self.person_name(slot.subject_name)
                entity = self.c.persons.get(name)
                target = _Target(entity, (), None if entity else name, False)
                out.append((slot.clause, target, slot.attribute_sentence, slot.value, ("person", name)))
            else:
                name = slot.subject_name[1] if slot.subject_name else self.state.organization_focus
                entity = self.c.organizations.get(name) if name else None
                target = _Target(entity, (), None if entity else (name or "? some company"), False)
                out.append((slot.clause, target, slot.attribute_sentence, slot.value, ("organization", name)))
        return out

    def judge(self, claims, jointly: bool) -> tuple[list[_Judged], dict[Hashable, str]]:
        """Check claims against the world. An ambiguous name resolves to the interpretation that makes
        the most claims of its group true (``jointly``) or, claim by claim, to any that makes it true."""
        c = self.c
        chosen: dict[Hashable, str] = {}  # the candidate each group's claims are checked against
        resolved: dict[Hashable, str] = {}  # the groups whose candidate made at least one claim true
        if jointly:
            groups: dict[Hashable, list] = {}
            for claim in claims:
                if claim[1].candidates:
                    groups.setdefault(claim[4], []).append(claim)
            for group, members in groups.items():
                best, best_score = members[0][1].candidates[0], None
                for candidate in members[0][1].candidates:
                    verdicts = [_verdict(c, candidate, m[2], m[3])[0] for m in members]
                    score = (verdicts.count(OK), -verdicts.count(WRONG))
                    if best_score is None or score > best_score:
                        best, best_score = candidate, score
                chosen[group] = best
                if best_score and best_score[0] > 0:
                    resolved[group] = best
        judged: list[_Judged] = []
        interpretations = c.interpretation_set
        for clause, target, attribute, value, group in claims:
            if target.unknown is not None:
                judged.append(_Judged(clause, (target.unknown, attribute, value), UNVERIFIABLE, target.on_topic, None))
                continue
            if target.entity is not None:
                entity = target.entity
                verdict, read_as = _verdict(c, entity, attribute, value)
            elif jointly:
                entity = chosen[group]
                verdict, read_as = _verdict(c, entity, attribute, value)
            else:
                entity = target.candidates[0]
                verdict, read_as = _verdict(c, entity, attribute, value)
                if verdict != OK:
                    for candidate in target.candidates[1:]:
                        v, a = _verdict(c, candidate, attribute, value)
                        if v == OK:
                            entity, verdict, read_as = candidate, v, a
                            break
            on_topic = entity in interpretations and (read_as is None or read_as in CORE_WORK_ATTRIBUTES)
            judged.append(_Judged(clause, (entity, read_as or PERSON, value), verdict, on_topic, entity))
        return judged, resolved


def _relevance(reading: SentenceReading, clause: int, own, said: set, signatures: set) -> int:
    """A clause's relevance verdict from its own claims and what the answer said before it."""
    if reading.clause_incoherent[clause]:
        return INCOHERENT
    if own:
        if any(j.on_topic and j.key not in said for j in own):
            return RELEVANT
        if any(j.key in said for j in own):
            return REDUNDANT
        return IRRELEVANT
    signature = reading.clause_signatures[clause]
    if signature is not None and signature in signatures:
        return REDUNDANT
    if reading.clause_mentions_work[clause] or not reading.clause_has_content[clause]:
        return NEUTRAL
    return IRRELEVANT


def _analyse_sentence(compiled: _Compiled, text: str, start: int, state: _State) -> SentenceAnalysis:
    reading = read_sentence(text)
    resolver = _Resolver(compiled, reading, state)

    # Relevance, clause by clause, from the clause-level reading (no look-ahead past a clause).
    clause_judged, _ = resolver.judge(resolver.claims(reading, sentence_level=False), jointly=False)
    said = set(state.stated)
    signatures = set(state.signatures)
    verdicts = []
    by_clause: dict[int, list[_Judged]] = {}
    for j in clause_judged:
        by_clause.setdefault(j.clause, []).append(j)
    for clause, signature in enumerate(reading.clause_signatures):
        own = by_clause.get(clause, ())
        verdicts.append(_relevance(reading, clause, own, said, signatures))
        said.update(j.key for j in own)
        if signature is not None:
            signatures.add(signature)

    # Factuality and what the sentence establishes, from the sentence-level reading.
    sentence_claims = resolver.claims(reading, sentence_level=True)
    judged, resolved = resolver.judge(sentence_claims, jointly=True)
    factuality = None
    covered = state.covered
    new_covered = []
    for j in judged:
        said.add(j.key)
        if j.verdict == WRONG:
            factuality = WRONG
        elif j.verdict == UNVERIFIABLE:
            factuality = factuality or UNVERIFIABLE
        elif j.entity is not None:
            index = compiled.required_index.get((j.entity, j.key[1]))
            if index is not None and index not in covered:
                new_covered.append(index)
    if new_covered:
        covered = covered.union(new_covered)

    work_focus = state.work_focus
    if reading.work_references:
        last = len(reading.work_references) - 1
        target = resolver.ref_targets[last]
        if target.entity is not None:
            work_focus = (target.entity,)
        elif last in resolved:
            work_focus = (resolved[last],)
        elif target.candidates:
            work_focus = target.candidates
    elif -1 in resolved:
        work_focus = (resolved[-1],)
    person_focus = state.person_focus
    organization_focus = state.organization_focus
    for m in reading.mentions:
        if m.type == "PERSON" or m.type == "SURNAME":
            person_focus = resolver.person_name((m.type, m.value))
        elif m.type == "ORG":
            organization_focus = str(m.value)

    new_state = _State(
        work_focus=work_focus,
        person_focus=person_focus,
        organization_focus=organization_focus,
        stated=frozenset(said),
        signatures=frozenset(signatures),
        covered=covered,
    )
    return SentenceAnalysis(
        start=start,
        end=start + len(text),
        clause_spans=tuple((start + a, start + b) for a, b in reading.clause_spans),
        clause_verdicts=tuple(verdicts),
        factuality=factuality,
        state=new_state,
    )


def _combine(verdicts: list[int]) -> str | None:
    """A sub-sentence's relevance error from its clauses' verdicts (None: no error)."""
    if not verdicts:
        return None
    if INCOHERENT in verdicts:
        return "Incoherent"
    if RELEVANT in verdicts:
        return None
    if REDUNDANT in verdicts:
        return "Redundant"
    if IRRELEVANT in verdicts:
        return "Irrelevant"
    return None


_INITIAL_STATE = _State()


def _ends_a_clause(analyses: tuple[SentenceAnalysis, ...], offset: int) -> bool:
    for sentence in analyses:
        if sentence.start < offset <= sentence.end:
            return any(b == offset for _, b in sentence.clause_spans)
    return False


@lru_cache(maxsize=32768)
def _sub_sentence_spans(sentence: str) -> tuple[tuple[int, int], ...]:
    """The paper's sub-sentences of one sentence, relative to it (they depend on its words only)."""
    return tuple((s.start, s.end) for s in split_sub_sentences(sentence))


class Annotator:
    """Exact fine-grained feedback on answers to the built-in world's questions (see the module docstring).

    Example:
        >>> from fg_env.data.synthetic import SyntheticQA
        >>> example = SyntheticQA().split("dev")[1]
        >>> feedback = Annotator().annotate(example, "It was a sunny day. The song Glimmering Machines came out in 1963.")
        >>> [(e.error_type, e.start, e.end) for e in feedback.errors]
        [('Irrelevant', 0, 19)]
        >>> sorted({m.error_type for m in feedback.missing_info})
        ['Missing-Answer', 'Missing-Major-Auxiliary', 'Missing-Minor-Auxiliary']
    """

    def __init__(self) -> None:
        self._compiled: OrderedDict[str, _Compiled] = OrderedDict()
        self._prefixes: OrderedDict[tuple[str, str], tuple[SentenceAnalysis, ...]] = OrderedDict()

    # -- public API ------------------------------------------------------------------------------
    def annotate(self, example: QAExample, answer: str) -> Feedback:
        """QA-Feedback-style feedback on ``answer``: error spans (character offsets) and missing info."""
        compiled = self._compile(example)
        analyses = self.analyse(example, answer)
        errors: list[ErrorSpan] = []
        for sentence in analyses:
            if sentence.factuality is not None:
                errors.append(ErrorSpan(sentence.factuality, sentence.start, sentence.end))
            for a, b in _sub_sentence_spans(answer[sentence.start : sentence.end]):
                label = self._relevance_of(sentence, sentence.start + a, sentence.start + b)
                if label is not None:
                    errors.append(ErrorSpan(label, sentence.start + a, sentence.start + b))
        errors.sort(key=lambda e: (e.start, e.end, e.error_type))
        covered = analyses[-1].state.covered if analyses else frozenset()
        missing = []
        for index, fact in enumerate(compiled.required):
            if index in covered:
                continue
            passage_id = fact.locations[0].passage_id
            sentence_ids = tuple(loc.sentence_id for loc in fact.locations if loc.passage_id == passage_id)
            missing.append(MissingInfo(MISSING_TYPE[fact.role], passage_id, sentence_ids))
        return Feedback(errors=tuple(errors), missing_info=tuple(missing))

    def completeness(self, example: QAExample, answer: str) -> float:
        """Weighted share of required facts stated correctly: answers 1, major 0.5, minor 0.25 each."""
        compiled = self._compile(example)
        analyses = self.analyse(example, answer)
        if not analyses or compiled.total_weight == 0:
            return 0.0
        covered = analyses[-1].state.covered
        weight = sum(COMPLETENESS_WEIGHTS[compiled.required[i].role] for i in covered)
        return weight / compiled.total_weight

    def most_important_missing(self, example: QAExample, answer: str) -> str | None:
        """The most important kind of required information ``answer`` lacks (Missing-Answer first), or None."""
        compiled = self._compile(example)
        analyses = self.analyse(example, answer)
        covered = analyses[-1].state.covered if analyses else frozenset()
        roles = {f.role for i, f in enumerate(compiled.required) if i not in covered}
        for role in (ANSWER, MAJOR, MINOR):
            if role in roles:
                return MISSING_TYPE[role]
        return None

    def relevance_of_segment(self, example: QAExample, answer: str, segment: Span) -> str | None:
        """The relevance error of ``answer[segment]`` (any span made of whole clauses), or None."""
        verdicts = [
            v
            for sentence in self.analyse(example, answer)
            for (a, b), v in zip(sentence.clause_spans, sentence.clause_verdicts)
            if a < segment.end and segment.start < b
        ]
        return _combine(verdicts)

    def relevance_of_segments(self, items: Sequence[tuple[QAExample, str, Span]]) -> list[str | None]:
        """:meth:`relevance_of_segment` for many (example, answer, segment) at once.

        The sub-sentences of one new sentence arrive as answers that are prefixes of one another; by
        prefix consistency the longest one's analysis holds the verdicts of the shorter ones, so it is
        read once (when a shorter answer ends exactly at one of its clause ends).
        """
        results: list[str | None] = [None] * len(items)
        analysed: dict[str, list[tuple[str, tuple[SentenceAnalysis, ...]]]] = {}
        for i in sorted(range(len(items)), key=lambda i: -len(items[i][1])):
            example, answer, segment = items[i]
            key = self._compile(example).world.key
            analyses = None
            for text, candidate in analysed.get(key, ()):
                if text.startswith(answer) and _ends_a_clause(candidate, len(answer)):
                    analyses = candidate
                    break
            if analyses is None:
                analyses = self.analyse(example, answer)
                analysed.setdefault(key, []).append((answer, analyses))
            results[i] = _combine(
                [
                    v
                    for sentence in analyses
                    if sentence.start < segment.end and segment.start < sentence.end
                    for (a, b), v in zip(sentence.clause_spans, sentence.clause_verdicts)
                    if a < segment.end and segment.start < b
                ]
            )
        return results

    def factuality_of_segment(self, example: QAExample, answer: str, segment: Span) -> str | None:
        """The factuality error of the sentence(s) overlapping ``segment``, or None."""
        labels = {
            s.factuality
            for s in self.analyse(example, answer)
            if s.start < segment.end and segment.start < s.end and s.factuality
        }
        return WRONG if WRONG in labels else UNVERIFIABLE if UNVERIFIABLE in labels else None

    def analyse(self, example: QAExample, answer: str) -> tuple[SentenceAnalysis, ...]:
        """Per-sentence verdicts on ``answer``, reusing the analysis of its longest analysed prefix."""
        if not isinstance(answer, str):
            raise TypeError(f"an answer must be a string, not {type(answer).__name__}")
        compiled = self._compile(example)
        key = compiled.world.key
        cached = self._prefixes.get((key, answer))
        if cached is not None:
            self._prefixes.move_to_end((key, answer))
            return cached
        # The longest prefix ending a sentence that was analysed before (a growing answer's last step).
        done: tuple[SentenceAnalysis, ...] = ()
        offset = 0
        ends = [m.end() for m in _SENTENCE_END.finditer(answer) if m.end() < len(answer)]
        for end in reversed(ends[-_MAX_PREFIX_PROBES:]):  # a hit is nearly always the last sentence end
            hit = self._prefixes.get((key, answer[:end]))
            if hit is not None:
                done, offset = hit, end
                break
        state = done[-1].state if done else _INITIAL_STATE
        analyses = list(done)
        rest = answer[offset:]
        for span_start, span_end in ((sp.start, sp.end) for sp in split_sentences(rest)):
            start, end = offset + span_start, offset + span_end
            sentence = _analyse_sentence(compiled, answer[start:end], start, state)
            analyses.append(sentence)
            state = sentence.state
            if end < len(answer) and len(answer) <= 4096:
                self._remember((key, answer[:end]), tuple(analyses))
        result = tuple(analyses)
        self._remember((key, answer), result)
        return result

    # -- internals -------------------------------------------------------------------------------
    @staticmethod
    def _relevance_of(sentence: SentenceAnalysis, start: int, end: int) -> str | None:
        return _combine(
            [v for (a, b), v in zip(sentence.clause_spans, sentence.clause_verdicts) if a < end and start < b]
        )

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
