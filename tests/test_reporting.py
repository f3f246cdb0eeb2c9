"""--report-to: TensorBoard and W&B receive what metrics.jsonl holds; bad names fail before training."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import gymnasium as gym
import pytest

import fg_env  # noqa: F401
from fg_env.errors import UnknownChoiceError
from fg_env.reporting import make_reporters, numbers


def tiny_training(out, report_to):
    from agents.algorithms.ppo import FineGrainedPPO, PPOConfig
    from agents.experiments.schemes import get_scheme
    from agents.testing import tiny_policy

    env = get_scheme("fine-grained").wrap(gym.make("FineGrainedQA-v0", max_sentences=2))
    config = PPOConfig(iterations=2, prompts_per_iteration=1, samples_per_prompt=2, max_new_tokens=12)
    return FineGrainedPPO(tiny_policy(), env, config).train(out, progress=False, report_to=report_to)


def test_names_are_checked():
    with pytest.raises(UnknownChoiceError, match="unknown report target 'mlflow'; valid choices: none, tensorboard"):
        make_reporters(["mlflow"], ".", run_name="x")
    with pytest.raises(ValueError, match="'none' cannot be combined"):
        make_reporters(["none", "tensorboard"], ".", run_name="x")
    assert make_reporters(["none"], ".", run_name="x") == []
    assert numbers({"a": 1, "b": True, "c": "x", "d": [1.0], "e": float("inf")}) == {"a": 1.0}


@pytest.mark.slow
def test_tensorboard_gets_every_iteration_with_trl_reward_names(tmp_path):
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    metrics = tiny_training(tmp_path, ["tensorboard"])
    events = EventAccumulator(str(tmp_path / "tensorboard"))
    events.Reload()
    tags = set(events.Tags()["scalars"])
    assert {"return", "kl", "rewards/relevance/mean", "rewards/factuality/mean", "rewards/completeness/mean"} <= tags
    logged = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert logged == json.loads(json.dumps(metrics))  # metrics.jsonl is written as always
    for tag in ("return", "rewards/relevance/mean"):
        points = events.Scalars(tag)
        assert [p.step for p in points] == [1, 2]
        assert [p.value for p in points] == pytest.approx([m[tag] for m in metrics], rel=1e-6)


@pytest.mark.slow
def test_wandb_runs_offline_without_a_login(tmp_path, monkeypatch):
    pytest.importorskip("wandb")
    for key in ("WANDB_MODE", "WANDB_API_KEY"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("WANDB_SILENT", "true")
    (reporter,) = make_reporters(["wandb"], tmp_path, run_name="offline-test", config={"seed": 0})
    reporter.log({"return": 1.5, "samples": ["text"]}, step=1)
    reporter.close()
    runs = list((tmp_path / "wandb").glob("offline-run-*"))
    assert len(runs) == 1 and any(runs[0].rglob("*.wandb"))


def test_training_without_an_out_dir_cannot_report():
    with pytest.raises(ValueError, match="needs an out_dir"):
        tiny_training(None, ["tensorboard"])


@pytest.mark.parametrize(
    "command", [["train"], ["compare"], ["sweep-weights", "--component", "relevance", "--values", "0.1,0.3"]]
)
def test_the_command_line_refuses_unknown_targets_before_training(tmp_path, command):
    done = subprocess.run(
        [sys.executable, "-m", "fg_env.cli", *command, "--out", str(tmp_path / "run"), "--report-to", "mlflow"],
        capture_output=True,
        text=True,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )
    assert done.returncode == 2 and "unknown report target 'mlflow'" in done.stderr
    assert not (tmp_path / "run").exists()
