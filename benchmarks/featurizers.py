"""Which featuriser should the candidate view use? Speed, and how well SB3 PPO learns with each.

    python benchmarks/featurizers.py                       # about 25 minutes on 2 cores
    python benchmarks/featurizers.py --featurizers hashing:64 --timesteps 4096 --seeds 0 --questions 20  # a look

For each featuriser (``NAME[:DIM]``: ``hashing`` at DIM dimensions, ``minilm``, ``both`` = hashing at DIM
beside MiniLM) it measures, on an otherwise idle machine:

1. encoding speed: the distinct passage sentences of ``--questions`` dev questions, cold cache
   (every text encoded) and warm (every text cached), in texts per second;
2. the candidate view's steps per second under a random agent, cold cache, on the train split;
3. learning: Stable-Baselines3 PPO with ``--policy`` (the candidate-scoring policy by default) on the
   fine-grained view, ``--timesteps`` steps, ``--seeds`` (the same runs as ``fg-env sb3-compare
   --algorithms ppo --rewards fine-grained``): the final return and relevance/factuality/completeness of
   deterministic dev answers, mean and 95% CI, and the wall time per run.

The table it prints goes to BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

import gymnasium as gym
import numpy as np
import torch

import fg_env  # noqa: F401
from agents.experiments.sb3_compare import SB3CompareConfig, random_agent, sb3_compare
from agents.reporting.stats import mean_ci
from fg_env.features import make_featurizer
from fg_env.wrappers import CandidateSentences, LinearScalarization


def passage_sentences(questions: int) -> list[str]:
    env = gym.make("FineGrainedQA-v0", split="dev")
    texts: dict[str, None] = {}
    for example in env.unwrapped.examples[:questions]:
        for passage in example.passages:
            for sentence in passage.sentences:
                texts.setdefault(sentence.strip())
    return list(texts)


def parse_featurizer(spec: str, default_dim: int) -> tuple[str, int]:
    """``hashing:256`` -> (``hashing``, 256); a name alone takes ``default_dim``."""
    name, _, dim = spec.partition(":")
    return name, int(dim) if dim else default_dim


def encode_speed(name: str, dim: int, texts: list[str]) -> tuple[float, float]:
    featurizer = make_featurizer(name, **({"dim": dim} if name != "minilm" else {}))
    featurizer(texts[:8])  # load the model
    featurizer.cache_clear()  # type: ignore[attr-defined]
    started = time.perf_counter()
    featurizer(texts)
    cold = len(texts) / (time.perf_counter() - started)
    started = time.perf_counter()
    featurizer(texts)
    warm = len(texts) / (time.perf_counter() - started)
    return cold, warm


def view_speed(name: str, dim: int, episodes: int) -> float:
    featurizer = make_featurizer(name, **({"dim": dim} if name != "minilm" else {}))
    featurizer(["warm-up"])
    featurizer.cache_clear()  # type: ignore[attr-defined]
    env = LinearScalarization(
        CandidateSentences(gym.make("FineGrainedQA-v0", split="train"), num_candidates=24, featurizer=featurizer)
    )
    agent = random_agent(0)
    steps, started = 0, time.perf_counter()
    for episode in range(episodes):
        obs, _ = env.reset(seed=episode, options={"index": episode})
        done = False
        while not done:
            obs, _, terminated, truncated, _ = env.step(agent(obs, env))
            steps += 1
            done = terminated or truncated
    return steps / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--featurizers", default="hashing:64,hashing:256,minilm", help="NAME[:DIM],...")
    parser.add_argument("--dim", type=int, default=256, help="hashing dimension where a featuriser names none")
    parser.add_argument("--policy", default="candidate", choices=["candidate", "mlp"])
    parser.add_argument("--questions", type=int, default=200, help="dev questions whose sentences are encoded")
    parser.add_argument("--episodes", type=int, default=200, help="random-agent episodes for the view's speed")
    parser.add_argument("--timesteps", type=int, default=20_480, help="PPO steps per learning run")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--eval-questions", type=int, default=100)
    parser.add_argument("--out", default=None, help="keep the learning runs here (default: a temporary folder)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    seeds = [int(s) for s in args.seeds.split(",")]
    print(f"load before: {os.getloadavg()[0]:.2f} (1-min average), {os.cpu_count()} cores, torch threads 1")
    texts = passage_sentences(args.questions)
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        for spec in args.featurizers.split(","):
            name, dim = parse_featurizer(spec, args.dim)
            cold, warm = encode_speed(name, dim, texts)
            steps = view_speed(name, dim, args.episodes)
            config = SB3CompareConfig(
                timesteps=args.timesteps,
                eval_every=args.timesteps,
                eval_questions=args.eval_questions,
                policy=args.policy,
                featurizer=name,
                feature_dim=dim,
                workers=min(2, len(seeds)),
            )
            out = os.path.join(args.out or scratch, spec.replace(":", "-"))
            result = sb3_compare(out, config, algorithms=["ppo"], rewards=["fine-grained"], seeds=seeds, progress=False)
            runs = [r for r in result["runs"].values() if r["kind"] == "ppo"]
            finals = {
                key: mean_ci([r["final"][key] for r in runs])
                for key in ("return", "relevance_ratio", "factuality_ratio", "completeness")
            }
            seconds = float(np.mean([r["seconds"] for r in runs]))
            dim = make_featurizer(name, **({"dim": dim} if name != "minilm" else {})).dim
            rows.append((name, dim, cold, warm, steps, finals, seconds))
            print(f"{name}: done", flush=True)
    print(
        f"\n{len(texts)} distinct passage sentences of {args.questions} dev questions; PPO ({args.policy} policy) "
        f"{args.timesteps:,} steps, seeds {args.seeds}"
    )
    print(
        "| featuriser | dim | encode cold (texts/s) | encode warm (texts/s) | view steps/s (cold) | PPO return | rel. | fact. | comp. | s / run |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for name, dim, cold, warm, steps, finals, seconds in rows:
        cells = " | ".join(
            f"{finals[k]['mean']:.3f} ± {finals[k]['half_width']:.3f}"
            for k in ("return", "relevance_ratio", "factuality_ratio", "completeness")
        )
        print(f"| {name} | {dim} | {cold:,.0f} | {warm:,.0f} | {steps:,.0f} | {cells} | {seconds:.0f} |")
    print(f"load after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
