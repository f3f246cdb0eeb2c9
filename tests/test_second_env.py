"""A second environment on the core, in a few lines: the worked example of CONTRIBUTING's "Adding an
environment", and the check that nothing of the core, the vector env, the wrappers, the answer player
or PPO is tied to question answering.

The task: continue a prompt, one sentence per action. Its examples are a tiny frozen dataclass with
the fields a reward model may read (``fg_env.rewards.base.TaskExample``); its reward models judge each
sentence's length (sentence-level) and whether the whole continuation ends on a full stop (episode-level).
"""

from __future__ import annotations

import functools
import warnings
from dataclasses import dataclass
from typing import Any, Sequence

import gymnasium as gym
import numpy as np
import pytest
from gymnasium import spaces
from gymnasium.utils.env_checker import check_env

from fg_env.envs.answers import play_answer, play_answers
from fg_env.envs.core import FineGrainedEnv, core_env
from fg_env.envs.vector import FineGrainedQAVectorEnv, FineGrainedVectorEnv, copy_env
from fg_env.errors import InvalidTypeError
from fg_env.rewards.base import RewardModel, ScoringRequest, SegmentScore
from fg_env.spaces import UnicodeText
from fg_env.types import Granularity, Observation
from fg_env.wrappers import CandidateSentences, HolisticReward, LinearScalarization, RewardDensity, SelectRewards
from fg_env.wrappers.candidates import ExampleMenu

# ------------------------------------------------------------------------------------ the environment


@dataclass(frozen=True)
class Prompt:
    """One example: what a reward model may read (id, prompt, context, references), nothing more."""

    id: str
    prompt: str
    context: str = ""
    references: tuple[str, ...] = ()


PROMPTS = (
    Prompt("harbour", "The harbour was quiet that night."),
    Prompt("door", "She opened the door slowly."),
    Prompt("rain", "Rain fell on the tin roof."),
)


class SentenceLength(RewardModel):
    """Each sentence: 1 up to eight words, less the longer it runs. Counts its (batched) calls."""

    name, granularity, bounds = "length", Granularity.SENTENCE, (0.0, 1.0)

    def __init__(self) -> None:
        self.calls = 0

    def score(self, requests: Sequence[ScoringRequest]) -> list[SegmentScore]:
        self.calls += 1
        return [SegmentScore(min(1.0, 8 / max(len(r.segment_text.split()), 1))) for r in requests]


class EndsWell(RewardModel):
    """The whole continuation: 1 when it ends on a full stop, else 0 (labelled)."""

    name, granularity, bounds = "ends-well", Granularity.EPISODE, (0.0, 1.0)

    def __init__(self) -> None:
        self.calls = 0

    def score(self, requests: Sequence[ScoringRequest]) -> list[SegmentScore]:
        self.calls += 1
        return [SegmentScore(1.0) if r.answer.rstrip().endswith(".") else SegmentScore(0.0, "Unfinished") for r in requests]


class ContinuePromptEnv(FineGrainedEnv[Prompt]):
    """Continue a prompt one sentence at a time: the whole task, on the core."""

    env_name, example_noun = "ContinuePrompt-v0", "prompt"

    def __init__(
        self, reward_models: Sequence[Any] | None = None, max_sentences: int = 4, render_mode: str | None = None
    ) -> None:
        super().__init__(PROMPTS, reward_models or [SentenceLength(), EndsWell()], max_sentences, render_mode)
        self.observation_space = spaces.Dict({"prompt": UnicodeText(), "response": UnicodeText()})

    def _observation(self) -> Observation:
        return {"prompt": self.example.prompt, "response": self.response}


@pytest.fixture(scope="module", autouse=True)
def registered():
    """ContinuePrompt-v0 in Gymnasium's registry for this module's tests, as a package would register it."""
    gym.register(
        id="ContinuePrompt-v0",
        entry_point=ContinuePromptEnv,
        vector_entry_point=functools.partial(FineGrainedVectorEnv, env_factory=ContinuePromptEnv),
        disable_env_checker=True,  # a vector reward, as FineGrainedQA-v0
    )
    yield
    del gym.registry["ContinuePrompt-v0"]


# ------------------------------------------------------------------------------------ the core


def test_check_env_passes():
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*reward returned by `step\\(\\)` must be a float.*")
        check_env(gym.make("ContinuePrompt-v0").unwrapped, skip_render_check=True)


def test_a_step_scores_each_sentence_and_the_end():
    env = gym.make("ContinuePrompt-v0")
    obs, info = env.reset(options={"example_id": "door"})
    assert obs == {"prompt": "She opened the door slowly.", "response": ""}
    assert info == {"prompt": "She opened the door slowly.", "references": [], "example_id": "door"}
    long = " The wind outside carried the smell of salt and old rope far inland."
    obs, reward, terminated, truncated, info = env.step(" Nobody was there." + long)
    assert [s["text"] for s in info["segments"]] == ["Nobody was there.", long.strip()]
    assert reward.dtype == np.float32 and reward.tolist() == pytest.approx([1.0 + 8 / 13, 0.0])
    assert info["reward_mask"].tolist() == [True, False] and not (terminated or truncated)
    _, reward, terminated, _, info = env.step("")
    assert terminated and reward.tolist() == [0.0, 1.0] and info["reward_mask"].tolist() == [False, True]
    assert info["segments"][0]["component"] == "ends-well" and info["segments"][0]["granularity"] == "episode"
    assert env.unwrapped.reward_names == ("length", "ends-well") and env.unwrapped.default_weights.tolist() == [1, 1]
    assert core_env(env) is env.unwrapped and isinstance(env.unwrapped, FineGrainedEnv)


def test_errors_name_the_examples():
    env = ContinuePromptEnv()
    with pytest.raises(KeyError, match="no prompt with id 'nope' in ContinuePrompt-v0's examples"):
        env.reset(options={"example_id": "nope"})
    with pytest.raises(IndexError, match=r"outside ContinuePrompt-v0's examples \(0..2\)"):
        env.reset(options={"index": 3})


def test_question_answering_reward_models_refuse_other_examples():
    with pytest.raises(InvalidTypeError, match="annotator-backed reward model 'relevance'.*QAExample.*Prompt"):
        ContinuePromptEnv(reward_models=["relevance"])
    with pytest.raises(InvalidTypeError, match="annotator-backed reward model 'completeness'.*Prompt"):
        HolisticReward(ContinuePromptEnv(), reward_model="completeness")  # a wrapper's model, checked alike


def test_render_shows_the_prompt_and_the_scored_sentences():
    env = ContinuePromptEnv(render_mode="html")
    env.reset(options={"index": 0})
    env.step(" The boats slept.")
    page = env.render()
    assert "ContinuePrompt-v0: harbour" in page and "The harbour was quiet that night." in page
    assert page.count('class="fg-seg"') == 1


# ------------------------------------------------------------------------------------ the vector env


def test_vector_env_scores_all_sub_envs_in_one_call_per_model():
    length, ends = SentenceLength(), EndsWell()
    envs = gym.make_vec("ContinuePrompt-v0", num_envs=3, reward_models=[length, ends])
    assert type(envs) is FineGrainedVectorEnv and all(type(e) is ContinuePromptEnv for e in envs.core_envs)
    assert all(e.reward_models[0] is length for e in envs.core_envs)  # built once, shared
    obs, info = envs.reset(seed=0)
    assert info["example_id"].tolist() == [e.example.id for e in envs.core_envs]
    _, rewards, *_ = envs.step([" It was late. Nobody came.", " A cat ran.", " Then silence."])
    assert rewards.shape == (3, 2) and rewards[:, 0].tolist() == [2.0, 1.0, 1.0]
    assert (length.calls, ends.calls) == (1, 0)  # one call for all five sentences; no episode ended
    _, rewards, terminated, *_ = envs.step(["", "", " And then"])
    assert terminated.tolist() == [True, True, False] and rewards[:, 1].tolist() == [1.0, 1.0, 0.0]
    assert (length.calls, ends.calls) == (2, 1)
    with pytest.raises(TypeError, match="FineGrainedQAVectorEnv steps FineGrainedQAEnv environments"):
        FineGrainedQAVectorEnv.from_env(ContinuePromptEnv(), 2)


def test_play_answers_side_by_side_equals_one_by_one():
    answers = [" It was late. Nobody came.", " A cat ran across the long wet street and into the dark alley", ""]
    envs = FineGrainedVectorEnv(2, ContinuePromptEnv)
    played = play_answers(envs, answers, example_ids=["rain", "door", "harbour"])
    alone = [play_answer(ContinuePromptEnv(), a, example_id=i) for a, i in zip(answers, ["rain", "door", "harbour"])]
    for side_by_side, single in zip(played, alone):
        assert side_by_side.response == single.response and side_by_side.prompt == single.prompt
        assert side_by_side.rewards.tolist() == single.rewards.tolist()
    assert played[0].episode_return().tolist() == [2.0, 1.0]
    assert played[1].episode_return().tolist() == pytest.approx([8 / 13, 0.0])  # 13 words, no full stop at the end


def test_copy_env_shares_the_examples_and_models():
    env = gym.make("ContinuePrompt-v0")
    env.reset(seed=1)
    twin = copy_env(env)
    twin.step(" More.")
    assert env.unwrapped.response == "" and twin.unwrapped.response == " More."
    assert twin.unwrapped.examples is env.unwrapped.examples and twin.unwrapped.reward_models is env.unwrapped.reward_models


# ------------------------------------------------------------------------------------ the wrappers


def test_reward_wrapper_stack():
    stack = LinearScalarization(
        RewardDensity(SelectRewards(gym.make("ContinuePrompt-v0"), ["ends-well", "length"]), "episode"),
        weights=[2.0, 0.5],
    )
    stack.reset(seed=0)
    assert stack.step(" It was late. Nobody came.")[1] == 0.0  # every reward held to the end
    _, reward, terminated, _, info = stack.step("")
    assert terminated and reward == pytest.approx(2.0 * 1.0 + 0.5 * 2.0)
    assert sum(s["weight"] * s["value"] for s in info["segments"]) == pytest.approx(reward)

    envs = FineGrainedVectorEnv(2, ContinuePromptEnv, env_wrappers=[HolisticReward])
    envs.reset(seed=0)
    envs.step([" It was late.", " A cat"])
    rewards = envs.step(["", ""])[1]
    assert rewards.tolist() == [2.0, 1.0] and envs.segment_weights == {"holistic": 1.0}


def test_candidate_view_needs_a_menu_it_can_read():
    with pytest.raises(InvalidTypeError, match="passage_menu.*Prompt.*menu="):
        CandidateSentences(ContinuePromptEnv())
    menu = lambda example: ExampleMenu(example.prompt, ("It was late.", "Nobody came.", "It was late."))  # noqa: E731
    view = LinearScalarization(CandidateSentences(ContinuePromptEnv(), num_candidates=3, shuffle=False, menu=menu))
    _, info = view.reset(seed=0)
    assert info["candidates"] == ["It was late.", "Nobody came."]
    _, reward, *_ = view.step(1)
    assert reward == 1.0 and core_env(view).response == "Nobody came."


# ------------------------------------------------------------------------------------ PPO


def test_one_ppo_iteration():
    from agents import testing as agents_testing
    from agents.algorithms.ppo import FineGrainedPPO, PPOConfig

    policy = agents_testing.tiny_policy(0, [p.prompt + " It was late. Nobody came." for p in PROMPTS] * 5)
    env = LinearScalarization(gym.make("ContinuePrompt-v0", max_sentences=2))
    config = PPOConfig(iterations=1, prompts_per_iteration=2, samples_per_prompt=2, minibatch_size=2, max_new_tokens=12)
    metrics = FineGrainedPPO(policy, env, config).train(progress=False)
    assert len(metrics) == 1 and metrics[0]["episodes"] == 4
    assert np.isfinite(metrics[0]["return"]) and np.isfinite(metrics[0]["policy_loss"])
