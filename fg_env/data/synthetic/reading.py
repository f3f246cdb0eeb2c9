"""How the annotator reads one sentence of an answer: tokens, clauses, and what each token names.

Reading is context-free (it depends on the sentence's characters only), so its result is cached by
sentence text and shared across questions and episodes. It finds:

* **clauses**: the sentence cut after every word ending in ``, ; ! ?``. Clauses are finer than the
  paper's sub-sentences (which are unions of whole clauses), and a clause's cut never depends on the
  words after it, which is what makes the annotator's judgements prefix-consistent;
* **mentions**, by normalised tokens against the world's vocabularies: titles, kinds of work,
  people (first name + surname, or a surname alone), organisations, places, years, lengths
  ("102 minutes"), genres, receptions, pronouns and relation cues ("directed", "born", "founded");
  years and lengths written in words ("nineteen ninety-four", "twelve tracks", :mod:`.numbers`);
* **names the world never uses**, by their capitals: a capitalised run with a word no mention covers
  ("Jonas Whitfield", "Jonas Moreau") is a person, or by its neighbours a title ("the film Crimson
  Tide"), a company ("Harborlight Records", "released on X") or a place ("set in Norvale"), so a claim
  that names one is checked like any other (and is contradicted or unverifiable);
* **denials**: a value under an odd number of negations in its clause ("was not", "never", "wasn't",
  "it is not true that", "contrary to") is read as denied (:attr:`ValueSlot.negated`);
* **incoherent clauses**: no word at all, mostly unknown words, a word repeated like a stuck loop, a
  clause cut off after a word that needs a continuation ("... was directed by"), text in another
  language or script (a letter beyond the Latin alphabets, or two function words of another language),
  or word salad: a word order no English sentence has (:func:`_breaks_word_order`: "by released",
  "Cobblestone it", "Film in the set is ...") or the words of the world's names scattered
  (:func:`_broken_names`). Salad is never judged by the orders the world's own text happens to use, so a
  fluent writer's active voice, relative clause or "in the year" reads as English;
* **discourse markers** ("Also,", "In fact,", "On the other hand,"): a clause of only these, cut off by
  its comma, claims nothing and is no error; the clause after it decides;
  Known words are the world's own and a general English list shipped with fg_env
  (:func:`known_words`), the same on every machine whatever is installed;
* **framing clauses**: only works' names, function words and the words of the framing sentence gold
  answers open with ("X may refer to several works"); any other clause without a claim says nothing
  that helps answer.

Every step is linear (or n log n) in the sentence's length, however hostile the text.

Example:
    >>> r = read_sentence("The film Harlow Bridge, directed by Ana Ashby, came out in 1994.")
    >>> [m.type for m in r.mentions]
    ['KIND', 'TITLE', 'CUE', 'CUE', 'PERSON', 'CUE', 'YEAR']
    >>> r.clause_spans
    ((0, 23), (24, 46), (47, 64))
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import NamedTuple

from fg_env.data.synthetic import phrasing
from fg_env.data.synthetic.numbers import NUMBER_TOKENS, read_number
from fg_env.data.synthetic.vocab import (
    BIRTH_CUES,
    BIRTH_YEAR,
    BIRTHPLACE,
    CONTRIBUTOR,
    CONTRIBUTOR_CUES,
    CREATOR,
    CREATOR_CUES,
    DANGLING_WORDS,
    FEMALE_FIRST_NAMES,
    FOUNDED,
    FOUNDED_CUES,
    FUNCTION_WORDS,
    GENRE,
    HEADQUARTERS,
    HEADQUARTERS_CUES,
    KINDS,
    LENGTH,
    MALE_FIRST_NAMES,
    NUMBER_WORDS,
    ORG_WORDS,
    ORGANIZATION,
    ORGANIZATION_NOUNS,
    PLACE,
    PLACES,
    READER_KIND_NOUNS,
    RECEPTION,
    RECEPTIONS,
    SURNAMES,
    TITLE_FIRST_WORDS,
    TITLE_SECOND_WORDS,
    WORK_VERB_CUES,
    YEAR,
)

_TOKEN = re.compile(r"\w+(?:['\u2019]\w+)*")
KIND_SEPARATOR = "|"  # a kind mention's value names several kinds ("film|painting") when its noun may mean each


class Mention(NamedTuple):
    """Something a token or run of tokens names. ``pos``: first token index; ``clause``: clause index.

    Example:
        >>> read_sentence("The film Harlow Bridge came out in 1994.").mentions[1]
        Mention(type='TITLE', pos=2, end=4, clause=0, value='harlow bridge')
    """

    type: str  # TITLE KIND PRON_WORK PRON_PERSON ORG_NOUN PERSON SURNAME ORG PLACE YEAR LENGTH GENRE RECEPTION CUE
    pos: int
    end: int  # one past the last token
    clause: int
    value: object  # the normalised value: a title, kind, name, year, (number, unit), cue class ...


class WorkReference(NamedTuple):
    """A phrase that points at a work: a title (maybe with its kind), a kind alone, or "it"/"its".

    Example:
        >>> read_sentence("The film Harlow Bridge came out in 1994.").work_references
        (WorkReference(pos=1, clause=0, title='harlow bridge', kind='film', pronoun=False),)
    """

    pos: int
    clause: int
    title: str | None
    kind: str | None
    pronoun: bool


class NameRef(NamedTuple):
    """A person or company as the sentence names them (lower case).

    ``type`` is "PERSON" (a full name), "SURNAME" (a surname alone), "ORG" (a company) or "PRONOUN"
    ("he", "her"); a pronoun's ``value`` is the :class:`NameRef` of the nearest name before it in the
    sentence, or None when there is none (the world resolves it against the answer so far).

    Example:
        >>> read_sentence("Ana Ashby directed the film.").slots[0].value
        NameRef(type='PERSON', value='ana ashby')
    """

    type: str
    value: str | NameRef | None


class ValueSlot(NamedTuple):
    """A value in the sentence and, structurally, what it is a value of: the skeleton of one claim.

    ``subject`` is "work", "person" (after "born") or "organization" (after "founded", "based"). For a
    work, ``ref_sentence`` / ``ref_clause`` index the governing work reference when reading the whole
    sentence / only up to the end of the value's clause (-1: none, the answer's current work; None:
    not a claim at that level). For a person or organisation subject, ``subject_name`` is the name
    before the cue (None: the answer's current person or organisation). ``attribute_*`` is the
    attribute at each level (None for a person named with no cue). People as values are
    :class:`NameRef` records; the world resolves the rest.

    Example:
        >>> slot = read_sentence("It came out in 1994.").slots[0]
        >>> slot.subject, slot.attribute_sentence, slot.value, slot.ref_sentence
        ('work', 'year', 1994, 0)
    """

    clause: int
    subject: str
    attribute_sentence: str | None
    attribute_clause: str | None
    value: object
    ref_sentence: int | None
    ref_clause: int | None
    subject_name: NameRef | None
    negated: bool = False  # denied: under an odd number of negations ("was not directed by X")


@dataclass(frozen=True)
class SentenceReading:
    """The context-free reading of one sentence (offsets are relative to the sentence's start).

    Example:
        >>> r = read_sentence("The film film film was released.")
        >>> r.clause_spans, r.clause_incoherent
        (((0, 32),), (True,))
    """

    text: str
    tokens: tuple[str, ...]
    mentions: tuple[Mention, ...]
    work_references: tuple[WorkReference, ...]
    clause_spans: tuple[tuple[int, int], ...]
    clause_incoherent: tuple[bool, ...]
    clause_frames: tuple[bool, ...]  # only works' names, function and framing words: no error without a claim
    clause_signatures: tuple[tuple[str, ...] | None, ...]  # normalised tokens, for exact repeats
    slots: tuple[ValueSlot, ...]


# -- vocabularies, lower-cased ----------------------------------------------------------------------
def _lower(words) -> frozenset[str]:
    return frozenset(w.lower() for w in words)


FIRST_NAMES = _lower(FEMALE_FIRST_NAMES + MALE_FIRST_NAMES)
SURNAME_SET = _lower(SURNAMES)
TITLE_FIRST = _lower(TITLE_FIRST_WORDS)
TITLE_SECOND = _lower(TITLE_SECOND_WORDS)
ORG_WORD_SET = _lower(ORG_WORDS)
ORG_SUFFIXES = _lower(s for spec in KINDS.values() for s in spec.org_suffixes)
LENGTH_UNITS = frozenset(spec.length_unit for spec in KINDS.values() if spec.length_unit)
PRONOUNS_WORK = frozenset({"it", "its"})
PRONOUNS_PERSON = frozenset({"he", "she", "his", "her", "him"})

# Multi-token phrases, by first token; longest first. Values: (tokens, type, value).
_PHRASES: dict[str, list[tuple[tuple[str, ...], str, object]]] = {}


def _add_phrase(text: str, type_: str, value: object) -> None:
    tokens = tuple(text.lower().split())
    _PHRASES.setdefault(tokens[0], []).append((tokens, type_, value))


for _kind, _spec in KINDS.items():
    for _noun in _spec.nouns:
        _add_phrase(_noun, "KIND", _kind)
    for _genre in _spec.genres:
        _add_phrase(_genre, "GENRE", _genre)
_add_phrase("series", "KIND", "TV series")
for _noun, _kinds in READER_KIND_NOUNS.items():
    _add_phrase(_noun.replace("-", " "), "KIND", KIND_SEPARATOR.join(_kinds))
for _place in PLACES:
    _add_phrase(_place, "PLACE", _place.lower())
for _reception in RECEPTIONS:
    _add_phrase(_reception, "RECEPTION", _reception)
for _cues, _class in (
    (CREATOR_CUES, "creator"),
    (CONTRIBUTOR_CUES, "contributor"),
    (BIRTH_CUES, "birth"),
    (FOUNDED_CUES, "founded"),
    (HEADQUARTERS_CUES, "headquarters"),
    (WORK_VERB_CUES, "work"),
):
    for _cue in _cues:
        _PHRASES.setdefault(_cue, []).append(((_cue,), "CUE", _class))
_PHRASES.setdefault("by", []).append((("by",), "CUE", "by"))
for _noun in ORGANIZATION_NOUNS:
    _PHRASES.setdefault(_noun, []).append(((_noun,), "ORG_NOUN", _noun))
for _first in list(_PHRASES):
    _PHRASES[_first].sort(key=lambda entry: -len(entry[0]))


def _template_words() -> set[str]:
    """Every word of the world's phrasings: kind specs, questions, openings and reception phrases."""
    words: set[str] = set()
    texts: list[str] = []
    for spec in KINDS.values():
        for value in vars(spec).values():
            texts.extend(v for v in (value if isinstance(value, tuple) else (value,)) if isinstance(v, str))
    for group in phrasing.QUESTIONS.values():
        texts.extend(group)
    texts.extend(phrasing.OPENINGS)
    texts.extend(RECEPTIONS.values())
    for text in texts:
        words.update(t.lower() for t in _TOKEN.findall(text))
    return words


ENGLISH_WORDS_FILE = "english_words.txt"  # shipped beside this module (package data)


@lru_cache(maxsize=1)
def english_words() -> frozenset[str]:
    """The general English word list shipped with fg_env (about 22,500 lower-case words).

    It is the whole-word part of the uncased BERT WordPiece vocabulary; see the header of
    ``english_words.txt``. Shipping it (rather than reading an installed model's vocabulary) keeps the
    annotator's Incoherent labels the same on every machine.

    Example:
        >>> {"river", "song", "released"} <= english_words()
        True
    """
    text = resources.files(__package__).joinpath(ENGLISH_WORDS_FILE).read_text(encoding="utf-8")
    return frozenset(line for line in text.splitlines() if line and not line.startswith("#"))


@lru_cache(maxsize=1)
def world_words() -> frozenset[str]:
    """The world's own words: function words, its phrasings, and every name, title word and cue."""
    words = set(FUNCTION_WORDS) | _template_words() | set(NUMBER_WORDS)
    for group in (FIRST_NAMES, SURNAME_SET, TITLE_FIRST, TITLE_SECOND, ORG_WORD_SET, ORG_SUFFIXES, LENGTH_UNITS):
        words |= group
    for tokens in _PHRASES:
        words.add(tokens)
    for entries in _PHRASES.values():
        for phrase_tokens, _, _ in entries:
            words.update(phrase_tokens)
    return frozenset(words)


@lru_cache(maxsize=1)
def known_words() -> frozenset[str]:
    """Words the annotator accepts as English: :func:`world_words` and :func:`english_words`.

    Both are fixed and shipped with fg_env, so the vocabulary (and with it which clauses read as
    Incoherent) never depends on the packages installed.

    Example:
        >>> known_words() == world_words() | english_words()
        True
    """
    return world_words() | english_words()


# Word pairs English never has ("a is", "the by", "by was"): the mark of shuffled words.
_ARTICLES = frozenset("a an the its their".split())
_NEVER_AFTER_ARTICLE = frozenset(
    "a an the its their this these is was were are be been of by in on at to from with into and or but nor "
    "it he she".split()
)
_NEVER_AFTER_PREPOSITION = frozenset("is was were are of by in on at from with into and or but nor".split())
_AUXILIARIES = frozenset("is was were are".split())
_CANNOT_FOLLOW: dict[str, frozenset[str]] = {
    **{a: _NEVER_AFTER_ARTICLE for a in _ARTICLES},
    **{p: _NEVER_AFTER_PREPOSITION for p in "of by in on at to from with into".split()},
    **{a: _AUXILIARIES for a in _AUXILIARIES},  # "is was"
    # A work's participle before an auxiliary ("painted was", "released was").
    **{c: _AUXILIARIES for c in CREATOR_CUES | WORK_VERB_CUES if c.endswith("ed")},
}
# Prepositions English leaves at a clause's end in questions and relatives ("what year is X from?",
# "who was X by?", "something people talk about"): not a cut-off there.
_STRANDABLE = frozenset("about from for with to on at by".split())
_WH_WORDS = frozenset("what which who whom whose where something anything everything nothing".split())

# Words that deny what their clause claims ("was not directed by", "never came out", "it is not true
# that ..."); any word ending in "n't" too. A claim under an odd number of them is read as denied.
NEGATIONS: frozenset[str] = frozenset("not never no cannot contrary untrue false".split())

# Function words of other languages that English text does not use (German, French, Spanish,
# Italian, Dutch, Portuguese), and a few of their common words. Words English uses often ("die", "van",
# "par", "door") are left out, so two of these in a clause (or one beside a word no list knows)
# mark it as written in another language: Incoherent to a reader of English, however many names and
# years it holds.
FOREIGN_FUNCTION_WORDS: frozenset[str] = frozenset(
    """der das und wurde wurden ist ein eine einer einem einen im vom zum zur auf mit wird stammt spielt
    la en se al af de zich speelt werk obra risale dipinto canzone chanson videospiel verscheen gemaakt
    televisieserie uitgegeven geschilderd
    le les est une et du des au aux sorti sortie réalisé écrit publié été avait
    el los las fue por una del y estrenó estrenada estrenado publicada publicado dirigida dirigido escrita
    escrito lanzado lanzada es
    il è stato stata della di nel uscito uscita diretto diretta scritto pubblicato pubblicata
    het een werd uitgebracht geregisseerd geschreven
    foi pelo pela uma dos lançado lançada""".split()
)


def _in_another_script(token: str) -> bool:
    """Whether a token has letters beyond the Latin alphabets (Cyrillic, Greek, CJK, Arabic ...)."""
    return not token.isascii() and any(ch.isalpha() and ord(ch) > 0x24F for ch in token)


# Words of the conventional framing sentence gold answers open with ("X may refer to several works",
# "There are three works called X"): a clause of only these, function words and works' names says
# nothing, and is not wrong to say.
FRAMING_WORDS: frozenset[str] = (
    frozenset(t.lower() for text in phrasing.OPENINGS for t in _TOKEN.findall(re.sub(r"\{\w+\}", " ", text)))
    | frozenset(w.lower() for w in NUMBER_WORDS)
    # Hedges frame a claim without adding one ("reportedly, ...", "according to the passages, ...");
    # the claim they frame is judged by its content.
    | frozenset(
        """reportedly reported allegedly apparently according passages sources source seems seemed appears
        appeared believed said thought claimed known possibly perhaps probably likely it's worth noting note
        noted noteworthy mentioning""".split()
    )
)

# Discourse markers and connectives: they link a sentence to what came before and claim nothing
# ("Also, ...", "In fact, ...", "On the other hand, ..."). A clause of only these, cut off by its comma
# from the claim it introduces, is neither a cut-off nor irrelevant: its sentence's other clauses decide.
_DISCOURSE_MARKER_TEXT = """
also, indeed, moreover, furthermore, additionally, besides, notably, interestingly, importantly, significantly,
remarkably, surprisingly, curiously, incidentally, however, nevertheless, nonetheless, still, yet, meanwhile,
likewise, similarly, conversely, instead, otherwise, alternatively, further, finally, lastly, first, firstly,
second, secondly, third, thirdly, next, then, thus, therefore, hence, consequently, accordingly, specifically,
namely, overall, altogether, again, separately, elsewhere, originally, initially, subsequently, eventually,
ultimately, naturally, clearly, obviously, certainly, admittedly, actually, basically, essentially, generally,
typically, and, but, so, in addition, in fact, in particular, in turn, in contrast, by contrast, in short,
in brief, in summary, in any case, in other words, of course, as well, on top of that, on the other hand,
at the same time, as it happens, as it turns out, what is more, by the way, for example, for instance,
to be sure, after all, above all, in the meantime, beyond that, apart from that, as a result, to begin with,
for its part, on a related note, in the same vein, along the same lines, as noted, as mentioned, as such,
even so, all the same, and also, but also, and yet, so too
"""
DISCOURSE_MARKERS: frozenset[tuple[str, ...]] = frozenset(
    tuple(marker.split()) for marker in _DISCOURSE_MARKER_TEXT.split(",") if marker.strip()
)
_LONGEST_MARKER = max(len(m) for m in DISCOURSE_MARKERS)


def _only_discourse_markers(tokens: list[str], first: int, last: int) -> bool:
    """Whether ``tokens[first:last]`` is one or more discourse markers and nothing else ("And, in fact,")."""
    i = first
    while i < last:
        for n in range(min(_LONGEST_MARKER, last - i), 0, -1):
            if tuple(tokens[i : i + n]) in DISCOURSE_MARKERS:
                i += n
                break
        else:
            return False
    return last > first


# Names the world's lists do not hold are found by their capitals; what follows decides what they
# name. A capitalised run after one of these words is a title ("the film titled Crimson Tide").
NAME_INTRODUCERS: frozenset[str] = frozenset({"titled", "called", "named", "entitled"})
# ... after one of these, a place ("set in Norvale", "born in Eastbrook").
PLACE_PREPOSITIONS: frozenset[str] = frozenset({"in", "at", "from"})
# ... ending in one of these, a company ("Harborlight Records", "Blue Fern Pictures").
COMPANY_SUFFIXES: frozenset[str] = frozenset(
    """records pictures studios studio films music press books publishing games interactive software
    broadcasting network gallery museum inc ltd llc corporation corp company entertainment productions
    media group label""".split()
)

# -- reading ----------------------------------------------------------------------------------------
_NORMALISED: dict[str, str] = {}
# Token classes, as bits, memoised per token: most tokens of an answer are seen many times.
_DIGITS, _TITLE_A, _TITLE_B, _FIRST, _SURNAME, _ORG_WORD, _ORG_SUFFIX, _UNIT = 1, 2, 4, 8, 16, 32, 64, 128
_PRON_WORK, _PRON_PERSON, _PHRASE = 256, 512, 1024
_NUMBER, _NEGATION, _FOREIGN, _OTHER_SCRIPT = 2048, 4096, 8192, 16384
_CLASSES: dict[str, int] = {}


def _normalise(token: str) -> str:
    normalised = _NORMALISED.get(token)
    if normalised is None:
        normalised = token.lower().replace("\u2019", "'")
        if normalised.endswith("'s") and len(normalised) > 2:
            normalised = normalised[:-2]
        if len(_NORMALISED) > 200_000:  # bounded: random text must not grow it forever
            _NORMALISED.clear()
        _NORMALISED[token] = normalised
    return normalised


def _token_class(t: str) -> int:
    c = _CLASSES.get(t)
    if c is None:
        c = (
            (_DIGITS if t.isdigit() else 0)
            | (_TITLE_A if t in TITLE_FIRST else 0)
            | (_TITLE_B if t in TITLE_SECOND else 0)
            | (_FIRST if t in FIRST_NAMES else 0)
            | (_SURNAME if t in SURNAME_SET else 0)
            | (_ORG_WORD if t in ORG_WORD_SET else 0)
            | (_ORG_SUFFIX if t in ORG_SUFFIXES else 0)
            | (_UNIT if t in LENGTH_UNITS else 0)
            | (_PRON_WORK if t in PRONOUNS_WORK else 0)
            | (_PRON_PERSON if t in PRONOUNS_PERSON else 0)
            | (_PHRASE if t in _PHRASES else 0)
            | (_NUMBER if t in NUMBER_TOKENS else 0)
            | (_NEGATION if t in NEGATIONS or t.endswith("n't") else 0)
            | (_FOREIGN if t in FOREIGN_FUNCTION_WORDS else 0)
            | (_OTHER_SCRIPT if _in_another_script(t) else 0)
        )
        if len(_CLASSES) > 200_000:
            _CLASSES.clear()
        _CLASSES[t] = c
    return c


_CLAUSE_CUT = re.compile(r"[,;!?](?=\s)")


def _clause_cuts(text: str) -> list[int]:
    """Character offsets where a clause ends: after each word ending in , ; ! ? (except the last word)."""
    return [m.end() for m in _CLAUSE_CUT.finditer(text)]


def _clause_spans(text: str, cuts: list[int]) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    start = 0
    for end in cuts + [len(text)]:
        a, b = start, end
        while a < b and text[a].isspace():
            a += 1
        while b > a and text[b - 1].isspace():
            b -= 1
        if a < b:
            spans.append((a, b))
        start = end
    return spans or [(0, 0)]


def _find_mentions(tokens: list[str], first: int, last: int, clause: int, out: list[Mention]) -> set[int]:
    """Append the mentions among ``tokens[first:last]``; return the indices of tokens they cover."""
    covered: set[int] = set()
    i = first
    while i < last:
        t = tokens[i]
        c = _token_class(t)
        if not c:
            i += 1
            continue
        found = _mention_at(tokens, i, last, c)
        if found is None:
            i += 1
            continue
        type_, n, value = found
        if type_ == "CUE" and i + 1 < last and tokens[i + 1] == "out" and t in ("plays", "played"):
            i += 1  # "plays out in X": where the story happens, not who acts in it
            continue
        out.append(Mention(type_, i, i + n, clause, value))
        covered.update(range(i, i + n))
        i += n
    return covered


def _mention_at(tokens: list[str], i: int, last: int, c: int) -> tuple[str, int, object] | None:
    """The mention starting at ``tokens[i]`` (whose class is ``c``) as (type, tokens, value), or None."""
    if c & _NUMBER:
        found = _number_in_words(tokens, i, last)
        if found is not None:
            return found
    t = tokens[i]
    nxt = tokens[i + 1] if i + 1 < last else ""
    n_class = _token_class(nxt) if nxt else 0
    if c & _DIGITS:
        if n_class & _UNIT:
            return ("LENGTH", 2, (int(t), nxt))
        if len(t) == 4 and 1000 <= int(t) <= 2099:
            return ("YEAR", 1, int(t))
        return None
    if c & _TITLE_A and n_class & _TITLE_B:
        return ("TITLE", 2, f"{t} {nxt}")
    if c & _FIRST and n_class & _SURNAME:
        return ("PERSON", 2, f"{t} {nxt}")
    if c & _ORG_WORD and n_class & _ORG_SUFFIX:
        return ("ORG", 2, f"{t} {nxt}")
    if c & _SURNAME:
        return ("SURNAME", 1, t)
    if c & _PRON_WORK:
        return None if _expletive_it(tokens, i, last) else ("PRON_WORK", 1, t)
    if c & _PRON_PERSON:
        return ("PRON_PERSON", 1, t)
    if c & _PHRASE:
        for phrase, type_, value in _PHRASES.get(t, ()):
            n = len(phrase)
            if i + n <= last and tuple(tokens[i : i + n]) == phrase:
                return (type_, n, value)
    return None


def _english_word_form(token: str) -> bool:
    """Whether ``token`` is an English word or an inflection of one ("premiering", "dubbed", "airs"): the
    word list holds most base forms but not every inflection."""
    words = english_words()
    if token in words:
        return True
    if token.endswith("ly") and len(token) > 4:
        stem = token[:-2]
        if stem in words or stem[:-1] + "y" in words or stem + "le" in words:
            return True  # "Interestingly", "Happily"
    for suffix in ("ing", "ed", "es", "s"):
        if token.endswith(suffix) and len(token) > len(suffix) + 2:
            stem = token[: -len(suffix)]
            if stem in words or stem + "e" in words or (stem[-1] == stem[-2] and stem[:-1] in words):
                return True
    return False


def _capitalised_runs(tokens: list[str], capitals: list[bool], first: int, last: int) -> list[tuple[int, int]]:
    """Runs [a, b) of capitalised words in ``tokens[first:last]``. A sentence's first word counts only
    when it is no common word ("Jonas Whitfield directed ...", not "Nobody knows ..."), or when the
    next word is capitalised too ("Crimson Tide was ...")."""
    runs = []
    i = first
    while i < last:
        if not capitals[i]:
            i += 1
            continue
        j = i
        while j < last and capitals[j]:
            j += 1
        if i == 0 and tokens[0] in FUNCTION_WORDS:
            i = 1  # "The ...", "It ...", "In ..."
        elif i == 0 and j == 1 and (_english_word_form(tokens[0]) or (tokens[0],) in DISCOURSE_MARKERS):
            i = 1  # "Nobody knows ...", "Reportedly, ...", "Premiering in 1996, ..."
        if i < j:
            runs.append((i, j))
        i = j
    return runs


def _name_type(tokens: list[str], a: int, b: int, kind_ends: set[int], kind_starts: set[int]) -> str | None:
    """What a capitalised run the world's lists do not hold names, by its words and its neighbours:
    a company, a title, a place or a person (a surname alone when one word); None when it is an
    adjective before a kind of work ("the American film") or a common word alone ("the English singer").
    ``kind_ends`` / ``kind_starts``: where the clause's kind-of-work mentions end and start."""
    before = tokens[a - 1] if a > 0 else ""
    if b - a >= 2 and tokens[b - 1] in COMPANY_SUFFIXES:
        return "ORG"
    if before in NAME_INTRODUCERS or a in kind_ends:
        return "TITLE"
    if b in kind_starts:
        return None
    if before in PLACE_PREPOSITIONS:
        return "PLACE"
    if before == "on":
        return "ORG"  # "released on Harborlight": a label
    if b - a == 1:
        if tokens[a] in english_words() and before != "by":
            return None
        return "SURNAME"
    return "PERSON"


def _unknown_names(
    tokens: list[str],
    capitals: list[bool],
    first: int,
    last: int,
    clause: int,
    covered: set[int],
    out: list[Mention],
    start: int,
) -> None:
    """Read the names of ``tokens[first:last]`` that the world's lists do not hold (or hold only in
    part: "Jonas Moreau" is not the surname Moreau): each capitalised run with a word no mention
    covers becomes one mention of the type :func:`_name_type` gives, replacing the partial ones.
    ``out[start:]`` are the clause's mentions; ``covered`` grows by the names' words."""
    own = out[start:]
    kind_ends = {m.end for m in own if m.type == "KIND"}
    kind_starts = {m.pos for m in own if m.type == "KIND"}
    names: list[Mention] = []
    for a, b in _capitalised_runs(tokens, capitals, first, last):
        if all(k in covered for k in range(a, b)):
            continue
        type_ = _name_type(tokens, a, b, kind_ends, kind_starts)
        if type_ is not None:
            names.append(Mention(type_, a, b, clause, " ".join(tokens[a:b])))
    if not names:
        return
    in_names = {k for m in names for k in range(m.pos, m.end)}
    kept = [m for m in own if not any(k in in_names for k in range(m.pos, m.end))]
    out[start:] = sorted(kept + names, key=lambda m: m.pos)
    covered |= in_names


_EXPLETIVE_VERBS = frozenset("seems seemed appears appeared".split())


def _expletive_it(tokens: list[str], i: int, last: int) -> bool:
    """Whether "it" at ``tokens[i]`` points at nothing: "it is believed that ...", "it seems that",
    "it is not true that": a frame around a claim, not a reference to the current work."""
    if tokens[i] != "it" or i + 1 >= last:
        return False
    if tokens[i + 1] in _EXPLETIVE_VERBS:
        return True
    # "it is believed that ...", and clefts: "it was X who directed it", "it was in 1994 that ..."
    return tokens[i + 1] in ("is", "was") and any(t in ("that", "who") for t in tokens[i + 2 : min(last, i + 6)])


def _number_in_words(tokens: list[str], i: int, last: int) -> tuple[str, int, object] | None:
    """A year or a length written in words at ``tokens[i]`` ("nineteen ninety four", "twelve tracks"),
    as a mention's (type, tokens, value); None for other numbers ("three works")."""
    number = read_number(tokens, i, last)
    if number is None:
        return None
    value, n = number
    if i + n < last and _token_class(tokens[i + n]) & _UNIT:
        return ("LENGTH", n + 1, (value, tokens[i + n]))
    if n >= 2 and 1000 <= value <= 2099:
        return ("YEAR", n, value)
    return None


_KIND_REACH = 12  # tokens: a kind noun farther from a title than this is not the title's kind


def _work_references(mentions: list[Mention]) -> list[WorkReference]:
    """Titles take the nearest unused kind noun of their clause within reach ("the film Harlow Bridge",
    "Harlow Bridge is a 1994 film"); other kinds stand alone."""
    titles = [m for m in mentions if m.type == "TITLE"]
    kinds = [m for m in mentions if m.type == "KIND"]
    kind_pos = [k.pos for k in kinds]
    attached: dict[int, Mention] = {}
    used: set[int] = set()
    for title in titles:
        best = None
        # Only kinds within reach are candidates: a bounded scan, so many titles and kinds stay linear.
        for kind in kinds[
            bisect_left(kind_pos, title.pos - _KIND_REACH) : bisect_right(kind_pos, title.pos + _KIND_REACH)
        ]:
            if kind.clause != title.clause or kind.pos in used:
                continue
            distance = abs(kind.pos - title.pos)
            if best is None or distance < abs(best.pos - title.pos):
                best = kind
        if best is not None:
            used.add(best.pos)
            attached[title.pos] = best
    references = []
    for m in mentions:
        if m.type == "TITLE":
            kind_word = attached.get(m.pos)
            pos = min(m.pos, kind_word.pos) if kind_word else m.pos
            references.append(
                WorkReference(pos, m.clause, str(m.value), str(kind_word.value) if kind_word else None, False)
            )
        elif m.type == "KIND" and m.pos not in used:
            references.append(WorkReference(m.pos, m.clause, None, str(m.value), False))
        elif m.type == "PRON_WORK":
            references.append(WorkReference(m.pos, m.clause, None, None, True))
    references.sort()
    return references


def _incoherent(tokens: list[str], covered: set[int], first: int, last: int, has_value: bool) -> bool:
    """Whether a clause (tokens[first:last]) cannot be read as English (see the module docstring)."""
    if first == last:
        return True
    words = known_words()
    alpha = unknown = 0
    run = 1
    for i in range(first, last):
        t = tokens[i]
        if i > first:
            run = run + 1 if t == tokens[i - 1] else 1
            if run >= 3:
                return True  # "the the the": a generation loop
        if t.isdigit():
            continue
        alpha += 1
        if i not in covered and t not in words:
            unknown += 1
    if alpha == 0 and not has_value:
        return True  # only numbers that are neither years nor lengths
    for i in range(first, last - 1):
        # Word salad: sequences English never has ("a is", "the by", "by was").
        if tokens[i + 1] in _CANNOT_FOLLOW.get(tokens[i], ()):
            return True
    if unknown * 2 > alpha:
        return True
    n = last - first
    if n >= 8 and len(set(tokens[first:last])) * 2 < n:
        return True
    if tokens[last - 1] not in DANGLING_WORDS:
        return False
    # A stranded preposition closes a question or relative clause; other dangling words are a cut-off.
    return not (tokens[last - 1] in _STRANDABLE and any(tokens[i] in _WH_WORDS for i in range(first, last - 1)))


_NAME_PIECES = _TITLE_A | _TITLE_B | _FIRST | _ORG_WORD | _ORG_SUFFIX


def _foreign_words(tokens: list[str], classes: list[int], covered: set[int], first: int) -> tuple[int, int]:
    """(function words of another language, other words no list knows) in a clause. An accented word
    no list knows ("télévisée", "película") counts as another language's."""
    words = known_words()
    markers = unknown = 0
    for i, c in enumerate(classes, start=first):
        t = tokens[i]
        if c & _FOREIGN or (not t.isascii() and t not in words and not c & _OTHER_SCRIPT):
            markers += 1
        elif i not in covered and t not in words and not t.isdigit():
            unknown += 1
    return markers, unknown


# -- word order: what English never does ----------------------------------------------------------
# Word salad is told from English by word orders no grammatical sentence has, not by orders the world's
# own text happens not to use: a fluent writer's active voice, relative clause, possessive or "in the
# year" must read as English however rarely the world writes it (issue 20). A clause that breaks one of
# these rules is Incoherent; each rule names one construction.
_PREPOSITIONS = frozenset("of by in on at to from with into".split())
_VERB_CUES = CREATOR_CUES | CONTRIBUTOR_CUES | WORK_VERB_CUES | FOUNDED_CUES | HEADQUARTERS_CUES | BIRTH_CUES
# Past participles of the relation verbs: never right after a preposition ("by released", "in painted").
PARTICIPLES: frozenset[str] = frozenset(c for c in _VERB_CUES if c.endswith("ed")) | (
    frozenset("written sung made broadcast set held shown brought born".split()) & (_VERB_CUES | BIRTH_CUES)
)
# Verbs that cannot end a clause: they need their object ("takes place", "contains ...").
_NEEDS_OBJECT = frozenset("takes take took contains".split())
# Verbs that cannot open a statement without their subject ("Takes place in X it.", "Was in painted X.").
_SUBJECTLESS_OPENERS = _AUXILIARIES | frozenset("takes runs lasts hangs contains dates has".split())
_NAME_TYPES = frozenset({"PERSON", "SURNAME", "ORG", "PLACE", "TITLE"})
_NAME_OR_KIND = _NAME_TYPES | {"KIND"}
_NOUN_MODIFIER_TYPES = _NAME_TYPES | {"YEAR", "GENRE", "RECEPTION", "KIND"}  # "Ana Ashby's film", "a 1994 film"
_BEFORE_FINAL_TV = _PREPOSITIONS | {"for"}  # "on TV", "made for TV"
_NAMING_VERBS = frozenset("called named titled entitled dubbed renamed".split())
# A singular count noun of the world (a kind of work, "place") needs a determiner or a modifier before it;
# these words cannot be that ("in film", "is record", "takes game"), but for a participle used as an
# adjective after a determiner ("the animated film", "a published book").
_NO_NOUN_AFTER = _PREPOSITIONS | _AUXILIARIES | PARTICIPLES | _SUBJECTLESS_OPENERS
_DETERMINERS = frozenset("a an the its his her their this that".split())


def _breaks_word_order(
    tokens: list[str],
    capitals: list[bool],
    mentions: list[Mention],
    first: int,
    last: int,
    statement: bool,
    possessives: frozenset[int] = frozenset(),
) -> bool:
    """Whether the clause ``tokens[first:last]`` breaks a word order every English sentence keeps.
    ``mentions`` are the clause's; ``statement``: its sentence does not end in a question mark.

    Example:
        >>> r = read_sentence("Studios was by released Cobblestone it.")
        >>> r.clause_incoherent
        (True,)
    """
    if first == last:
        return False  # no words: another check says so
    if first == 0 and statement and tokens[0] in _SUBJECTLESS_OPENERS:
        return True  # "Was in painted Eastmarch it.": a statement opens with its subject
    if first == 0 and tokens[0] in PARTICIPLES and last > 1 and capitals[1]:
        return True  # "Set Ormsby is in it.": a fronted participle reaches its name through "in", "by" ...
    if tokens[last - 1] in _NEEDS_OBJECT:
        return True  # "In the place book Inverlake takes."
    if tokens[last - 1] == "tv" and not (last - 2 >= first and tokens[last - 2] in _BEFORE_FINAL_TV):
        return True  # "in the set series TV." ("TV" ends a clause only as "on TV", "for TV")
    for i in range(first, last - 1):
        if tokens[i] in _PREPOSITIONS and tokens[i + 1] in PARTICIPLES:
            return True  # "by released", "in painted"
        if (
            tokens[i] in PARTICIPLES
            and tokens[i + 1] in _AUXILIARIES
            and not (i > first and tokens[i - 1] in _DETERMINERS)
        ):
            return True  # "Glenmoor set is", "painted was" (but "the set is")
        if tokens[i] == "it" and i > first and tokens[i - 1] in _PREPOSITIONS and tokens[i + 1] in PARTICIPLES:
            return True  # "is in it set"
        if tokens[i] in _PREPOSITIONS and tokens[i + 1] in _SUBJECTLESS_OPENERS:
            return True  # "In takes Kessling movie"
        if tokens[i] in _ARTICLES and tokens[i + 1] in PARTICIPLES:
            after = tokens[i + 2] if i + 2 < last else ""
            if not after or after in _PREPOSITIONS or after in _AUXILIARIES or after in _DETERMINERS:
                return True  # "by the recorded of": a participle after "the" is an adjective before its noun
        if tokens[i + 1] == "same" and tokens[i] not in ("the", "this", "that", "its", "their", "much", "all"):
            return True  # "novel same Henrik"
        # "it" before a name or a capitalised word ("aired it Larkspur"), unless naming ("called it X")
        if tokens[i] == "it" and capitals[i + 1] and not (i > first and tokens[i - 1] in _NAMING_VERBS):
            return True
    starts = {m.pos: m for m in mentions}
    ends = {m.end: m for m in mentions}
    for m in mentions:
        if m.type in _NAME_TYPES and m.end < last and tokens[m.end] in PRONOUNS_WORK:
            return True  # "Cobblestone it", "Glenmoor its"
    for i in range(first, last):
        noun = starts.get(i)
        if (noun is None or noun.type != "KIND") and tokens[i] != "place":
            continue
        if i == 0:
            return True  # "Film in the set is X.", "Place takes X in it."
        before = ends.get(i)
        if tokens[i] == "place":
            if tokens[i - 1] in ("takes", "take", "took", "taking"):
                continue
            following = starts.get(i + 1)
            if (
                tokens[i - 1] == "it"
                or before is not None
                or (following is not None and following.type in _NAME_OR_KIND)
            ):
                return True  # "it place", "Eastmarch place", "the place book"
        elif before is not None and before.type in _NOUN_MODIFIER_TYPES:
            if before.type in ("PERSON", "SURNAME") and before.end - 1 not in possessives:
                # "a Steven Spielberg film" needs its article; "In Goldberg record" is no English
                if not (before.pos > first and tokens[before.pos - 1] in _DETERMINERS):
                    return True
            continue  # "Ana Ashby's film", "a 1994 film", "a drama film"
        if i > first and tokens[i - 1] in _NO_NOUN_AFTER:
            if i - 2 >= first and tokens[i - 1] in PARTICIPLES and tokens[i - 2] in _DETERMINERS:
                continue
            return True
    return False


# Pieces of the world's names that are also words of its multiword places ("Quarry Falls", "Port Avery").
_PLACE_OF_PIECE: dict[str, str] = {w.lower(): p.lower() for p in PLACES if " " in p for w in p.split()}


_NAME_HALVES = ((_TITLE_A, _TITLE_B), (_ORG_WORD, _ORG_SUFFIX))  # the first and second words of two-word names


def _broken_names(tokens: list[str], capitals: list[bool], classes: list[int], covered: set[int], first: int) -> int:
    """Capitalised pieces of the world's names that form no name where they stand ("Feather Petrakis in
    Twilight", "Larkspur was on it released Music", "Quarry is in Falls"): two in a clause mark shuffled
    words. A sentence's first word counts when it is no common word or opens a run of capitals; a
    capitalised company noun counts outside a name ("On Network aired"); a multiword place in pieces
    counts twice."""
    count = 0
    pieces: list[tuple[int, int]] = []  # (token, class) of the capitalised name words no name covers
    places: dict[str, set[str]] = {}
    for i, c in enumerate(classes, start=first):
        if not capitals[i]:
            continue
        t = tokens[i]
        if i not in covered:
            if t in _PLACE_OF_PIECE:
                places.setdefault(_PLACE_OF_PIECE[t], set()).add(t)
            if not (c & _NAME_PIECES or t in _PLACE_OF_PIECE):
                continue
            pieces.append((i, c))
            if i == 0 and t in english_words() and not (len(capitals) > 1 and capitals[1]):
                continue
            count += 1
        elif i > 0 and t in ORGANIZATION_NOUNS and not (capitals[i - 1] and i - 1 > 0):
            count += 1
    for a, b in _NAME_HALVES:
        firsts = {i for i, c in pieces if c & a}
        seconds = {i for i, c in pieces if c & b}
        if firsts and seconds and (len(firsts) > 1 or len(seconds) > 1 or firsts != seconds):
            count += 2  # "Music on out song the came Northgate": the two words of one name, apart
    return count + sum(2 for words in places.values() if len(words) >= 2)


_SETTING_WORDS = frozenset({"set", "place", "recorded", "painted"})  # "set in X", "takes place in X", ...


def _settings_named_by_companies(tokens: list[str], mentions: list[Mention], start: int) -> None:
    """A company named where a place belongs ("it is set in Pinnacle Music") is read as the place the
    sentence claims, so it is checked against the work's place (and contradicted), not credited as
    the work's company. Found by the reward-hacking probe (agents.experiments.hacking)."""
    for k in range(start, len(mentions)):
        m = mentions[k]
        if m.type == "ORG" and m.pos >= 2 and tokens[m.pos - 1] in ("in", "at") and tokens[m.pos - 2] in _SETTING_WORDS:
            mentions[k] = m._replace(type="PLACE")


def _not_only(tokens: list[str], i: int) -> bool:
    """ "not only ... but also" adds, it does not deny."""
    return tokens[i] == "not" and i + 1 < len(tokens) and tokens[i + 1] == "only"


_FRAMING_MENTIONS = frozenset({"TITLE", "KIND", "PRON_WORK"})


def _frames(tokens: list[str], first: int, last: int, mentions: list[Mention]) -> bool:
    """Whether a clause holds only works' names, function words and the framing sentence's words
    ("Harlow Bridge may refer to several works", "The film Harlow Bridge,"): with no claim, such a
    clause is no error; any other clause without a claim says nothing that helps (Irrelevant)."""
    named = {i for m in mentions if m.type in _FRAMING_MENTIONS for i in range(m.pos, m.end)}
    return all(i in named or tokens[i] in FUNCTION_WORDS or tokens[i] in FRAMING_WORDS for i in range(first, last))


@lru_cache(maxsize=32768)
def read_sentence(text: str) -> SentenceReading:
    """Read one sentence (see the module docstring). Cached: sentences recur across steps and episodes."""
    spans = _clause_spans(text, _clause_cuts(text))
    starts = [a for a, _ in spans]
    raw = [(m.start(), m.group()) for m in _TOKEN.finditer(text)]
    tokens = [_normalise(t) for _, t in raw]
    capitals = [t[0].isupper() for _, t in raw]
    possessives = frozenset(
        k
        for k, (offset, t) in enumerate(raw)
        if t.lower().replace("\u2019", "'").endswith("'s")
        or (t[-1:] in "sS" and text[offset + len(t) : offset + len(t) + 1] in ("'", "\u2019"))  # "Oakes' film"
    )
    clause_of = [max(0, bisect_right(starts, offset) - 1) for offset, _ in raw]
    mentions: list[Mention] = []
    incoherent, frames, signatures = [], [], []
    negations: list[tuple[int, int]] = []  # (token, clause) of each denying word
    foreign_so_far = 0
    statement = not text.rstrip().endswith("?")
    openings: list[int | None] = []  # each clause's first token
    first = 0
    for clause in range(len(spans)):
        last = first
        while last < len(tokens) and clause_of[last] == clause:
            last += 1
        openings.append(first if first < last else None)
        start = len(mentions)
        covered = _find_mentions(tokens, first, last, clause, mentions)
        has_value = any(m.type in ("YEAR", "LENGTH") for m in mentions[start:])
        classes = [_token_class(tokens[i]) for i in range(first, last)]
        orphans = _broken_names(tokens, capitals, classes, covered, first)
        foreign = _foreign_words(tokens, classes, covered, first)
        foreign_so_far += foreign[0]
        negations.extend(
            (i, clause) for i, c in zip(range(first, last), classes) if c & _NEGATION and not _not_only(tokens, i)
        )
        known = set(covered)
        shuffled = _breaks_word_order(tokens, capitals, mentions[start:], first, last, statement, possessives)
        _unknown_names(tokens, capitals, first, last, clause, covered, mentions, start)
        # "Also," / "In fact,": a connective cut off by its comma from the claim it introduces
        connective = text[spans[clause][1] - 1] in ",;" and _only_discourse_markers(tokens, first, last)
        unreadable = not connective and (
            shuffled
            or _incoherent(tokens, covered, first, last, has_value)
            # names the lists do not hold are words, but a clause of nothing else is gibberish
            or not any(i in known or tokens[i] in known_words() or tokens[i].isdigit() for i in range(first, last))
            or orphans >= 2  # pieces of the world's names scattered: shuffled words
            # another language or script: not read, so Incoherent
            or any(c & _OTHER_SCRIPT for c in classes)
            or foreign[0] >= 2
            or (foreign[0] >= 1 and (foreign[1] >= 1 or foreign_so_far >= 2))
        )
        incoherent.append(unreadable)
        _settings_named_by_companies(tokens, mentions, start)
        own = mentions[start:]
        # A question asked back ("Who was X by?") frames nothing: it says nothing that answers.
        frames.append(
            connective
            or (_frames(tokens, first, last, own) and not text[spans[clause][0] : spans[clause][1]].endswith("?"))
        )
        signatures.append(tuple(tokens[first:last]) if last - first >= 4 else None)
        first = last
    references = _work_references(mentions)
    return SentenceReading(
        text=text,
        tokens=tuple(tokens),
        mentions=tuple(mentions),
        work_references=tuple(references),
        clause_spans=tuple(spans),
        clause_incoherent=tuple(incoherent),
        clause_frames=tuple(frames),
        clause_signatures=tuple(signatures),
        slots=tuple(
            _value_slots(
                mentions,
                references,
                negations,
                possessives,
                _fronted_clauses(text, tokens, spans, openings, references),
            )
        ),
    )


_FRONTING_CONJUNCTIONS = frozenset("and but while whereas then".split())
_FRONTING_PREPOSITIONS = frozenset("in on at by from during since with as".split())


def _fronted_clauses(
    text: str,
    tokens: list[str],
    spans: list[tuple[int, int]],
    openings: list[int | None],
    references: list[WorkReference],
) -> frozenset[int]:
    """Clauses that are a phrase fronted before the clause they belong to: no work named, a preposition
    first (after a conjunction), a comma or semicolon last, and a work named in the next clause ("The album
    came out in 2019, and in 1986, the canvas was painted."). A sentence's first clause counts only when it
    refers to its work by a pronoun alone ("With X as its creator, the show ..."); otherwise its values find
    the work after them anyway. ``openings``: each clause's first token (None for a clause of no words)."""
    if len(spans) < 2:
        return frozenset()
    named = {r.clause for r in references if not r.pronoun}
    pronoun_only = {r.clause for r in references if r.pronoun} - named
    fronted = set()
    for clause in range(len(spans) - 1):
        if clause in named or clause + 1 not in named or text[spans[clause][1] - 1] not in ",;":
            continue
        if clause == 0 and clause not in pronoun_only:
            continue  # "In 1994, the film ...": a sentence's first phrase finds its work after it anyway
        k = openings[clause]
        if k is None:
            continue
        if tokens[k] in _FRONTING_CONJUNCTIONS and k + 1 < len(tokens):
            k += 1
        if tokens[k] in _FRONTING_PREPOSITIONS:
            fronted.add(clause)
    return frozenset(fronted)


_PERSON_TYPES = ("PERSON", "SURNAME", "PRON_PERSON")
_WORKISH_CUES = frozenset({"creator", "contributor", "work", "by"})
_SIMPLE_WORK_VALUES = {"LENGTH": LENGTH, "GENRE": GENRE, "RECEPTION": RECEPTION}
_ROLE_REACH = 4  # tokens between a person and a role cue ("directed by X", "X starred") that bind them


class _SentenceStructure:
    """The cues, names and work references of one sentence: what tells whose value each value is.

    Every question it answers ("the last person named before token 12") is a binary search over
    positions gathered once, so a sentence of n tokens is read in O(n log n), however hostile.
    """

    __slots__ = (
        "references",
        "ref_pos",
        "ref_clause",
        "role_pos",
        "role_cues",
        "other_cue_pos",
        "other_cues",
        "by_positions",
        "workish_clauses",
        "name_pos",
        "names",
        "person_pos",
        "persons",
        "org_pos",
        "orgs",
        "neg_pos",
        "neg_clause",
        "possessives",
        "kind_pos",
        "fronted",
    )

    def __init__(
        self,
        mentions: list[Mention],
        references: list[WorkReference],
        negations: list[tuple[int, int]],
        possessives: frozenset[int] = frozenset(),
        fronted: frozenset[int] = frozenset(),
    ) -> None:
        self.references = references
        self.possessives = possessives
        self.fronted = fronted
        self.kind_pos = {m.pos for m in mentions if m.type == "KIND"}
        self.ref_pos = [r.pos for r in references]
        self.ref_clause = [r.clause for r in references]
        cues = [m for m in mentions if m.type == "CUE"]
        self.role_cues = [m for m in cues if m.value in ("creator", "contributor")]
        self.role_pos = [m.pos for m in self.role_cues]
        self.other_cues = [m for m in cues if m.value != "by"]
        self.other_cue_pos = [m.pos for m in self.other_cues]
        self.by_positions = [m.pos for m in cues if m.value == "by"]
        self.workish_clauses = {m.clause for m in cues if m.value in _WORKISH_CUES}
        self.names = [m for m in mentions if m.type in ("PERSON", "SURNAME")]
        self.name_pos = [m.pos for m in self.names]
        self.persons = [m for m in mentions if m.type in _PERSON_TYPES]
        self.person_pos = [m.pos for m in self.persons]
        self.orgs = [m for m in mentions if m.type == "ORG"]
        self.org_pos = [m.pos for m in self.orgs]
        self.neg_pos = [pos for pos, _ in negations]
        self.neg_clause = [clause for _, clause in negations]

    def governing_reference(self, m: Mention, sentence_level: bool) -> int:
        """The work reference a value belongs to: its own clause's nearest before it, else its clause's
        first after it ("..., while X painted the canvas of the same name": the canvas, not the work of
        the clause before), else the nearest before it in the sentence, else (reading the whole sentence)
        the first after it; -1 when none, the answer's current work."""
        k = bisect_left(self.ref_pos, m.pos)
        if m.clause in self.fronted:
            # "..., and in 1986, the canvas was painted", "With X as its creator, the show ...": the phrase
            # waits for the next clause's work
            if not sentence_level:
                return -1
            following = bisect_left(self.ref_clause, m.clause + 1)
            if following < len(self.references) and self.ref_clause[following] == m.clause + 1:
                return following
        if k > 0 and self.ref_clause[k - 1] == m.clause:
            return k - 1
        if k < len(self.references) and self.ref_clause[k] == m.clause:
            return k
        if k > 0:
            return k - 1
        if k < len(self.references) and sentence_level:
            return k
        return -1

    def negated(self, m: Mention) -> bool:
        """Whether the value ``m`` is denied: an odd number of negations before it in its clause ("was
        not directed by X", "it is not true that ..."), counting, for a person or company named as the
        subject ("X did not direct it"), those between it and its role's cue or the work."""
        clause_first = bisect_left(self.neg_clause, m.clause)
        count = max(0, bisect_left(self.neg_pos, m.pos) - clause_first)
        if (m.type in _PERSON_TYPES or m.type == "ORG") and not self._after_by(m.pos, 1):
            # The name is the subject: "X did not direct the film" denies as "... not directed by X".
            stop_pos = min(self._next_role_cue_in_clause(m), self._next_ref_in_clause(m))
            stop = min(bisect_right(self.neg_clause, m.clause), bisect_left(self.neg_pos, stop_pos))
            count += max(0, stop - bisect_left(self.neg_pos, m.end))
        return count % 2 == 1

    def _after_by(self, pos: int, reach: int) -> bool:
        """Whether a "by" lies 1 to ``reach`` tokens before ``pos``."""
        k = bisect_left(self.by_positions, pos)
        return k > 0 and pos - self.by_positions[k - 1] <= reach

    def _next_role_cue_in_clause(self, m: Mention) -> int:
        k = bisect_left(self.role_pos, m.end)
        return self.role_pos[k] if k < len(self.role_pos) and self.role_cues[k].clause == m.clause else 1 << 30

    def _next_ref_in_clause(self, m: Mention) -> int:
        k = bisect_left(self.ref_pos, m.end)
        return self.ref_pos[k] if k < len(self.ref_pos) and self.ref_clause[k] == m.clause else 1 << 30

    @staticmethod
    def _last_before(positions: list[int], items: list[Mention], pos: int) -> Mention | None:
        k = bisect_left(positions, pos)
        return items[k - 1] if k > 0 else None

    def name_before(self, pos: int) -> NameRef | None:
        """The person's name nearest before token ``pos``: what a pronoun there stands for."""
        before = self._last_before(self.name_pos, self.names, pos)
        return NameRef(before.type, str(before.value)) if before else None

    def person_value(self, m: Mention) -> NameRef:
        if m.type == "PRON_PERSON":
            return NameRef("PRONOUN", self.name_before(m.pos))
        return NameRef(m.type, str(m.value))

    def person_attribute(self, m: Mention, sentence_level: bool) -> str | None:
        """Creator or contributor, for a person named as a work's value (None: no cue says which)."""
        # The nearest role cue within reach ("directed by X", "X starred"); a tie goes to the cue
        # before. Else "by" just before means creator; else the nearest role cue at all. Only the
        # nearest cue on each side can be either.
        k = bisect_left(self.role_pos, m.pos)
        candidates = []  # (distance, side: 0 before / 1 after, cue)
        if k > 0:
            cue = self.role_cues[k - 1]
            candidates.append((m.pos - cue.pos, 0, cue))
        if k < len(self.role_cues):
            cue = self.role_cues[k]
            if sentence_level or cue.clause == m.clause:  # a cue after the value's clause is look-ahead
                candidates.append((cue.pos - (m.end - 1), 1, cue))
        nearest = min(candidates, key=lambda c: (c[0], c[1]), default=None)
        by = self._after_by(m.pos, 2)
        # "X's film": the film X made. "a movie by X, was produced by Y": the cue of another clause is not X's.
        if m.end - 1 in self.possessives and m.end in self.kind_pos:
            return CREATOR
        if nearest is not None and nearest[0] <= _ROLE_REACH and not (by and nearest[2].clause != m.clause):
            return CREATOR if nearest[2].value == "creator" else CONTRIBUTOR
        if by:
            return CREATOR
        if nearest is not None:
            return CREATOR if nearest[2].value == "creator" else CONTRIBUTOR
        return None

    def relation_cue_before(self, m: Mention) -> Mention | None:
        """The last cue of the value's clause before it, other than "by" ("born in", "founded in")."""
        cue = self._last_before(self.other_cue_pos, self.other_cues, m.pos)
        return cue if cue is not None and cue.clause == m.clause else None

    def person_before(self, pos: int) -> NameRef | None:
        """The last person named before token ``pos`` (by name, surname or pronoun)."""
        subject = self._last_before(self.person_pos, self.persons, pos)
        return self.person_value(subject) if subject is not None else None

    def organization_before(self, pos: int) -> NameRef | None:
        """The last company named before token ``pos``."""
        organization = self._last_before(self.org_pos, self.orgs, pos)
        return NameRef("ORG", str(organization.value)) if organization is not None else None


def _value_slots(
    mentions: list[Mention],
    references: list[WorkReference],
    negations: list[tuple[int, int]],
    possessives: frozenset[int] = frozenset(),
    fronted: frozenset[int] = frozenset(),
) -> list[ValueSlot]:
    """What each value of the sentence is a value of, and whether it is denied, as far as the words
    alone can tell. ``possessives``: the tokens written with "'s"; ``fronted``: the clauses that are a
    phrase put before the clause it belongs to (:func:`_fronted_clauses`)."""
    structure = _SentenceStructure(mentions, references, negations, possessives, fronted)
    slots: list[ValueSlot] = []
    for m in mentions:
        slot = _slot_of(structure, m)
        if slot is not None:
            if negations and structure.negated(m):
                slot = slot._replace(negated=True)
            slots.append(slot)
    return slots


def _slot_of(structure: _SentenceStructure, m: Mention) -> ValueSlot | None:
    """The slot of one mention, or None when it is not a value (a title, a cue) or owns no claim."""
    t = m.type
    if t in ("YEAR", "PLACE"):
        return _year_or_place_slot(structure, m)
    if t in _SIMPLE_WORK_VALUES:
        return _work_slot(structure, m, _SIMPLE_WORK_VALUES[t])
    if t in _PERSON_TYPES or t == "ORG":
        return _person_or_company_slot(structure, m)
    return None


def _work_slot(structure: _SentenceStructure, m: Mention, attribute: str) -> ValueSlot:
    """A work's attribute whose name the value itself says (a year, a length, a genre ...)."""
    return ValueSlot(
        m.clause,
        "work",
        attribute,
        attribute,
        m.value,
        structure.governing_reference(m, True),
        structure.governing_reference(m, False),
        None,
    )


def _year_or_place_slot(structure: _SentenceStructure, m: Mention) -> ValueSlot:
    """A year or place: a person's birth after "born", a company's founding or seat after "founded" or
    "based", else a work's year or setting."""
    is_year = m.type == "YEAR"
    cue = structure.relation_cue_before(m)
    if cue is not None and cue.value == "birth":
        attribute = BIRTH_YEAR if is_year else BIRTHPLACE
        subject = structure.person_before(cue.pos)
        # "She was born in 1948": the subject is whom the pronoun stands for.
        name = subject.value if subject is not None and subject.type == "PRONOUN" else subject
        return ValueSlot(m.clause, "person", attribute, attribute, m.value, None, None, name)  # type: ignore[arg-type]
    if cue is not None and cue.value in ("founded", "headquarters"):
        attribute = FOUNDED if is_year else HEADQUARTERS
        organization = structure.organization_before(cue.pos)
        return ValueSlot(m.clause, "organization", attribute, attribute, m.value, None, None, organization)
    return _work_slot(structure, m, YEAR if is_year else PLACE)


def _person_or_company_slot(structure: _SentenceStructure, m: Mention) -> ValueSlot | None:
    """A person or company as a work's value; only where the sentence is about a work (it refers to
    one, or the value's clause has a work cue such as "directed" or "by"), else no claim."""
    workish = m.clause in structure.workish_clauses
    ref_sentence = structure.governing_reference(m, True) if structure.references or workish else None
    ref_clause: int | None = structure.governing_reference(m, False)
    if ref_clause == -1 and not workish:
        ref_clause = None
    if ref_sentence is None and ref_clause is None:
        return None
    if m.type == "ORG":
        return ValueSlot(m.clause, "work", ORGANIZATION, ORGANIZATION, str(m.value), ref_sentence, ref_clause, None)
    return ValueSlot(
        m.clause,
        "work",
        structure.person_attribute(m, True),
        structure.person_attribute(m, False),
        structure.person_value(m),
        ref_sentence,
        ref_clause,
        None,
    )
