"""The annotator credits correct English however it is worded, and still penalises wrong text (issue 20).

The sentences here are written for these tests, about one question of the dev split (the song and the
game "Glimmering Machines"), and are not the integrity suite's phrasings: each correct rewording must
keep the gold sentence's credit (no error, completeness kept), and each wrong one must lose it.
"""

from __future__ import annotations

import pytest

from fg_env.data.synthetic import Annotator, SyntheticQA
from fg_env.data.synthetic.integrity import check_case, generate_cases
from fg_env.data.synthetic.integrity.cases import DEV, FRESH, HELD_OUT
from fg_env.data.synthetic.integrity.fair import generate_fair_cases, generate_fresh_cases
from fg_env.data.synthetic.reading import read_sentence

# The question: the song (1963, Elsa Jessop, Ashgrove Music) and the video game (1954, Tessa Gallagher,
# set in Glenmoor) called Glimmering Machines.
GOLD = (
    "The song Glimmering Machines came out in 1963 and is by Elsa Jessop. The single was released on Ashgrove "
    "Music. The game of the same name came out in 1954 and was designed by Tessa Gallagher. It takes place in "
    "Glenmoor."
)


@pytest.fixture(scope="module")
def example():
    example = SyntheticQA().split("dev")[1]
    assert " ".join(example.references[0].split()) == GOLD  # the facts these tests are written from
    return example


@pytest.fixture(scope="module")
def annotator():
    return Annotator()


def _errors(annotator, example, answer):
    return [(e.error_type, answer[e.start : e.end]) for e in annotator.annotate(example, answer).errors]


# Correct answers worded as a fluent writer words them: every one states the gold answer's facts.
FLUENT = [
    # active voice, a relative clause, a cleft, a possessive with a bare apostrophe
    "Elsa Jessop sang Glimmering Machines, a song that came out in 1963, and Ashgrove Music released it. "
    "Tessa Gallagher designed the video game of the same name, which came out in 1954 and takes place in Glenmoor.",
    "It was in 1963 that Elsa Jessop's song Glimmering Machines came out, on Ashgrove Music. "
    "It was Tessa Gallagher who designed the 1954 video game Glimmering Machines; it takes place in Glenmoor.",
    # discourse markers, "in the year", a fronted phrase with a forward "its"
    "To begin with, the song Glimmering Machines came out in the year 1963 and is by Elsa Jessop. "
    "On top of that, the single was released on Ashgrove Music. "
    "With Tessa Gallagher as its designer, the game of the same name came out in 1954. It takes place in Glenmoor.",
    # a synonym of a kind, a fronted date after a conjunction, the record label as the subject
    "The track Glimmering Machines is by Elsa Jessop and came out in 1963; Ashgrove Music put out the single. "
    "The game of the same name was designed by Tessa Gallagher, and in 1954, the game came out. "
    "It takes place in Glenmoor.",
]


@pytest.mark.parametrize("answer", FLUENT)
def test_a_correct_answer_worded_fluently_keeps_every_credit(annotator, example, answer):
    assert _errors(annotator, example, answer) == []
    assert annotator.completeness(example, answer) == annotator.completeness(example, GOLD) == 1.0


# The same sentences made wrong: a wrong year, another work's creator, a denial, word salad.
WRONG = [
    (
        "Elsa Jessop sang Glimmering Machines, a song that came out in 1968.",
        "Wrong-Grounding",
    ),
    (
        "It was Tessa Gallagher who sang the song Glimmering Machines.",
        "Wrong-Grounding",
    ),
    (
        "In fact, Elsa Jessop never sang the song Glimmering Machines.",
        "Wrong-Grounding",
    ),
    (
        "Song Jessop Elsa sang in the 1963 it Machines Glimmering out came.",
        "Incoherent",
    ),
]


@pytest.mark.parametrize(("answer", "error"), WRONG)
def test_wrong_text_worded_fluently_still_loses_credit(annotator, example, answer, error):
    assert error in [e for e, _ in _errors(annotator, example, answer)]


@pytest.mark.parametrize(
    "sentence",
    [
        "Studios was by released Cobblestone it.",  # a preposition before a participle, a name before "it"
        "Place takes Eastmarch in it.",  # "place" opening a sentence with no article
        "Film in the set is Saltcombe.",  # a kind noun opening a sentence with no article
        "Was in painted Eastmarch it.",  # a statement opening with an auxiliary
        "Larkspur was on it released Music.",  # the two words of one company, apart
        "Quarry is in Falls game the set.",  # the two words of one place, apart
        "In takes Kessling movie the place.",  # a preposition before a verb
    ],
)
def test_word_salad_is_incoherent(sentence):
    assert any(read_sentence(sentence).clause_incoherent)


@pytest.mark.parametrize(
    "sentence",
    [
        "Sabine Tennant created it.",
        "Longbow Interactive developed the video game.",
        "The game has its setting in Glenmoor.",
        "The show, whose creator is Sabine Tennant, premiered in the year of 1955.",
        "It was in 1994 that the painted canvas was finished.",
        "Interestingly, the album appeared on the label Halcyon Music.",
        "Premiering in 1996, the series was shown on TV.",
        "Was it recorded in Glenmoor?",
        "Carmen Oakes' film came out in 1994.",
    ],
)
def test_fluent_english_is_not_incoherent(sentence):
    assert not any(read_sentence(sentence).clause_incoherent)


def test_a_discourse_marker_alone_claims_nothing(annotator, example):
    # cut off by its comma it waits for its claim; a sentence of nothing else says nothing that answers
    assert _errors(annotator, example, "Also, the song Glimmering Machines came out in 1963.") == []
    assert _errors(annotator, example, "Indeed.") == [("Irrelevant", "Indeed.")]


def test_a_noun_of_two_kinds_is_read_as_the_work_that_makes_the_claim_true():
    example = next(
        ex
        for ex in SyntheticQA().split("train")
        if {i.kind for i in ex.meta["world"].interpretations} == {"film", "painting"}
    )
    world = example.meta["world"]
    painting = next(i.entity for i in world.interpretations if i.kind == "painting")
    year = next(f.value for f in world.facts if f.entity == painting and f.attribute == "year")
    answer = f"The picture {world.name} was painted in {year}."
    assert Annotator().annotate(example, answer).errors == ()


@pytest.fixture(scope="module")
def test_questions():
    return SyntheticQA().split("test")[:30]


def test_every_fair_family_is_credited_on_every_half(annotator, test_questions):
    """The fair group on 30 test questions: the dev half (developed against), the held-out half and the
    fresh half (written after, without seeing the annotator) each at >= 99% in every family."""
    cases = generate_fair_cases(test_questions) + generate_fresh_cases(test_questions)
    counts: dict[tuple[str, str], list[int]] = {}
    for case in cases:
        passed, _ = check_case(annotator, case)
        counts.setdefault((case.cls, case.half), [0, 0])
        counts[(case.cls, case.half)][0] += passed
        counts[(case.cls, case.half)][1] += 1
    assert {half for _, half in counts} == {DEV, HELD_OUT, FRESH}
    low = {key: f"{p}/{n}" for key, (p, n) in counts.items() if p < 0.99 * n}
    assert not low


def test_word_salad_and_the_other_adversarial_classes_stay_caught(annotator, test_questions):
    counts: dict[str, list[int]] = {}
    for case in generate_cases(test_questions):
        passed, _ = check_case(annotator, case)
        counts.setdefault(case.cls, [0, 0])
        counts[case.cls][0] += passed
        counts[case.cls][1] += 1
    assert counts["shuffled"][1] > 50
    low = {cls: f"{p}/{n}" for cls, (p, n) in counts.items() if p < 0.99 * n}
    assert not low
