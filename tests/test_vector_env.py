"""The native vector env: batched scoring, Gymnasium's conventions, and the standard vector wrappers."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import fg_env  # noqa: F401 - registers the environment
from conftest import TinyDataset, tiny_models
from fg_env.envs.qa import FineGrainedQAEnv
from fg_env.envs.vector import FineGrainedQAVectorEnv
from fg_env.errors import InvalidActionError, ResetNeededError
from fg_env.rewards.base import RewardModel

ACTIONS = [
    ["Mira Holt was born in 1950 in Lisbon, and the weather that year was mild and dry.", "The weather was mild.", ""],
    ["She was born in 1951.", "", "Aldo Brenn was born in 1962."],
    ["", "Kai Verde was born in 1977.", "x"],
]


class Counting(RewardModel):
    """Wraps a model and counts its score calls."""

    def __init__(self, inner: RewardModel) -> None:
        self.inner, self.calls, self.requests = inner, 0, 0
        self.name, self.granularity, self.bounds = inner.name, inner.granularity, inner.bounds

    def score(self, requests):
        self.calls += 1
        self.requests += len(requests)
        return self.inner.score(requests)


def vector(num_envs=3, **kwargs):
    return gym.make_vec("FineGrainedQA-v0", num_envs=num_envs, dataset=TinyDataset(), split="train",
                        reward_models=kwargs.pop("reward_models", tiny_models()), max_sentences=3, **kwargs)


def test_make_vec_gives_the_native_vector_env_with_stacked_rewards():
    envs = vector()
    assert isinstance(envs.unwrapped, FineGrainedQAVectorEnv)
    assert envs.metadata["autoreset_mode"] == gym.vector.AutoresetMode.NEXT_STEP
    obs, info = envs.reset(seed=0, options={"index": [0, 1, 2]})
    assert obs["question"] == tuple(ex.question for ex in TinyDataset().split("train"))
    assert list(info["example_id"]) == ["tiny-train-0", "tiny-train-1", "tiny-train-2"]
    obs, rewards, terminated, truncated, info = envs.step([a[0] for a in ACTIONS])
    assert rewards.dtype == np.float32 and rewards.shape == (3, 3)
    assert info["reward_mask"].shape == (3, 3) and info["segments"].shape == (3,)
    assert terminated.tolist() == [False, False, True] and truncated.tolist() == [False, False, False]


def test_each_sub_env_gets_what_a_single_env_would_give():
    envs = vector()
    envs.reset(seed=0, options={"index": [0, 1, 2]})
    singles = [FineGrainedQAEnv(dataset=TinyDataset(), split="train", reward_models=tiny_models(), max_sentences=3)
               for _ in range(3)]
    for i, env in enumerate(singles):
        env.reset(seed=i, options={"index": i})
    done = [False] * 3
    for t in range(3):
        _, rewards, terminated, truncated, info = envs.step([a[t] for a in ACTIONS])
        for i, env in enumerate(singles):
            if done[i]:
                continue  # the vector env resets this one now (next-step autoreset)
            _, reward, term, trunc, single_info = env.step(ACTIONS[i][t])
            np.testing.assert_array_equal(rewards[i], reward)
            assert info["segments"][i] == single_info["segments"]
            assert (terminated[i], truncated[i]) == (term, trunc)
            done[i] = term or trunc


def test_one_score_call_per_reward_model_per_step():
    models = [Counting(m) for m in tiny_models()]
    envs = vector(reward_models=models)
    envs.reset(seed=0, options={"index": [0, 1, 2]})
    envs.step([a[0] for a in ACTIONS])  # relevance and factuality score segments of two envs; completeness one end
    assert [m.calls for m in models] == [1, 1, 1]
    assert models[0].requests == 3  # two sub-sentences, then one
    envs.step(["The weather was mild.", "", "x"])  # env 2 autoresets; env 1 ends
    assert [m.calls for m in models] == [2, 2, 2]


def test_next_step_autoreset_ignores_the_action_and_starts_a_new_question():
    envs = vector(num_envs=2)
    envs.reset(seed=0, options={"index": [0, 1]})
    _, _, terminated, _, _ = envs.step(["", "She was born in 1951."])
    assert terminated.tolist() == [True, False]
    obs, rewards, terminated, truncated, info = envs.step(["ignored text.", ""])
    assert obs["response"][0] == "" and rewards[0].tolist() == [0.0, 0.0, 0.0]
    assert info["_prompt"].tolist() == [True, False]  # the reset's info, for env 0 only
    assert terminated.tolist() == [False, True]


def test_bad_input_is_reported_before_any_env_changes():
    envs = vector(num_envs=2)
    with pytest.raises(ResetNeededError):
        envs.step(["a.", "b."])
    envs.reset(seed=0)
    with pytest.raises(ValueError, match="2 environments"):
        envs.step(["only one."])
    with pytest.raises(InvalidActionError, match="str"):
        envs.step(["fine.", 3])
    assert all(env.response == "" for env in envs.unwrapped.envs)  # nothing was appended
    with pytest.raises(ValueError, match="3 seeds for 2"):
        envs.reset(seed=[1, 2, 3])
    with pytest.raises(ValueError, match="num_envs"):
        FineGrainedQAVectorEnv(num_envs=0)


def test_reward_models_are_built_once_and_shared():
    envs = gym.make_vec("FineGrainedQA-v0", num_envs=3)
    first, *rest = envs.unwrapped.envs
    for env in rest:
        assert env.dataset is first.dataset
        assert all(a is b for a, b in zip(env.reward_models, first.reward_models))
    assert envs.unwrapped.reward_space.shape == (3,)


def test_mo_gymnasium_vector_envs_run_on_the_single_env():
    from mo_gymnasium.wrappers.vector import MOSyncVectorEnv

    envs = MOSyncVectorEnv([lambda: gym.make("FineGrainedQA-v0", max_sentences=2) for _ in range(2)])
    _, info = envs.reset(seed=0)
    _, rewards, *_ = envs.step(["Harlow Bridge is a film.", ""])
    assert rewards.shape == (2, 3)


@pytest.mark.slow
def test_async_vector_envs_run_once_the_reward_is_scalar():
    from mo_gymnasium.wrappers.vector import MOAsyncVectorEnv

    from fg_env.wrappers import LinearScalarization

    # Text observations cannot live in shared memory: the workers send them through their pipes.
    scalar = gym.make_vec("FineGrainedQA-v0", num_envs=2, vectorization_mode="async", wrappers=[LinearScalarization],
                          vector_kwargs={"shared_memory": False}, max_sentences=2)
    scalar.reset(seed=0)
    rewards = scalar.step(["Harlow Bridge is a film.", ""])[1]
    assert rewards.shape == (2,) and rewards.dtype == np.float64
    scalar.close()


@pytest.mark.slow
def test_mo_gymnasium_async_vector_env_runs_on_the_single_env():
    from mo_gymnasium.wrappers.vector import MOAsyncVectorEnv

    try:
        envs = MOAsyncVectorEnv([lambda: gym.make("FineGrainedQA-v0", max_sentences=2) for _ in range(2)], shared_memory=False)
    except ValueError as error:  # MO-Gymnasium 1.3's worker predates Gymnasium 1.4's worker signature
        if "custom `worker` must accept" in str(error):
            pytest.skip(f"this MO-Gymnasium's MOAsyncVectorEnv does not run on this Gymnasium: {error}")
        raise
    envs.reset(seed=0)
    assert envs.step(["Harlow Bridge is a film.", ""])[1].shape == (2, 3)
    envs.close()
