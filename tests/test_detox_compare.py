"""The detoxification experiment (issue 22, part 5): its evaluation, its tables and `fg-env compare --env
FineGrainedDetox-v0` end to end on a tiny policy."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from _agents_tiny import save_tiny_policy
from conftest import cli_error

from fg_env.cli import main

pytest.importorskip("profanity_check", reason="the detoxification world needs the detox extra")


class WordToxicity:
    """A stand-in scorer: the share of a text's words that are 'x' (exact and instant)."""

    name, version = "word-x", "1"

    def toxicity(self, texts):
        return np.array([sum(w.strip(".") == "x" for w in t.split()) / max(len(t.split()), 1) for t in texts])


@pytest.fixture(scope="module")
def tiny():
    from agents.testing import tiny_policy

    return tiny_policy()


def _prompts(count=3, split="dev"):
    from fg_env.data import make_dataset

    prompts = make_dataset("detox-synthetic").split(split)
    return [prompts[i] for i in range(count)]


def test_samples_are_k_per_prompt_and_cut_as_an_episode_cuts_them(tiny):
    from agents.experiments.detox_eval import DetoxSampling, sample_continuations
    from fg_env.text import split_sentences

    sampling = DetoxSampling(samples_per_prompt=5, max_new_tokens=40, max_sentences=1, prompts_per_call=2)
    groups = sample_continuations(tiny, _prompts(3), sampling)
    assert [len(g) for g in groups] == [5, 5, 5]
    assert all(len(split_sentences(text)) <= 1 for group in groups for text in group)
    # A fixed seed per chunk: the same policy draws the same samples, whatever else ran before.
    assert sample_continuations(tiny, _prompts(3), sampling) == groups


def test_metrics_are_the_metric_functions_on_the_samples(tiny):
    from agents.experiments.detox_eval import DetoxSampling, detox_metrics, sample_continuations
    from fg_env.metrics_detox import distinct_n, perplexity, toxicity_metrics

    sampling = DetoxSampling(samples_per_prompt=4, max_new_tokens=12)
    prompts = _prompts(3)
    metrics = detox_metrics(tiny, prompts, tiny, sampling, WordToxicity())
    raw = sample_continuations(tiny, prompts, sampling)
    stripped = [[t.strip() for t in g] for g in raw]
    expected = toxicity_metrics(stripped, WordToxicity(), 4)
    assert metrics["avg_max_toxicity"] == expected.avg_max_toxicity
    assert metrics["toxicity_probability"] == expected.toxicity_probability
    assert metrics["dist_2"] == distinct_n(stripped, 2)
    # Perplexity reads the continuation joined to its prompt as generated (its leading space kept).
    ppl = perplexity([p.prompt for p in prompts], raw, tiny.model, tiny.tokenizer)
    assert metrics["perplexity"] == pytest.approx(ppl) and math.isfinite(ppl)
    assert metrics["prompts"] == 3 and metrics["samples_per_prompt"] == 4
    assert [s["example_id"] for s in metrics["samples"]] == [p.id for p in prompts]


def test_a_toxic_policy_scores_toxic_and_a_clean_one_clean():
    """Both ways: a policy that always writes the scorer's toxic word gets toxicity 1; one that never does, 0."""
    from agents.experiments.detox_eval import DetoxSampling, detox_metrics
    from agents.testing import tiny_policy

    class Fixed:
        def __init__(self, text):
            self.text, self.inner = text, tiny_policy()

        def generate(self, prompts, num_return_sequences=1, **_):
            from agents.policies.policy import Generation

            return [Generation(p, [], [], self.text, [], True) for p in prompts for _ in range(num_return_sequences)]

    sampling = DetoxSampling(samples_per_prompt=3, max_new_tokens=8)
    reference = tiny_policy()
    toxic = detox_metrics(Fixed(" x x. x x."), _prompts(2), reference, sampling, WordToxicity())
    clean = detox_metrics(Fixed(" the end. Then home."), _prompts(2), reference, sampling, WordToxicity())
    assert (toxic["avg_max_toxicity"], toxic["toxicity_probability"]) == (1.0, 1.0)
    assert (clean["avg_max_toxicity"], clean["toxicity_probability"]) == (0.0, 0.0)
    assert clean["dist_1"] == pytest.approx(4 / 12)  # 'the end. Then home.' x 3: 4 distinct words of 12


def test_bad_sampling_settings_are_named():
    from agents.experiments.detox import DetoxProtocol
    from agents.experiments.detox_eval import DetoxSampling
    from fg_env.errors import InvalidValueError

    with pytest.raises(InvalidValueError, match="samples_per_prompt"):
        DetoxSampling(samples_per_prompt=0)
    with pytest.raises(InvalidValueError, match="temperature"):
        DetoxSampling(temperature=0.0)
    with pytest.raises(InvalidValueError, match="DetoxProtocol.test_prompts"):
        DetoxProtocol(test_prompts=-1)




def test_qa_flags_are_refused_for_detox_and_detox_flags_for_qa(tmp_path, capsys):
    base = ["compare", "--out", str(tmp_path / "c"), "--no-progress"]
    err = cli_error(capsys, [*base, "--env", "FineGrainedDetox-v0", "--weights", "0.3,0.5,0.3"])
    assert "--weights: not a setting of the detoxification experiment" in err
    err = cli_error(capsys, [*base, "--env", "FineGrainedDetox-v0", "--dataset", "qa-feedback"])
    assert "--dataset" in err
    err = cli_error(capsys, [*base, "--eval-samples", "5"])
    assert "--eval-samples: settings of the detoxification experiment" in err
    err = cli_error(capsys, [*base, "--env", "FineGrainedDetox-v0", "--policy", str(tmp_path / "missing")])
    assert "does not exist" in err
    assert not (tmp_path / "c").exists()


@pytest.mark.slow
def test_micro_detox_compare_writes_tables_curves_and_report(tmp_path, capsys):
    from agents.experiments.detox_eval import DETOX_COLUMNS

    policy = save_tiny_policy(tmp_path / "tiny-policy")
    out = tmp_path / "detox"
    argv = ["compare", "--env", "FineGrainedDetox-v0", "--out", str(out), "--policy", str(policy),
            "--seeds", "0,1", "--iterations", "2", "--eval-every", "1", "--prompts-per-iteration", "1",
            "--samples-per-prompt", "2", "--minibatch-size", "2", "--max-new-tokens", "10",
            "--dev-prompts", "2", "--test-prompts", "3", "--eval-samples", "2", "--no-progress"]  # fmt: skip
    assert main(argv) == 0
    results = json.loads((out / "results.json").read_text())
    assert results["env"] == "FineGrainedDetox-v0"
    assert set(results["summary"]) == {"SFT", "PPO fine-grained", "PPO holistic"}
    for row in ("PPO fine-grained", "PPO holistic"):
        assert results["summary"][row]["runs"] == 2
        for key, _ in DETOX_COLUMNS:
            cell = results["summary"][row][key]
            assert cell is None or cell["ci95"] >= cell["std"] >= 0
    assert results["per_seed"]["SFT"][0]["prompts"] == 3  # the table: test prompts
    # The holistic arm was trained on the sum at the end, the fine-grained one on the dense reward.
    run = lambda name: json.loads((out / "runs" / name / "run.json").read_text())
    assert run("holistic-seed0")["scheme"] == "holistic" and run("fine-grained-seed1")["env"] == "FineGrainedDetox-v0"
    result = json.loads((out / "runs" / "fine-grained-seed0" / "result.json").read_text())
    assert result["key"]["evaluation_protocol"]["prompts"] == 2  # dev prompts evaluate the curve
    # Curves: the start policy on dev prompts, then iterations 1 and 2.
    curve = results["eval_curves"]["fine-grained"][1]
    assert [p["episodes"] for p in curve] == [0, 2, 4]
    assert (
        curve[0]["avg_max_toxicity"] == json.loads((out / "sft_dev_eval.json").read_text())["eval"]["avg_max_toxicity"]
    )
    efficiency = results["sample_efficiency"]["fine-grained vs holistic"]
    assert (
        efficiency["avg_max_toxicity"]["lower_is_better"] is True and efficiency["dist_2"]["lower_is_better"] is False
    )
    paired = results["paired"]["fine-grained vs holistic"]["avg_max_toxicity"]
    fg, hol = (results["summary"][f"PPO {s}"]["avg_max_toxicity"]["mean"] for s in ("fine-grained", "holistic"))
    assert paired["mean"] == pytest.approx(fg - hol)
    table = (out / "results.md").read_text()
    assert table.startswith("**A pipeline check, not a result**: 4 episodes per run")
    assert "| Policy | Avg. max toxicity ↓ | Toxicity prob. ↓ | Perplexity ↓ | Dist-1 ↑ |" in table
    assert "| paper (Table 1) |" in table and "| fine-grained RLHF | 0.081 (−58%) |" in table
    assert "2 samples (top-k 20, temperature 0.7) for each of 3 test prompts" in table
    for figure in ("learning_curve.png", "eval_curves.png"):
        assert (out / figure).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    page = (out / "report.html").read_text(encoding="utf-8")
    assert page.count('class="fg-answer"') == 3 * 3  # three test prompts' samples for three rows
    assert "Avg. max toxicity" in page
    # A second invocation reuses every finished run and evaluation.
    stamps = {p: p.stat().st_mtime_ns for p in (out / "runs").glob("*/test_eval.json")}
    assert main(argv) == 0
    assert {p: p.stat().st_mtime_ns for p in (out / "runs").glob("*/test_eval.json")} == stamps
    # More samples per prompt is another evaluation: the runs are evaluated again, not trained again.
    logs = {p: p.read_text() for p in (out / "runs").glob("*/metrics.jsonl")}
    assert main([*argv[:-2], "3", "--no-progress"]) == 0
    assert json.loads((out / "results.json").read_text())["per_seed"]["SFT"][0]["samples_per_prompt"] == 3
    assert json.loads((out / "runs" / "holistic-seed1" / "result.json").read_text())["eval"]["samples_per_prompt"] == 3
    assert {p: p.read_text() for p in (out / "runs").glob("*/metrics.jsonl")} == logs  # no iteration trained again


def test_the_detox_sft_policy_imitates_the_whole_corpus_toxic_continuations_included():
    from agents.policies.sft import SFTConfig, _tokenizer_texts, supervised_pairs
    from fg_env.data import make_dataset

    world = make_dataset("detox-synthetic")
    corpus = world.corpus("train")
    pairs = supervised_pairs(SFTConfig.detox())
    assert pairs == [(c.prompt, c.continuation) for c in corpus] and len(pairs) == 8000
    toxic = sum(c.toxic for c in corpus) / len(corpus)
    assert 0.1 < toxic < 0.5  # something to remove, and most continuations clean
    assert len(supervised_pairs(SFTConfig.detox(num_examples=5))) == 5
    # The tokenizer learns from the same corpus: the toxic words become tokens of their own.
    texts = list(_tokenizer_texts(SFTConfig.detox(tokenizer_examples=2), world))
    assert texts == [pairs[0][0], pairs[0][1], pairs[1][0], pairs[1][1]]


def test_kept_results_mask_the_worlds_toxic_words_and_nothing_else():
    from agents.experiments.detox import _masked
    from fg_env.data.detox import mask_toxic_words, toxic_vocabulary

    word = toxic_vocabulary()[0][0]
    sample = {"question": "Ada said that", "example_id": "d-1", "answer": f"the {word} left. Classes resumed."}
    results = {"summary": {}, "per_seed": {"SFT": [{"avg_max_toxicity": 0.5, "samples": [sample]}]}}
    masked = _masked(results)
    answer = masked["per_seed"]["SFT"][0]["samples"][0]["answer"]
    assert word not in answer and answer == f"the {word[0]}{'*' * (len(word) - 1)} left. Classes resumed."
    assert results["per_seed"]["SFT"][0]["samples"][0]["answer"] == sample["answer"]  # the caller's copy kept
    assert masked["per_seed"]["SFT"][0]["avg_max_toxicity"] == 0.5
    # Words that merely contain a toxic word, and clean text, are left alone.
    assert mask_toxic_words(f"x{word}x and the mill") == f"x{word}x and the mill"
