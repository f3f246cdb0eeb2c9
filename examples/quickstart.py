"""Quickstart: make FineGrainedQA-v0, play a gold answer and a flawed one, print each segment's rewards.

    python examples/quickstart.py [--seed 0]
"""

from __future__ import annotations

import argparse

import gymnasium as gym
import numpy as np

import fg_env  # noqa: F401 - registers FineGrainedQA-v0
from fg_env.demo import flawed_answer, format_segment_table


def play(env: gym.Env, sentences: list[str], seed: int) -> None:
    """Step one sentence at a time, then the empty action that ends the answer."""
    env.reset(seed=seed)
    episode_return = np.zeros(env.unwrapped.reward_space.shape, dtype=np.float32)
    segments = []
    for sentence in [*sentences, ""]:
        _, reward, terminated, truncated, info = env.step(sentence)
        episode_return += reward
        segments += info["segments"]
        if terminated or truncated:
            break
    print(format_segment_table(segments))
    names = env.unwrapped.reward_names
    weights = env.unwrapped.default_weights
    print("return:", dict(zip(names, episode_return.astype(float).round(2).tolist())), f"weighted (paper's weights): {episode_return @ weights:+.2f}\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    env = gym.make("FineGrainedQA-v0")  # built-in world, annotator reward models, offline
    _, info = env.reset(seed=args.seed)
    print(f"Question: {env.unwrapped.example.question}\n")
    print("== Gold answer")
    play(env, [info["references"][0]], args.seed)
    print("== Flawed answer (a changed year, a repeat, an off-topic sentence, word salad)")
    play(env, flawed_answer(env.unwrapped.example), args.seed)


if __name__ == "__main__":
    main()
