"""FineGrainedDetox-v0 steps per second with the default toxicity scorer, cold, beside a free scorer.

Each episode replays one continuation of the built-in world's corpus (its clean and toxic continuations of
the dev and test prompts, 1 to 3 sentences each) sentence by sentence, then the empty action. Every round
plays prompts no earlier round played, with a new environment (a fresh scorer, its memory of recent texts
empty): the scorer is cold, as in training, where every rollout is new text. The baseline is the same
environment whose reward model's scorer returns a constant: the ratio isolates the scorer's share. Single
environments and a vector env of 16 (one scorer call per step for all sub-environments) are timed in
interleaved rounds; the table gives the median round.

    python benchmarks/detox_env_throughput.py [--episodes 400] [--rounds 5]
"""

from __future__ import annotations

import argparse
import statistics
import time

import gymnasium as gym
import numpy as np

import fg_env  # noqa: F401 - registers the environments
from fg_env.data import make_dataset
from fg_env.envs.answers import sentence_actions
from fg_env.envs.detox import FineGrainedDetoxVectorEnv
from fg_env.rewards.toxicity.reward import ToxicityChange

SPLIT = "dev"  # the prompts whose corpus continuations are replayed


class FreeScorer:
    """A scorer that costs nothing: the baseline."""

    name, version = "free", "1"

    def toxicity(self, texts):
        return np.zeros(len(texts))


def episodes(split: str) -> list[tuple[int, list[str]]]:
    """(prompt index, the continuation's sentences as actions) for every corpus continuation of ``split``."""
    world = make_dataset("detox-synthetic")
    index = {p.id: i for i, p in enumerate(world.split(split))}
    played = []
    for c in world.corpus(split):
        text = c.continuation
        played.append((index[c.prompt_id], [text[a:b] for a, b in sentence_actions(text)]))
    return played


def single(scorer, played) -> float:
    env = gym.make("FineGrainedDetox-v0", split=SPLIT, reward_models=[ToxicityChange(scorer)], max_sentences=8)
    steps, start = 0, time.perf_counter()
    for index, actions in played:
        env.reset(options={"index": index})
        for action in actions:
            env.step(action)
            steps += 1
    return steps / (time.perf_counter() - start)


def vector(scorer, played, num_envs: int = 16) -> float:
    envs = FineGrainedDetoxVectorEnv(num_envs, split=SPLIT, reward_models=[ToxicityChange(scorer)], max_sentences=8)
    steps, start = 0, time.perf_counter()
    for first in range(0, len(played) - num_envs + 1, num_envs):
        batch = played[first : first + num_envs]
        envs.reset(options={"index": [i for i, _ in batch]})
        for t in range(max(len(a) for _, a in batch)):
            # A sub-env whose continuation has ended steps its ending action again (autoreset): not counted.
            envs.step([a[t] if t < len(a) else "" for _, a in batch])
        steps += sum(len(a) for _, a in batch)
    return steps / (time.perf_counter() - start)



def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=400, help="episodes per round and setting")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    start = time.perf_counter()
    gym.make("FineGrainedDetox-v0")  # the scorer's package and model, the prompt world: once, timed
    first_make = time.perf_counter() - start
    played = episodes(SPLIT)
    results: dict[str, list[float]] = {}
    for r in range(args.rounds):
        chunk = played[r * args.episodes : (r + 1) * args.episodes]  # new text every round: a cold scorer
        for name, run, scorer in (
            ("single env, profanity-check", single, "profanity-check"),
            ("single env, free scorer (baseline)", single, FreeScorer()),
            ("vector env x16, profanity-check", vector, "profanity-check"),
            ("vector env x16, free scorer (baseline)", vector, FreeScorer()),
        ):
            results.setdefault(name, []).append(run(scorer, chunk))
    print(f"first gym.make('FineGrainedDetox-v0'): {first_make * 1000:.0f} ms (scorer package and model, the world)")
    print("| setting | steps / s (median of rounds) | min | max |\n| --- | ---: | ---: | ---: |")
    for name, values in results.items():
        print(f"| {name} | {statistics.median(values):,.0f} | {min(values):,.0f} | {max(values):,.0f} |")


if __name__ == "__main__":
    main()
