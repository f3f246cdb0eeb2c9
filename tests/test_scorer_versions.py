"""Versioned honestly: the annotator owns a version, reward models and environments report theirs, every writer
of results records them (``scored_by``), Markdown reports print them, and a resume across annotator versions is
refused with both versions named."""

from __future__ import annotations

import json
from dataclasses import replace

import gymnasium as gym
import pytest

import fg_env  # noqa: F401 - registers the environments
from _agents_tiny import save_tiny_policy
from fg_env.cli import main
from fg_env.data.synthetic.annotator import ANNOTATOR_VERSION, Annotator
from fg_env.errors import ScorerVersionError
from fg_env.rewards import RewardModel, SegmentScore, make_reward_model, reward_versions, scored_by
from fg_env.rewards.versions import check_same_scorers, merged
from fg_env.types import Granularity

OTHER = "1999.01.0"  # an annotator version that is not this one

TINY_RUN = ["--prompts-per-iteration", "1", "--samples-per-prompt", "2", "--minibatch-size", "2",
            "--max-new-tokens", "6", "--eval-questions", "2", "--no-progress"]


def tiny_config():
    from agents.experiments.settings import PRESETS

    return PRESETS["quick"].config(
        training={"iterations": 1, "prompts_per_iteration": 1, "samples_per_prompt": 2, "minibatch_size": 2,
                  "max_new_tokens": 6},
        evaluation={"eval_questions": 2})


@pytest.fixture
def another_annotator(monkeypatch):
    """This process's annotator as if its rules had changed: every place that reads the version sees ``OTHER``."""
    import fg_env.data.synthetic.annotator as annotator_module

    monkeypatch.setattr(annotator_module, "ANNOTATOR_VERSION", OTHER)
    monkeypatch.setattr(Annotator, "VERSION", OTHER)
    return OTHER


# ------------------------------------------------------------------------------------ the version and who owns it


def test_the_annotator_owns_a_calendar_version_that_its_reward_models_and_envs_report():
    year, month, number = ANNOTATOR_VERSION.split(".")
    assert len(year) == 4 and 1 <= int(month) <= 12 and int(number) >= 0
    assert Annotator.VERSION == Annotator().VERSION == ANNOTATOR_VERSION
    for name in ("relevance", "factuality", "completeness"):
        assert make_reward_model(name).version == ANNOTATOR_VERSION
    env = gym.make("FineGrainedQA-v0")
    expected = dict.fromkeys(("relevance", "factuality", "completeness"), ANNOTATOR_VERSION)
    assert env.unwrapped.reward_versions == reward_versions(env) == expected
    vector = gym.make_vec("FineGrainedQA-v0", num_envs=2)
    assert vector.reward_versions == reward_versions(vector) == expected
    assert scored_by(env) == scored_by(vector) == scored_by(annotator=True) == {"annotator": ANNOTATOR_VERSION}


def test_the_bump_rule_is_written_beside_the_version_and_in_contributing():
    from pathlib import Path

    import fg_env.data.synthetic.annotator as annotator_module

    def plain(text: str) -> str:  # without emphasis, comment marks and line breaks
        return " ".join(text.replace("*", "").replace("#:", "").lower().split())

    rule = "any change to a verdict on any text"
    assert rule in plain(annotator_module.__doc__)
    source = Path(annotator_module.__file__).read_text()
    assert rule in plain(source[: source.index("ANNOTATOR_VERSION = ")].rsplit("\n\n", 1)[-1])  # the constant's comment
    contributing = (Path(__file__).resolve().parents[1] / "CONTRIBUTING.md").read_text()
    assert "ANNOTATOR_VERSION" in contributing and rule in plain(contributing)


def test_a_model_without_a_version_reports_none_and_is_recorded_as_such():
    class Shouting(RewardModel):
        name, granularity, bounds = "shouting", Granularity.SENTENCE, (-1.0, 1.0)

        def score(self, requests):
            return [SegmentScore(1.0) for _ in requests]

    env = gym.make("FineGrainedQA-v0", reward_models=[Shouting(), "factuality"])
    assert reward_versions(env) == {"shouting": None, "factuality": ANNOTATOR_VERSION}
    assert scored_by(env) == {"annotator": ANNOTATOR_VERSION, "reward_models": {"shouting": None}}


def test_a_learned_model_env_records_its_checkpoints_identity(tmp_path):
    from fg_env.rewards.learned.config import TrainingConfig
    from fg_env.rewards.learned.data import load_feedback_data
    from fg_env.rewards.learned.evaluate import evaluate_reward_model
    from fg_env.rewards.learned.model import load_reward_model
    from fg_env.rewards.learned.testing import tiny_backbone
    from fg_env.rewards.learned.train import train_reward_model

    backbone = tiny_backbone(tmp_path / "backbone")
    data = load_feedback_data("relevance", "synthetic", questions="0:2", samples_per_question=1)
    assert data.describe()["annotator"] == ANNOTATOR_VERSION  # the labels' annotator, saved with the model
    train_reward_model(TrainingConfig("relevance", backbone=backbone, epochs=1, max_length=64), data,
                       tmp_path / "relevance", progress=False, device="cpu")
    model = load_reward_model(tmp_path / "relevance", device="cpu")
    assert model.version.startswith("learned-relevance-") and model.version == load_reward_model(
        tmp_path / "relevance", device="cpu").version  # the same checkpoint, the same identity
    env = gym.make("FineGrainedQA-v0", reward_models=[str(tmp_path / "relevance"), "factuality"])
    assert reward_versions(env) == {"relevance": model.version, "factuality": ANNOTATOR_VERSION}
    assert scored_by(env) == {"annotator": ANNOTATOR_VERSION, "reward_models": {"relevance": model.version}}
    # On real questions (no annotator) the learned model's identity is all there is to record.
    assert scored_by(model) == {"reward_models": {"relevance": model.version}}
    # `fg-env rm evaluate`: the checkpoint judged against the annotator's labels.
    assert evaluate_reward_model(model, data)["scored_by"] == {
        "annotator": ANNOTATOR_VERSION, "reward_models": {"relevance": model.version}}


def test_records_merge_and_two_versions_are_refused_with_both_named():
    assert merged({"annotator": "a"}, None, {"annotator": "b"}) == {"annotator": ["a", "b"]}
    check_same_scorers({"annotator": "a"}, {"annotator": "a"}, "runs/x")
    with pytest.raises(ScorerVersionError, match=r"runs/x holds results scored by annotator a, but this run is "
                                                 r"scored by annotator b"):
        check_same_scorers({"annotator": "a"}, {"annotator": "b"}, "runs/x")
    with pytest.raises(ScorerVersionError, match="no scorer version recorded.*scored by annotator b"):
        check_same_scorers(None, {"annotator": "b"}, "runs/x")


# ------------------------------------------------------------------------------------ runs and their resume


def test_the_run_key_names_the_annotator_only_where_it_scores(another_annotator):
    from agents.experiments.run import DatasetChoice, RunSpec

    assert RunSpec("runs/sft").key()["annotator"] == OTHER
    off_world = RunSpec("runs/sft", dataset=DatasetChoice("qa-feedback", "data"))
    assert "annotator" not in off_world.key() and off_world.annotator is None


def test_a_folder_of_another_annotators_run_is_refused_before_anything_loads(tmp_path):
    from agents.experiments.run import RunSpec
    from agents.experiments.runner import run_and_evaluate

    spec = RunSpec(str(tmp_path / "no-policy-here"))
    for name, record in (("result.json", {"key": {**spec.key(), "annotator": OTHER}}),
                         ("run.json", {**spec.key(), "annotator": OTHER})):
        run = tmp_path / name
        run.mkdir()
        (run / name).write_text(json.dumps(record))
        with pytest.raises(ScorerVersionError, match=rf"scored by annotator {OTHER}, but this run is scored by "
                                                     rf"annotator {ANNOTATOR_VERSION}"):
            run_and_evaluate(spec, run, progress=False)
    # A run folder from before versions were recorded (key version 2, no annotator): refused too, not mixed.
    old = tmp_path / "old"
    old.mkdir()
    (old / "result.json").write_text(json.dumps({"key": {**spec.key(), "version": 2, "annotator": None}}))
    with pytest.raises(ScorerVersionError, match="no scorer version recorded"):
        run_and_evaluate(spec, old, progress=False)


@pytest.mark.slow
def test_a_run_records_its_scorers_and_its_resume_under_another_annotator_is_refused(tmp_path, monkeypatch, capsys):
    from agents.experiments.run import RunSpec
    from agents.experiments.runner import run_and_evaluate

    policy = save_tiny_policy(tmp_path / "tiny-policy")
    spec = RunSpec.from_experiment(tiny_config(), policy)
    run = tmp_path / "run"
    result = run_and_evaluate(spec, run, progress=False)
    assert result["key"]["annotator"] == ANNOTATOR_VERSION
    assert result["scored_by"] == {"annotator": ANNOTATOR_VERSION}
    assert json.loads((run / "run.json").read_text())["scored_by"] == {"annotator": ANNOTATOR_VERSION}
    assert json.loads((run / "result.json").read_text())["scored_by"] == {"annotator": ANNOTATOR_VERSION}
    # The annotator changes; a longer budget would resume this run: refused, both versions named.
    import fg_env.data.synthetic.annotator as annotator_module

    monkeypatch.setattr(annotator_module, "ANNOTATOR_VERSION", OTHER)
    longer = replace(spec, training=replace(spec.training, iterations=2))
    with pytest.raises(ScorerVersionError) as error:
        run_and_evaluate(longer, run, progress=False)
    assert ANNOTATOR_VERSION in str(error.value) and OTHER in str(error.value) and str(run) in str(error.value)
    # `fg-env train --resume` says so in one line before any model loads.
    capsys.readouterr()
    assert main(["train", "--policy", str(policy), "--out", str(run), "--iterations", "2", "--resume", *TINY_RUN]) == 2
    err = capsys.readouterr().err
    assert f"scored by annotator {ANNOTATOR_VERSION}, but this run is scored by annotator {OTHER}" in err


@pytest.mark.slow
def test_compare_sweep_and_evaluate_record_the_annotator_and_print_it_in_the_caption(tmp_path):
    policy = save_tiny_policy(tmp_path / "tiny-policy")
    note = f"Scored by annotator {ANNOTATOR_VERSION}."
    compared = tmp_path / "compare"
    assert main(["compare", "--out", str(compared), "--policy", str(policy), "--seeds", "0",
                 "--schemes", "fine-grained", "--iterations", "1", *TINY_RUN]) == 0
    results = json.loads((compared / "results.json").read_text())
    assert results["scored_by"] == {"annotator": ANNOTATOR_VERSION}
    caption = next(line for line in (compared / "results.md").read_text().splitlines() if line.startswith("Greedy"))
    assert caption.endswith(note)
    assert json.loads((compared / "sft_eval.json").read_text())["scored_by"] == {"annotator": ANNOTATOR_VERSION}

    swept = tmp_path / "sweep"
    assert main(["sweep-weights", "--component", "relevance", "--values", "0.1", "--policy", str(policy),
                 "--out", str(swept), "--iterations", "1", *TINY_RUN]) == 0
    assert json.loads((swept / "results.json").read_text())["scored_by"] == {"annotator": ANNOTATOR_VERSION}
    caption = next(line for line in (swept / "results.md").read_text().splitlines() if line.startswith("Fine-grained"))
    assert caption.endswith(note)

    assert main(["evaluate", "--policy", str(policy), "--questions", "2", "--max-new-tokens", "6",
                 "--out", str(tmp_path / "eval.json"), "--no-progress"]) == 0
    assert json.loads((tmp_path / "eval.json").read_text())["scored_by"] == {"annotator": ANNOTATOR_VERSION}
    assert main(["evaluate", "--policy", "random", "--questions", "2",
                 "--out", str(tmp_path / "random.json"), "--no-progress"]) == 0
    assert json.loads((tmp_path / "random.json").read_text())["scored_by"] == {"annotator": ANNOTATOR_VERSION}


@pytest.mark.slow
def test_sb3_compare_records_the_annotator_and_refuses_another(tmp_path, another_annotator):
    from agents.experiments.sb3_compare import SB3CompareConfig, sb3_compare

    tiny = SB3CompareConfig(timesteps=32, eval_every=16, eval_questions=2, num_candidates=4, feature_dim=16, workers=1)
    result = sb3_compare(tmp_path, tiny, algorithms=["ppo"], rewards=["fine-grained"], seeds=[0], progress=False)
    assert result["scored_by"] == {"annotator": OTHER}
    assert json.loads((tmp_path / "results.json").read_text())["scored_by"] == {"annotator": OTHER}
    assert all(json.loads(p.read_text())["scored_by"] == {"annotator": OTHER} for p in (tmp_path / "runs").glob("*-seed0.json"))
    assert f"Scored by annotator {OTHER}." in (tmp_path / "results.md").read_text()
    # This process's annotator is ANNOTATOR_VERSION again: the runs above were scored by another.
    import fg_env.data.synthetic.annotator as annotator_module

    annotator_module.ANNOTATOR_VERSION = ANNOTATOR_VERSION
    with pytest.raises(ScorerVersionError, match=rf"scored by annotator {OTHER}, but this run is scored by annotator "
                                                 rf"{ANNOTATOR_VERSION}"):
        sb3_compare(tmp_path, tiny, algorithms=["ppo"], rewards=["fine-grained"], seeds=[0], progress=False)


def test_the_hacking_probe_records_the_annotator(tmp_path, monkeypatch):
    import agents.experiments.hacking as hacking

    policy = save_tiny_policy(tmp_path / "runs" / "fine-grained-seed0" / "policy")
    assert policy.is_dir()
    assert hacking.main([str(tmp_path), "--questions", "1", "--samples", "1"]) == 0
    report = json.loads((tmp_path / "hacking_probe.json").read_text())
    assert report["scored_by"] == {"annotator": ANNOTATOR_VERSION} and "fine-grained-seed0" in report
