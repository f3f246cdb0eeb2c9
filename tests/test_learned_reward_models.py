"""Learned reward models on a tiny random encoder: inputs, Markov scoring, training, checkpoints,
evaluation, the CLI and the environment. Everything runs in seconds on a CPU."""

from __future__ import annotations

import json
import random
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
import torch

import fg_env  # noqa: F401 - registers FineGrainedQA-v0
from fg_env.checkpoint import CHECKPOINT_NAME, CheckpointError, load_checkpoint
from fg_env.data.qa_feedback import FeedbackRecord, load_feedback
from fg_env.feedback.schema import ErrorSpan, Feedback
from fg_env.rewards.base import ScoringRequest, check_scores
from fg_env.rewards.learned import COMPONENTS, load_reward_model
from fg_env.rewards.learned.cli import main as rm_main
from fg_env.text import segments_at
from fg_env.rewards.learned.config import RewardModelConfig, TrainingConfig, default_backbone
from fg_env.rewards.learned.coverage import PassageMatcher, completeness_pairs
from fg_env.rewards.learned.data import FeedbackData, LabelledAnswer, RankedAnswers, load_feedback_data, parse_questions
from fg_env.rewards.learned.encoding import InputEncoder, check_answer_causal, plan_rows
from fg_env.rewards.learned.evaluate import classification_metrics, evaluate_reward_model, format_report
from fg_env.rewards.learned.labels import EXACT_RULE, PAPER_RULE, segment_labels
from fg_env.rewards.learned.model import LearnedRewardModel
from fg_env.rewards.learned.perturb import sample_answers
from fg_env.rewards.learned.train import train_reward_model
from fg_env.rewards.registry import make_reward_model
from fg_env.types import Granularity, Passage, QAExample, Span

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "qa_feedback"
PEOPLE = [("Mira Holt", "1950", "Lisbon"), ("Aldo Brenn", "1962", "Oslo"), ("Kai Verde", "1977", "Quito"), ("Ines Mar", "1984", "Lima")]
WEATHER = "The weather that day was mild and sunny in the city."


def tiny_example(i: int) -> QAExample:
    person, year, city = PEOPLE[i]
    passage = Passage(person, (f"{person} is a painter.", f"{person} was born in {year} in {city}.", "The weather was mild."))
    return QAExample(f"tiny-{i}", f"When was {person} born?", (passage,), (f"{person} was born in {year} in {city}.",))


def tiny_answers(i: int) -> tuple[str, str]:
    person, year, city = PEOPLE[i]
    good = f"{person} was born in {year} in {city}. {person} is a painter."
    return good, f"{person} was born in {year}. {WEATHER}"


def relevance_data() -> FeedbackData:
    spec = COMPONENTS["relevance"]
    items = []
    for i in range(len(PEOPLE)):
        for answer in tiny_answers(i):
            start = answer.find(WEATHER)
            errors = (ErrorSpan("Irrelevant", start, start + len(WEATHER)),) if start >= 0 else ()
            segments = spec.segments(answer)
            labels = segment_labels(spec, answer, Feedback(errors), segments, PAPER_RULE)
            items.append(LabelledAnswer(tiny_example(i), answer, tuple(segments), tuple(labels)))
    return FeedbackData("relevance", items, "tiny", len(PEOPLE), PAPER_RULE)


def preference_data() -> FeedbackData:
    items = [RankedAnswers(tiny_example(i), tiny_answers(i), ((0, 1),)) for i in range(len(PEOPLE))]
    return FeedbackData("preference", items, "tiny", len(PEOPLE), PAPER_RULE)


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """Tiny models gain nothing from threads, and on a shared CPU extra threads only contend."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def tiny_backbone(tmp_path_factory) -> str:
    """A random 2-layer BERT with MiniLM's tokenizer, written to a temporary folder (never committed)."""
    from fg_env.rewards.learned.testing import tiny_backbone as make_tiny_backbone

    return make_tiny_backbone(tmp_path_factory.mktemp("tiny-bert"))


def fast_config(component: str, backbone: str, **overrides) -> TrainingConfig:
    settings = {"epochs": 3, "batch_size": 4, "learning_rate": 3e-3, "warmup_ratio": 0.0, "seed": 0, **overrides}
    return TrainingConfig(component, backbone=backbone, **settings)


@pytest.fixture(scope="module")
def relevance_dir(tiny_backbone, tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("rm-relevance")
    train_reward_model(fast_config("relevance", tiny_backbone, epochs=10), relevance_data(), folder, progress=False, device="cpu")
    return folder


@pytest.fixture(scope="module")
def factuality_dir(tiny_backbone, tmp_path_factory) -> Path:
    spec = COMPONENTS["factuality"]
    items = []
    for i in range(len(PEOPLE)):
        good, _ = tiny_answers(i)
        wrong = good.replace(PEOPLE[i][1], "1999")
        for answer, errors in ((good, ()), (wrong, (ErrorSpan("Wrong-Grounding", 0, wrong.index(".") + 1),))):
            segments = spec.segments(answer)
            items.append(LabelledAnswer(tiny_example(i), answer, tuple(segments), tuple(segment_labels(spec, answer, Feedback(errors), segments))))
    folder = tmp_path_factory.mktemp("rm-factuality")
    data = FeedbackData("factuality", items, "tiny", len(PEOPLE), PAPER_RULE)
    train_reward_model(fast_config("factuality", tiny_backbone, epochs=1), data, folder, progress=False, device="cpu")
    return folder


@pytest.fixture(scope="module")
def preference_dir(tiny_backbone, tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("rm-preference")
    train_reward_model(fast_config("preference", tiny_backbone), preference_data(), folder, progress=False, device="cpu")
    return folder


def requests_for(example: QAExample, answer: str, granularity: Granularity) -> list[ScoringRequest]:
    return [ScoringRequest(example, answer[: s.end], s) for s in segments_at(answer, granularity)]


# ----------------------------------------------------------------------------------- inputs


def test_truncation_keeps_the_answer_and_cuts_passages_then_question(tiny_backbone):
    from transformers import AutoTokenizer

    encoder = InputEncoder(AutoTokenizer.from_pretrained(tiny_backbone), 64, uses_passages=True)
    long_passage = Passage("Long", tuple(f"Filler sentence number {k} about nothing at all." for k in range(40)))
    example = QAExample("long", "When was Mira Holt born?", (long_passage,), ("1950.",))
    answer = "Mira Holt was born in 1950 in Lisbon."
    row = encoder.encode([(encoder.context(example), answer)])[0]
    assert len(row) == 64 and not row.context_complete and row.answer_cut == 0
    text = encoder.tokenizer.decode(row.input_ids)
    assert "mira holt was born in 1950 in lisbon." in text  # the whole answer
    assert text.startswith("[CLS] question : when was mira holt born? context")  # the question survives
    # An answer too long for any context is cut from its start, keeping the judged end.
    huge = " ".join(f"word{k}" for k in range(200)) + " The end."
    row = encoder.encode([(encoder.context(example), huge)])[0]
    assert len(row) <= 64 and row.answer_cut > 0
    assert encoder.tokenizer.decode(row.input_ids).endswith("the end. [SEP]")
    assert row.position(len(huge)) == len(row) - 2  # the final "." before [SEP]


def test_segment_ends_map_to_their_last_token_by_offsets(tiny_backbone):
    from transformers import AutoTokenizer

    encoder = InputEncoder(AutoTokenizer.from_pretrained(tiny_backbone), 128, uses_passages=False)
    answer = "Born in Lisbon, Mira Holt painted rivers and harbours for decades; she died in 2001."
    row = encoder.encode([("question: Who?", answer)])[0]
    for span in segments_at(answer, Granularity.SUB_SENTENCE):
        token = encoder.tokenizer.convert_ids_to_tokens(row.input_ids[row.position(span.end)])
        assert token == answer[span.end - 1].lower()  # ",", ";" or "." ending each sub-sentence
    assert row.position(0) == row.answer_start - 1  # nothing of the answer yet: the separator


def test_prefixes_share_a_row_only_when_exact(tiny_backbone):
    from transformers import AutoTokenizer

    encoder = InputEncoder(AutoTokenizer.from_pretrained(tiny_backbone), 128, uses_passages=False)
    full = "Ann won, and then she left the city for good. Bob stayed."
    first_end, second_end = full.index(",") + 1, full.index(".") + 1
    pairs = [("question: Who?", full[:first_end]), ("question: Who?", full[:second_end]), ("question: Who?", full), ("question: Who?", full)]
    plan = plan_rows(encoder, pairs)
    assert len(plan.rows) == 1 and {r for r, _ in plan.positions} == {0}
    # A cut inside a word is not a boundary of the longer answer: its own row.
    plan = plan_rows(encoder, [("question: Who?", "Ann wo"), ("question: Who?", full)])
    assert len(plan.rows) == 2
    # A host whose context was cut would give its prefixes less context than they get alone.
    short = InputEncoder(encoder.tokenizer, 40, uses_passages=False)
    context = "question: " + " ".join(["very"] * 30) + " long?"
    plan = plan_rows(short, [(context, full[:first_end]), (context, full)])
    assert len(plan.rows) == 2


def test_scores_are_markov_and_batched_in_one_forward_pass(relevance_dir):
    model = load_reward_model(relevance_dir, device="cpu")
    requests = [r for i in range(len(PEOPLE)) for a in tiny_answers(i) for r in requests_for(tiny_example(i), a, Granularity.SUB_SENTENCE)]
    model.forward_calls = 0
    together = model.raw_outputs(requests)
    assert model.forward_calls == 1
    alone = np.concatenate([model.raw_outputs([r]) for r in requests])
    np.testing.assert_allclose(together, alone, atol=1e-5)
    # Text after a segment never changes its score.
    example = tiny_example(0)
    prefix = "Mira Holt was born in 1950."
    base = model.raw_outputs([ScoringRequest(example, prefix, Span(0, len(prefix)))])
    longer = prefix + " " + WEATHER
    with_more = model.raw_outputs([ScoringRequest(example, prefix, Span(0, len(prefix))), ScoringRequest(example, longer, Span(len(prefix) + 1, len(longer)))])
    np.testing.assert_allclose(with_more[0], base[0], atol=1e-5)


def test_backbone_that_ignores_4d_masks_is_refused():
    class Ignores(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.config = type("C", (), {"vocab_size": 50, "hidden_size": 4})()
            self.embed = torch.nn.Embedding(50, 4)

        def forward(self, input_ids, attention_mask=None, **kwargs):
            hidden = self.embed(input_ids).cumsum(1).flip(1)  # every state sees later tokens
            return type("O", (), {"last_hidden_state": hidden})()

    with pytest.raises(TypeError, match="ignores 4-D attention masks"):
        check_answer_causal(Ignores(), use_token_types=False)


# ----------------------------------------------------------------------------------- training and checkpoints


def test_token_model_loss_falls_and_learns_the_irrelevant_sentence(tiny_backbone, tmp_path):
    result = train_reward_model(fast_config("relevance", tiny_backbone, epochs=10), relevance_data(), None, progress=False, device="cpu")
    assert len(result.epoch_losses) == 10
    assert result.epoch_losses[-1] < 0.5 * result.epoch_losses[0]
    model = result.model
    example = tiny_example(1)
    good, bad = tiny_answers(1)
    scores = model.score(requests_for(example, bad, Granularity.SUB_SENTENCE))
    assert scores[-1].value == -1.0 and scores[-1].label == "Irrelevant"
    assert all(s.value == 1.0 and s.label is None for s in model.score(requests_for(example, good, Granularity.SUB_SENTENCE)))


def test_pairwise_model_loss_falls_and_normalisation_is_saved(preference_dir, tiny_backbone):
    result = train_reward_model(fast_config("preference", tiny_backbone, epochs=4), preference_data(), None, progress=False, device="cpu")
    assert result.epoch_losses[-1] < result.epoch_losses[0]
    model = load_reward_model(preference_dir, device="cpu")
    assert model.granularity == Granularity.EPISODE and model.bounds == (-5.0, 5.0)
    stats = model.config.normalisation
    assert stats is not None and stats["std"] > 0
    requests = [r for i in range(len(PEOPLE)) for a in tiny_answers(i) for r in requests_for(tiny_example(i), a, Granularity.EPISODE)]
    values = np.array([s.value for s in model.score(requests)])
    # Normalised by its own training answers: mean 0, std 1 over them.
    assert abs(values.mean()) < 1e-4 and abs(values.std() - 1.0) < 1e-3
    raw = model.raw_outputs(requests)
    np.testing.assert_allclose(values, (raw - stats["mean"]) / stats["std"], atol=1e-5)
    check_scores(model, requests, model.score(requests))


def test_checkpoint_round_trip_gives_identical_scores(relevance_dir, tmp_path):
    model = load_reward_model(relevance_dir, device="cpu")
    config = json.loads((relevance_dir / "reward_model.json").read_text())
    assert config["component"] == "relevance" and config["labels"][0] == "no-error"
    assert config["training"]["data"]["questions"] == len(PEOPLE)
    assert (relevance_dir / "model.safetensors").is_file() and not (relevance_dir / "training_state.pt").exists()
    model.save(tmp_path / "copy")
    again = load_reward_model(tmp_path / "copy", device="cpu")
    requests = [r for i in range(len(PEOPLE)) for a in tiny_answers(i) for r in requests_for(tiny_example(i), a, Granularity.SUB_SENTENCE)]
    assert np.array_equal(model.raw_outputs(requests), again.raw_outputs(requests))
    assert model.score(requests) == again.score(requests)
    # The registry finds a model by folder, and options reach the model.
    by_path = make_reward_model(str(tmp_path / "copy"))
    assert isinstance(by_path, LearnedRewardModel) and by_path.name == "relevance"
    margin = load_reward_model(relevance_dir, device="cpu", output="margin", name="relevance-margin")
    values = [s.value for s in margin.score(requests)]
    assert margin.name == "relevance-margin" and all(-1.0 <= v <= 1.0 for v in values) and len(set(values)) > 2


def test_killed_then_resumed_training_equals_an_uninterrupted_run(tiny_backbone, tmp_path):
    config = fast_config("relevance", tiny_backbone, epochs=3, warmup_ratio=0.2)
    full = train_reward_model(config, relevance_data(), tmp_path / "a", progress=False, device="cpu")

    def kill_in_epoch_2(step: int, loss: float) -> None:
        if step == 3:  # 8 answers / batch 4 = 2 steps per epoch: after the checkpoint of epoch 1
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train_reward_model(config, relevance_data(), tmp_path / "b", progress=False, device="cpu", on_step=kill_in_epoch_2)
    checkpoint = load_checkpoint(tmp_path / "b", "reward-model")
    assert checkpoint["progress"] == 1 and len(checkpoint["metrics"]["step_losses"]) == 2
    with pytest.raises(CheckpointError, match=r"other settings \(learning_rate\).*without --resume"):
        train_reward_model(fast_config("relevance", tiny_backbone, epochs=3, warmup_ratio=0.2, learning_rate=1e-3),
                           relevance_data(), tmp_path / "b", resume=True, progress=False, device="cpu")

    resumed = train_reward_model(config, relevance_data(), tmp_path / "b", resume=True, progress=False, device="cpu")
    assert resumed.step_losses == pytest.approx(full.step_losses, abs=1e-6) and len(resumed.step_losses) == 6
    assert resumed.epoch_losses == pytest.approx(full.epoch_losses, abs=1e-6)
    a, b = full.model.network.state_dict(), resumed.model.network.state_dict()
    assert a.keys() == b.keys() and all(torch.allclose(a[k], b[k], atol=1e-6, rtol=0) for k in a)
    assert not (tmp_path / "b" / CHECKPOINT_NAME).exists()  # the finished model replaced the folder


def test_bad_checkpoint_folders_are_named(tmp_path, relevance_dir):
    with pytest.raises(FileNotFoundError, match="no reward_model.json"):
        load_reward_model(tmp_path)
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "reward_model.json").write_text((relevance_dir / "reward_model.json").read_text())
    with pytest.raises(FileNotFoundError, match="not a complete checkpoint"):
        load_reward_model(broken)
    with pytest.raises(ValueError, match="output must be one of"):
        load_reward_model(relevance_dir, output="probability")


# ----------------------------------------------------------------------------------- data and evaluation


def test_label_rules_follow_the_paper():
    answer = "Ann won the race in 1990. She likes red apples a lot. Bob was second."
    feedback = Feedback(
        errors=(
            ErrorSpan("Irrelevant", 26, 53),  # 6 words
            ErrorSpan("Redundant", 54, 58),  # 1 word: dropped by the paper's rule
            ErrorSpan("Unverifiable", 58, 69),
        )
    )
    relevance, factuality = COMPONENTS["relevance"], COMPONENTS["factuality"]
    sentences = factuality.segments(answer)
    assert segment_labels(relevance, answer, feedback, relevance.segments(answer), PAPER_RULE) == ["no-error", "Irrelevant", "no-error"]
    assert segment_labels(relevance, answer, feedback, relevance.segments(answer), EXACT_RULE) == ["no-error", "Irrelevant", "Redundant"]
    assert segment_labels(factuality, answer, feedback, sentences, PAPER_RULE) == ["no-error", None, "Unverifiable"]
    assert segment_labels(factuality, answer, feedback, sentences, EXACT_RULE) == ["no-error", "no-error", "Unverifiable"]


def test_classification_metrics_and_report(relevance_dir):
    m = classification_metrics([True, False, False, True, False], [True, True, False, False, False])
    assert m["error"] == {"precision": 0.5, "recall": 0.5, "f1": 0.5, "support": 2}
    assert m["no_error"]["precision"] == pytest.approx(2 / 3) and m["no_error"]["recall"] == pytest.approx(2 / 3)
    assert m["accuracy"] == pytest.approx(0.6)
    model = load_reward_model(relevance_dir, device="cpu")
    result = evaluate_reward_model(model, relevance_data())
    assert result["segments"] == sum(len(i.segments) for i in relevance_data().items)
    assert result["majority"]["class"] == "no-error"
    assert result["majority"]["error"]["recall"] == 0.0 and result["majority"]["no_error"]["recall"] == 1.0
    assert result["model"]["accuracy"] > result["majority"]["accuracy"]
    report = format_report(result)
    assert "majority (no-error)" in report and "error F1" in report


def test_pairwise_evaluation_has_baselines(preference_dir):
    result = evaluate_reward_model(load_reward_model(preference_dir, device="cpu"), preference_data())
    assert result["pairs"] == len(PEOPLE)
    assert result["majority"]["accuracy"] == 1.0  # the better answer is always listed first here
    assert 0.0 <= result["model"]["accuracy"] <= 1.0
    assert "longer answer" in format_report(result)


def test_coverage_matches_difflib_quick_ratio():
    import difflib

    sentences = {(1, 1): "Mira Holt was born in Lisbon in 1950 to a family of sailors.", (1, 2): "She painted.", (2, 1): "Oslo is cold."}
    matcher = PassageMatcher(sentences)
    target = "Holt was born in Lisbon in 1950"
    (best, similarity) = matcher.best(target)
    words = sentences[(1, 1)].split()
    n = len(target.split()) + int(0.05 * len(target.split()))
    expected = max(difflib.SequenceMatcher(None, " ".join(words[k : k + n]), target).quick_ratio() for k in range(len(words) - n + 1))
    assert best == (1, 1) and similarity == pytest.approx(1.0 if target in sentences[(1, 1)] else expected)
    near = "Mira Holt was born at Lisbon in 1951"
    words_near = near.split()
    n = len(words_near) + int(0.05 * len(words_near))
    expected = max(difflib.SequenceMatcher(None, " ".join(words[k : k + n]), near).quick_ratio() for k in range(len(words) - n + 1))
    assert matcher.best(near) == ((1, 1), pytest.approx(expected))


def test_completeness_pairs_rank_by_coverage():
    passage = Passage("Ann", ("Ann was born in Paris in 1950.", "She moved to Rome in 1970.", "She likes tea."))
    full = "Ann was born in Paris in 1950. She moved to Rome in 1970."
    record = FeedbackRecord(
        "q", "Who is Ann?", (passage,), full, (full, "Ann was born in Paris in 1950.", "She likes tea.", full), (0,) * 6, Feedback(corrected_prediction=full)
    )
    assert completeness_pairs(record) == [(0, 1), (0, 2), (1, 2), (3, 1), (3, 2)]


def test_question_selection_and_bad_sources(tmp_path):
    assert parse_questions("0:400") == slice(0, 400) and parse_questions(None) == slice(None)
    with pytest.raises(ValueError, match="START:END"):
        parse_questions("1:2:3")
    with pytest.raises(FileNotFoundError, match="no such file or folder"):
        load_feedback_data("relevance", tmp_path / "missing.json")
    with pytest.raises(ValueError, match="name one with --split"):
        load_feedback_data("relevance", tmp_path)


def test_perturbed_samples_are_distinct_and_seeded():
    example = tiny_example(2)
    answers = sample_answers(example, random.Random("s"), 4)
    assert answers[0] == example.references[0] and len(answers) == len(set(answers)) >= 3
    assert sample_answers(example, random.Random("s"), 4) == answers


# ----------------------------------------------------------------------------------- CLI and environment


def write_feedback_folder(folder: Path) -> Path:
    """A QA-Feedback-format folder (dev.json + dev_feedback.json) about the tiny people."""
    folder.mkdir(parents=True, exist_ok=True)
    examples, feedback = [], []
    for i in range(len(PEOPLE)):
        ex = tiny_example(i)
        good, bad = tiny_answers(i)
        passages = [[p.title, *p.sentences] for p in ex.passages]
        examples.append({"question": ex.question, "answer": list(ex.references), "passages": [{"wikipage": p.title, "content": p.text} for p in ex.passages]})
        start = bad.index(WEATHER)
        feedback.append(
            {
                "question": ex.question,
                "passages": passages,
                "gold": ex.references[0],
                "prediction 1": bad,
                "prediction 2": good,
                "prediction 3": bad,
                "prediction 4": good,
                "preference": [2, 0, 2, 1, 0, 2],
                "feedback": {
                    "errors": [{"error type": "Irrelevant", "explanation": "", "start": start, "end": start + len(WEATHER)}],
                    "missing-info": [],
                    "corrected-prediction": good,
                },
            }
        )
    (folder / "dev.json").write_text(json.dumps(examples))
    (folder / "dev_feedback.json").write_text(json.dumps(feedback))
    return folder


def test_cli_trains_and_evaluates(tiny_backbone, tmp_path, capsys):
    data = write_feedback_folder(tmp_path / "qa")
    out = tmp_path / "rm"
    code = rm_main(["train", "--component", "preference", "--feedback", str(data), "--questions", "0:3", "--out", str(out),
                    "--backbone", tiny_backbone, "--epochs", "2", "--batch-size", "2", "--lr", "1e-3", "--no-progress"])
    assert code == 0 and "saved preference reward model" in capsys.readouterr().out
    config = RewardModelConfig.load(out)
    assert config.training["data"]["questions"] == 3 and config.normalisation["std"] > 0
    assert config.training["config"]["backbone"] == tiny_backbone
    code = rm_main(["eval", "--model", str(out), "--feedback", str(data / "dev_feedback.json"), "--questions", "3:", "--json", str(tmp_path / "e.json")])
    printed = capsys.readouterr().out
    assert code == 0 and "pairwise accuracy" in printed and "longer answer" in printed
    result = json.loads((tmp_path / "e.json").read_text())
    assert result["questions"] == 1 and result["pairs"] == 4 and result["kind"] == "pairwise"


def test_fg_env_cli_has_the_rm_command():
    from fg_env.cli import build_parser

    from fg_env.command import given_fields

    args = build_parser().parse_args(["rm", "train", "--component", "relevance", "--feedback", "synthetic", "--out", "x", "--lr", "1e-4"])
    assert args.func.__name__ == "_train"
    assert TrainingConfig(**given_fields(args, args.training_fields)) == TrainingConfig("relevance", learning_rate=1e-4)
    with pytest.raises(SystemExit):
        build_parser().parse_args(["rm", "train", "--component", "fluency", "--feedback", "synthetic", "--out", "x"])


def test_every_training_setting_is_an_rm_train_flag_with_the_fields_help():
    import dataclasses

    from fg_env.cli import build_parser

    parser = build_parser()
    parser.parse_args(["rm", "train", "--component", "relevance", "--feedback", "synthetic", "--out", "x"])
    rm = parser._subparsers._group_actions[0].choices["rm"]
    actions = {a.dest: a for a in rm._subparsers._group_actions[0].choices["train"]._actions}
    for field in dataclasses.fields(TrainingConfig):
        assert actions[field.name].help.startswith(field.metadata["help"]), field.name
    assert "--lr" in actions["learning_rate"].option_strings


@pytest.mark.parametrize(
    "argv, message",
    [
        (["train", "--component", "relevance", "--feedback", "synthetic", "--out", "{tmp}/m", "--lr", "-1"], "learning_rate must be positive, got -1.0"),
        (["train", "--component", "relevance", "--feedback", "synthetic", "--out", "{tmp}/m", "--epochs", "0"], "epochs must be a positive integer, got 0"),
        (["train", "--component", "relevance", "--feedback", "synthetic", "--out", "{tmp}/m", "--max-length", "8"], "max_length must be at least 16 tokens, got 8"),
        (["train", "--component", "relevance", "--feedback", "synthetic", "--out", "{tmp}/m", "--warmup-ratio", "x"], "argument --warmup-ratio: expected a number, got 'x'"),
        (["train", "--component", "fluency", "--feedback", "synthetic", "--out", "{tmp}/m"], "argument --component: invalid choice: 'fluency'"),
        (["train", "--component", "relevance", "--feedback", "/nonexistent", "--out", "{tmp}/m"], "--feedback '/nonexistent': no such file or folder"),
        (["train", "--component", "relevance", "--feedback", "{tmp}/broken.json", "--out", "{tmp}/m"], "broken.json: not valid JSON"),
        (["train", "--component", "relevance", "--feedback", "{tmp}/records.json", "--out", "{tmp}/m"], "records.json: record 0: field 'question': expected a string"),
        (["train", "--component", "relevance", "--feedback", "{tmp}", "--out", "{tmp}/m"], "name one with --split"),
        (["train", "--component", "relevance", "--feedback", "synthetic", "--questions", "1:2:3", "--out", "{tmp}/m"], "--questions takes START:END"),
        (["train", "--component", "relevance", "--feedback", "synthetic", "--threads", "0", "--out", "{tmp}/m"], "argument --threads: must be a positive integer, got 0"),
        (["train", "--component", "relevance", "--feedback", "synthetic"], "the following arguments are required: --out"),
        (["eval", "--model", "{tmp}/none", "--feedback", "synthetic"], "is not a saved learned reward model: it has no reward_model.json"),
        (["eval", "--model", "{tmp}", "--feedback", "synthetic", "--batch-size", "-1"], "argument --batch-size: must be a positive integer, got -1"),
        (["eval", "--model", "{tmp}", "--feedback", "synthetic", "--max-questions", "many"], "argument --max-questions: expected an integer, got 'many'"),
    ],
)
def test_rm_bad_input_is_one_line_with_status_2(argv, message, tmp_path, capsys):
    (tmp_path / "broken.json").write_text("[{not json")
    (tmp_path / "records.json").write_text(json.dumps([{"question": 1}]))
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    try:
        status = rm_main(argv)
    except SystemExit as stop:  # argparse's own errors
        status = stop.code
    err = capsys.readouterr().err
    assert status == 2 and "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert err.startswith(f"fg-env rm {argv[0]}: error: ") and message in err, err


def run_episode(env, sentences):
    obs, info = env.reset(seed=0)
    rewards, infos = [], []
    for sentence in sentences + [""]:
        obs, reward, terminated, truncated, info = env.step(sentence)
        rewards.append(reward)
        infos.append(info)
        if terminated or truncated:
            break
    return obs, rewards, infos


def test_learned_models_plug_into_the_environment(tmp_path, relevance_dir, factuality_dir, preference_dir):
    data = write_feedback_folder(tmp_path / "qa")
    env = gym.make("FineGrainedQA-v0", dataset="qa-feedback", data_dir=str(data), split="dev",
                   reward_models=[str(relevance_dir), str(factuality_dir), str(preference_dir)])
    unwrapped = env.unwrapped
    assert unwrapped.reward_names == ("relevance", "factuality", "preference")
    relevance = unwrapped.reward_models[0]
    relevance.forward_calls = 0
    obs, rewards, infos = run_episode(env, ["Mira Holt was born in 1950, a year of change, in the city of Lisbon. " + WEATHER])
    assert relevance.forward_calls == 1  # three sub-sentences of two sentences: one forward pass
    first = rewards[0]
    assert first.dtype == np.float32 and first.shape == (3,)
    assert infos[0]["reward_mask"].tolist() == [True, True, False]
    components = [s["component"] for s in infos[0]["segments"]]
    assert components.count("relevance") == 3 and components.count("factuality") == 2
    assert all(s["value"] in (-1.0, 1.0) for s in infos[0]["segments"])
    assert infos[-1]["reward_mask"].tolist() == [False, False, True]
    assert -5.0 <= rewards[-1][2] <= 5.0 and env.unwrapped.reward_space.contains(rewards[-1])


@pytest.mark.skipif(not (SHARED / "dev.json").is_file(), reason="QA-Feedback dev files absent")
def test_real_questions_with_learned_models(relevance_dir, factuality_dir):
    env = gym.make("FineGrainedQA-v0", dataset="qa-feedback", data_dir=str(SHARED), split="dev",
                   reward_models=[str(relevance_dir), str(factuality_dir)])
    obs, info = env.reset(seed=3)
    assert info["example_id"].startswith("qa-feedback-dev-") and info["prompt"].startswith("question: ")
    obs, reward, terminated, truncated, info = env.step(info["references"][0])
    assert reward.shape == (2,) and np.array_equal(reward, np.round(reward))  # sums of +1 / -1 segment rewards
    assert {s["component"] for s in info["segments"]} == {"relevance", "factuality"}
    records = load_feedback(SHARED / "dev_feedback.json")
    assert len(records) == 500


def test_synthetic_feedback_trains_and_evaluates_against_the_annotator(tiny_backbone, tmp_path, capsys):
    pytest.importorskip("fg_env.data.synthetic.annotator")
    data = load_feedback_data("factuality", "synthetic", questions="0:3", samples_per_question=2, seed=1)
    assert data.questions == 3 and len(data.items) == 9 and data.label_rule == EXACT_RULE
    assert all(len(set(i.labels) - {"no-error", "Wrong-Grounding", "Unverifiable"}) == 0 for i in data.items)
    pairs = load_feedback_data("completeness", "synthetic", questions="0:3", samples_per_question=2, seed=1)
    assert all(isinstance(i, RankedAnswers) and i.pairs for i in pairs.items)
    out = tmp_path / "rm"
    assert rm_main(["train", "--component", "relevance", "--feedback", "synthetic", "--questions", "0:2", "--samples-per-question", "2",
                    "--out", str(out), "--backbone", tiny_backbone, "--epochs", "1", "--no-progress"]) == 0
    assert "synthetic:train[0:2]" in RewardModelConfig.load(out).training["data"]["source"]
    capsys.readouterr()
    assert rm_main(["eval", "--model", str(out), "--feedback", "synthetic", "--questions", "0:2", "--samples-per-question", "2"]) == 0
    assert "relevance on synthetic:dev[0:2]" in capsys.readouterr().out
