"""Stable-Baselines3 on FineGrainedQA-v0: PPO and MaskablePPO with the candidate-scoring policy.

The environment's action is free text, which SB3 cannot produce; ``CandidateSentences`` turns it into
a menu (pick one of the question's passage sentences, or end the answer) with a ``Box`` observation
of sentence features. ``LinearScalarization`` makes the reward vector the paper's weighted scalar
(dense: every sentence is paid on its step); ``HolisticReward`` would pay the same total at the end.

SB3's ``MlpPolicy`` reads the candidate slots as one flat vector and does not learn this task;
``CandidateScoringPolicy`` (``fg_env.integrations.sb3``) scores every candidate with one shared network
and does. ``CandidateDQNPolicy`` is its twin for DQN: ``DQN(CandidateDQNPolicy, env)``.

    python examples/sb3_ppo.py                   # about a minute on 2 cores
    python examples/sb3_ppo.py --timesteps 2048  # a few seconds

Needs the ``sb3`` extra: ``pip install "fg-env[sb3]"``. ``fg-env sb3-compare`` runs the full
experiment (PPO and DQN, fine-grained versus holistic, 5 seeds, bounds, table and curves).
"""

from __future__ import annotations

import argparse
import dataclasses

import gymnasium as gym
import torch
from stable_baselines3.common.env_checker import check_env

import fg_env  # noqa: F401  (registers FineGrainedQA-v0)
from agents.experiments.sb3_compare import SB3CompareConfig, evaluate_agent, make_view, model_agent, random_agent
from fg_env.features import make_featurizer
from fg_env.integrations.sb3 import CandidatePPOSettings, candidate_ppo
from fg_env.wrappers import CandidateSentences, LinearScalarization


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timesteps", type=int, default=8_192, help="training steps of each agent")
    parser.add_argument("--questions", type=int, default=50, help="dev questions to evaluate on")
    args = parser.parse_args()
    torch.set_num_threads(1)  # small networks: a second thread only contends

    # 1. The view, built by hand: 24 candidate slots, 256-dimensional hashing features (what
    #    CandidatePPOSettings was measured with; 64 dimensions learn less).
    env = LinearScalarization(
        CandidateSentences(
            gym.make("FineGrainedQA-v0", split="train"),
            num_candidates=24,
            featurizer=make_featurizer("hashing", dim=256),
        )
    )
    check_env(env)  # SB3's own checker passes on the scalarised view
    obs, info = env.reset(seed=0)
    print(f"actions: {env.action_space}, observation: {env.observation_space.shape}")
    print(f"question: {env.unwrapped.example.question!r}\nfirst candidates: {info['candidates'][:2]}")

    # 2. PPO with the candidate-scoring policy and its measured settings (CandidatePPOSettings); the
    #    same as PPO(CandidateScoringPolicy, env, **settings.ppo_kwargs() less the policy). The rollout
    #    is shortened only when the budget is shorter than one.
    settings = CandidatePPOSettings()
    settings = dataclasses.replace(settings, n_steps=min(settings.n_steps, args.timesteps))
    settings = dataclasses.replace(settings, batch_size=min(settings.batch_size, settings.n_steps))
    ppo = candidate_ppo(env, settings, seed=0).learn(args.timesteps)

    # 3. MaskablePPO reads env.action_masks(); its policy is the same scorer.
    masked = candidate_ppo(env, settings, maskable=True, seed=0).learn(args.timesteps // 2)

    # 4. Deterministic answers to dev questions, scored by fg_env's metrics, beside a random agent.
    config = SB3CompareConfig(num_candidates=24, feature_dim=256)
    dev = make_view(config, "fine-grained", "dev")

    print(f"\n{'agent':<14} {'relevance':>9} {'factuality':>10} {'complete':>8} {'words':>6} {'return':>7}")
    for name, agent in (("random", random_agent(0)), ("PPO", model_agent(ppo)), ("MaskablePPO", model_agent(masked))):
        m = evaluate_agent(agent, dev, args.questions)
        print(
            f"{name:<14} {m['relevance_ratio']:>9.3f} {m['factuality_ratio']:>10.3f} "
            f"{m['completeness']:>8.3f} {m['length']:>6.1f} {m['return']:>7.2f}"
        )
    obs, info = dev.reset(seed=10_000, options={"index": 0})
    done = False
    while not done:
        obs, _, terminated, truncated, info = dev.step(model_agent(ppo)(obs, dev))
        done = terminated or truncated
    print(f"\nPPO's answer to {dev.unwrapped.example.question!r}:\n  {dev.unwrapped.response}")


if __name__ == "__main__":
    main()
