"""The fair group: correct rewordings of one gold sentence, which must keep the gold answer's credit.

The adversarial classes check that the annotator penalises bad text; these check that it does not
penalise good text worded unlike the world's templates (issue 20). Each case takes a gold answer,
rewords one of its sentences (two, for a merge) in a family's phrasing with the question's real
facts, and keeps the rest of the gold answer around it. A careful annotator gives the reworded
sentence no error (relevance and factuality +1) and the answer the gold answer's completeness, which
is computed from the world's required facts the answer states (:func:`expected_completeness`).

Families (:data:`~.cases.FAIR_FAMILIES`; phrasings in :data:`~.phrasings.FAIR_PHRASINGS`): active and
passive ``voice``; clause and phrase ``order`` (fronted phrases, clefts); ``apposition`` and relative
clauses; ``possessive``; ``coordination``, sentences merged or split; ``reference`` (pronouns and
definite descriptions referring back); ``synonym`` (common synonyms of each relation's verbs, and of
the kinds' nouns); ``date`` (the usual phrasings of a year); ``discourse`` markers that claim nothing.

The split (:func:`split_halves`) is fixed before anything is measured: a fix is developed against
the dev half and judged on the held-out half. The rule, for each family: its phrasings are grouped by
signature (attributes, kinds, part, merge) in the order the groups first appear in
:data:`~.phrasings.FAIR_PHRASINGS`; each group, sorted by template, is shuffled by
``random.Random(f"fg_env-fair-split/{SPLIT_SEED}/{family}/{signature}")``; the groups are then
concatenated and dealt alternately, dev first. So each signature's phrasings are spread over both
halves, and the halves do not depend on the suite's ``--seed``.

Example:
    >>> from fg_env.data.synthetic import Annotator, SyntheticQA
    >>> from fg_env.data.synthetic.integrity import check_case
    >>> cases = generate_fair_cases(SyntheticQA().split("test")[:3], families=["discourse"])
    >>> {case.cls for case in cases}, {case.half for case in cases} == {"dev", "held-out"}
    ({'fair-discourse'}, True)
    >>> all(check_case(Annotator(), case)[0] for case in gold_controls(SyntheticQA().split("test")[:3]))
    True
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from fg_env.data.synthetic import phrasing as ph
from fg_env.data.synthetic.annotator import COMPLETENESS_WEIGHTS
from fg_env.data.synthetic.integrity.cases import DEV, FAIR_FAMILIES, FRESH, HELD_OUT, Expect, IntegrityCase
from fg_env.data.synthetic.integrity.phrasings import (
    ANY_FACT,
    FAIR_LEXICON,
    FAIR_PHRASINGS,
    FRESH_PHRASINGS,
    FairPhrasing,
)
from fg_env.data.synthetic.integrity.probes import _KIND_NOUN, Question, _Claim, _GoldSentence, _lower_first
from fg_env.data.synthetic.vocab import CREATOR, ORGANIZATION, PLACE, YEAR
from fg_env.errors import InvalidValueError
from fg_env.text import split_sentences
from fg_env.types import QAExample

__all__ = [
    "MAX_FAIR_CASES",
    "SPLIT_SEED",
    "FairPhrasing",
    "expected_completeness",
    "generate_fair_cases",
    "generate_fresh_cases",
    "gold_controls",
    "split_halves",
]

SPLIT_SEED = 20  # issue 20; changing it re-deals every family's halves (and voids the held-out half)
MAX_FAIR_CASES = 4  # cases per question, family and half
_VALUE_SLOTS = {YEAR: "y", CREATOR: "p", ORGANIZATION: "o", PLACE: "pl"}
# A sentence starting with one of these needs its referent just before it (a cleft "It was ... that" does not).
_REFERRING_START = re.compile(r"^(It|Its|This|That)\b(?! was (in \{y\}|\{p\}) )")


# -- the split ------------------------------------------------------------------------------------------------
def split_halves(phrasings: Sequence[FairPhrasing] = FAIR_PHRASINGS) -> dict[FairPhrasing, str]:
    """The half (:data:`~.cases.DEV` or :data:`~.cases.HELD_OUT`) of every phrasing (rule: module docstring).

    Example:
        >>> halves = split_halves()
        >>> halves == split_halves() and set(halves.values()) == {"dev", "held-out"}
        True
    """
    halves: dict[FairPhrasing, str] = {}
    for family in dict.fromkeys(p.family for p in phrasings):
        groups: dict[str, list[FairPhrasing]] = {}
        for p in phrasings:
            if p.family == family:
                signature = f"{p.attributes}|{p.kinds}|{p.part}|{p.merge}"
                groups.setdefault(signature, []).append(p)
        dealt: list[FairPhrasing] = []
        for signature, group in groups.items():
            members = sorted(group, key=lambda p: (p.template, p.replaces))
            random.Random(f"fg_env-fair-split/{SPLIT_SEED}/{family}/{signature}").shuffle(members)
            dealt.extend(members)
        for n, p in enumerate(dealt):
            halves[p] = DEV if n % 2 == 0 else HELD_OUT
    return halves


_HALVES = split_halves()


# -- the sentences a phrasing can reword ------------------------------------------------------------------------
@dataclass(frozen=True)
class _Unit:
    """One gold sentence (or two adjacent ones about one work, for a merge) and the facts it states."""

    reference: int
    first: int  # index of the first gold sentence it replaces
    count: int  # how many gold sentences it replaces
    text: str  # the gold text it replaces
    work: int | None  # the one work it is about, None when it is about several
    facts: tuple[_Claim, ...]  # in the order the text states them
    keys: frozenset[tuple[str, str]]  # every fact it states
    mention: str  # "first": it names the work; "back": it refers back to it
    after_same: bool  # the sentence before it is about the same work alone (a pronoun would find it)
    # A clause of a sentence about two works ("The album X was recorded by Y, while the canvas of the
    # same name is by Z."): the gold sentence's text before and after it, kept around the rewording.
    prefix: str = ""
    suffix: str = ""

    @property
    def whole(self) -> str:
        """The gold text it stands in: the sentence(s), with a clause's surroundings."""
        return self.prefix + self.text + self.suffix

    @property
    def plain(self) -> bool:
        """Whether a whole-sentence phrasing can restate it: one work, each attribute and value once."""
        attributes = [c.attribute for c in self.facts]
        return (
            self.work is not None
            and len(set(attributes)) == len(attributes)
            and all(self.text.count(c.value) == 1 for c in self.facts)
        )


def _units(q: Question, reference: int) -> list[_Unit]:
    sentences = q.references[reference]
    units = []

    def mention(s: _GoldSentence) -> str:
        return "first" if q.name in s.text or "of the same name" in s.text else "back"

    for k, s in enumerate(sentences):
        if s.framing or not s.claims:
            continue
        units.extend(_clauses(q, reference, k, s))
        before = sentences[k - 1] if k else None
        after_same = before is not None and not before.framing and s.single is not None and before.single == s.single
        facts = tuple(sorted(s.claims, key=lambda c: c.start))
        units.append(_Unit(reference, k, 1, s.text, s.single, facts, s.keys, mention(s), after_same))
        following = sentences[k + 1] if k + 1 < len(sentences) else None
        if (
            following is not None
            and s.single is not None
            and following.single == s.single
            and following.claims
            and mention(following) == "back"
        ):
            merged = facts + tuple(sorted(following.claims, key=lambda c: c.start))
            text = f"{s.text} {following.text}"
            units.append(
                _Unit(reference, k, 2, text, s.single, merged, s.keys | following.keys, mention(s), after_same)
            )
    return units


# Two works side by side, as the world pairs them: "<clause about one work>, while|and <clause about the other>."
_PAIRED = re.compile(r"^(?P<left>.+?), (?P<conjunction>while|and) (?P<right>the .+)\.$")


def _clauses(q: Question, reference: int, k: int, s: _GoldSentence) -> list[_Unit]:
    """The two clauses of a sentence about two works, each a unit about one work (the issue's own
    example: "Nikolai Moreau recorded the album Shivering Fields, while the canvas ... is by ...")."""
    m = _PAIRED.match(s.text)
    if s.single is not None or len(s.interpretations) != 2 or not m:
        return []
    units = []
    for side in ("left", "right"):
        start, end = m.span(side)
        claims = tuple(sorted((c for c in s.claims if start <= c.start and c.end <= end), key=lambda c: c.start))
        works = {c.interpretation for c in claims}
        if not claims or len(works) != 1:
            return []
        text = s.text[start:end]
        mention = "first" if q.name in text or "of the same name" in text else "back"
        # A clause of its own facts only (no pronoun: a pronoun would need the sentences around it).
        keys = frozenset(q.key(c) for c in claims)
        shifted = tuple(_Claim(c.interpretation, c.attribute, c.value, c.start - start, c.end - start) for c in claims)
        units.append(
            _Unit(reference, k, 1, text, works.pop(), shifted, keys, mention, False, s.text[:start], s.text[end:])
        )
    return units


# -- filling a phrasing ------------------------------------------------------------------------------------------
def _assign(attributes: tuple[str, ...], facts: tuple[_Claim, ...]) -> list[_Claim] | None:
    """The facts in the phrasing's order (named attributes first reserved, :data:`ANY_FACT` filled in the
    sentence's order), or None when they do not fit."""
    if len(attributes) != len(facts):
        return None
    remaining = list(facts)
    placed: list[_Claim | None] = [None] * len(attributes)
    for n, attribute in enumerate(attributes):
        if attribute != ANY_FACT:
            match = next((c for c in remaining if c.attribute == attribute), None)
            if match is None:
                return None
            remaining.remove(match)
            placed[n] = match
    for n in range(len(placed)):
        if placed[n] is None:
            placed[n] = remaining.pop(0)
    return [c for c in placed if c is not None]


def _joined(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def _strip(templates: Iterable[str], pattern: str) -> list[str]:
    """The words of world templates of the form ``pattern`` ("(\\w+) by {p}" -> "directed")."""
    return [m.group(1) for t in templates if (m := re.fullmatch(pattern, t))]


def _slots(rng: random.Random, q: Question, unit: _Unit, order: Sequence[_Claim]) -> dict[str, str]:
    """Every slot a phrasing may use, filled from the unit's real facts (absent: the kind has no word)."""
    slots: dict[str, str] = {"N": q.name, "sentence": unit.text, "lowered": _lower_first(unit.text)}
    noun_match = _KIND_NOUN.search(unit.text)
    if noun_match:
        slots["gold_noun"] = noun_match.group(1)
    for c in unit.facts:
        slots.setdefault(_VALUE_SLOTS[c.attribute], c.value)
    if unit.work is None:
        return slots
    spec, kind = q.specs[unit.work], q.kinds[unit.work]
    noun = rng.choice(spec.nouns)
    noun2 = rng.choice([n for n in spec.nouns if n != noun] or [noun])
    subject = f"the {noun} {q.name}" if unit.mention == "first" else f"the {noun}"
    slots.update(
        S=ph.capitalize(subject),
        s=subject,
        noun=noun,
        noun2=noun2,
        title=f" {q.name}" if unit.mention == "first" else "",
    )
    if "o" in slots:
        slots["the_o"] = f"the {slots['o']}" if kind == "painting" else slots["o"]
        slots["The_o"] = ph.capitalize(slots["the_o"])
    vps = [ph.verb_phrase(rng, spec, c.attribute, c.value) for c in order]
    for n, (c, vp) in enumerate(zip(order, vps), start=1):
        slots[f"vp{n}"] = vp
        participle = ph.participle(rng, spec, c.attribute, c.value)
        if participle:
            slots[f"pp{n}"], slots[f"Pp{n}"] = participle, ph.capitalize(participle)
    slots["vps"] = _joined(vps)
    slots["made"] = rng.choice(_strip(spec.creator_active, r"\{p\} (\w+)"))
    made_pp = _strip(spec.creator_participles, r"(\w+) by \{p\}")
    if made_pp:
        slots["made_pp"] = rng.choice(made_pp)
        slots["Made_pp"] = ph.capitalize(slots["made_pp"])
    released = [r for r in _strip(spec.year_participles, r"([\w ]+) in \{y\}") if not r.endswith("ing")]
    if released:
        slots["released"] = rng.choice(released)
        slots["Released"] = ph.capitalize(slots["released"])
    slots["maker"] = spec.creator_noun
    for slot, word in FAIR_LEXICON[kind].items():
        if word is not None:
            slots[slot] = word
    return slots


def _rewordings(rng: random.Random, q: Question, unit: _Unit, phrasing: FairPhrasing) -> Iterator[str]:
    """The unit said in ``phrasing`` (none when it does not fit the unit)."""
    if phrasing.merge != (unit.count == 2):
        return
    if unit.prefix or unit.suffix:
        if phrasing.replaces or phrasing.part == "noun" or ". " in phrasing.template:
            return  # a clause takes whole-clause phrasings only (edits and splits reword whole sentences)
        for clause in _plain_rewordings(rng, q, unit, phrasing):
            clause = clause[:-1] if clause.endswith(".") else clause
            yield unit.prefix + (_lower_first(clause) if unit.prefix else clause) + unit.suffix
        return
    if phrasing.replaces:
        # An edit of the gold text: fits any unit (about one work or several) that holds the part it rewrites.
        if unit.count != 1:
            return
        years = [c for c in unit.facts if c.attribute == YEAR] if YEAR in phrasing.attributes else [None]
        for year in years:
            slots = _slots(rng, q, unit, unit.facts)
            if year is not None:
                slots["y"] = year.value
            if not phrasing.slots <= slots.keys():
                continue
            old = phrasing.replaces.format(**slots)
            if unit.text.count(old) == 1:
                yield unit.text.replace(old, phrasing.template.format(**slots))
        return
    yield from _plain_rewordings(rng, q, unit, phrasing)


def _plain_rewordings(rng: random.Random, q: Question, unit: _Unit, phrasing: FairPhrasing) -> Iterator[str]:
    """The unit's facts said anew in a whole-sentence or part phrasing."""
    if not unit.plain or unit.work is None:
        return
    if phrasing.kinds and q.kinds[unit.work] not in phrasing.kinds:
        return
    if phrasing.mention != "any" and phrasing.mention != unit.mention:
        return
    if phrasing.mention == "back" and not unit.after_same:
        return  # "It ...", "The director ...": only right after a sentence about the same work
    if phrasing.part:
        order = list(unit.facts)
        if phrasing.part == "vp" and phrasing.attributes[0] not in {c.attribute for c in order}:
            return
    else:
        assigned = _assign(phrasing.attributes, unit.facts)
        if assigned is None:
            return
        order = assigned
    slots = _slots(rng, q, unit, order)
    if phrasing.part == "vp":
        vps = [
            phrasing.template.format(**slots) if c.attribute == phrasing.attributes[0] else slots[f"vp{n}"]
            for n, c in enumerate(order, start=1)
        ]
        yield f"{slots['S']} {_joined(vps)}."
    elif phrasing.part == "noun":
        yield f"The {phrasing.template}{slots['title']} {slots['vps']}."
    elif phrasing.slots <= slots.keys():
        if _REFERRING_START.match(phrasing.template) and not unit.after_same:
            return
        # "The TV series's" reads as a slip (a possessive after a final s is a bare apostrophe), and so
        # does "a album".
        sentence = re.sub(r"(?<=s)'s\b", "'", ph.capitalize(phrasing.template.format(**slots)))
        yield re.sub(r"\b([Aa]) (?=[aeiouAEIOU])", r"\1n ", sentence)


def _whole_sentences(context: str, probe: str, after: str) -> bool:
    """Whether the probe is whole sentences of the answer (starts and ends at sentence boundaries)."""
    answer = " ".join(part for part in (context, probe, after) if part)
    start = len(context) + 1 if context else 0
    spans = split_sentences(answer)
    return any(s.start == start for s in spans) and any(s.end == start + len(probe) for s in spans)


# -- the cases -------------------------------------------------------------------------------------------------
def expected_completeness(q: Question, stated: Iterable[tuple[str, str]]) -> float:
    """The completeness of an answer stating ``stated`` facts correctly: the weighted share of the world's
    required facts among them (answers 1, major details 0.5, minor 0.25, as QA-Feedback weighs them).

    Example:
        >>> from fg_env.data.synthetic import SyntheticQA
        >>> q = Question(SyntheticQA().split("test")[0])
        >>> expected_completeness(q, {(f.entity, f.attribute) for f in q.world.required_facts})
        1.0
        >>> expected_completeness(q, set())
        0.0
    """
    keys = set(stated)
    required = q.world.required_facts
    total = sum(COMPLETENESS_WEIGHTS[f.role] for f in required)
    got = sum(COMPLETENESS_WEIGHTS[f.role] for f in required if (f.entity, f.attribute) in keys)
    return got / total if total else 0.0


def _case(q: Question, cls: str, unit: _Unit, sentence: str, half: str, note: str) -> IntegrityCase | None:
    texts = [s.text for s in q.references[unit.reference]]
    context = " ".join(texts[: unit.first])
    after = " ".join(texts[unit.first + unit.count :])
    if not _whole_sentences(context, sentence, after):
        return None
    # The reworded unit states the facts the gold unit stated; the rest of the answer is the gold's.
    stated = set().union(*(s.keys for s in q.references[unit.reference])) - unit.keys | unit.keys
    expect = Expect(factuality=None, relevance=None, completeness=expected_completeness(q, stated))
    about = q.key(unit.facts[0]) if unit.facts else None
    return IntegrityCase(cls, q.example, context, sentence, expect, (), note, about, after, half, unit.keys)


def _family_cases(rng: random.Random, q: Question, family: str, fresh: bool = False) -> list[IntegrityCase]:
    """One question's cases of one family: of its dev and held-out phrasings, or (``fresh``) of its
    fresh ones, up to :data:`MAX_FAIR_CASES` per half."""
    cls = f"fair-{family}"
    halves = (FRESH,) if fresh else (DEV, HELD_OUT)
    by_half: dict[str, list[IntegrityCase]] = {half: [] for half in halves}
    phrasings = [p for p in (FRESH_PHRASINGS if fresh else FAIR_PHRASINGS) if p.family == family]
    seen: set[tuple[int, int, str]] = set()
    for reference in range(len(q.references)):
        for unit in _units(q, reference):
            for phrasing in phrasings:
                for sentence in _rewordings(rng, q, unit, phrasing):
                    if sentence == unit.whole or (reference, unit.first, sentence) in seen:
                        continue
                    seen.add((reference, unit.first, sentence))
                    case = _case(q, cls, unit, sentence, FRESH if fresh else _HALVES[phrasing], phrasing.label)
                    if case is not None:
                        by_half[case.half].append(case)
    cases = []
    for half in halves:
        made = by_half[half]
        if len(made) > MAX_FAIR_CASES:
            made = [made[k] for k in sorted(rng.sample(range(len(made)), MAX_FAIR_CASES))]
        cases.extend(made)
    return cases


def _check_families(families: Sequence[str]) -> None:
    unknown = [f for f in families if f not in FAIR_FAMILIES]
    if unknown:
        raise InvalidValueError(f"unknown fair families {unknown}; the families are {', '.join(FAIR_FAMILIES)}")


def generate_fair_cases(
    examples: Iterable[QAExample], seed: int = 0, families: Sequence[str] = FAIR_FAMILIES
) -> list[IntegrityCase]:
    """The fair group's cases for ``examples``: per question and family, up to :data:`MAX_FAIR_CASES` on
    each half, drawn by a ``random.Random`` seeded with ``seed``, the question's key and the family.

    Example:
        >>> from fg_env.data.synthetic import SyntheticQA
        >>> cases = generate_fair_cases(SyntheticQA().split("test")[:2], families=["voice"])
        >>> cases == generate_fair_cases(SyntheticQA().split("test")[:2], families=["voice"])
        True
    """
    return _drawn_cases(examples, seed, families, fresh=False)


def generate_fresh_cases(
    examples: Iterable[QAExample], seed: int = 0, families: Sequence[str] = FAIR_FAMILIES
) -> list[IntegrityCase]:
    """The fair group's cases of the fresh phrasings (:data:`~.phrasings.FRESH_PHRASINGS`), half
    :data:`~.cases.FRESH`: per question and family, up to :data:`MAX_FAIR_CASES`, drawn as
    :func:`generate_fair_cases` draws them but by a ``random.Random`` of its own (so the dev and
    held-out cases are the same with or without them).

    Example:
        >>> from fg_env.data.synthetic import SyntheticQA
        >>> cases = generate_fresh_cases(SyntheticQA().split("test")[:3], families=["discourse"])
        >>> {case.cls for case in cases}, {case.half for case in cases}
        ({'fair-discourse'}, {'fresh'})
    """
    return _drawn_cases(examples, seed, families, fresh=True)


def _drawn_cases(examples: Iterable[QAExample], seed: int, families: Sequence[str], fresh: bool) -> list[IntegrityCase]:
    _check_families(families)
    stream = "fresh" if fresh else "fair"  # each half group draws from its own random stream
    cases: list[IntegrityCase] = []
    for example in examples:
        q = Question(example)
        for family in families:
            rng = random.Random(f"fg_env-integrity-{stream}/{seed}/{q.world.key}/{family}")
            cases.extend(_family_cases(rng, q, family, fresh=fresh))
    return cases


def gold_controls(examples: Iterable[QAExample]) -> list[IntegrityCase]:
    """For every unit a fair phrasing may reword, the case whose "rewording" is the gold text itself, with
    the expectation its rewordings get: the check that the fair group's expectations hold for gold.

    Example:
        >>> from fg_env.data.synthetic import SyntheticQA
        >>> controls = gold_controls(SyntheticQA().split("test")[:1])
        >>> controls[0].sentence in SyntheticQA().split("test")[0].references[0]
        True
    """
    cases = []
    for example in examples:
        q = Question(example)
        for reference in range(len(q.references)):
            for unit in _units(q, reference):
                if unit.prefix or unit.suffix:
                    continue  # a clause's sentence is a unit of its own
                case = _case(q, "fair-gold", unit, unit.text, DEV, "the gold text")
                if case is not None:
                    cases.append(case)
    return cases
