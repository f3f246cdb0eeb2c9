"""The candidate-scoring policies for Stable-Baselines3 (fg_env.integrations.sb3)."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
import torch

pytest.importorskip("stable_baselines3")
pytest.importorskip("sb3_contrib")

from sb3_contrib import MaskablePPO  # noqa: E402
from stable_baselines3 import A2C, DQN, PPO  # noqa: E402
from stable_baselines3.common.env_checker import check_env  # noqa: E402

import fg_env  # noqa: E402,F401
from fg_env.errors import InvalidTypeError, InvalidValueError  # noqa: E402
from fg_env.features import HashingFeaturizer  # noqa: E402
from fg_env.integrations.sb3 import (  # noqa: E402
    MASKED_LOGIT,
    CandidateDQNPolicy,
    CandidateLayout,
    CandidatePPOSettings,
    CandidateScoringPolicy,
    MaskableCandidateScoringPolicy,
    candidate_ppo,
)
from fg_env.wrappers import CandidateSentences, LinearScalarization  # noqa: E402

SLOTS, DIM = 8, 16


def make_view(num_candidates: int = SLOTS, dim: int = DIM) -> gym.Env:
    return LinearScalarization(
        CandidateSentences(
            gym.make("FineGrainedQA-v0"), num_candidates=num_candidates, featurizer=HashingFeaturizer(dim)
        )
    )


def observations(env: gym.Env, count: int = 6) -> np.ndarray:
    """Observations with empty and non-empty answers, from a few questions."""
    rows = []
    for seed in range(count // 2):
        obs, _ = env.reset(seed=seed)
        rows.append(obs)
        rows.append(env.step(0)[0])
    return np.stack(rows)


def permute_slots(obs: np.ndarray, layout: CandidateLayout, order: np.ndarray) -> np.ndarray:
    """``obs`` with slot ``order[i]`` moved to slot ``i``."""
    out = obs.copy()
    rows = obs[:, layout.head :].reshape(len(obs), layout.num_candidates, layout.row_width)
    out[:, layout.head :] = rows[:, order].reshape(len(obs), -1)
    return out


def probabilities(policy, obs: np.ndarray) -> torch.Tensor:
    with torch.no_grad():
        return policy.get_distribution(torch.as_tensor(obs)).distribution.probs


def values(policy, obs: np.ndarray) -> torch.Tensor:
    with torch.no_grad():
        return policy.predict_values(torch.as_tensor(obs)).squeeze(-1)


@pytest.fixture(autouse=True, scope="module")
def one_torch_thread():
    """Tiny networks: a second thread only contends (the tests run several times faster on one)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def view() -> gym.Env:
    return make_view(num_candidates=24)  # more slots than most questions have candidates: padding


@pytest.mark.parametrize(
    "algorithm, policy",
    [(PPO, CandidateScoringPolicy), (MaskablePPO, MaskableCandidateScoringPolicy)],
    ids=["ppo", "maskable"],
)
def test_permuting_slots_permutes_the_distribution_and_keeps_the_value(view, algorithm, policy) -> None:
    model = algorithm(policy, view, seed=0, device="cpu")
    # Move the weights off their initialisation, whose near-zero logits would hide a broken order.
    with torch.no_grad():
        for parameter in model.policy.parameters():
            parameter.add_(0.3 * torch.randn_like(parameter))
    layout = model.policy.layout
    obs = observations(view)
    order = np.random.default_rng(0).permutation(layout.num_candidates)
    moved = permute_slots(obs, layout, order)
    before, after = probabilities(model.policy, obs), probabilities(model.policy, moved)
    assert not torch.allclose(before[:, :-1], before[:, :1].expand(-1, layout.num_candidates))  # not uniform
    torch.testing.assert_close(after[:, :-1], before[:, :-1][:, order], rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(after[:, -1], before[:, -1], rtol=1e-5, atol=1e-6)  # the end action
    torch.testing.assert_close(values(model.policy, moved), values(model.policy, obs), rtol=1e-5, atol=1e-5)


def test_permuting_slots_permutes_the_q_values(view) -> None:
    model = DQN(CandidateDQNPolicy, view, buffer_size=100, seed=0, device="cpu")
    layout = model.policy.layout
    obs = observations(view)
    order = np.random.default_rng(1).permutation(layout.num_candidates)
    with torch.no_grad():
        before = model.q_net(torch.as_tensor(obs))
        after = model.q_net(torch.as_tensor(permute_slots(obs, layout, order)))
    torch.testing.assert_close(after[:, :-1], before[:, :-1][:, order], rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(after[:, -1], before[:, -1], rtol=1e-5, atol=1e-6)


def test_padding_slots_get_probability_zero(view) -> None:
    obs = observations(view)
    valid = obs[:, CandidateLayout.from_env(view).head :].reshape(len(obs), 24, -1)[:, :, DIM] > 0.5
    assert (~valid).any() and valid.any(), "the fixture must hold candidates and padding"
    for algorithm, policy in ((PPO, CandidateScoringPolicy), (MaskablePPO, MaskableCandidateScoringPolicy)):
        probs = probabilities(algorithm(policy, view, seed=0, device="cpu").policy, obs)
        assert (probs[:, :-1][torch.as_tensor(~valid)] == 0).all()
        assert (probs[:, :-1][torch.as_tensor(valid)] > 0).all() and (probs[:, -1] > 0).all()
        torch.testing.assert_close(probs.sum(-1), torch.ones(len(obs)))
    dqn = DQN(CandidateDQNPolicy, view, buffer_size=100, seed=0, device="cpu")
    with torch.no_grad():
        raw = dqn.q_net.q_net(torch.as_tensor(obs))
        q = dqn.q_net(torch.as_tensor(obs))
    assert (raw[:, :-1][torch.as_tensor(~valid)] == MASKED_LOGIT).all()
    # A padding pick ends the answer, so its value is the end's; the greedy action is never padding.
    padding_q = q[:, :-1][torch.as_tensor(~valid)]
    end_q = q[:, -1:].expand(-1, 24)[torch.as_tensor(~valid)]
    torch.testing.assert_close(padding_q, end_q)
    actions, _ = dqn.predict(obs, deterministic=True)
    assert all(action == 24 or valid[row, action] for row, action in enumerate(actions))


def test_sb3_check_env_still_passes() -> None:
    check_env(make_view())


@pytest.mark.parametrize(
    "algorithm, policy, kwargs",
    [
        (PPO, CandidateScoringPolicy, {"n_steps": 128, "batch_size": 64, "n_epochs": 2}),
        (A2C, CandidateScoringPolicy, {"n_steps": 8}),
        (MaskablePPO, MaskableCandidateScoringPolicy, {"n_steps": 128, "batch_size": 64, "n_epochs": 2}),
        (DQN, CandidateDQNPolicy, {"learning_starts": 64, "buffer_size": 256, "target_update_interval": 64}),
        (PPO, "MlpPolicy", {"n_steps": 128, "batch_size": 64, "n_epochs": 2}),  # SB3's own keeps working
    ],
    ids=["ppo", "a2c", "maskable-ppo", "dqn", "ppo-mlp"],
)
def test_algorithms_learn_with_the_policy(algorithm, policy, kwargs) -> None:
    env = make_view()
    model = algorithm(
        policy,
        env,
        seed=0,
        device="cpu",
        policy_kwargs=None if policy == "MlpPolicy" else {"hidden_size": 32},
        **kwargs,
    )
    model.learn(256)
    assert model.num_timesteps == 256
    obs, _ = env.reset(seed=3)
    done = False
    while not done:  # an episode of deterministic actions, played to the end
        action, _ = model.predict(obs, deterministic=True)
        obs, _, terminated, truncated, info = env.step(int(action))
        assert not info["masked_action"] or policy == "MlpPolicy"  # padding is never picked
        done = terminated or truncated


def test_save_and_load_keep_the_policy(tmp_path) -> None:
    env = make_view()
    model = PPO(CandidateScoringPolicy, env, policy_kwargs={"hidden_size": 16}, seed=0, device="cpu")
    model.save(tmp_path / "model")
    loaded = PPO.load(tmp_path / "model", device="cpu")
    assert loaded.policy.hidden_size == 16
    obs = observations(env, 2)
    torch.testing.assert_close(probabilities(loaded.policy, obs), probabilities(model.policy, obs))
    dqn = DQN(CandidateDQNPolicy, env, buffer_size=100, policy_kwargs={"hidden_size": 16}, seed=0, device="cpu")
    dqn.save(tmp_path / "dqn")
    with torch.no_grad():
        torch.testing.assert_close(
            DQN.load(tmp_path / "dqn", device="cpu").q_net(torch.as_tensor(obs)), dqn.q_net(torch.as_tensor(obs))
        )


@pytest.mark.parametrize("other", [(6, DIM), (SLOTS, 32)], ids=["num_candidates", "featuriser"])
def test_an_observation_of_another_layout_names_both(other) -> None:
    model = PPO(CandidateScoringPolicy, make_view(), seed=0, device="cpu")
    obs, _ = make_view(*other).reset(seed=0)
    ours, theirs = (
        f"num_candidates={SLOTS}, featuriser dim={DIM}",
        f"num_candidates={other[0]}, featuriser dim={other[1]}",
    )
    with pytest.raises(InvalidValueError, match="built for the candidate layout") as raised:
        model.predict(obs)
    assert ours in str(raised.value) and theirs in str(raised.value)
    with pytest.raises(InvalidValueError, match=theirs):  # the tensor path (evaluate_actions, forward)
        model.policy(torch.as_tensor(obs).unsqueeze(0))
    dqn = DQN(CandidateDQNPolicy, make_view(), buffer_size=100, seed=0, device="cpu")
    with pytest.raises(InvalidValueError, match=theirs):
        dqn.predict(obs)


def test_bad_spaces_and_settings_are_refused() -> None:
    with pytest.raises(InvalidValueError, match="not a CandidateSentences layout"):
        PPO(CandidateScoringPolicy, gym.make("CartPole-v1"), device="cpu")
    with pytest.raises(InvalidTypeError, match="Discrete"):
        PPO(CandidateScoringPolicy, gym.make("Pendulum-v1"), device="cpu")
    with pytest.raises(InvalidValueError, match="hidden_size"):
        PPO(CandidateScoringPolicy, make_view(), policy_kwargs={"net_arch": [64]}, device="cpu")
    with pytest.raises(InvalidValueError, match="not a CandidateSentences layout"):
        CandidateLayout.from_spaces(gym.spaces.Box(-1, 1, (100,)), gym.spaces.Discrete(5))
    with pytest.raises(InvalidValueError, match="activation"):
        CandidatePPOSettings(activation="gelu")


def test_candidate_ppo_builds_both_ppos() -> None:
    env = make_view()
    settings = CandidatePPOSettings(n_steps=64, batch_size=32)
    assert type(candidate_ppo(env, settings).policy) is CandidateScoringPolicy
    assert type(candidate_ppo(env, settings, maskable=True).policy) is MaskableCandidateScoringPolicy
