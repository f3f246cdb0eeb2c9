"""The integrity suite's fair group (issue 20, part 3): correct rewordings of one gold sentence, built
from the world's facts, each family split once into a dev and a held-out half, and reported per half.
The annotator's pass rates on this group are measured, not asserted: they are the baseline a fairer
annotator is judged against."""

from __future__ import annotations

import dataclasses
from collections import Counter

import pytest

from fg_env.cli import main as cli_main
from fg_env.data.synthetic import Annotator, SyntheticQA
from fg_env.data.synthetic.annotator import COMPLETENESS_WEIGHTS
from fg_env.data.synthetic.integrity import (
    DEV,
    FAIR_CLASSES,
    FAIR_FAMILIES,
    FAIR_PHRASINGS,
    FRESH,
    FRESH_PHRASINGS,
    HELD_OUT,
    SPLIT_SEED,
    FairResult,
    SuiteResult,
    check_case,
    format_fair_table,
    generate_fair_cases,
    generate_fresh_cases,
    run_fair_suite,
    split_halves,
)
from fg_env.data.synthetic.integrity import fair as suite_fair
from fg_env.data.synthetic.integrity import runner as suite_runner
from fg_env.data.synthetic.integrity.fair import gold_controls
from fg_env.text import split_sentences

SAMPLE_QUESTIONS = 20


@pytest.fixture(scope="module")
def examples():
    return SyntheticQA().split("test")[:SAMPLE_QUESTIONS]


@pytest.fixture(scope="module")
def cases(examples):
    return generate_fair_cases(examples, seed=0)


def world(case):
    return case.example.meta["world"]


# -- the cases ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("family", FAIR_FAMILIES)
def test_each_family_rewords_sentences_of_real_questions(cases, family):
    mine = [c for c in cases if c.cls == f"fair-{family}"]
    questions = {c.example.id for c in mine}
    assert len(questions) >= SAMPLE_QUESTIONS // 2, f"{family}: cases for {len(questions)} questions only"
    assert {c.half for c in mine} == {DEV, HELD_OUT}


def test_cases_are_deterministic_and_unknown_families_refused(examples, cases):
    assert generate_fair_cases(examples, seed=0) == cases
    with pytest.raises(ValueError, match="unknown fair families"):
        generate_fair_cases(examples, families=["sarcasm"])


def test_a_case_rewords_one_gold_unit_in_place(cases):
    """Context and rest are the gold answer's own sentences; the probe is whole sentences and new."""
    for case in cases:
        golds = case.example.references
        assert any(gold.startswith(case.context) and gold.endswith(case.after) for gold in golds), case.answer
        assert case.answer not in golds
        spans = split_sentences(case.answer)
        start, end = case.probe_span
        assert any(s.start == start for s in spans) and any(s.end == end for s in spans), case.answer


def test_a_case_states_the_worlds_facts(cases):
    """What a probe states is read from the world's facts, and each value is in the probe."""
    for case in cases:
        facts = {(f.entity, f.attribute): f.value for f in world(case).facts}
        assert case.states and case.states <= facts.keys()
        for key in case.states:
            assert facts[key] in case.sentence, (key, case.sentence)


def test_expected_completeness_is_computed_from_the_worlds_required_facts(cases):
    """Not a constant: the weighted share of required facts the answer states, recomputed here."""
    seen = Counter()
    for case in cases:
        required = world(case).required_facts
        gold = next(g for g in case.example.references if g.startswith(case.context) and g.endswith(case.after))
        stated = {(f.entity, f.attribute) for f in required if f.value in gold}
        total = sum(COMPLETENESS_WEIGHTS[f.role] for f in required)
        want = sum(COMPLETENESS_WEIGHTS[f.role] for f in required if (f.entity, f.attribute) in stated) / total
        assert case.expect.completeness == pytest.approx(want), case.answer
        assert case.expect.factuality is None and case.expect.relevance is None
        seen[case.expect.completeness] += 1
    assert seen  # the gold answers state every required fact, so this is 1.0 here


def test_the_gold_answer_passes_every_fair_check(examples):
    """The gold text in place of each reworded unit, with the same expectation, passes: the checks
    themselves are fair."""
    controls = gold_controls(examples)
    assert len(controls) > SAMPLE_QUESTIONS
    annotator = Annotator()
    failing = [(c.sentence, why) for c in controls for ok, why in [check_case(annotator, c)] if not ok]
    assert not failing, failing[:3]


def test_a_wrong_rewording_fails_the_check(cases):
    """The fair check is not vacuous: a reworded sentence with a wrong year fails it."""
    case = next(c for c in cases if c.cls == "fair-date" and "in the year" in c.sentence)
    year = next(f.value for f in world(case).facts if f.value in case.sentence and f.attribute == "year")
    wrong = dataclasses.replace(case, sentence=case.sentence.replace(year, str(int(year) - 1)))
    passed, reason = check_case(Annotator(), wrong)
    assert not passed and "factuality" in reason


# -- the split ---------------------------------------------------------------------------------------------
def test_split_is_deterministic_disjoint_and_covers_every_phrasing():
    halves = split_halves()
    assert halves == split_halves() and SPLIT_SEED == 20
    assert set(halves) == set(FAIR_PHRASINGS) and len(FAIR_PHRASINGS) == len(set(FAIR_PHRASINGS))
    dev = {p for p, half in halves.items() if half == DEV}
    held_out = {p for p, half in halves.items() if half == HELD_OUT}
    assert dev.isdisjoint(held_out) and dev | held_out == set(FAIR_PHRASINGS)
    for family in FAIR_FAMILIES:
        mine = [p for p in FAIR_PHRASINGS if p.family == family]
        n_dev = sum(halves[p] == DEV for p in mine)
        assert 0 < n_dev < len(mine) and abs(2 * n_dev - len(mine)) <= 1, family


def test_split_is_pinned():
    """The held-out half must not move once measured: a change here re-deals it (and voids it)."""
    dev = sorted(
        p.template.split(",")[0] for p, half in split_halves().items() if p.family == "discourse" and half == DEV
    )
    assert dev == ["Also", "However", "In addition", "In fact", "Indeed"]


def test_a_cases_half_is_its_phrasings_and_not_the_seed(examples):
    halves = {p.label: half for p, half in split_halves().items()}
    assert len(halves) == len(FAIR_PHRASINGS)  # labels are unique
    for seed in (0, 1):
        for case in generate_fair_cases(examples[:5], seed=seed):
            assert case.half == halves[case.note], case.note


# -- the runner ----------------------------------------------------------------------------------------------
def test_runner_counts_each_half():
    example = SyntheticQA().split("test")[0]
    cases = generate_fair_cases([example], families=["coordination"])
    result = run_fair_suite(Annotator(), cases)
    assert set(result) == {("fair-coordination", DEV), ("fair-coordination", HELD_OUT)}
    assert sum(total for _, total in result.values()) == len(cases)


def test_fair_table_has_both_halves():
    result = FairResult({(cls, half): (1, 2) for cls in FAIR_CLASSES for half in (DEV, HELD_OUT)})
    table = format_fair_table(result).splitlines()
    assert "dev pass rate" in table[0] and "held-out pass rate" in table[0]
    assert [row.split(" | ")[0].strip("| ") for row in table[2:]] == list(FAIR_CLASSES)
    assert table[2].endswith("| 2 | 1 | 50.0% | 2 | 1 | 50.0% |")


def test_command_prints_both_groups(capsys):
    assert cli_main(["integrity", "--questions", "2"]) == 0
    out = capsys.readouterr().out
    assert "| gold | control |" in out and "Fair controls:" in out
    assert "| fair-voice | fair |" in out and "held-out pass rate" in out
    assert cli_main(["integrity", "--questions", "2", "--no-fair"]) == 0
    assert "Fair controls" not in capsys.readouterr().out


def test_strict_does_not_gate_the_fair_group(monkeypatch, capsys):
    monkeypatch.setattr(suite_runner, "run_suite", lambda *args, **kwargs: SuiteResult({"gold": (100, 100)}))
    failing = FairResult({("fair-voice", DEV): (0, 10)})
    monkeypatch.setattr(suite_runner, "run_fair_suite", lambda *args, **kwargs: failing)
    assert cli_main(["integrity", "--questions", "1", "--strict"]) == 0
    assert "| fair-voice | fair | 10 | 0 | 0.0% |" in capsys.readouterr().out


# -- the fresh half: phrasings written after the split, measured once ------------------------------------------
FRESH_QUESTIONS = 50


@pytest.fixture(scope="module")
def fresh_cases():
    return generate_fresh_cases(SyntheticQA().split("test")[:FRESH_QUESTIONS], seed=0)


def test_fresh_phrasings_are_new_and_labelled_apart():
    assert set(FRESH_PHRASINGS).isdisjoint(FAIR_PHRASINGS)
    labels = [p.label for p in (*FAIR_PHRASINGS, *FRESH_PHRASINGS)]
    assert len(labels) == len(set(labels))
    counts = Counter(p.family for p in FRESH_PHRASINGS)
    assert set(counts) == set(FAIR_FAMILIES) and all(6 <= n <= 10 for n in counts.values()), counts


@pytest.mark.parametrize("family", FAIR_FAMILIES)
def test_fresh_phrasings_fill_on_the_test_split(fresh_cases, family):
    mine = [c for c in fresh_cases if c.cls == f"fair-{family}"]
    assert len(mine) >= 20, f"{family}: {len(mine)} fresh cases on {FRESH_QUESTIONS} questions"
    assert {c.half for c in mine} == {FRESH}
    per_question = Counter(c.example.id for c in mine)
    assert max(per_question.values()) <= suite_fair.MAX_FAIR_CASES
    fresh_labels = {p.label for p in FRESH_PHRASINGS if p.family == family}
    assert {c.note for c in mine} <= fresh_labels


def test_fresh_cases_are_deterministic_and_leave_the_other_halves_alone(fresh_cases, examples, cases):
    assert generate_fresh_cases(SyntheticQA().split("test")[:FRESH_QUESTIONS], seed=0) == fresh_cases
    assert generate_fresh_cases(examples, seed=1) != generate_fresh_cases(examples, seed=0)
    assert all(c.half in (DEV, HELD_OUT) for c in cases)
    with pytest.raises(ValueError, match="unknown fair families"):
        generate_fresh_cases(examples, families=["sarcasm"])


def test_fresh_table_adds_a_column_group():
    result = FairResult({(cls, half): (1, 2) for cls in FAIR_CLASSES for half in (DEV, HELD_OUT, FRESH)})
    plain, fresh = format_fair_table(result).splitlines(), format_fair_table(result, fresh=True).splitlines()
    assert "fresh" not in plain[0] and "fresh cases | fresh passed | fresh pass rate" in fresh[0]
    assert fresh[1].count("---:") == 9 and fresh[2].endswith(" | ".join(["2 | 1 | 50.0%"] * 3) + " |")


def test_command_fresh_flag(monkeypatch, capsys):
    """--fresh adds the fresh cases to the fair run and the fresh columns to its table (the annotator is
    stubbed: the fresh half is measured once, by the command itself, not by the tests)."""
    seen: list = []

    def fair_suite(annotator, cases, max_failures=5):
        cases = list(cases)
        seen.append(cases)
        return FairResult({("fair-voice", FRESH): (3, 4)})

    monkeypatch.setattr(suite_runner, "run_suite", lambda *args, **kwargs: SuiteResult({"gold": (1, 1)}))
    monkeypatch.setattr(suite_runner, "run_fair_suite", fair_suite)
    assert cli_main(["integrity", "--questions", "2", "--fresh"]) == 0
    out = capsys.readouterr().out
    assert "fresh pass rate" in out and "| fair-voice | fair | 0 | 0 | - | 0 | 0 | - | 4 | 3 | 75.0% |" in out
    assert {c.half for c in seen[-1]} == {DEV, HELD_OUT, FRESH}
    assert cli_main(["integrity", "--questions", "2"]) == 0
    assert "fresh" not in capsys.readouterr().out and FRESH not in {c.half for c in seen[-1]}
    assert cli_main(["integrity", "--questions", "2", "--fresh", "--no-fair"]) != 0
