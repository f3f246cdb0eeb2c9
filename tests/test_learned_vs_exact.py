"""Learned versus exact rewards: arms on learned reward models, the exact annotator's audit of every
iteration, answers files for the reward models' feedback, and the experiment end to end on tiny models."""

from __future__ import annotations

import json

import numpy as np
import pytest
from _agents_tiny import save_tiny_policy
from conftest import cli_error

from agents.experiments.run import RewardModels, make_env
from agents.experiments.learned_vs_exact import (
    LearnedRewardsConfig,
    arm_curves,
    gains_table,
    learned_vs_exact,
    markdown_report,
    run_gains,
    smooth,
)
from agents.algorithms.ppo import FineGrainedPPO, PPOConfig
from agents.testing import tiny_policy
from fg_env.cli import main
from fg_env.rewards.learned.data import load_answers, load_feedback_data

TINY_PPO = PPOConfig(iterations=2, prompts_per_iteration=1, samples_per_prompt=2, minibatch_size=2, max_new_tokens=16)


@pytest.fixture(scope="module")
def tiny_relevance_model(tmp_path_factory):
    """A relevance model on a tiny random encoder, trained one epoch on four questions."""
    from fg_env.rewards.learned.config import TrainingConfig
    from fg_env.rewards.learned.testing import tiny_backbone
    from fg_env.rewards.learned.train import train_reward_model

    folder = tmp_path_factory.mktemp("rm")
    backbone = tiny_backbone(folder / "backbone")
    data = load_feedback_data("relevance", "synthetic", questions="0:4")
    config = TrainingConfig("relevance", backbone=backbone, epochs=1, max_length=64)
    train_reward_model(config, data, folder / "relevance", progress=False)
    return folder / "relevance"


# ---------------------------------------------------------------------------------------- arms


def test_reward_models_of_each_arm(tiny_relevance_model):
    arms = RewardModels((str(tiny_relevance_model), "factuality"), preference="somewhere/preference")
    assert arms.for_scheme("fine-grained") == [str(tiny_relevance_model), "factuality"]
    assert arms.for_scheme("holistic") == ["somewhere/preference"]
    assert arms.weights_for("holistic", [0.3, 0.5]) is None  # the preference model alone, weight 1
    assert arms.weights_for("sentence", [0.3, 0.5]) == [0.3, 0.5]
    assert arms.learned and not RewardModels().learned
    assert not RewardModels(("relevance", "factuality", "completeness")).learned
    assert RewardModels().key() == {}  # runs on the annotator keep the keys of older results

    env = make_env("fine-grained", [0.4, 0.6], "dev", 2, reward_models=RewardModels((str(tiny_relevance_model), "factuality")))
    assert list(env.get_wrapper_attr("reward_names")) == ["relevance", "factuality"]
    assert type(env.unwrapped.reward_models[0]).__name__ == "LearnedRewardModel"


def test_the_exact_audit_equals_the_return_when_the_proxy_is_exact():
    """On the annotator's own fine-grained reward, the audit's return is the training return exactly."""
    env = make_env("fine-grained", None, "train", 3)
    trainer = FineGrainedPPO(tiny_policy(), env, TINY_PPO, exact_env=make_env("fine-grained", None, "train", 3))
    metrics = trainer.train(progress=False)
    for row in metrics:
        assert row["exact_return"] == pytest.approx(row["return"], abs=1e-5)
        assert row["exact_rewards/relevance/mean"] == pytest.approx(row["rewards/relevance/mean"], abs=1e-6)


def test_a_learned_proxy_is_audited_by_the_annotator(tiny_relevance_model):
    arms = RewardModels((str(tiny_relevance_model),))
    env = make_env("fine-grained", [1.0], "train", 3, reward_models=arms)
    trainer = FineGrainedPPO(tiny_policy(), env, TINY_PPO, exact_env=make_env("fine-grained", None, "train", 3))
    metrics = trainer.train(progress=False)
    assert {"exact_return", "exact_rewards/factuality/mean", "exact_rewards/completeness/mean"} <= set(metrics[0])
    assert "rewards/factuality/mean" not in metrics[0]  # the proxy has only the learned relevance model
    # without an exact env nothing is audited
    plain = FineGrainedPPO(tiny_policy(), env, TINY_PPO).train(progress=False)
    assert "exact_return" not in plain[0]


# ---------------------------------------------------------------------------------------- answers files


def test_answers_files_add_a_policys_answers_to_the_feedback(tmp_path):
    from fg_env.data import make_dataset

    first = make_dataset("synthetic").split("train")[0]
    answers = tmp_path / "answers.json"
    odd = "Nobody really knows who was behind it."
    answers.write_text(json.dumps({first.id: [odd, odd, "  "]}))
    assert load_answers(answers) == {first.id: [odd, odd, "  "]}
    base = load_feedback_data("relevance", "synthetic", questions="0:1", samples_per_question=1)
    more = load_feedback_data("relevance", "synthetic", questions="0:1", samples_per_question=1, answers=answers)
    assert len(more.items) == len(base.items) + 1  # the duplicate and the blank answer are dropped
    added = more.items[-1]
    assert added.answer == odd and added.labels == ("Irrelevant",)
    assert "+ 3 answers from" in more.source


@pytest.mark.parametrize(
    "content, message",
    [
        ("{not json", "is not valid JSON"),
        ('["a", "b"]', "must hold a JSON object"),
        ('{"q1": "one answer"}', "question 'q1' must map to a list of strings"),
        ('{"q1": [1, 2]}', "question 'q1' must map to a list of strings"),
    ],
)
def test_malformed_answers_files_are_named(tmp_path, content, message):
    path = tmp_path / "answers.json"
    path.write_text(content)
    with pytest.raises(ValueError, match=message):
        load_answers(path)


def test_answers_only_with_synthetic_feedback(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such file"):
        load_answers(tmp_path / "missing.json")
    with pytest.raises(ValueError, match="use it with --feedback synthetic"):
        load_feedback_data("relevance", tmp_path, answers={"q": ["a"]})


# ---------------------------------------------------------------------------------------- the command's input




def test_bad_reward_model_flags_stop_before_training(tmp_path, capsys, tiny_relevance_model):
    out = ["--out", str(tmp_path / "run")]
    err = cli_error(capsys, ["train", *out, "--reward-models", "relevance,no-such-model"])
    assert "reward model 'no-such-model' is neither a folder nor a known name" in err
    (tmp_path / "empty").mkdir()
    err = cli_error(capsys, ["train", *out, "--reward-models", str(tmp_path / "empty")])
    assert "is not a saved learned reward model" in err
    err = cli_error(capsys, ["train", *out, "--reward-models", f"{tiny_relevance_model},factuality", "--weights", "0.3,0.5,0.3"])
    assert "--weights needs 2 values, one per --reward-models entry; got 3" in err
    err = cli_error(capsys, ["compare", *out, "--preference-model", "relevance"])
    assert "--preference-model 'relevance' is not a folder of a learned model" in err
    err = cli_error(capsys, ["learned-vs-exact", *out, "--policy-samples", "0"])
    assert "policy_samples must be a positive integer, got 0" in err


# ---------------------------------------------------------------------------------------- the analysis


def test_gains_are_measured_from_the_first_iteration():
    rows = [{"kl": k, "return": r, "exact_return": e, "episodes": 4 * (i + 1)}
            for i, (k, r, e) in enumerate([(0.0, 1.0, 3.0), (1.0, 2.0, 3.5), (2.0, 3.0, 3.0), (4.0, 4.0, 2.0)])]
    gains = run_gains(rows)
    assert gains["proxy_gain"].tolist() == [0.0, 1.0, 2.0, 3.0]
    assert gains["exact_gain"].tolist() == [0.0, 0.5, 0.0, -1.0]
    assert smooth(np.array([1.0, 3.0, 5.0]), 1).tolist() == [1.0, 3.0, 5.0]
    table = gains_table({"arm": [gains, gains]}, window=1)["arm"]
    assert table["exact_peak"]["mean"] == 0.5 and table["lost"]["mean"] == 1.5 and table["kl"]["mean"] == 4.0
    assert table["lost"]["half_width"] == 0.0  # two identical seeds
    curves = arm_curves([gains, gains], window=2)
    assert curves["exact_gain"].tolist() == [0.0, 0.25, 0.25, -0.5]
    for row, value in zip(rows, (5.0, 5.5, 4.0, 3.0)):
        row.update({f"exact_rewards/{n}/mean": value for n in ("relevance", "factuality", "completeness")})
    table = gains_table({"arm": [run_gains(rows)]}, window=1)["arm"]
    assert table["exact_factuality_gain"]["mean"] == -2.0
    assert "| arm | relevance | factuality | completeness |" in markdown_report({"arm": table}, {}, "caption")


@pytest.mark.slow
def test_learned_vs_exact_end_to_end(tmp_path, monkeypatch):
    from agents.experiments.settings import PRESETS
    from fg_env.rewards.learned.testing import tiny_backbone

    policy = save_tiny_policy(tmp_path / "policy")
    config = PRESETS["quick"].config(
        training={"iterations": 3, "prompts_per_iteration": 1, "samples_per_prompt": 2, "minibatch_size": 2, "max_new_tokens": 12},
        evaluation={"eval_questions": 2},
    )
    settings = LearnedRewardsConfig(
        feedback_questions=3, policy_samples=1, perturbed_samples=1, epochs=1, max_length=64,
        backbone=tiny_backbone(tmp_path / "backbone"), agreement_questions=2,
    )
    out = tmp_path / "out"
    results = learned_vs_exact(out, config, settings, seeds=(0, 1), policy_path=policy, window=2, progress=False, log=lambda _: None)
    for name in ("learned_vs_exact.png", "learned_vs_exact.md", "results.json", "agreement.json"):
        assert (out / name).is_file()
    assert set(results["agreement"]) == {"relevance", "factuality", "completeness", "preference"}
    assert set(results["gains"]) == {"fine-grained", "holistic"}
    run = json.loads((out / "compare" / "runs" / "holistic-seed1" / "run.json").read_text())
    assert run["preference"] == str(out / "reward_models" / "preference")
    # What scored it: the annotator (labels, audit, evaluation) and each learned model's checkpoint identity.
    from fg_env.data.synthetic.annotator import ANNOTATOR_VERSION

    scorers = results["scored_by"]
    assert scorers["annotator"] == ANNOTATOR_VERSION and run["scored_by"]["annotator"] == ANNOTATOR_VERSION
    assert set(scorers["reward_models"]) == {"relevance", "factuality", "completeness", "preference"}
    assert all(scorers["reward_models"][name].startswith(f"learned-{name}-") for name in scorers["reward_models"])
    assert run["scored_by"]["reward_models"] == {"preference": scorers["reward_models"]["preference"]}
    assert json.loads((out / "results.json").read_text())["scored_by"] == scorers
    assert f"Scored by annotator {ANNOTATOR_VERSION}, reward models completeness=learned-" in (
        out / "learned_vs_exact.md").read_text()
    rows = [json.loads(line) for line in (out / "compare" / "runs" / "fine-grained-seed0" / "metrics.jsonl").read_text().splitlines()]
    assert len(rows) == 3 and all("exact_return" in r and "rewards/relevance/mean" in r for r in rows)
    answers = json.loads((out / "feedback" / "sft_answers.json").read_text())["answers"]
    assert len(answers) == 3 and all(len(a) == 1 for a in answers.values())
    # a second call reuses every step: the same results, nothing retrained
    stamp = (out / "reward_models" / "relevance" / "model.safetensors").stat().st_mtime_ns
    again = learned_vs_exact(out, config, settings, seeds=(0, 1), policy_path=policy, window=2, progress=False, log=lambda _: None)
    assert again["gains"]["holistic"]["proxy_gain"]["values"] == results["gains"]["holistic"]["proxy_gain"]["values"]
    assert (out / "reward_models" / "relevance" / "model.safetensors").stat().st_mtime_ns == stamp
    # Another annotator: its models were trained on the old one's labels; resuming is refused, both named.
    import fg_env.data.synthetic.annotator as annotator_module
    from fg_env.errors import ScorerVersionError

    monkeypatch.setattr(annotator_module, "ANNOTATOR_VERSION", "1999.01.0")
    with pytest.raises(ScorerVersionError, match=rf"relevance holds results scored by annotator {ANNOTATOR_VERSION}, "
                                                 r"but this run is scored by annotator 1999.01.0"):
        learned_vs_exact(out, config, settings, seeds=(0, 1), policy_path=policy, window=2, progress=False, log=lambda _: None)


# ---------------------------------------------------------------------------------------- QA-Feedback with learned rewards


def _qa_feedback_folder(folder):
    """Four QA-Feedback-format questions (dev.json), enough for a tiny PPO run judged by learned models."""
    people = ["Ann", "Bob", "Cleo", "Dan"]
    records = [
        {
            "text": f"question: Who won race {k}? context: wikipage: Race {k} text: {name} won race {k} in 199{k}.",
            "question": f"Who won race {k}?",
            "answer": [f"{name} won race {k} in 199{k}."],
            "passages": [{"wikipage": f"Race {k}", "content": f"Race {k}\n\n{name} won race {k} in 199{k}. It rained."}],
        }
        for k, name in enumerate(people)
    ]
    folder.mkdir()
    (folder / "dev.json").write_text(json.dumps(records))
    return folder


@pytest.mark.slow
def test_train_on_qa_feedback_with_learned_reward_models(tmp_path, capsys, tiny_relevance_model):
    data = _qa_feedback_folder(tmp_path / "qa")
    policy = save_tiny_policy(tmp_path / "policy")
    out = tmp_path / "run"
    argv = ["train", "--dataset", "qa-feedback", "--data-dir", str(data), "--train-split", "dev",
            "--policy", str(policy), "--out", str(out), "--iterations", "1", "--prompts-per-iteration", "1",
            "--samples-per-prompt", "2", "--minibatch-size", "2", "--max-new-tokens", "8", "--eval-questions", "3",
            "--no-progress"]
    capsys.readouterr()
    err = cli_error(capsys, argv)  # no annotator on real data: learned models are needed
    assert "--dataset qa-feedback has no annotator to reward or judge answers: give --reward-models" in err
    err = cli_error(capsys, [*argv, "--reward-models", str(tiny_relevance_model), "--eval-split", "test"])
    assert "test" in err  # a split the folder does not hold is named before training
    assert main([*argv, "--reward-models", str(tiny_relevance_model), "--weights", "1.0"]) == 0
    result = json.loads((out / "result.json").read_text())
    evaluation = result["eval"]
    assert evaluation["judge"] == "reward models: relevance" and evaluation["num_answers"] == 3
    assert 0.0 <= evaluation["relevance_ratio"] <= 1.0 and evaluation["factuality_ratio"] is None
    run = json.loads((out / "run.json").read_text())
    assert run["dataset"] == {"name": "qa-feedback", "data_dir": str(data), "train_split": "dev", "eval_split": "dev"}
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert "exact_return" not in rows[0]  # no annotator to audit real data
