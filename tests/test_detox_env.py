"""FineGrainedDetox-v0: the paper's dense toxicity reward on the core, batched, with its holistic form."""

from __future__ import annotations

import pickle
import warnings

import gymnasium as gym
import pytest
from gymnasium.utils.env_checker import check_env

import fg_env  # noqa: F401 - registers the environments
from fg_env.data.detox.world import DetoxWorld
from fg_env.envs.detox import FineGrainedDetoxEnv, FineGrainedDetoxVectorEnv
from fg_env.errors import FgEnvError
from fg_env.rewards.toxicity import make_toxicity_scorer
from fg_env.rewards.toxicity.reward import TOXIC, ContinuationToxicity, ToxicityChange
from fg_env.wrappers import HolisticReward, LinearScalarization


class CountingScorer:
    """The default scorer, counting its calls and the texts it was asked about."""

    name, version = "counting", "1"

    def __init__(self) -> None:
        self.inner = make_toxicity_scorer("profanity-check")
        self.calls: list[list[str]] = []

    def toxicity(self, texts):
        self.calls.append(list(texts))
        return self.inner.toxicity(texts)


class BrokenScorer:
    name, version = "broken", None

    def toxicity(self, texts):
        raise ConnectionError("the scoring service went away")


@pytest.fixture(scope="module")
def toxic_and_clean():
    corpus = DetoxWorld().corpus("train")
    toxic = next(c.continuation for c in corpus if c.toxic)
    clean = next(c.continuation for c in corpus if not c.toxic)
    return toxic, clean


def _tox(text: str) -> float:
    return float(make_toxicity_scorer("profanity-check").toxicity([text])[0]) if text.strip() else 0.0


def test_check_env_passes():
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*reward returned by `step\\(\\)` must be a float.*")
        check_env(gym.make("FineGrainedDetox-v0").unwrapped, skip_render_check=True)


def test_each_sentence_gets_minus_the_toxicity_change_it_caused(toxic_and_clean):
    toxic, clean = toxic_and_clean
    env = gym.make("FineGrainedDetox-v0", max_sentences=20)
    obs, info = env.reset(seed=0)
    assert obs == {"prompt": info["prompt"], "response": ""}
    _, first, *_ = env.step(clean)
    _, second, _, _, info = env.step(toxic)
    response = env.unwrapped.response
    assert first[0] == pytest.approx(-_tox(clean), abs=1e-6)
    assert second[0] == pytest.approx(_tox(clean) - _tox(response), abs=1e-6)
    assert second[0] < -0.2 and TOXIC in [s["label"] for s in info["segments"]]  # the toxic sentence is named
    # The dense rewards telescope: minus the toxicity of the whole continuation.
    _, last, terminated, _, _ = env.step("")
    assert terminated and first[0] + second[0] + last[0] == pytest.approx(-_tox(response), abs=1e-6)


def test_a_sentence_made_of_several_is_scored_sentence_by_sentence(toxic_and_clean):
    toxic, clean = toxic_and_clean
    env = gym.make("FineGrainedDetox-v0")
    env.reset(seed=1)
    _, reward, _, _, info = env.step(f"{clean} {toxic}")
    assert [s["granularity"] for s in info["segments"]] == ["sentence"] * len(info["segments"])
    assert reward[0] == pytest.approx(sum(s["value"] for s in info["segments"]), abs=1e-6)


def test_a_vector_step_scores_every_sub_env_in_one_scorer_call(toxic_and_clean):
    toxic, clean = toxic_and_clean
    scorer = CountingScorer()
    envs = gym.make_vec("FineGrainedDetox-v0", num_envs=3, reward_models=[ToxicityChange(scorer)])
    envs.reset(seed=0)
    _, rewards, *_ = envs.step([clean, toxic, clean])
    assert len(scorer.calls) == 1 and rewards.shape == (3, 1)
    assert rewards[1, 0] == pytest.approx(-_tox(toxic), abs=1e-6)
    _, rewards, *_ = envs.step([toxic, clean, ""])
    # The "before" texts are the last step's "after" texts: remembered, not scored again.
    assert len(scorer.calls) == 2 and not {clean, toxic} & set(scorer.calls[1])
    assert isinstance(envs.unwrapped, FineGrainedDetoxVectorEnv)


def test_the_holistic_forms(toxic_and_clean):
    toxic, clean = toxic_and_clean
    # 1 - toxicity of the continuation at the end, as its own episode-level model ...
    env = gym.make("FineGrainedDetox-v0", reward_models=["toxicity", "non-toxicity"], max_sentences=20)
    env.reset(seed=0)
    env.step(clean)
    _, _, _, _, _ = env.step(toxic)
    _, reward, terminated, _, info = env.step("")
    response = env.unwrapped.response
    assert terminated and reward[1] == pytest.approx(1 - _tox(response), abs=1e-6)
    assert env.unwrapped.reward_granularities == ("sentence", "episode")
    # ... or the weighted sum of the dense rewards, delivered once at the end (the one-line ablation).
    holistic = HolisticReward(gym.make("FineGrainedDetox-v0", max_sentences=20))
    holistic.reset(seed=0)
    assert holistic.step(clean)[1] == 0.0 and holistic.step(toxic)[1] == 0.0
    assert holistic.step("")[1] == pytest.approx(-_tox(holistic.unwrapped.response), abs=1e-6)
    assert LinearScalarization(gym.make("FineGrainedDetox-v0")).unwrapped.default_weights.tolist() == [1.0]


def test_the_environment_pickles_and_replays_the_same_rewards(toxic_and_clean):
    toxic, clean = toxic_and_clean
    env = gym.make("FineGrainedDetox-v0")
    env.reset(seed=3)
    copy = pickle.loads(pickle.dumps(env))
    assert env.step(toxic)[1].tolist() == copy.step(toxic)[1].tolist()


def test_the_html_page_colours_each_sentence(toxic_and_clean):
    toxic, clean = toxic_and_clean
    env = gym.make("FineGrainedDetox-v0", render_mode="html")
    env.reset(seed=0)
    env.step(clean)
    env.step(toxic)
    page = env.render()
    assert "<html" in page.lower() and TOXIC in page and env.unwrapped.example.prompt.split()[0] in page


def test_bad_scorers_are_named_and_a_failing_one_raises():
    with pytest.raises(FgEnvError, match="profanity-check"):
        gym.make("FineGrainedDetox-v0", reward_models=[ToxicityChange("no-such-scorer")])
    env = gym.make("FineGrainedDetox-v0", reward_models=[ToxicityChange(BrokenScorer())])
    env.reset(seed=0)
    with pytest.raises(ConnectionError, match="went away"):  # never a made-up reward
        env.step("A quiet street.")
    with pytest.raises(FgEnvError, match="no-such-split"):
        FineGrainedDetoxEnv(split="no-such-split")
    # each environment refuses the other task's dataset by name, not deep inside a reward model
    with pytest.raises(TypeError, match="holds questions, not prompts"):
        FineGrainedDetoxEnv(dataset="synthetic")
    with pytest.raises(TypeError, match="does not hold questions"):
        gym.make("FineGrainedQA-v0", dataset="detox-synthetic")


def test_reward_versions_name_the_scorer():
    env = gym.make("FineGrainedDetox-v0", reward_models=["toxicity", ContinuationToxicity(CountingScorer())])
    versions = env.unwrapped.reward_versions
    assert versions["toxicity"].startswith("profanity-check") and versions["non-toxicity"] == "counting:1"
    # a sentence-level entry sums however many sentences one action holds (unbounded); the episode's keeps [0, 1]
    assert env.unwrapped.reward_space.low[1] == 0.0 and env.unwrapped.reward_space.high[1] == 1.0
