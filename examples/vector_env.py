"""Vector envs: N answers side by side, reward models called once per step for all of them.

    python examples/vector_env.py [--num-envs 4] [--seed 0]

Shows the native vector env (rewards (N, K)), per-sub-env reward shaping that keeps scoring batched,
playing whole answers side by side (what the LM-PPO rollout does), and the standard vector envs of
Gymnasium and MO-Gymnasium on the single env.
"""

from __future__ import annotations

import argparse

import gymnasium as gym
import numpy as np

import fg_env  # noqa: F401 - registers FineGrainedQA-v0
from fg_env.envs.answers import play_answers
from fg_env.wrappers import HolisticReward, LinearScalarization


def native(num_envs: int, seed: int) -> None:
    envs = gym.make_vec("FineGrainedQA-v0", num_envs=num_envs, max_sentences=4)
    examples = envs.unwrapped.core_envs[0].examples
    obs, info = envs.reset(seed=seed, options={"index": list(range(num_envs))})
    print(f"native vector env: {envs.unwrapped.reward_names}, autoreset {envs.metadata['autoreset_mode'].name}")
    # Sub-env i answers with the first sentence of its gold answer, then ends.
    first_sentences = [examples[i].references[0].split(". ")[0].rstrip(".") + "." for i in range(num_envs)]
    _, rewards, *_ = envs.step(first_sentences)
    print("rewards after one sentence, shape", rewards.shape)
    print(np.array2string(rewards, precision=2))
    _, rewards, terminated, _, info = envs.step([""] * num_envs)
    print("after the empty action (completeness arrives):", rewards[:, 2].astype(float).round(2).tolist(), terminated.tolist())
    envs.close()


def shaped(num_envs: int, seed: int) -> None:
    # Each sub-env wears its own wrappers; the reward models are still called once per step for all.
    for name, wrappers in [("fine-grained", [LinearScalarization]), ("holistic", [HolisticReward])]:
        envs = gym.make_vec("FineGrainedQA-v0", num_envs=num_envs, env_wrappers=wrappers)
        examples = envs.unwrapped.core_envs[0].examples
        answers = [examples[i].references[0] if i % 2 == 0 else "Nobody knows. The sky is green." for i in range(num_envs)]
        played = play_answers(envs, answers, indices=list(range(num_envs)), seed=seed)
        per_step = [p.rewards.astype(float).round(2).tolist() for p in played[:2]]
        print(f"{name:>12}: per-step rewards of a gold and a flawed answer {per_step}")
        envs.close()


def standard(seed: int) -> None:
    from mo_gymnasium.wrappers.vector import MOSyncVectorEnv

    from fg_env.integrations.mo_gymnasium import MOAsyncVectorEnv

    actions = ["Harlow Bridge is a film.", ""]
    sync = MOSyncVectorEnv([lambda: gym.make("FineGrainedQA-v0") for _ in range(2)])
    sync.reset(seed=seed)
    print("MOSyncVectorEnv rewards", sync.step(actions)[1].shape)
    # Text observations cannot live in shared memory: async envs send them through their pipes.
    mo_async = MOAsyncVectorEnv([lambda: gym.make("FineGrainedQA-v0") for _ in range(2)], shared_memory=False)
    mo_async.reset(seed=seed)
    print("MOAsyncVectorEnv rewards", mo_async.step(actions)[1].shape)
    mo_async.close()
    scalar = gym.make_vec(
        "FineGrainedQA-v0",
        num_envs=2,
        vectorization_mode="async",
        wrappers=[LinearScalarization],
        vector_kwargs={"shared_memory": False},
    )
    scalar.reset(seed=seed)
    print("Gymnasium AsyncVectorEnv under LinearScalarization, rewards", scalar.step(actions)[1])
    scalar.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--num-envs", type=int, default=4)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    native(args.num_envs, args.seed)
    shaped(args.num_envs, args.seed)
    standard(args.seed)


if __name__ == "__main__":
    main()
