"""The annotator reads claims, not only known words: names the world never uses, denials, numbers in
words, text with no claim, other languages and scripts; and stays linear on hostile text.

Each case is one sentence after the gold answer's framing sentence, on the hand-written Harlow
Bridge question (tests/_handmade_world.py): the film (1994, directed by Ana Ashby, produced by
Bluefin Pictures) and the album (2003, by Mira Calloway, recorded in Dunmore).
"""

from __future__ import annotations

import pytest
from _handmade_world import harlow_bridge

from fg_env.data.synthetic.annotator import Annotator
from fg_env.data.synthetic.numbers import read_number
from fg_env.data.synthetic.reading import read_sentence

EXAMPLE = harlow_bridge()
FRAMING = "Harlow Bridge may refer to several works."
WG, UV, IRR, INC = "Wrong-Grounding", "Unverifiable", "Irrelevant", "Incoherent"


def probe(sentence: str) -> tuple[set[str], float]:
    """The error types inside ``sentence`` (after the framing sentence) and the completeness it adds."""
    annotator = Annotator()
    answer = f"{FRAMING} {sentence}"
    feedback = annotator.annotate(EXAMPLE, answer)
    assert not [e for e in feedback.errors if e.start < len(FRAMING)], "the framing sentence changed"
    errors = {e.error_type for e in feedback.errors if e.start > len(FRAMING)}
    return errors, annotator.completeness(EXAMPLE, answer) - annotator.completeness(EXAMPLE, FRAMING)


CASES = [
    # controls: true claims, however phrased
    ("The film Harlow Bridge was directed by Ana Ashby.", set(), True),
    ("Reportedly, the film Harlow Bridge was directed by Ana Ashby.", set(), True),
    ("It is believed that the album Harlow Bridge came out in 2003.", set(), True),
    ("The film Harlow Bridge came out in nineteen ninety-four.", set(), True),
    ("The album Harlow Bridge came out in two thousand and three.", set(), True),
    ("The film Harlow Bridge was not only directed by Ana Ashby but also released in 1994.", set(), True),
    ("The film Harlow Bridge, directed by Ana Ashby,", set(), True),
    ("There are two works called Harlow Bridge.", set(), False),
    # names the world never uses, in a role the passages fill
    ("The film Harlow Bridge was directed by Jonas Whitfield.", {WG}, False),
    ("Jonas Whitfield directed the film Harlow Bridge.", {WG}, False),
    ("The film Harlow Bridge was directed by Ana Whitfield.", {WG}, False),
    ("The film Harlow Bridge was directed by Jonas Ashby.", {WG}, False),
    ("The film Harlow Bridge was produced by Harborlight Pictures.", {WG}, False),
    ("The album Harlow Bridge was recorded in Norvale.", {WG}, False),
    ("The film Crimson Tide was directed by Ana Ashby.", {UV, IRR}, False),
    ("The film titled Crimson Tide came out in 1994.", {UV, IRR}, False),
    ("The album Harlow Bridge was recorded in Bluefin Pictures.", {WG}, False),  # a company where a place belongs
    ("The film Harlow Bridge is set in Bluefin Pictures.", {UV}, False),  # the passages give the film no place
    # denials of true facts: Wrong-Grounding, no completeness; of false ones: true but no help
    ("The film Harlow Bridge was not directed by Ana Ashby.", {WG, IRR}, False),
    ("The film Harlow Bridge wasn't released in 1994.", {WG, IRR}, False),
    ("The album Harlow Bridge never came out in 2003.", {WG, IRR}, False),
    ("It is not true that the film Harlow Bridge came out in 1994.", {WG, IRR}, False),
    ("Ana Ashby did not direct the film Harlow Bridge.", {WG, IRR}, False),
    ("The film Harlow Bridge was not released in 2003.", {IRR}, False),
    ("It is not true that the film Harlow Bridge was not released in 1994.", set(), True),
    # numbers in words that are wrong
    ("The film Harlow Bridge came out in nineteen eighty-four.", {WG}, False),
    ("The film Harlow Bridge runs one hundred and two minutes.", {IRR}, False),
    ("The film Harlow Bridge runs one hundred and twelve minutes.", {WG, IRR}, False),
    # saying nothing that helps answer
    ("Nobody really knows who was behind Harlow Bridge.", {IRR}, False),
    ("There is a lot that could be said about Harlow Bridge.", {IRR}, False),
    ("When was Harlow Bridge released?", {IRR}, False),
    ("Harlow Bridge is an interesting topic.", {IRR}, False),
    # word salad of the world's own words
    ("In the directed Ashby film was Ana.", {INC}, False),
    ("Came 1994 the in out film.", {INC}, False),
    # other languages and scripts
    ("Der Film Harlow Bridge wurde 1994 von Ana Ashby gedreht.", {INC}, False),
    ("Le film Harlow Bridge est sorti en 1994.", {INC}, False),
    ("La película Harlow Bridge fue dirigida por Ana Ashby.", {INC}, False),
    ("Фильм Harlow Bridge вышел в 1994 году.", {INC}, False),
    ("电影Harlow Bridge于1994年上映。", {INC}, False),
]


@pytest.mark.parametrize(("sentence", "errors", "gains"), CASES, ids=[c[0][:60] for c in CASES])
def test_claims_are_read_and_judged(sentence, errors, gains):
    got, gain = probe(sentence)
    assert got == errors
    assert (gain > 0) is gains, gain


def test_a_denial_earns_no_completeness_anywhere_in_the_answer():
    annotator = Annotator()
    stated = f"{FRAMING} The film Harlow Bridge came out in 1994."
    denied = f"{FRAMING} The film Harlow Bridge did not come out in 1994."
    assert annotator.completeness(EXAMPLE, stated) > annotator.completeness(EXAMPLE, denied) == 0.0


def test_numbers_in_words():
    assert read_number("nineteen oh five".split(), 0, 3) == (1905, 3)
    assert read_number("twenty twenty one".split(), 0, 3) == (2021, 3)
    assert read_number("one thousand nine hundred and ninety four".split(), 0, 7) == (1994, 7)
    assert read_number("three works".split(), 0, 2) == (3, 1)
    assert read_number("oh five".split(), 0, 2) is None  # "oh" only continues a year
    assert [m.type for m in read_sentence("It has twelve tracks.").mentions] == ["PRON_WORK", "CUE", "LENGTH"]
    assert "YEAR" not in [m.type for m in read_sentence("There are three works called Harlow Bridge.").mentions]


def test_unknown_names_take_their_type_from_their_neighbours():
    def names(text: str) -> list[tuple[str, object]]:
        return [
            (m.type, m.value)
            for m in read_sentence(text).mentions
            if m.type in ("PERSON", "SURNAME", "ORG", "TITLE", "PLACE")
        ]

    assert names("The film was directed by Jonas Whitfield.") == [("PERSON", "jonas whitfield")]
    assert names("The film was directed by Jonas Ashby.") == [("PERSON", "jonas ashby")]  # not the surname Ashby
    assert names("The film Crimson Tide came out.") == [("TITLE", "crimson tide")]
    assert names("It was released by Harborlight Records.") == [("ORG", "harborlight records")]
    assert names("It is set in Norvale.") == [("PLACE", "norvale")]
    assert names("The American film came out.") == []  # an adjective before a kind of work
    assert names("Nobody knows who made it.") == []  # a common word opening the sentence
    assert names("The film Harlow Bridge was directed by Ana Ashby.") == [
        ("TITLE", "harlow bridge"),
        ("PERSON", "ana ashby"),
    ]


def test_negation_scope_is_the_clause():
    slots = read_sentence("The film, which was not a success, was directed by Ana Ashby.").slots
    assert [s.negated for s in slots] == [False]
    slots = read_sentence("The film was directed by Ana Ashby, not by Hugo Vance.").slots
    assert [(s.value.value, s.negated) for s in slots] == [("ana ashby", False), ("hugo vance", True)]


def test_hostile_text_is_read_in_linear_work():
    """A sentence of thousands of clauses with names, cues, negations and other scripts is read whole
    (every copy's mentions and slots, none lost to a cap) and annotated without error. Its time per
    character, flat from 12,500 to 100,000 characters, is measured by
    benchmarks/annotator_long_answers.py, not here."""
    unit = "the film Harlow Bridge was not directed by Jonas Whitfield, Фильм 电影, in nineteen ninety-four, "
    small, large = read_sentence(unit * 10), read_sentence(unit * 1000)
    assert len(large.mentions) == 100 * len(small.mentions) and len(large.slots) == 100 * len(small.slots)
    errors = Annotator().annotate(EXAMPLE, unit * 1000).errors  # any Unicode, one huge sentence: no crash
    assert errors
