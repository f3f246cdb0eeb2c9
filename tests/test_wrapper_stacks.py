"""Property tests: the four reward-shaping wrappers stacked in every order.

Every ordered stack of distinct wrappers (4 + 12 + 24 + 24 = 64 orders) is built over the tiny env with
parameters and answers drawn by hypothesis. A stack with a vector wrapper above a scalarising one is
refused with a clear error; every other stack must report bounds, masks and segments consistent with
the reward it returns, keep the returns the shaping promises, and rebuild from its spec.
"""

from __future__ import annotations

import itertools
import math

import gymnasium as gym
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import fg_env  # noqa: F401 - registers the environment
from conftest import TinyDataset, tiny_models
from fg_env.wrappers import HolisticReward, LinearScalarization, RewardDensity, SelectRewards

NAMES = ("relevance", "factuality", "completeness")
SCALARISING = {"LinearScalarization", "HolisticReward"}
WRAPPERS = ("SelectRewards", "RewardDensity", "LinearScalarization", "HolisticReward")
ORDERS = [order for n in range(1, 5) for order in itertools.permutations(WRAPPERS, n)]
SENTENCES = (
    "Mira Holt was born in 1950 in Lisbon, and the weather that year was mild and dry.",
    "She was born in 1951.",
    "The weather was mild.",
    "Mira Holt is a painter.",
    "Two sentences in one action. The weather in 1950 was mild, they say, and so it stayed for years.",
    "x",
)


def base_env() -> gym.Env:
    return gym.make("FineGrainedQA-v0", dataset=TinyDataset(), split="train", reward_models=tiny_models(), max_sentences=4)


def is_valid(order: tuple[str, ...]) -> bool:
    """Scalarising wrappers end the vector: at most one, and only on top."""
    return all(name not in SCALARISING for name in order[:-1])


@st.composite
def wrapper_arguments(draw: st.DrawFn, order: tuple[str, ...]) -> list[dict]:
    """Arguments for each wrapper of ``order``, valid for the reward vector it will receive."""
    names = list(NAMES)
    arguments = []
    for wrapper in order:
        if wrapper == "SelectRewards":
            names = draw(st.lists(st.sampled_from(names), min_size=1, max_size=len(names), unique=True))
            arguments.append({"names": names})
        elif wrapper == "RewardDensity":
            arguments.append({"granularity": draw(st.sampled_from(["sentence", "episode"])),
                              "reduce": draw(st.sampled_from(["sum", "min", "mean"]))})
        elif wrapper == "LinearScalarization" or draw(st.booleans()):
            weights = draw(st.lists(st.floats(-2, 2, allow_nan=False), min_size=len(names), max_size=len(names)))
            arguments.append({"weights": weights})
        else:
            arguments.append({})  # default weights
    return arguments


def build(order: tuple[str, ...], arguments: list[dict]) -> gym.Env:
    env = base_env()
    for wrapper, kwargs in zip(order, arguments):
        env = {"SelectRewards": SelectRewards, "RewardDensity": RewardDensity,
               "LinearScalarization": LinearScalarization, "HolisticReward": HolisticReward}[wrapper](env, **kwargs)
    return env


def play(env: gym.Env, actions: list[str], index: int) -> list[tuple]:
    obs, _ = env.reset(options={"index": index})
    steps = []
    for action in [*actions, ""]:
        obs, reward, terminated, truncated, info = env.step(action)
        steps.append((obs, reward, terminated, truncated, info))
        if terminated or truncated:
            return steps
    raise AssertionError("the episode did not end on the empty action")


def check_segments(steps: list[tuple], components: dict[str, object] | None) -> None:
    for obs, _, _, _, info in steps:
        response = obs["response"]
        for s in info["segments"]:
            assert 0 <= s["start"] <= s["end"] <= len(response)
            assert s["text"] == response[s["start"] : s["end"]]
            if components is not None:
                component = components[s["component"]]
                assert s["granularity"] == component.granularity.value
                low, high = component.segment_bounds
                assert low - 1e-6 <= s["value"] <= high + 1e-6, (s, component)


def check_vector_stack(env: gym.Env, steps: list[tuple]) -> None:
    names = env.get_wrapper_attr("reward_names")
    space = env.get_wrapper_attr("reward_space")
    components = {c.name: c for c in env.get_wrapper_attr("reward_components")}
    assert tuple(components) == tuple(names)
    for _, reward, _, _, info in steps:
        assert reward.dtype == np.float32 and reward.shape == (len(names),)
        assert space.contains(reward), (reward, space)
        mask = info["reward_mask"]
        assert mask.shape == (len(names),)
        assert np.all(reward[~mask] == 0.0)
        assert {s["component"] for s in info["segments"]} <= set(names)
        for k, name in enumerate(names):
            total = sum(s["value"] for s in info["segments"] if s["component"] == name)
            assert reward[k] == pytest.approx(total, abs=1e-5)
    check_segments(steps, components)


def check_scalar_stack(env: gym.Env, steps: list[tuple]) -> None:
    weights = env.get_wrapper_attr("segment_weights")
    for _, reward, _, _, info in steps:
        assert type(reward) is float and math.isfinite(reward)
        assert all(s["weight"] == weights[s["component"]] for s in info["segments"])
        assert reward == pytest.approx(sum(s["weight"] * s["value"] for s in info["segments"]), abs=1e-5)
    check_segments(steps, None)
    # Both scalarisers give the weighted return of the vector below them (holistic: all at the end).
    inner_weights = env.weights
    weighted = sum(float(np.dot(step[4]["vector_reward"], inner_weights)) for step in steps)
    assert sum(step[1] for step in steps) == pytest.approx(weighted, abs=1e-4)


def returns_by_name(steps: list[tuple], names: tuple[str, ...]) -> dict[str, float]:
    total = np.sum([np.asarray(step[4].get("vector_reward", step[1])) for step in steps], axis=0)
    return dict(zip(names, np.atleast_1d(total).tolist()))


actions_strategy = st.lists(st.sampled_from(SENTENCES), min_size=0, max_size=5)


@pytest.mark.parametrize("order", ORDERS, ids="-".join)
@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(), actions=actions_strategy, index=st.integers(0, 2))
def test_every_stack_is_consistent_or_refused(order, data, actions, index):
    arguments = data.draw(wrapper_arguments(order))
    if not is_valid(order):
        with pytest.raises(TypeError, match="apply the scalarising wrapper last"):
            build(order, arguments)
        return
    env = build(order, arguments)
    steps = play(env, actions, index)
    scalar = order[-1] in SCALARISING
    (check_scalar_stack if scalar else check_vector_stack)(env, steps)

    # With sums, shaping only moves rewards in time: each kept model's return is the bare env's.
    if all(a.get("reduce", "sum") == "sum" for a in arguments):
        bare = returns_by_name(play(base_env(), actions, index), NAMES)
        vector_layer = env.env if scalar else env
        names = vector_layer.get_wrapper_attr("reward_names")
        for name, value in returns_by_name(steps if not scalar else steps, names).items():
            assert value == pytest.approx(bare[name], abs=1e-4), name

    # The stack rebuilds from its spec and behaves identically.
    rebuilt = gym.make(env.spec)
    assert [w.name for w in rebuilt.spec.additional_wrappers] == list(order)
    again = play(rebuilt, actions, index)
    assert [np.asarray(a[1]).tolist() for a in again] == [np.asarray(b[1]).tolist() for b in steps]
    assert [a[4]["segments"] for a in again] == [b[4]["segments"] for b in steps]


def test_density_above_a_reordered_subset_uses_the_right_bounds():
    """The v0.1.0 bug: RewardDensity read the unwrapped env's models by position."""
    env = RewardDensity(SelectRewards(base_env(), ["completeness", "relevance"]), "episode", reduce="min")
    space = env.reward_space
    assert env.reward_names == ("completeness", "relevance")
    # completeness is episode-level already (bounds 0..1); relevance, coarsened by min, keeps -1..1.
    assert space.low.tolist() == [0.0, -1.0] and space.high.tolist() == [1.0, 1.0]
    steps = play(env, [SENTENCES[0], SENTENCES[1]], 0)
    final = steps[-1][1]
    assert final.tolist() == [1.0, -1.0]  # the gold year is there; the weather clause is irrelevant
    assert space.contains(final)


def test_a_subset_then_density_does_not_raise():
    env = RewardDensity(SelectRewards(base_env(), ["factuality"]), "sentence", reduce="mean")
    steps = play(env, [SENTENCES[0]], 0)
    assert steps[0][1].tolist() == [1.0]


def test_scalarised_stacks_refuse_vector_wrappers_with_a_clear_message():
    with pytest.raises(TypeError, match="SelectRewards needs a reward vector"):
        SelectRewards(LinearScalarization(base_env()), ["relevance"])
    with pytest.raises(TypeError, match="HolisticReward needs a reward vector"):
        HolisticReward(LinearScalarization(base_env()))
