"""FineGrainedQA-v0's contract, on a tiny hand-made dataset with keyword reward models."""

from __future__ import annotations

import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

from conftest import TinyDataset, tiny_models
from fg_env.errors import UnknownChoiceError
from fg_env.envs.qa import FineGrainedQAEnv


def test_check_env_passes(tiny_env):
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*reward returned by `step\\(\\)` must be a float.*")
        check_env(tiny_env, skip_render_check=True)


def test_reset_gives_prompt_references_and_id(tiny_env):
    obs, info = tiny_env.reset(seed=3)
    example = tiny_env.unwrapped.example
    assert obs == {"question": example.question, "passages": example.context, "response": ""}
    assert info["prompt"] == f"question: {example.question} context: {example.context} answer:"
    assert info["prompt"].startswith("question: When was ") and "context: wikipage: " in info["prompt"]
    assert info["references"] == list(example.references)
    assert info["example_id"] == example.id


def test_seeded_reset_is_deterministic():
    a = FineGrainedQAEnv(dataset=TinyDataset(), reward_models=tiny_models())
    b = FineGrainedQAEnv(dataset=TinyDataset(), reward_models=tiny_models())
    ids_a = [a.reset(seed=s)[1]["example_id"] for s in range(10)]
    ids_b = [b.reset(seed=s)[1]["example_id"] for s in range(10)]
    assert ids_a == ids_b
    assert len(set(ids_a)) > 1


def test_reward_vector_spans_and_mask(tiny_env):
    tiny_env.reset(options={"index": 0})
    obs, reward, terminated, truncated, info = tiny_env.step("Mira Holt was born in 1950 in Lisbon, and the weather that year was mild and dry.")
    assert reward.dtype == np.float32 and reward.shape == (3,)
    assert info["reward_mask"].tolist() == [True, True, False]
    response = obs["response"]
    for segment in info["segments"]:
        assert response[segment["start"] : segment["end"]] == segment["text"]
    relevance = [s for s in info["segments"] if s["component"] == "relevance"]
    assert [s["text"] for s in relevance] == [
        "Mira Holt was born in 1950 in Lisbon,",
        "and the weather that year was mild and dry.",
    ]
    assert [s["value"] for s in relevance] == [1.0, -1.0]
    assert relevance[1]["label"] == "Irrelevant" and relevance[0]["label"] is None
    assert reward.tolist() == [0.0, 1.0, 0.0]  # relevance +1 -1, factuality +1, completeness not yet
    assert not terminated and not truncated


def test_empty_action_terminates_and_scores_episode(tiny_env):
    tiny_env.reset(options={"index": 0})
    tiny_env.step("Mira Holt was born in 1950.")
    _, reward, terminated, truncated, info = tiny_env.step("   ")
    assert terminated and not truncated
    assert info["reward_mask"].tolist() == [False, False, True]
    assert reward.tolist() == [0.0, 0.0, 1.0]
    (episode,) = info["segments"]
    assert episode["granularity"] == "episode" and episode["text"] == "Mira Holt was born in 1950."


def test_wrong_year_is_penalised(tiny_env):
    tiny_env.reset(options={"index": 0})
    _, reward, *_ = tiny_env.step("Mira Holt was born in 1951.")
    assert reward[1] == -1.0


def test_truncation_at_max_sentences_scores_the_episode(tiny_env):
    tiny_env.reset(options={"index": 1})
    _, _, terminated, truncated, _ = tiny_env.step("It was sunny. She smiled. They left early.")
    assert not (terminated or truncated)
    _, reward, terminated, truncated, info = tiny_env.step("Aldo Brenn was born in 1962. That is all.")
    assert truncated and not terminated
    assert info["num_sentences"] == 5
    assert info["reward_mask"][2] and reward[2] == 1.0


def test_stepping_a_finished_episode_raises(tiny_env):
    tiny_env.reset(seed=0)
    tiny_env.step("")
    with pytest.raises(RuntimeError, match="ended"):
        tiny_env.step("More text.")


def test_step_before_reset_and_non_string_action_raise(tiny_env):
    with pytest.raises(RuntimeError, match="reset"):
        tiny_env.step("Hello.")
    tiny_env.reset(seed=0)
    with pytest.raises(TypeError, match="str"):
        tiny_env.step(42)


def test_empty_answer_still_gets_episode_score(tiny_env):
    tiny_env.reset(seed=0)
    _, reward, terminated, _, info = tiny_env.step("")
    assert terminated and reward.tolist() == [0.0, 0.0, 0.0]
    assert info["reward_mask"].tolist() == [False, False, True]


def test_separator_inserted_between_glued_actions(tiny_env):
    tiny_env.reset(seed=0)
    tiny_env.step("First sentence.")
    obs, _, _, _, info = tiny_env.step("Second sentence.")
    assert obs["response"] == "First sentence. Second sentence." and info["inserted_separator"]
    obs, _, _, _, info = tiny_env.step("  Third one.")
    assert obs["response"] == "First sentence. Second sentence.  Third one." and not info["inserted_separator"]


def test_several_sentences_in_one_action(tiny_env):
    tiny_env.reset(seed=0)
    _, reward, _, _, info = tiny_env.step("It rained. The weather was bad.")
    sentences = [s["text"] for s in info["segments"] if s["component"] == "factuality"]
    assert sentences == ["It rained.", "The weather was bad."]
    assert reward[0] == 0.0  # +1 and -1


def test_reward_space_and_weights(tiny_env):
    env = tiny_env.unwrapped
    assert env.reward_names == ("relevance", "factuality", "completeness")
    np.testing.assert_allclose(env.default_weights, [0.3, 0.5, 0.3])
    assert env.reward_space.shape == (3,)
    assert env.reward_space.low[2] == 0.0 and env.reward_space.high[2] == 1.0


def test_unknown_dataset_split_and_reward_model_list_choices():
    with pytest.raises(UnknownChoiceError, match="synthetic") as error:
        FineGrainedQAEnv(dataset="nope")
    assert "qa-feedback" in str(error.value)
    with pytest.raises(UnknownChoiceError, match="train.*dev"):
        FineGrainedQAEnv(dataset=TinyDataset(), split="validation", reward_models=tiny_models())
    with pytest.raises(UnknownChoiceError, match="relevance"):
        FineGrainedQAEnv(dataset=TinyDataset(), reward_models=["relevance", "no-such-model"])


def test_bad_constructor_arguments():
    with pytest.raises(ValueError, match="max_sentences"):
        FineGrainedQAEnv(dataset=TinyDataset(), reward_models=tiny_models(), max_sentences=0)
    with pytest.raises(ValueError, match="unique"):
        FineGrainedQAEnv(dataset=TinyDataset(), reward_models=[tiny_models()[0], tiny_models()[0]])
    with pytest.raises(ValueError, match="empty"):
        FineGrainedQAEnv(dataset=TinyDataset(), reward_models=[])
    with pytest.raises(TypeError, match="RewardModel"):
        FineGrainedQAEnv(dataset=TinyDataset(), reward_models=[object()])


def test_reset_options(tiny_env):
    _, info = tiny_env.reset(options={"example_id": "tiny-train-2"})
    assert info["example_id"] == "tiny-train-2"
    with pytest.raises(KeyError, match="no question"):
        tiny_env.reset(options={"example_id": "missing"})
    with pytest.raises(IndexError):
        tiny_env.reset(options={"index": 99})
    with pytest.raises(ValueError, match="unknown reset options"):
        tiny_env.reset(options={"idx": 1})


def test_reward_model_out_of_bounds_is_reported():
    from fg_env.rewards.base import RewardModel, SegmentScore
    from fg_env.types import Granularity

    class Broken(RewardModel):
        name, granularity, bounds = "broken", Granularity.SENTENCE, (0.0, 1.0)

        def score(self, requests):
            return [SegmentScore(5.0) for _ in requests]

    env = FineGrainedQAEnv(dataset=TinyDataset(), reward_models=[Broken()])
    env.reset(seed=0)
    with pytest.raises(ValueError, match="outside its bounds"):
        env.step("Hello there.")


def test_render_ansi():
    env = FineGrainedQAEnv(dataset=TinyDataset(), reward_models=tiny_models(), render_mode="ansi")
    env.reset(seed=0)
    env.step("Hello there.")
    assert "Hello there." in env.render()
    with pytest.raises(UnknownChoiceError):
        FineGrainedQAEnv(dataset=TinyDataset(), reward_models=tiny_models(), render_mode="rgb_array")


def test_env_pickles_and_deep_copies_mid_episode():
    import copy
    import pickle

    import gymnasium as gym

    env = gym.make("FineGrainedQA-v0", max_sentences=4)
    _, info = env.reset(seed=3)
    first, *rest = [s.strip() + "." for s in info["references"][0].split(".") if s.strip()][:3]
    env.step(first)
    clones = [pickle.loads(pickle.dumps(env)), copy.deepcopy(env)]

    def finish(e):
        steps = []
        for action in [*rest, ""]:
            steps.append(e.step(action))
            if steps[-1][2] or steps[-1][3]:
                return steps
        raise AssertionError("the episode did not end")

    expected = finish(env)
    for clone in clones:
        got = finish(clone)
        assert [g[1].tolist() for g in got] == [e[1].tolist() for e in expected]
        assert [g[4]["segments"] for g in got] == [e[4]["segments"] for e in expected]
        assert got[-1][0] == expected[-1][0]
    example = env.unwrapped.example
    assert pickle.loads(pickle.dumps(example)) == example
    assert pickle.loads(pickle.dumps(example)).meta["world"] == example.meta["world"]
