"""Careless demonstrations (agents.policies.demonstrations): each habit makes the error type it is for, only
where it applies, at the rate asked; SFT supervises on them only in the extra worlds."""

from __future__ import annotations

import random

import pytest

from agents.policies.demonstrations import add_biography, careless_answer, leave_unfinished
from agents.experiments.evaluate import load_examples
from agents.policies.sft import SFTConfig, supervised_pairs
from fg_env.data import make_dataset
from fg_env.metrics import evaluate_answers
from fg_env.types import Passage, QAExample

PASSAGE = Passage(
    "Glimmer (song)",
    ("Glimmer is a single by Elsa Jessop.", "Elsa Jessop was born in 1931 in Ormsby.", "It was made in Kessling."),
)
EXAMPLE = QAExample("q", "Who sang Glimmer?", (PASSAGE,), ("Glimmer is a single by Elsa Jessop.",))


def test_a_biography_follows_the_first_sentence_naming_the_person_once():
    sentences = ["Glimmer is by Elsa Jessop.", "Elsa Jessop also sang it live.", "It was made in Kessling."]
    written = add_biography(EXAMPLE, sentences, random.Random(0), share=1.0)
    assert written == [sentences[0], "Elsa Jessop was born in 1931 in Ormsby.", *sentences[1:]]
    assert add_biography(EXAMPLE, sentences, random.Random(0), share=0.0) == sentences
    # Nobody named, or the birth already said: nothing to add.
    assert add_biography(EXAMPLE, ["It was made in Kessling."], random.Random(0), 1.0) == ["It was made in Kessling."]
    said = ["Elsa Jessop was born in 1931 in Ormsby."]
    assert add_biography(EXAMPLE, said, random.Random(0), 1.0) == said


def test_an_unfinished_ending_stops_before_the_last_value():
    assert leave_unfinished(["A.", "It was made in Kessling."], random.Random(0), 1.0) == ["A.", "It was made in"]
    assert leave_unfinished(["It came out in 1963 and is by Elsa Jessop."], random.Random(0), 1.0) == [
        "It came out in 1963 and is by"
    ]
    assert leave_unfinished(["Nothing to cut here."], random.Random(0), 1.0) == ["Nothing to cut here."]
    assert leave_unfinished([], random.Random(0), 1.0) == []
    assert leave_unfinished(["It was made in Kessling."], random.Random(0), 0.0) == ["It was made in Kessling."]


def test_the_share_is_the_rate_of_each_habit():
    rng = random.Random(1)
    endings = [leave_unfinished(["It was made in Kessling."], rng, 0.3)[0] for _ in range(4000)]
    assert endings.count("It was made in") / len(endings) == pytest.approx(0.3, abs=0.03)
    with pytest.raises(ValueError, match=r"share must be a probability in \[0, 1\], got 1.5"):
        careless_answer(EXAMPLE, "Glimmer is a single by Elsa Jessop.", random.Random(0), 1.5)


def test_the_annotator_flags_each_habit_as_its_error_type():
    examples = load_examples("dev", 20)
    careless = [careless_answer(e, e.references[0], random.Random(i), 1.0) for i, e in enumerate(examples)]
    gold = evaluate_answers(examples, [e.references[0] for e in examples])
    metrics = evaluate_answers(examples, careless)
    assert gold.error_counts["Irrelevant"] == gold.error_counts["Incoherent"] == 0
    # Every dev question has a birth sentence and a final value to cut.
    assert metrics.error_counts["Irrelevant"] >= 18 and metrics.error_counts["Incoherent"] >= 18
    assert metrics.factuality_ratio == gold.factuality_ratio == 1.0  # copied sentences are true
    assert metrics.relevance_ratio < gold.relevance_ratio and metrics.completeness < gold.completeness


def test_sft_keeps_train_sft_gold_and_writes_the_extra_worlds_carelessly():
    gold = supervised_pairs(SFTConfig(num_examples=5, extra_worlds=1, careless_share=0.0))
    careless = supervised_pairs(SFTConfig(num_examples=5, extra_worlds=1, careless_share=0.5))
    assert careless[:5] == gold[:5]
    assert [prompt for prompt, _ in careless] == [prompt for prompt, _ in gold]
    changed = sum(a != b for (_, a), (_, b) in zip(careless[5:], gold[5:])) / len(gold[5:])
    assert 0.5 < changed < 0.9  # about 1 - 0.5 x 0.5 of the answers have a habit where both apply
    assert careless == supervised_pairs(SFTConfig(num_examples=5, extra_worlds=1, careless_share=0.5))  # seeded
    world = make_dataset("synthetic", seed=1).split("train")
    assert all(answer != "" for _, answer in careless[5:]) and len(careless) == 5 + len(world)


def test_the_cache_key_of_earlier_settings_is_kept():
    # At 0 the field is left out of the key: policies cached before it existed keep their folders.
    assert SFTConfig(careless_share=0.0).key() == "f973c8cdf61acb50"  # the default before careless demonstrations
    assert SFTConfig.quick().key() == "4de89ab81fb13d35"  # no extra worlds, nothing careless, the same key
    assert SFTConfig(careless_share=0.5).key() == SFTConfig().key() != SFTConfig(careless_share=0.0).key()
    with pytest.raises(ValueError, match="careless_share must be a probability"):
        SFTConfig(careless_share=-0.1)
