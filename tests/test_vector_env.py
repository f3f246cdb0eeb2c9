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
    from fg_env.integrations.mo_gymnasium import MOAsyncVectorEnv

    envs = MOAsyncVectorEnv([lambda: gym.make("FineGrainedQA-v0", max_sentences=2) for _ in range(2)], shared_memory=False)
    envs.reset(seed=0, options={"index": 0})
    rewards = envs.step(["Harlow Bridge is a film.", ""])[1]
    assert rewards.shape == (2, 3) and rewards.dtype == np.float32
    single = gym.make("FineGrainedQA-v0", max_sentences=2)
    single.reset(options={"index": 0})
    np.testing.assert_array_equal(rewards[0], single.step("Harlow Bridge is a film.")[1])
    envs.close()
    with pytest.raises(ValueError, match="max_concurrency"):
        MOAsyncVectorEnv([lambda: gym.make("FineGrainedQA-v0")], max_concurrency=1, shared_memory=False)


# ------------------------------------------------------------------ wrapped sub-envs, batched scoring

ANSWERS = [
    "Mira Holt was born in 1950 in Lisbon, and the weather that year was mild and dry. The weather was mild.",
    "She was born in 1951.",
    "",
    "Kai Verde was born in 1977. It rained. Then it rained again. And again.",  # truncated at 3 sentences
]


def _single(**kwargs):
    return FineGrainedQAEnv(dataset=TinyDataset(), split="train", reward_models=tiny_models(), max_sentences=3, **kwargs)


@pytest.mark.parametrize("scheme", ["vector", "linear", "holistic", "density-then-select"])
def test_wrapped_sub_envs_give_what_the_wrapped_single_env_gives(scheme):
    from fg_env.envs.answers import play_answer, play_answers
    from fg_env.wrappers import HolisticReward, LinearScalarization, RewardDensity, SelectRewards

    stacks = {
        "vector": [],
        "linear": [lambda e: LinearScalarization(e, [1.0, 2.0, 4.0])],
        "holistic": [HolisticReward],
        "density-then-select": [lambda e: RewardDensity(e, "episode"), lambda e: SelectRewards(e, ["completeness", "relevance"])],
    }[scheme]
    models = [Counting(m) for m in tiny_models()]
    envs = FineGrainedQAVectorEnv(num_envs=3, env_wrappers=stacks, dataset=TinyDataset(), split="train",
                                  reward_models=models, max_sentences=3)
    played = play_answers(envs, ANSWERS, indices=[0, 1, 2, 2])
    single = _single()
    for wrapper in stacks:
        single = wrapper(single)
    for answer, index, p in zip(ANSWERS, [0, 1, 2, 2], played):
        alone = play_answer(single, answer, index=index)
        np.testing.assert_array_equal(p.rewards, alone.rewards)
        assert [i["segments"] for i in p.infos] == [i["segments"] for i in alone.infos]
        assert (p.response, p.terminated, p.truncated, p.actions) == (alone.response, alone.terminated, alone.truncated, alone.actions)
    # Two chunks: answers 0-2 side by side (3 steps), then answer 3 (3 steps). Relevance and factuality
    # score new sentences on 2 + 3 steps (played one by one: 2 + 1 + 0 + 3), completeness each ending.
    assert [m.calls for m in models] == [5, 5, 4]
    assert played[3].truncated and played[3].consumed_end < len(ANSWERS[3])


def test_play_answers_on_a_fresh_vector_env_with_more_sub_envs_than_answers():
    from fg_env.envs.answers import play_answer, play_answers

    envs = FineGrainedQAVectorEnv(num_envs=4, dataset=TinyDataset(), split="train", reward_models=tiny_models(),
                                  max_sentences=3)
    played = play_answers(envs, ANSWERS[:2], indices=[1, 0])
    assert envs.started.all()  # the idle sub-envs were started too, so later partial resets are allowed
    for answer, index, p in zip(ANSWERS[:2], [1, 0], played):
        np.testing.assert_array_equal(p.rewards, play_answer(_single(), answer, index=index).rewards)


def test_scoring_is_batched_through_wrappers():
    from fg_env.wrappers import LinearScalarization

    models = [Counting(m) for m in tiny_models()]
    envs = vector(reward_models=models, env_wrappers=[LinearScalarization])
    envs.reset(seed=0, options={"index": [0, 1, 2]})
    _, rewards, *_ = envs.step([a[0] for a in ACTIONS])
    assert [m.calls for m in models] == [1, 1, 1] and rewards.shape == (3,)
    assert envs.unwrapped.segment_weights == {"relevance": pytest.approx(0.3), "factuality": 0.5, "completeness": pytest.approx(0.3)}
    with pytest.raises(AttributeError, match="scalar"):
        envs.unwrapped.reward_names


class Shout(gym.Wrapper):
    """Rewrites every action: the sub-env must then score on its own, and still be right."""

    def step(self, action):
        return self.env.step(action.upper())


def test_a_wrapper_that_rewrites_the_action_costs_batching_not_correctness():
    envs = vector(env_wrappers=[Shout])
    envs.reset(seed=0, options={"index": [0, 1, 2]})
    obs, rewards, *_ = envs.step(["the weather was mild.", "She was born in 1951.", ""])
    single = Shout(_single())
    single.reset(options={"index": 0})
    _, reward, *_ = single.step("the weather was mild.")
    assert obs["response"][0] == "THE WEATHER WAS MILD."
    np.testing.assert_array_equal(rewards[0], reward)


def test_env_ids_step_only_those_sub_envs():
    envs = vector().unwrapped
    envs.reset(seed=0, options={"index": [0, 1, 2]})
    obs, rewards, terminated, _, info = envs.step(["She was born in 1951.", ""], env_ids=[2, 0])
    assert obs["response"] == ("She was born in 1951.", "") and rewards.shape == (2, 3)
    assert terminated.tolist() == [False, True] and info["env_id"].tolist() == [2, 0]
    assert info["reward_mask"].shape == (2, 3) and info["_segments"].tolist() == [True, True]  # rows as env_ids
    assert info["segments"][0][0]["text"] == "She was born in 1951."
    assert envs.core_envs[1].response == ""  # not stepped
    with pytest.raises(ValueError, match="distinct sub-env indices in 0..2"):
        envs.step(["a."], env_ids=[3])
    with pytest.raises(ValueError, match="distinct"):
        envs.step(["a.", "b."], env_ids=[1, 1])
    with pytest.raises(ValueError, match="1 actions for 2 environments"):
        envs.step(["a."], env_ids=[1, 2])


def test_reset_mask_resets_only_those_sub_envs():
    envs = vector().unwrapped
    envs.reset(seed=0, options={"index": [0, 1, 2]})
    envs.step(["Mira Holt is a painter.", "x.", "y."])
    obs, info = envs.reset(options={"index": [2, 2, 2], "reset_mask": np.array([False, True, False])})
    assert obs["response"] == ("Mira Holt is a painter.", "", "y.")
    assert info["_example_id"].tolist() == [False, True, False] and info["example_id"][1] == "tiny-train-2"
    with pytest.raises(ValueError, match="reset_mask"):
        envs.reset(options={"reset_mask": [True, False, True]})
    fresh = vector().unwrapped
    with pytest.raises(ResetNeededError, match="never reset"):
        fresh.reset(options={"reset_mask": np.array([True, False, False])})


def test_from_env_copies_the_stack_and_shares_the_models():
    from fg_env.wrappers import HolisticReward, LinearScalarization

    preference = tiny_models()[2]
    env = HolisticReward(_single(), reward_model=preference)
    envs = FineGrainedQAVectorEnv.from_env(env, 3)
    assert envs.num_envs == 3 and all(type(e) is HolisticReward for e in envs.envs)
    assert all(e.reward_model is preference for e in envs.envs)
    assert all(q.reward_models[k] is env.unwrapped.reward_models[k] for q in envs.core_envs for k in range(3))
    assert all(q.dataset is env.unwrapped.dataset for q in envs.core_envs)
    assert env.unwrapped.response == "" and env.unwrapped._example is None  # the original is untouched
    with pytest.raises(ValueError, match="num_envs"):
        FineGrainedQAVectorEnv.from_env(LinearScalarization(_single()), 0)
    with pytest.raises(TypeError, match="FineGrainedQA"):
        FineGrainedQAVectorEnv.from_env(gym.make("CartPole-v1"), 2)


def test_text_actions_only():
    from fg_env.wrappers import LinearScalarization

    class Numbered(gym.ActionWrapper):
        def __init__(self, env):
            super().__init__(env)
            self.action_space = gym.spaces.Discrete(2)

        def action(self, action):
            return ["Mira Holt is a painter.", ""][action]

    with pytest.raises(TypeError, match="SyncVectorEnv"):
        vector(env_wrappers=[Numbered, LinearScalarization])
    envs = vector()
    envs.reset(seed=0)
    with pytest.raises(TypeError, match="one str"):
        envs.step("abc")


def test_async_vector_env_with_shared_memory_fails_with_a_clear_message():
    from fg_env.spaces import UnicodeText
    from gymnasium.vector.utils import create_shared_memory

    with pytest.raises(ValueError, match="shared_memory=False"):
        create_shared_memory(UnicodeText(), n=2)
    from fg_env.wrappers import LinearScalarization

    # Gymnasium's default shared_memory=True used to hang allocating gigabytes per env; now it says why.
    with pytest.raises(ValueError, match="cannot live in shared memory"):
        gym.make_vec("FineGrainedQA-v0", num_envs=2, vectorization_mode="async", wrappers=[LinearScalarization])
