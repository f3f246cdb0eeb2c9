"""The annotator integrity suite (fg_env.data.synthetic.integrity): deterministic cases, labels that
agree with the world, a checker that catches a wrong expectation, the command, and each class's pass
rate on a sample of questions (>= 99%: the new-hole classes fail until the annotator closes them)."""

from __future__ import annotations

import dataclasses
import re
from collections import Counter

import pytest

from fg_env.cli import main as cli_main
from fg_env.data.synthetic import Annotator, SyntheticQA, vocab
from fg_env.data.synthetic import integrity as suite
from fg_env.data.synthetic.integrity import (
    ANY,
    CLASSES,
    GROUPS,
    UNKNOWN_FIRST_NAMES,
    UNKNOWN_ORG_NAMES,
    UNKNOWN_ORG_WORDS,
    UNKNOWN_PLACES,
    UNKNOWN_SURNAMES,
    UNKNOWN_TITLE_FIRST_WORDS,
    UNKNOWN_TITLE_SECOND_WORDS,
    Expect,
    IntegrityCase,
    SuiteResult,
    check_case,
    format_table,
    generate_cases,
    number_words,
    run_suite,
    year_words,
)
from fg_env.text import split_sentences

SAMPLE_QUESTIONS = 20
YEAR_ATTRIBUTES = (vocab.YEAR, vocab.BIRTH_YEAR, vocab.FOUNDED)
# Every name list of the world, lower case: made-up names must use none of their words.
VOCAB_LISTS = (
    vocab.FEMALE_FIRST_NAMES,
    vocab.MALE_FIRST_NAMES,
    vocab.SURNAMES,
    vocab.TITLE_FIRST_WORDS,
    vocab.TITLE_SECOND_WORDS,
    vocab.PLACES,
    vocab.ORG_WORDS,
    tuple(s for spec in vocab.KINDS.values() for s in spec.org_suffixes + spec.nouns + spec.genres),
)
VOCAB_WORDS = {w for names in VOCAB_LISTS for name in names for w in name.lower().split()}


@pytest.fixture(scope="module")
def examples():
    return SyntheticQA().split("test")[:SAMPLE_QUESTIONS]


@pytest.fixture(scope="module")
def cases(examples):
    return generate_cases(examples, seed=0)


@pytest.fixture(scope="module")
def result(cases):
    return run_suite(Annotator(), cases, max_failures=3)


def of(cases, cls):
    return [c for c in cases if c.cls == cls]


def world(case):
    return case.example.meta["world"]


def fact_value(case, key):
    return {(f.entity, f.attribute): f.value for f in world(case).facts}.get(key)


# -- generation -----------------------------------------------------------------------------------------
def test_generation_is_deterministic_and_per_question(examples, cases):
    assert generate_cases(examples, seed=0) == cases
    assert generate_cases(examples[:4], seed=1) != [c for c in cases if c.example in examples[:4]]
    # A question's cases do not depend on the questions generated with it.
    alone = generate_cases([examples[7]], seed=0)
    assert alone == [c for c in cases if c.example is examples[7]]


def test_every_class_yields_cases_for_most_questions(cases):
    counts = Counter(c.cls for c in cases)
    assert set(counts) == set(CLASSES) == {cls for group in GROUPS.values() for cls in group}
    for cls in CLASSES:
        assert counts[cls] >= SAMPLE_QUESTIONS, (cls, counts[cls])
        assert len({c.example.id for c in of(cases, cls)}) >= SAMPLE_QUESTIONS * 0.75, cls


def test_unknown_class_is_refused(examples):
    with pytest.raises(ValueError, match="unknown integrity classes"):
        generate_cases(examples[:1], classes=["gold", "nonsense"])


def test_probes_are_one_sentence_after_whole_gold_sentences(cases):
    for case in cases:
        references = case.example.references
        if case.cls == "missing-answer":
            assert not case.sentence
            gold = {r[s.start : s.end] for r in references for s in split_sentences(r)}
            assert all(case.context[s.start : s.end] in gold for s in split_sentences(case.context))
            continue
        assert case.sentence and case.sentence.strip() == case.sentence
        start, end = case.probe_span
        last = split_sentences(case.answer)[-1]
        assert (last.start, last.end) == (start, end), case
        # The context is empty or a prefix of a gold answer made of whole sentences.
        if case.context:
            assert any(r.startswith(case.context) for r in references), case
            assert any(r == case.context or r.startswith(case.context + " ") for r in references), case


# -- labels agree with the world ------------------------------------------------------------------------
def test_wrong_years_are_years_the_world_never_gives(cases):
    for case in of(cases, "wrong-value") + of(cases, "number-words-false"):
        (year,) = case.inserted
        years = {int(f.value) for f in world(case).facts if f.attribute in YEAR_ATTRIBUTES}
        assert int(year) not in years
        assert int(year) != int(fact_value(case, case.about))
        if case.cls == "wrong-value":
            assert re.search(rf"\b{year}\b", case.sentence)
        else:
            assert not re.search(r"\d", case.sentence) and year_words(int(year), 0).split()[0] in case.sentence


def test_other_interpretation_values_are_another_works(cases):
    for case in of(cases, "other-interpretation"):
        (value,) = case.inserted
        entity, attribute = case.about
        truth = fact_value(case, case.about)
        others = {f.value for f in world(case).facts if f.attribute == attribute and f.entity != entity}
        interpretations = {i.entity for i in world(case).interpretations}
        assert truth is not None and value != truth and value in others and entity in interpretations
        assert value in case.sentence


def test_unverifiable_attributes_are_absent_from_the_world(cases):
    for case in of(cases, "unverifiable"):
        assert fact_value(case, case.about) is None
        expected = None if case.about[1] in vocab.CORE_WORK_ATTRIBUTES else "Irrelevant"
        assert case.expect.relevance == expected


def test_distractors_state_only_distractor_facts(cases):
    roles = {}
    for case in of(cases, "distractor"):
        roles = {(f.entity, f.attribute): f.role for f in world(case).facts}
        assert roles[case.about] == "distractor"
        if case.note == "passage":
            assert any(case.sentence in p.sentences for p in case.example.passages)


def test_made_up_names_use_no_word_of_the_world():
    lists = (
        UNKNOWN_FIRST_NAMES,
        UNKNOWN_SURNAMES,
        UNKNOWN_PLACES,
        UNKNOWN_ORG_WORDS,
        UNKNOWN_ORG_NAMES,
        UNKNOWN_TITLE_FIRST_WORDS,
        UNKNOWN_TITLE_SECOND_WORDS,
    )
    for names in lists:
        assert len(set(names)) == len(names) >= 10
        for name in names:
            assert not set(name.lower().split()) & VOCAB_WORDS, name
    assert len(UNKNOWN_FIRST_NAMES) >= 55 and len(UNKNOWN_SURNAMES) >= 55


def test_made_up_names_replace_facts_the_passages_state(cases):
    """Wrong-Grounding needs a stated value to contradict: the probes name nobody the world has, in a
    role the passages fill for that work."""
    for cls in ("unknown-person", "mixed-name", "unknown-company", "unknown-place"):
        for case in of(cases, cls):
            (inserted,) = case.inserted
            truth = fact_value(case, case.about)
            assert truth is not None and inserted != truth, case
            # A company keeps its kind's suffix ("Harborlight Records"): its other word is new.
            words = inserted.lower().split()
            made_up = words[:-1] if cls == "unknown-company" and case.note != "no suffix" else words
            assert not set(made_up) & VOCAB_WORDS, case
            assert inserted.lower() not in {e.name.lower() for e in world(case).entities}
            assert case.expect.factuality == "Wrong-Grounding"
    for case in of(cases, "mixed-name"):
        first, surname = case.note.split()
        known = {n.lower() for n in vocab.FEMALE_FIRST_NAMES + vocab.MALE_FIRST_NAMES + vocab.SURNAMES}
        assert (first.lower() in known) != (surname.lower() in known), case.note
        assert case.note != fact_value(case, case.about)


def test_unknown_titles_are_titles_the_world_lacks(cases):
    for case in of(cases, "unknown-title"):
        (title,) = case.inserted
        assert title.lower() not in {e.name.lower() for e in world(case).entities}
        assert title in case.sentence and world(case).name not in case.sentence
        assert len(title.split()) == 2 and title.istitle()


def test_negations_and_denials_negate_true_facts(cases):
    for case in of(cases, "negated-true") + of(cases, "denied-true"):
        truth = fact_value(case, case.about)
        assert truth is not None and truth in case.sentence
        assert case.expect == Expect(factuality="Wrong-Grounding", relevance=ANY, completeness_gain=False)
    for case in of(cases, "negated-true"):
        assert re.search(r"\b(not|never)\b|n't\b", case.sentence), case.sentence
    for case in of(cases, "denied-true"):
        assert case.sentence.startswith(("It is not true that ", "It is not the case that "))


def test_missing_answer_drops_an_answer(cases):
    for case in of(cases, "missing-answer"):
        answer = fact_value(case, case.about)
        assert answer is not None and not re.search(rf"(?<!\w){re.escape(answer)}(?!\w)", case.context)


def test_translations_keep_names_and_values(cases):
    for case in of(cases, "foreign-language") + of(cases, "foreign-script"):
        (value,) = case.inserted
        assert world(case).name in case.sentence and value in case.sentence
        script = re.sub(r"[\sA-Za-z0-9.,'\u00c0-\u024f-]", "", case.sentence.replace(world(case).name, ""))
        assert bool(script) == (case.cls == "foreign-script"), case.sentence


def test_vacuous_and_restated_sentences_name_the_question(cases):
    for case in of(cases, "vacuous") + of(cases, "question-restated"):
        assert world(case).name.lower() in case.sentence.lower()
        assert not re.search(r"\d", case.sentence)


def test_numbers_in_words():
    assert [year_words(y) for y in (1994, 1960, 1905, 2000, 2005, 2012)] == [
        "nineteen ninety-four",
        "nineteen sixty",
        "nineteen oh five",
        "two thousand",
        "two thousand and five",
        "two thousand and twelve",
    ]
    assert year_words(2005, 1) == "two thousand five" and year_words(2021, 2) == "twenty twenty-one"
    assert number_words(102) == "one hundred and two" and number_words(12) == "twelve"
    assert number_words(715, use_and=False) == "seven hundred fifteen"


# -- checking -------------------------------------------------------------------------------------------
def test_check_case_fails_a_wrong_expectation(cases):
    annotator = Annotator()
    gold = next(c for c in of(cases, "gold") if c.context and c.expect.completeness_gain)
    assert check_case(annotator, gold) == (True, "ok")
    wrong = [
        (Expect(factuality="Wrong-Grounding", completeness_gain=True), "factuality"),
        (Expect(relevance="Irrelevant", completeness_gain=True), "relevance"),
        (Expect(completeness_gain=False), "completeness"),
        (Expect(missing="Missing-Answer"), None),  # a gold prefix may lack answers: checked below
    ]
    for expect, word in wrong[:3]:
        passed, reason = check_case(annotator, dataclasses.replace(gold, expect=expect))
        assert not passed and reason.startswith(word), reason
    full = IntegrityCase("gold", gold.example, "", gold.example.references[0], Expect(missing="Missing-Answer"))
    passed, reason = check_case(annotator, full)
    assert not passed and reason.startswith("missing info"), reason


def test_any_leaves_a_verdict_unchecked(cases):
    case = of(cases, "distractor")[0]
    loose = dataclasses.replace(case, expect=Expect(factuality=ANY, relevance=ANY))
    assert check_case(Annotator(), loose) == (True, "ok")
    with pytest.raises(ValueError, match="unknown relevance"):
        Expect(relevance="Off-Topic")


def test_failures_are_kept_for_debugging(cases):
    gold = of(cases, "gold")[:6]
    bad = [dataclasses.replace(c, cls="bad", expect=Expect(factuality="Unverifiable")) for c in gold]
    result = run_suite(Annotator(), gold + bad, max_failures=2)
    assert result["gold"] == (6, 6) and result["bad"] == (0, 6)
    assert [f.cls for f in result.failures] == ["bad", "bad"]
    failure = result.failures[0]
    assert "[[" in failure.text and failure.expected.startswith("factuality=Unverifiable")
    assert failure.got.startswith("factuality=None") and failure.reason.startswith("factuality")


def test_table_has_a_row_per_class(result):
    table = format_table(result).splitlines()
    assert table[0] == "| class | group | cases | passed | pass rate |"
    assert [row.split(" | ")[0].strip("| ") for row in table[2:]] == list(CLASSES)


# -- the command ----------------------------------------------------------------------------------------
def test_command_prints_the_table(capsys):
    assert cli_main(["integrity", "--questions", "2", "--show-failures", "1"]) == 0
    out = capsys.readouterr().out
    assert "| gold | control |" in out and "over 2 questions of test" in out


@pytest.mark.parametrize(("passed", "status"), [(99, 0), (98, 1)])
def test_strict_fails_below_the_threshold(monkeypatch, capsys, passed, status):
    monkeypatch.setattr(suite.runner, "run_suite", lambda *args, **kwargs: SuiteResult({"gold": (passed, 100)}))
    assert cli_main(["integrity", "--questions", "1", "--strict"]) == status
    assert cli_main(["integrity", "--questions", "1"]) == 0
    assert f"| gold | control | 100 | {passed} |" in capsys.readouterr().out


def test_command_reports_bad_input_in_one_line(capsys):
    assert cli_main(["integrity", "--questions", "501"]) == 2
    assert "at most 500" in capsys.readouterr().err


# -- the annotator, on a sample ---------------------------------------------------------------------------
@pytest.mark.parametrize("cls", CLASSES)
def test_sample_pass_rate(result, cls):
    """Each class passes >= 99% of its cases on the sample."""
    passed, total = result[cls]
    shown = "\n".join(f"{f.text}\n  expected {f.expected}\n  got      {f.got}" for f in result.failures if f.cls == cls)
    assert passed >= 0.99 * total, f"{cls}: {passed}/{total} passed; failures:\n{shown}"
