"""The detoxification prompts: RealToxicityPrompts' loader (hand-written files) and the built-in world."""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pytest

from fg_env.data import make_dataset
from fg_env.data.detox import DetoxPrompt, DetoxWorld, RealToxicityPrompts, toxic_vocabulary
from fg_env.errors import DataNotFoundError, InvalidValueError, PromptsFormatError, UnknownChoiceError
from fg_env.rewards.base import TaskExample
from fg_env.rewards.toxicity import make_toxicity_scorer


def record(i: int, toxicity: float | None = 0.1, **changes: object) -> dict:
    base = {
        "filename": f"{i:07d}-abc.txt",
        "begin": 10 * i,
        "end": 10 * i + 50,
        "challenging": i % 7 == 0,
        "prompt": {"text": f"Prompt number {i} says", "toxicity": toxicity, "profanity": 0.05},
        "continuation": {"text": f" continuation {i}.", "toxicity": 0.2},
    }
    base.update(changes)
    return base


def write(folder: Path, records: list, name: str = "prompts.jsonl") -> Path:
    path = folder / name
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in records))
    return path


# ------------------------------------------------------------------------------------------ the loader


def test_sampled_split_follows_dexperts_rule_and_quarks_shuffle(tmp_path: Path) -> None:
    records = [record(i, 0.9 if i % 3 == 0 else 0.2) for i in range(40)]
    write(tmp_path, records)
    rtp = RealToxicityPrompts(tmp_path, test_size=5, dev_size=6, test_seed=3)
    train, dev, test = (rtp.split(s) for s in ("train", "dev", "test"))
    assert (len(train), len(dev), len(test)) == (29, 6, 5) and rtp.test_source == "sampled"
    # test: a seeded sample of the non-toxic prompts, in file order
    eligible = [i for i in range(40) if i % 3 != 0]
    chosen = sorted(random.Random(3).sample(eligible, 5))
    assert [p.id for p in test] == [f"rtp-{i:06d}" for i in chosen]
    assert all(p.toxicity is not None and p.toxicity < 0.5 for p in test)
    # dev/train: Quark's process.py on the rest (random.seed(42); shuffle; first val_num are val)
    rest = [i for i in range(40) if i not in chosen]
    random.seed(42)
    random.shuffle(rest)
    assert [p.id for p in dev] == [f"rtp-{i:06d}" for i in rest[:6]]
    assert [p.id for p in train] == [f"rtp-{i:06d}" for i in rest[6:]]
    ids = [p.id for s in (train, dev, test) for p in s]
    assert len(set(ids)) == 40
    p = next(p for p in train + dev + test if p.id == "rtp-000007")
    assert isinstance(p, DetoxPrompt) and p.prompt == "Prompt number 7 says" and p.challenging and p.toxicity == 0.2
    example: TaskExample = p
    assert example.context == "" and example.references == ()


def test_dexperts_file_gives_the_test_split_and_quarks_train_dev(tmp_path: Path) -> None:
    records = [record(i) for i in range(20)]
    write(tmp_path, records)
    # DExperts' file: a subset of the records (one reformatted with its fields only) and one unknown prompt
    write(tmp_path, [records[4], {"prompt": {"text": records[11]["prompt"]["text"]}}], "nontoxic_prompts-10k.jsonl")
    rtp = make_dataset("real-toxicity-prompts", data_dir=tmp_path, dev_size=3)
    test = rtp.split("test")
    assert rtp.test_source == "dexperts" and [p.id for p in test] == ["rtp-000004", "rtp-000011"]
    rest = [i for i in range(20) if i not in (4, 11)]
    random.seed(42)
    random.shuffle(rest)
    assert [p.id for p in rtp.split("dev")] == [f"rtp-{i:06d}" for i in rest[:3]]
    assert [p.id for p in rtp.split("train")] == [f"rtp-{i:06d}" for i in rest[3:]]


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ("{not json", "prompts.jsonl: line 3: not valid JSON"),
        ("[1, 2]", "prompts.jsonl: line 3: expected a JSON object, got [1, 2]"),
        (record(2, filename=None), "line 3: field 'filename': expected a string, got null"),
        ({k: v for k, v in record(2).items() if k != "begin"}, "line 3: field 'begin': missing"),
        (record(2, begin="10"), "line 3: field 'begin': expected a non-negative integer, got '10'"),
        (record(2, begin=True), "line 3: field 'begin': expected a non-negative integer, got true"),
        (record(2, begin=90, end=80), "line 3: field 'end': expected an offset at or after begin (90), got 80"),
        (record(2, challenging="yes"), "line 3: field 'challenging': expected true or false, got 'yes'"),
        (record(2, prompt="text"), "line 3: field 'prompt': expected an object with 'text', got 'text'"),
        (record(2, prompt={"toxicity": 0.1}), "line 3: field 'prompt.text': missing"),
        (record(2, prompt={"text": 5}), "line 3: field 'prompt.text': expected a string, got 5"),
        (record(2, "high"), "line 3: field 'prompt.toxicity': expected a number in [0, 1] or null, got 'high'"),
        (record(2, 1.5), "line 3: field 'prompt.toxicity': expected a number in [0, 1] or null, got 1.5"),
        (record(2, continuation={"text": " x", "insult": -1}), "field 'continuation.insult'"),
        ({k: v for k, v in record(2).items() if k != "continuation"}, "line 3: field 'continuation': missing"),
    ],
)
def test_malformed_lines_are_named_by_line_and_field(tmp_path: Path, bad: object, message: str) -> None:
    write(tmp_path, [record(0), record(1), bad, record(3)])
    with pytest.raises(PromptsFormatError, match=None) as caught:
        RealToxicityPrompts(tmp_path, test_size=1, dev_size=1).split("train")
    assert message in str(caught.value) and "\n" not in str(caught.value)
    assert caught.value.line == 3


def test_blank_lines_null_scores_and_bad_bytes(tmp_path: Path) -> None:
    write(tmp_path, [record(0), "", record(1, None), record(2)])
    rtp = RealToxicityPrompts(tmp_path, test_size=1, dev_size=1)
    assert sorted(p.id for s in rtp.splits for p in rtp.split(s)) == ["rtp-000000", "rtp-000002", "rtp-000003"]
    (tmp_path / "prompts.jsonl").write_bytes(json.dumps(record(0)).encode() + b"\n\xff\xfe\n")
    with pytest.raises(PromptsFormatError, match=r"^prompts.jsonl: line 2: not UTF-8 text"):
        RealToxicityPrompts(tmp_path, test_size=0, dev_size=0).split("test")


def test_missing_folder_file_and_too_few_prompts(tmp_path: Path) -> None:
    with pytest.raises(DataNotFoundError, match="folder .* does not exist"):
        RealToxicityPrompts(tmp_path / "nope").split("test")
    with pytest.raises(DataNotFoundError, match="no prompts.jsonl in RealToxicityPrompts folder"):
        RealToxicityPrompts(tmp_path).split("test")
    write(tmp_path, [record(0), record(1, 0.8)])
    with pytest.raises(InvalidValueError, match="1 prompts have a toxicity below 0.5, fewer than test_size 10000"):
        RealToxicityPrompts(tmp_path).split("test")
    with pytest.raises(UnknownChoiceError, match="valid choices: train, dev, test"):
        RealToxicityPrompts(tmp_path).split("val")
    assert isinstance(DataNotFoundError("x"), FileNotFoundError)


# ------------------------------------------------------------------------------------------ the world


def test_world_is_seeded_disjoint_and_registered() -> None:
    world = make_dataset("detox-synthetic")
    assert isinstance(world, DetoxWorld) and [len(world.split(s)) for s in world.splits] == [2000, 500, 500]
    again = DetoxWorld(seed=0)
    assert world.split("dev")[:20] == again.split("dev")[:20] and world.corpus("dev") == again.corpus("dev")
    other = DetoxWorld(seed=1)
    assert other.split("dev")[0].id == "detox-s1-dev-00000" and other.split("dev")[:20] != world.split("dev")[:20]
    texts = [p.prompt for s in world.splits for p in world.split(s)]
    assert len(set(texts)) == len(texts)
    with pytest.raises(InvalidValueError):
        DetoxWorld(seed=-1)
    with pytest.raises(UnknownChoiceError):
        world.corpus("val")


def test_world_words_come_from_the_installed_scorer_model() -> None:
    terms, source = toxic_vocabulary()
    assert len(terms) == 24 and source.startswith("alt-profanity-check-")
    scorer = make_toxicity_scorer("profanity-check")
    assert np.all(scorer.toxicity([f"a {t}" for t in terms]) > 0.5)


def test_toxic_continuations_score_high_and_clean_ones_low() -> None:
    world = DetoxWorld()
    scorer = make_toxicity_scorer("profanity-check")
    for split, stride in (("train", 7), ("dev", 3), ("test", 3)):
        corpus = world.corpus(split)[::stride]
        scores = scorer.toxicity([c.continuation for c in corpus])
        toxic = np.array([c.toxic for c in corpus])
        assert toxic.any() and (~toxic).any()
        assert scores[toxic].min() >= 0.5, split
        assert scores[~toxic].max() < 0.5, split
    prompts = world.split("train")
    assert scorer.toxicity([p.prompt for p in prompts]).max() < 0.5


def test_enough_train_prompts_have_a_toxic_continuation() -> None:
    world = DetoxWorld()
    corpus = world.corpus("train")
    with_toxic = {c.prompt_id for c in corpus if c.toxic}
    share = len(with_toxic) / len(world.split("train"))
    assert share >= 1 / 3
    for prompt in world.split("train")[:50]:
        assert prompt.challenging == (prompt.id in with_toxic)
        mine = [c for c in corpus if c.prompt_id == prompt.id]
        assert prompt.references == tuple(c.continuation for c in mine if not c.toxic)
        assert all(c.prompt == prompt.prompt for c in mine)
