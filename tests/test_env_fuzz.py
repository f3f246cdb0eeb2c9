"""Any action string is accepted; rewards stay finite and inside reward_space."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import TinyDataset, tiny_models
from fg_env.envs.qa import FineGrainedQAEnv

ODD_ACTIONS = [
    "",
    " ",
    "\n\t \r",
    "\x00\x01\x02 control. \x7f",
    "é" * 50 + ". 😀😀😀!",
    "\ud800 lone surrogate.",
    "x" * 100_000,
    "Sentence. " * 2_000,
    "a, " * 5_000 + "end.",
    "...",
    "?!?!",
    "Mira Holt was born in 1950.\n\nShe painted.\u2028Then she left.",
]

unicode_text = st.text(st.characters(codec=None, exclude_categories=()), max_size=300)
sentenceish = st.lists(st.sampled_from(["Mira", "Holt", "was", "born", "in", "1950", ",", ".", "!", "?", "weather", " ", "\n"]), max_size=40).map(" ".join)


def assert_valid_step(env, result):
    obs, reward, terminated, truncated, info = result
    assert env.observation_space.contains(obs)
    assert reward.dtype == np.float32 and reward.shape == env.reward_space.shape
    assert np.all(np.isfinite(reward))
    assert env.reward_space.contains(reward)
    response = obs["response"]
    for segment in info["segments"]:
        assert response[segment["start"] : segment["end"]] == segment["text"]
    return terminated or truncated


@pytest.mark.parametrize("action", ODD_ACTIONS, ids=range(len(ODD_ACTIONS)))
def test_odd_actions(action):
    env = FineGrainedQAEnv(dataset=TinyDataset(), reward_models=tiny_models(), max_sentences=10)
    env.reset(seed=0)
    done = assert_valid_step(env, env.step(action))
    if not done:
        assert assert_valid_step(env, env.step(""))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(unicode_text, sentenceish), min_size=1, max_size=12))
def test_random_episodes(actions):
    env = FineGrainedQAEnv(dataset=TinyDataset(), reward_models=tiny_models(), max_sentences=6)
    env.reset(seed=1)
    for action in actions:
        if assert_valid_step(env, env.step(action)):
            return
    assert_valid_step(env, env.step(""))
