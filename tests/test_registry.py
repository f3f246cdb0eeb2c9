"""Registration: gym.make by id, reward-model lookup and third-party entry points."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from fg_env.errors import UnknownChoiceError
from fg_env.rewards import available_reward_models, make_reward_model
from fg_env.rewards.base import RewardModel


def test_gym_make_with_module_prefix_works_without_import():
    code = "import gymnasium as gym; env = gym.make('fg_env:FineGrainedQA-v0'); print(type(env.unwrapped).__name__)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "FineGrainedQAEnv"


def test_unknown_reward_model_lists_known_names():
    with pytest.raises(UnknownChoiceError) as error:
        make_reward_model("fluency")
    message = str(error.value)
    assert "fluency" in message and "relevance" in message and "factuality" in message and "completeness" in message


def test_non_reward_model_object_is_rejected():
    with pytest.raises(TypeError, match="name, a folder or a RewardModel, not float"):
        make_reward_model(3.5)  # type: ignore[arg-type]


def test_contract_violations_are_named():
    from fg_env.rewards.base import validate_reward_model
    from fg_env.types import Granularity

    class NoBounds(RewardModel):
        name, granularity, bounds = "x", Granularity.SENTENCE, (1.0, -1.0)

        def score(self, requests):
            return []

    with pytest.raises(TypeError, match="bounds"):
        validate_reward_model(NoBounds())


PLUGIN = textwrap.dedent(
    '''
    from fg_env.rewards.base import RewardModel, SegmentScore
    from fg_env.types import Granularity

    class ExclamationPenalty(RewardModel):
        """-1 for a sentence that ends with '!', +1 otherwise."""
        name, granularity, bounds = "no-shouting", Granularity.SENTENCE, (-1.0, 1.0)

        def score(self, requests):
            return [SegmentScore(-1.0, "Shouting") if r.segment_text.endswith("!") else SegmentScore(1.0) for r in requests]
    '''
)


def test_third_party_reward_model_plugs_in_through_entry_points(tmp_path, monkeypatch):
    (tmp_path / "shouting_plugin.py").write_text(PLUGIN)
    dist = tmp_path / "shouting_plugin-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: shouting-plugin\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text("[fg_env.reward_models]\nno-shouting = shouting_plugin:ExclamationPenalty\n")
    monkeypatch.syspath_prepend(str(tmp_path))

    assert "no-shouting" in available_reward_models()
    from conftest import TinyDataset
    from fg_env.envs.qa import FineGrainedQAEnv

    env = FineGrainedQAEnv(dataset=TinyDataset(), reward_models=["no-shouting"])
    env.reset(seed=0)
    _, reward, _, _, info = env.step("Calm down. Stop shouting!")
    assert reward.tolist() == [0.0]
    assert [s["label"] for s in info["segments"]] == [None, "Shouting"]


def test_cli_info_lists_datasets_and_reward_models(capsys):
    from fg_env.cli import main

    assert main(["info"]) == 0
    out = capsys.readouterr().out
    assert "detox-synthetic, qa-feedback, real-toxicity-prompts, synthetic" in out and "relevance" in out and "0.3, 0.5, 0.3" in out


def test_cli_without_command_prints_help(capsys):
    from fg_env.cli import main

    assert main([]) == 2
    assert "COMMAND" in capsys.readouterr().out
