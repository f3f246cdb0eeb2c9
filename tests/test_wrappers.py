"""Reward-shaping wrappers, and MO-Gymnasium / Stable-Baselines3 glue, on the tiny env."""

from __future__ import annotations

import numpy as np
import pytest

from fg_env.errors import UnknownChoiceError
from fg_env.wrappers import HolisticReward, LinearScalarization, RewardDensity, SelectRewards

ANSWER = [
    "Mira Holt was born in 1950 in Lisbon, and the weather that year was mild and dry.",
    "She was born in 1951.",
    "",
]


def play(env, actions=ANSWER, index=0):
    env.reset(options={"index": index})
    out = []
    for action in actions:
        step = env.step(action)
        out.append(step)
        if step[2] or step[3]:
            break
    return out


def test_linear_scalarization_returns_float_and_keeps_vector(tiny_env):
    env = LinearScalarization(tiny_env, weights=[1.0, 2.0, 3.0])
    steps = play(env)
    rewards = [s[1] for s in steps]
    assert all(type(r) is float for r in rewards)
    vectors = [s[4]["vector_reward"] for s in steps]
    # step 1: relevance +1 -1, factuality +1; step 2: relevance +1, factuality -1; end: completeness 1
    assert [v.tolist() for v in vectors] == [[0.0, 1.0, 0.0], [1.0, -1.0, 0.0], [0.0, 0.0, 1.0]]
    assert rewards == pytest.approx([2.0, -1.0, 3.0])
    assert all(s["weight"] in (1.0, 2.0, 3.0) for step in steps for s in step[4]["segments"])


def test_linear_scalarization_default_weights_and_bad_shape(tiny_env):
    assert LinearScalarization(tiny_env).weights.tolist() == pytest.approx([0.3, 0.5, 0.3])
    with pytest.raises(ValueError, match=r"expected shape \(3,\)"):
        LinearScalarization(tiny_env, weights=[1.0, 2.0])
    with pytest.raises(ValueError, match="finite"):
        LinearScalarization(tiny_env, weights=[1.0, float("nan"), 1.0])


def test_holistic_gives_weighted_return_at_the_end(tiny_env):
    env = HolisticReward(tiny_env, weights=[1.0, 2.0, 3.0])
    steps = play(env)
    assert [s[1] for s in steps] == pytest.approx([0.0, 0.0, 4.0])  # 2 - 1 + 3
    assert steps[0][4]["segments"] == [] and steps[0][4]["fine_grained_segments"]
    (final,) = steps[-1][4]["segments"]
    assert final["granularity"] == "episode" and final["value"] == pytest.approx(4.0)
    assert final["text"].startswith("Mira Holt") and final["text"].endswith("1951.")


def test_holistic_with_an_episode_reward_model(tiny_env):
    from conftest import MentionsAnswer

    env = HolisticReward(tiny_env, reward_model=MentionsAnswer())
    assert [s[1] for s in play(env)] == [0.0, 0.0, 1.0]
    from conftest import KeywordRelevance

    with pytest.raises(ValueError, match="whole answers"):
        HolisticReward(tiny_env, reward_model=KeywordRelevance())


def test_density_sentence_merges_sub_sentences(tiny_env):
    env = RewardDensity(tiny_env, "sentence", reduce="min")
    steps = play(env)
    relevance = [s for s in steps[0][4]["segments"] if s["component"] == "relevance"]
    assert len(relevance) == 1 and relevance[0]["granularity"] == "sentence"
    assert relevance[0]["value"] == -1.0 and relevance[0]["label"] == "Irrelevant"
    assert steps[0][1][0] == -1.0
    assert env.reward_granularities[0].value == "sentence"


def test_density_episode_holds_rewards_until_the_end(tiny_env):
    env = RewardDensity(tiny_env, "episode")  # sum keeps each model's return
    steps = play(env)
    assert [s[1].tolist() for s in steps] == [[0.0, 0.0, 0.0], [0.0, 0.0, 0.0], [1.0, 0.0, 1.0]]
    assert [s[4]["reward_mask"].tolist() for s in steps][-1] == [True, True, True]
    final = {s["component"]: s for s in steps[-1][4]["segments"]}
    assert final["relevance"]["granularity"] == "episode" and final["factuality"]["label"] == "Wrong-Grounding"


def test_density_rejects_bad_arguments(tiny_env):
    with pytest.raises(ValueError, match="coarsens"):
        RewardDensity(tiny_env, "sub-sentence")
    with pytest.raises(UnknownChoiceError, match="sum"):
        RewardDensity(tiny_env, "episode", reduce="max")


def test_select_rewards_keeps_a_subset(tiny_env):
    env = SelectRewards(tiny_env, ["completeness", "factuality"])
    steps = play(env)
    assert env.reward_names == ("completeness", "factuality")
    assert [s[1].tolist() for s in steps] == [[0.0, 1.0], [0.0, -1.0], [1.0, 0.0]]
    assert {s["component"] for st in steps for s in st[4]["segments"]} == {"completeness", "factuality"}
    np.testing.assert_allclose(env.default_weights, [0.3, 0.5])
    with pytest.raises(UnknownChoiceError, match="relevance"):
        SelectRewards(tiny_env, ["fluency"])


def test_wrappers_compose(tiny_env):
    env = LinearScalarization(SelectRewards(RewardDensity(tiny_env, "episode"), ["relevance", "completeness"]), [1.0, 1.0])
    assert [s[1] for s in play(env)] == pytest.approx([0.0, 0.0, 2.0])


def test_mo_gymnasium_wrappers_run(tiny_env):
    from mo_gymnasium.wrappers import LinearReward, MORecordEpisodeStatistics

    env = LinearReward(MORecordEpisodeStatistics(tiny_env, gamma=1.0), weight=np.array([0.3, 0.5, 0.3], dtype=np.float32))
    steps = play(env)
    episode = steps[-1][4]["episode"]
    np.testing.assert_allclose(episode["r"], [1.0, 0.0, 1.0])  # the vector return
    assert episode["l"] == 3
    assert sum(s[1] for s in steps) == pytest.approx(0.6)


def test_stable_baselines3_monitor_accepts_scalarised_env(tiny_env):
    from stable_baselines3.common.monitor import Monitor

    env = Monitor(LinearScalarization(tiny_env))
    steps = play(env)
    assert steps[-1][4]["episode"]["r"] == pytest.approx(0.3 * 1.0 + 0.5 * 0.0 + 0.3 * 1.0)
