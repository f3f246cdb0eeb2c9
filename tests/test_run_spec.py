"""One description per run (agents.experiments.run.RunSpec) and one home per default: the key a run is
reused by, what changes it, and the defaults that every command reads from the same place."""

from __future__ import annotations

from dataclasses import replace

import pytest

from agents.algorithms.ppo import PPOConfig
from agents.experiments.run import BUILT_IN, RUN_KEY_VERSION, DatasetChoice, RewardModels, RunSpec
from agents.experiments.settings import EVAL_QUESTIONS, MAX_SENTENCES, PRESETS, EvaluationConfig
from fg_env.data.synthetic.annotator import ANNOTATOR_VERSION
from fg_env.errors import InvalidValueError, UnknownChoiceError


def test_the_key_is_versioned_and_holds_every_part_of_the_run():
    spec = RunSpec.from_experiment(PRESETS["quick"].config(), "runs/sft", "sentence", weights=[0.2, 0.6, 0.2])
    assert spec.key() == {
        "version": RUN_KEY_VERSION,
        "env": "FineGrainedQA-v0",
        "policy": "runs/sft",
        "scheme": "sentence",
        "weights": [0.2, 0.6, 0.2],
        "trainer": "ppo",
        "config": spec.training.to_dict(),
        "evaluation": {"eval_questions": 24, "max_sentences": MAX_SENTENCES},
        "annotator": ANNOTATOR_VERSION,  # the built-in world's runs are scored by its annotator
    }
    assert spec.key() == RunSpec.from_experiment(PRESETS["quick"].config(), "runs/sft", "sentence", weights=(0.2, 0.6, 0.2)).key()


@pytest.mark.parametrize("change", [
    lambda s: replace(s, training=replace(s.training, seed=1)),
    lambda s: replace(s, scheme="holistic"),
    lambda s: replace(s, weights=(0.3, 0.5, 0.4)),
    lambda s: replace(s, policy="runs/other"),
    lambda s: replace(s, evaluation=EvaluationConfig(max_sentences=5)),
    lambda s: replace(s, dataset=DatasetChoice(eval_split="test")),
    lambda s: replace(s, reward_models=RewardModels(("relevance",))),
])
def test_every_part_of_the_run_changes_its_key(change):
    spec = RunSpec("runs/sft")
    assert change(spec).key() != spec.key()


def test_a_run_of_compare_takes_its_seed_and_its_schemes_kl_coefficient():
    config = PRESETS["default"].config()
    holistic = RunSpec.from_experiment(config.for_run("holistic", 3), "p", "holistic")
    assert (holistic.seed, holistic.training.kl_coef, holistic.episodes) == (3, 0.2, 320)
    assert RunSpec.from_experiment(config.for_run("fine-grained", 3), "p").training.kl_coef == 0.3


def test_a_spec_refuses_what_cannot_run():
    with pytest.raises(UnknownChoiceError, match="unknown reward scheme 'dense'"):
        RunSpec("p", scheme="dense")
    with pytest.raises(UnknownChoiceError, match="unknown trainer 'dpo'"):
        RunSpec("p", trainer="dpo")
    with pytest.raises(InvalidValueError, match="trainer 'ppo' takes PPOConfig settings, not EvaluationConfig"):
        RunSpec("p", training=EvaluationConfig())  # type: ignore[arg-type]


def test_the_run_builds_its_environments_on_its_splits():
    spec = RunSpec("p", dataset=DatasetChoice(train_split="dev", eval_split="test"), evaluation=EvaluationConfig(max_sentences=3))
    env = spec.make_env(spec.dataset.eval_split)
    assert env.unwrapped.split == "test" and env.unwrapped.max_sentences == 3
    assert spec.exact_env("dev") is None  # exact rewards already: nothing to audit
    assert RunSpec("p", reward_models=RewardModels(("relevance", "factuality"))).exact_env("train") is not None
    assert [e.id for e in BUILT_IN.eval_examples(2)] == ["synthetic-dev-00000", "synthetic-dev-00001"]


def test_each_default_has_one_home():
    import inspect

    from agents.cli.evaluate import Evaluation
    from agents.experiments.evaluate import evaluate_policy, greedy_answers
    from agents.experiments.run import make_env
    from agents.experiments.sb3_compare import SB3CompareConfig
    from agents.policies.policy import ANSWER_TOKENS

    assert PPOConfig().max_new_tokens == Evaluation().max_new_tokens == ANSWER_TOKENS == 96
    for function in (evaluate_policy, greedy_answers):
        parameters = inspect.signature(function).parameters
        assert (parameters["max_new_tokens"].default, parameters["max_sentences"].default) == (ANSWER_TOKENS, MAX_SENTENCES)
    assert EvaluationConfig().max_sentences == Evaluation().max_sentences == MAX_SENTENCES == 6
    assert inspect.signature(make_env).parameters["max_sentences"].default == MAX_SENTENCES
    assert all(p.config().evaluation.max_sentences == MAX_SENTENCES for p in PRESETS.values())
    assert EvaluationConfig().eval_questions == SB3CompareConfig().eval_questions == EVAL_QUESTIONS == 100
    assert (SB3CompareConfig().train_split, SB3CompareConfig().eval_split) == (BUILT_IN.train_split, BUILT_IN.eval_split)


def test_renaming_an_sft_setting_keeps_the_cached_policies():
    from agents.policies.sft import SFTConfig, rebuild_command

    # The keys of the cached default and quick policies before warmup_fraction became warmup_ratio.
    assert (SFTConfig().key(), SFTConfig.quick().key()) == ("97c097165fe7d31f", "4de89ab81fb13d35")
    assert SFTConfig(warmup_ratio=0.2).key() == "52b0934f6d5e34f9"
    assert SFTConfig().to_dict()["warmup_fraction"] == 0.05 and "warmup_ratio" not in SFTConfig().to_dict()
    assert rebuild_command(SFTConfig(warmup_ratio=0.2)) == "fg-env sft --force --warmup-ratio 0.2"
