"""Evaluation curves of PPO runs (EvaluationConfig.eval_every): they observe training without changing
it, survive a resumed run, and feed the sample-efficiency table."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest
from _agents_tiny import save_tiny_policy

from agents.algorithms.ppo import PPOConfig
from agents.experiments.evaluate import load_examples
from agents.experiments.run import RunSpec
from agents.experiments.runner import EVAL_CURVE_NAME, run_and_evaluate
from agents.experiments.settings import EvaluationConfig, ExperimentConfig
from agents.reporting.stats import episodes_to_reach, sample_efficiency

TINY = PPOConfig(
    iterations=3,
    prompts_per_iteration=1,
    samples_per_prompt=2,
    minibatch_size=2,
    max_new_tokens=6,
    checkpoint_every=1,
    seed=0,
)


def _config(iterations: int, eval_every: int) -> ExperimentConfig:
    return ExperimentConfig(
        training=replace(TINY, iterations=iterations), evaluation=EvaluationConfig(eval_questions=2, eval_every=eval_every)
    )


def _run(policy, config: ExperimentConfig, out, examples) -> dict:
    return run_and_evaluate(RunSpec.from_experiment(config, policy), out, examples, progress=False)


@pytest.fixture(scope="module")
def policy(tmp_path_factory):
    return save_tiny_policy(tmp_path_factory.mktemp("tiny") / "policy")


@pytest.mark.slow
def test_evaluating_during_training_changes_nothing_of_the_training(policy, tmp_path):
    examples = load_examples("dev", 2)
    plain = _run(policy, _config(3, 0), tmp_path / "plain", examples)
    curved = _run(policy, _config(3, 1), tmp_path / "curve", examples)
    assert "eval_curve" not in plain
    assert [p["iteration"] for p in curved["eval_curve"]] == [1, 2, 3]
    assert [p["episodes"] for p in curved["eval_curve"]] == [2, 4, 6]
    # The same training: the same per-iteration metrics (timings aside) and the same final evaluation.
    def strip(curve):
        return [{k: v for k, v in m.items() if not k.startswith("time") and "per_second" not in k} for m in curve]

    assert strip(curved["curve"]) == strip(plain["curve"])
    assert curved["eval"]["relevance_ratio"] == plain["eval"]["relevance_ratio"]
    assert curved["eval_curve"][-1]["relevance_ratio"] == curved["eval"]["relevance_ratio"]


@pytest.mark.slow
def test_a_resumed_run_continues_its_curve(policy, tmp_path):
    examples = load_examples("dev", 2)
    whole = _run(policy, _config(3, 1), tmp_path / "whole", examples)
    # A run of 2 iterations, then the same folder asked for 3: it resumes from its checkpoint.
    first = _run(policy, _config(2, 1), tmp_path / "split", examples)
    assert [p["iteration"] for p in first["eval_curve"]] == [1, 2]
    assert [p["iteration"] for p in json.loads((tmp_path / "split" / EVAL_CURVE_NAME).read_text())] == [1, 2]
    resumed = _run(policy, _config(3, 1), tmp_path / "split", examples)
    assert [p["iteration"] for p in resumed["eval_curve"]] == [1, 2, 3]
    for a, b in zip(resumed["eval_curve"], whole["eval_curve"]):
        assert a["episodes"] == b["episodes"]
        assert a["relevance_ratio"] == pytest.approx(b["relevance_ratio"])


def _runs(*curves: tuple[float, ...]) -> list[list[dict[str, float]]]:
    return [[{"episodes": 80 * i, "completeness": x} for i, x in enumerate(curve)] for curve in curves]


def test_sample_efficiency_reads_the_crossing_of_the_mean_curve():
    fast = _runs((0.2, 0.6, 0.7), (0.2, 0.4, 0.7))  # mean 0.2, 0.5, 0.7
    slow = _runs((0.2, 0.3, 0.4), (0.2, 0.3, 0.4))  # final 0.4
    result = sample_efficiency(fast, slow, metrics=["completeness"], bootstrap=500)["completeness"]
    assert result["target"] == pytest.approx(0.4)
    assert result["episodes"] == pytest.approx(80 * 0.2 / 0.3 * 1)  # 0.2 -> 0.5 over 80 episodes, 0.4 at 53.3
    assert result["budget"] == 160 and result["reached_share"] == 1.0
    assert result["low"] <= result["episodes"] <= result["high"] <= 160


def test_an_arm_that_never_reaches_the_target_says_so():
    slow = _runs((0.2, 0.25, 0.3), (0.2, 0.26, 0.3))
    fast = _runs((0.2, 0.6, 0.7), (0.2, 0.5, 0.7))
    result = sample_efficiency(slow, fast, metrics=["completeness"], bootstrap=200)["completeness"]
    assert result["episodes"] is None and result["reached_share"] == 0.0
    assert result["low"] is None and result["high"] is None
    assert episodes_to_reach(np.array([0, 80]), np.array([0.9, 0.95]), 0.5) == 0.0  # reached at the start


def test_sample_efficiency_counts_in_the_unit_the_curves_give():
    run = lambda *v: [{"timesteps": 1000 * i, "return": x} for i, x in enumerate(v)]  # noqa: E731
    result = sample_efficiency([run(1.0, 3.0, 4.0)] * 2, [run(1.0, 2.0, 2.0)] * 2, metrics=["return"],
                               bootstrap=50, unit="timesteps")["return"]
    assert (result["episodes"], result["budget"], result["unit"]) == (500.0, 2000, "timesteps")
    with pytest.raises(KeyError, match="timesteps"):
        sample_efficiency([[{"episodes": 0, "return": 1.0}]], [[{"episodes": 0, "return": 1.0}]],
                          metrics=["return"], unit="timesteps")
